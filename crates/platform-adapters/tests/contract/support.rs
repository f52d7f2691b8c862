//! Shared fixtures of the contract tests.

use platform_adapters::{AdapterSettings, ClientCredentials, Endpoints};
use secrecy::SecretString;
use wiremock::{Match, MockServer, Request};

pub const CLIENT_ID: &str = "test-client-id";
pub const CLIENT_SECRET: &str = "test-client-secret";
pub const REDIRECT_URI: &str = "http://127.0.0.1:8080/v1/oauth/callback";

/// Configured credentials.
pub fn credentials() -> ClientCredentials {
    ClientCredentials {
        client_id: CLIENT_ID.into(),
        client_secret: secret(CLIENT_SECRET),
    }
}

/// Every endpoint on `server`: authorize `/oauth/authorize`, token `/oauth/token`, revoke
/// `/oauth/revoke`, API and uploads at the root. Tests override what their platform differs in.
pub fn endpoints(server: &MockServer) -> Endpoints {
    let base = server.uri();
    Endpoints {
        authorize_url: format!("{base}/oauth/authorize"),
        token_url: format!("{base}/oauth/token"),
        revoke_url: Some(format!("{base}/oauth/revoke")),
        api_base: base.clone(),
        upload_base: base,
    }
}

/// Configured settings against `server`.
pub fn settings(server: &MockServer) -> AdapterSettings {
    AdapterSettings {
        credentials: Some(credentials()),
        endpoints: endpoints(server),
    }
}

pub fn secret(value: &str) -> SecretString {
    SecretString::from(value.to_owned())
}

/// The query parameters of a URL, in order.
pub fn query_of(url: &str) -> Vec<(String, String)> {
    reqwest::Url::parse(url)
        .expect("valid URL")
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The value of query parameter `name`.
pub fn param(url: &str, name: &str) -> Option<String> {
    query_of(url)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// Matches an `application/x-www-form-urlencoded` body with exactly these parameters (in any
/// order).
pub struct FormIs(Vec<(String, String)>);

pub fn form_is(pairs: &[(&str, &str)]) -> FormIs {
    let mut expected: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    expected.sort();
    FormIs(expected)
}

impl Match for FormIs {
    fn matches(&self, request: &Request) -> bool {
        let is_form = request
            .headers
            .get("content-type")
            .is_some_and(|v| v.as_bytes() == b"application/x-www-form-urlencoded");
        let body = String::from_utf8_lossy(&request.body);
        let Ok(url) = reqwest::Url::parse(&format!("http://form.invalid/?{body}")) else {
            return false;
        };
        let mut actual: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        actual.sort();
        is_form && actual == self.0
    }
}

/// A small JPEG-like image item served at `{base}/media/img-1.jpg`.
pub fn image(base: &str) -> platform_adapters::MediaItem {
    media_item(
        base,
        platform_adapters::MediaKind::Image,
        "image/jpeg",
        "img-1.jpg",
        b"\xff\xd8\xff\xe0 fake jpeg bytes",
    )
}

/// A small MP4-like video item served at `{base}/media/vid-1.mp4`.
pub fn video(base: &str) -> platform_adapters::MediaItem {
    media_item(
        base,
        platform_adapters::MediaKind::Video,
        "video/mp4",
        "vid-1.mp4",
        b"\x00\x00\x00\x18ftypmp42 fake mp4 bytes",
    )
}

fn media_item(
    base: &str,
    kind: platform_adapters::MediaKind,
    mime: &str,
    name: &str,
    bytes: &'static [u8],
) -> platform_adapters::MediaItem {
    platform_adapters::MediaItem {
        id: domain::MediaId::new(),
        kind,
        mime_type: mime.into(),
        width: Some(1080),
        height: Some(1080),
        duration_ms: (kind == platform_adapters::MediaKind::Video).then_some(4_000),
        alt_text: Some("a test picture".into()),
        url: format!("{base}/media/{name}?sig=signed"),
        bytes: bytes::Bytes::from_static(bytes),
    }
}

/// The default per-platform options.
pub fn no_options() -> &'static platform_adapters::PostOptions {
    static NONE: std::sync::OnceLock<platform_adapters::PostOptions> = std::sync::OnceLock::new();
    NONE.get_or_init(Default::default)
}

/// When the target of [`post`] was created: a fixed instant with microseconds, as PostgreSQL
/// stores `post_targets.created_at`.
pub fn target_created_at() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_micros(1_764_750_896_123_456).unwrap_or_default()
}

/// A publish request of `text` with `media`, keyed like a real target id.
pub fn post<'a>(
    text: &'a str,
    media: &'a [platform_adapters::MediaItem],
    options: &'a platform_adapters::PostOptions,
) -> platform_adapters::PublishRequest<'a> {
    platform_adapters::PublishRequest {
        idempotency_key: "0b7c6a3e-5f1d-4c2b-9a8e-7d6f5e4c3b2a",
        created_at: target_created_at(),
        text,
        media,
        options,
        account_kind: domain::AccountKind::Profile,
        reply_to: None,
    }
}
