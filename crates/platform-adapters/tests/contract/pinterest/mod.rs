//! Pinterest: OAuth 2.0 with HTTP Basic client authentication on `POST /v5/oauth/token`, and
//! `GET /v5/user_account`. Shapes follow Pinterest's authentication guide and the v5 OpenAPI
//! description (`OauthAccessTokenResponseCode`, `Account`).

mod follow_ups;

use std::time::Duration;

use chrono::Utc;
use platform_adapters::{
    platforms::pinterest::{self, MediaPolling, PinterestAdapter},
    AccountRef, AdapterError, AuthorizeParams, CodeExchange, MediaItem, PlatformAdapter,
    PostOptions, Published, Revocation, Stats,
};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use wiremock::{
    matchers::{any, body_json, body_string_contains, header, method, path, query_param},
    Mock, MockServer, ResponseTemplate,
};

use crate::support::form_is;
use crate::support::{self, param, secret, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI};

/// `Basic base64("test-client-id:test-client-secret")`.
const BASIC: &str = "Basic dGVzdC1jbGllbnQtaWQ6dGVzdC1jbGllbnQtc2VjcmV0";
const REDIRECT_URI_FORM: &str =
    "redirect_uri=http%3A%2F%2F127.0.0.1%3A8080%2Fv1%2Foauth%2Fcallback";
const EXCHANGE: CodeExchange<'static> = CodeExchange {
    code: "pin-code-1",
    pkce_verifier: None,
    redirect_uri: REDIRECT_URI,
};
const ACCOUNT_ID: &str = "2783136121146311751";

/// The API base on the mock server keeps the `/v5` prefix, as in production.
fn adapter(server: &MockServer) -> PinterestAdapter {
    adapter_on(server, platform_adapters::http::client())
}

/// Video processing checked every 10 ms, at most 5 times.
fn adapter_on(server: &MockServer, http: reqwest::Client) -> PinterestAdapter {
    let mut settings = support::settings(server);
    settings.endpoints.token_url = format!("{}/v5/oauth/token", server.uri());
    settings.endpoints.api_base = format!("{}/v5", server.uri());
    settings.endpoints.revoke_url = None;
    PinterestAdapter::new(http, settings).with_media_polling(MediaPolling {
        interval: Duration::from_millis(10),
        attempts: 5,
    })
}

fn account(access: &SecretString) -> AccountRef<'_> {
    AccountRef {
        platform_account_id: ACCOUNT_ID,
        access_token: access,
        refresh_token: None,
        instance_url: None,
    }
}

fn user_account() -> serde_json::Value {
    json!({
        "account_type": "BUSINESS",
        "id": ACCOUNT_ID,
        "profile_image": "https://i.pinimg.com/280x280_RS/42/03/a5/4203a5dbd4b4a0ab3e2dc5ee8ee5ab57.jpg",
        "website_url": "https://www.example.com",
        "username": "pinterestdev",
        "about": "Pins for developers",
        "business_name": "Pinterest Developers",
        "board_count": 14,
        "pin_count": 339,
        "follower_count": 10,
        "following_count": 347,
        "monthly_views": 163
    })
}

async fn mount_user_account(server: &MockServer, token: &str, body: serde_json::Value) {
    Mock::given(method("GET"))
        .and(path("/v5/user_account"))
        .and(header("authorization", format!("Bearer {token}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .expect(1)
        .mount(server)
        .await;
}

#[test]
fn descriptor_requires_media_and_states_thirty_day_tokens() {
    let d = pinterest::descriptor();
    assert!(!d.pkce);
    assert!(!d.refresh_token_rotates);
    assert_eq!(
        d.access_token_lifetime,
        Some(Duration::from_secs(30 * 86_400))
    );
    assert_eq!(d.capabilities.text_limit, 500);
    assert!(d.capabilities.requires_media);
    let endpoints = pinterest::default_endpoints();
    assert_eq!(endpoints.authorize_url, "https://www.pinterest.com/oauth/");
    assert_eq!(
        endpoints.token_url,
        "https://api.pinterest.com/v5/oauth/token"
    );
    assert_eq!(endpoints.revoke_url, None);
}

#[tokio::test]
async fn authorize_url_carries_comma_separated_scopes_and_state() {
    let server = MockServer::start().await;
    let url = adapter(&server)
        .authorize_url(&AuthorizeParams {
            state: "state-pin",
            pkce_challenge: None,
            redirect_uri: REDIRECT_URI,
        })
        .expect("authorize URL");
    assert!(url.starts_with(&format!("{}/oauth/authorize?", server.uri())));
    assert_eq!(param(&url, "response_type").as_deref(), Some("code"));
    assert_eq!(param(&url, "client_id").as_deref(), Some(CLIENT_ID));
    assert_eq!(param(&url, "redirect_uri").as_deref(), Some(REDIRECT_URI));
    assert_eq!(
        param(&url, "scope").as_deref(),
        Some("boards:read,pins:read,pins:write,user_accounts:read")
    );
    assert_eq!(param(&url, "state").as_deref(), Some("state-pin"));
}

#[tokio::test]
async fn code_exchange_uses_basic_auth_and_reads_the_user_account() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v5/oauth/token"))
        .and(header("authorization", BASIC))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(body_string_contains("grant_type=authorization_code"))
        .and(body_string_contains("code=pin-code-1"))
        .and(body_string_contains(REDIRECT_URI_FORM))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "pina_access-1",
            "refresh_token": "pinr_refresh-1",
            "response_type": "authorization_code",
            "token_type": "bearer",
            "expires_in": 2_592_000,
            "refresh_token_expires_in": 5_184_000,
            "refresh_token_expires_at": 1_767_225_600,
            "scope": "boards:read pins:read pins:write user_accounts:read"
        })))
        .expect(1)
        .mount(&server)
        .await;
    mount_user_account(&server, "pina_access-1", user_account()).await;

    let before = Utc::now();
    let connections = adapter(&server)
        .exchange_code(&EXCHANGE)
        .await
        .expect("exchange");
    let connection = &connections[0];
    let tokens = &connection.tokens;
    assert_eq!(tokens.access_token.expose_secret(), "pina_access-1");
    assert_eq!(
        tokens
            .refresh_token
            .as_ref()
            .map(|t| t.expose_secret().to_owned())
            .as_deref(),
        Some("pinr_refresh-1")
    );
    assert!(tokens.expires_at.expect("expiry") >= before + chrono::Duration::days(30));
    assert!(
        tokens.refresh_expires_at.expect("refresh expiry") >= before + chrono::Duration::days(60)
    );
    assert_eq!(
        tokens.scopes,
        [
            "boards:read",
            "pins:read",
            "pins:write",
            "user_accounts:read"
        ]
    );
    let profile = &connection.profile;
    assert_eq!(profile.platform_account_id, ACCOUNT_ID);
    assert_eq!(profile.handle.as_deref(), Some("pinterestdev"));
    assert_eq!(
        profile.display_name.as_deref(),
        Some("Pinterest Developers")
    );
    assert_eq!(
        profile.profile_url.as_deref(),
        Some("https://www.pinterest.com/pinterestdev/")
    );
    assert!(profile
        .avatar_url
        .as_deref()
        .is_some_and(|u| u.starts_with("https://i.pinimg.com/")));
    assert_eq!(
        connection.stats,
        Some(Stats {
            followers_count: Some(10),
            following_count: Some(347),
            posts_count: Some(339)
        })
    );
}

#[tokio::test]
async fn missing_expires_in_falls_back_to_the_documented_thirty_days() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v5/oauth/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"access_token": "pina_access-2", "token_type": "bearer", "scope": "pins:read"}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    mount_user_account(
        &server,
        "pina_access-2",
        json!({"id": ACCOUNT_ID, "username": "u", "account_type": "PINNER"}),
    )
    .await;
    let before = Utc::now();
    let connections = adapter(&server)
        .exchange_code(&EXCHANGE)
        .await
        .expect("exchange");
    let expires_at = connections[0].tokens.expires_at.expect("fallback lifetime");
    assert!(
        expires_at >= before + chrono::Duration::days(30)
            && expires_at <= Utc::now() + chrono::Duration::days(30)
    );
    // A personal account without counts: display name falls back to the username.
    assert_eq!(connections[0].profile.display_name.as_deref(), Some("u"));
    assert_eq!(connections[0].stats, Some(Stats::default()));
}

#[tokio::test]
async fn revoke_is_not_supported_and_calls_nothing() {
    let server = MockServer::start().await;
    let token = secret("pina_access-3");
    assert_eq!(
        adapter(&server)
            .revoke(&account(&token))
            .await
            .expect("revoke"),
        Revocation::NotSupported
    );
    assert!(server
        .received_requests()
        .await
        .unwrap_or_default()
        .is_empty());
}

#[tokio::test]
async fn errors_are_classified_reauth_rate_limited_and_transient() {
    let server = MockServer::start().await;
    let cases = [
        (
            "pin-401",
            ResponseTemplate::new(401)
                .set_body_json(json!({"code": 2, "message": "Authentication failed."})),
        ),
        (
            "pin-429",
            ResponseTemplate::new(429)
                .insert_header("retry-after", "15")
                .set_body_json(json!({"code": 8, "message": "Rate limit exceeded."})),
        ),
        (
            "pin-500",
            ResponseTemplate::new(500)
                .set_body_json(json!({"code": 1, "message": "Internal error."})),
        ),
    ];
    for (token, response) in cases {
        Mock::given(method("GET"))
            .and(path("/v5/user_account"))
            .and(header("authorization", format!("Bearer {token}").as_str()))
            .respond_with(response)
            .expect(1)
            .mount(&server)
            .await;
    }
    let adapter = adapter(&server);
    let stats_of = |t: &'static str| {
        let token = secret(t);
        let adapter = &adapter;
        async move { adapter.stats(&account(&token)).await.expect_err("error") }
    };
    assert!(matches!(
        stats_of("pin-401").await,
        AdapterError::NeedsReauth { .. }
    ));
    assert_eq!(
        stats_of("pin-429").await,
        AdapterError::RateLimited {
            retry_after: Some(Duration::from_secs(15))
        }
    );
    assert!(matches!(
        stats_of("pin-500").await,
        AdapterError::Transient { .. }
    ));
}

/// The v5 `Error` shape (`code`, `message`) carries no OAuth `error` string, so a refused code is
/// a rejection keyed by the HTTP status.
#[tokio::test]
async fn a_refused_code_exchange_is_a_rejection() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v5/oauth/token"))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_json(json!({"code": 1, "message": "Invalid parameters."})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let err = adapter(&server)
        .exchange_code(&EXCHANGE)
        .await
        .expect_err("refused");
    assert!(
        matches!(err, AdapterError::Rejected { ref code, ref message } if code == "400" && message.contains("Invalid parameters"))
    );
}

// ---------------------------------------------------------------------------------------------
// Refresh (`POST /oauth/token`, `grant_type=refresh_token`, continuous refresh)
// ---------------------------------------------------------------------------------------------

fn account_with_refresh<'a>(access: &'a SecretString, refresh: &'a SecretString) -> AccountRef<'a> {
    AccountRef {
        refresh_token: Some(refresh),
        ..account(access)
    }
}

/// The token endpoint expecting exactly one refresh of `pinr_refresh-old`, answered with
/// `answer`.
async fn mount_refresh(server: &MockServer, answer: ResponseTemplate) {
    Mock::given(method("POST"))
        .and(path("/v5/oauth/token"))
        .and(header("authorization", BASIC))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(form_is(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "pinr_refresh-old"),
            ("continuous_refresh", "true"),
        ]))
        .respond_with(answer)
        .expect(1)
        .mount(server)
        .await;
}

async fn refresh_failing_with(answer: ResponseTemplate) -> AdapterError {
    let server = MockServer::start().await;
    mount_refresh(&server, answer).await;
    let (access, refresh) = (secret("pina_access-old"), secret("pinr_refresh-old"));
    adapter(&server)
        .refresh(&account_with_refresh(&access, &refresh))
        .await
        .expect_err("a failed refresh")
}

fn assert_no_secret_in(err: &AdapterError) {
    let text = format!("{err} {err:?}");
    for secret in ["pinr_refresh-old", "pina_access-old", CLIENT_SECRET] {
        assert!(!text.contains(secret), "`{secret}` leaked into: {text}");
    }
}

#[tokio::test]
async fn pinterest_refresh_asks_for_continuous_refresh_with_basic_auth_and_renews_the_refresh_token(
) {
    let server = MockServer::start().await;
    mount_refresh(
        &server,
        ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "pina_access-new",
            "refresh_token": "pinr_refresh-new",
            "response_type": "refresh_token",
            "token_type": "bearer",
            "expires_in": 2_592_000,
            "refresh_token_expires_in": 5_184_000,
            "refresh_token_expires_at": 1_767_225_600,
            "scope": "boards:read,pins:read,pins:write,user_accounts:read"
        })),
    )
    .await;
    let (access, refresh) = (secret("pina_access-old"), secret("pinr_refresh-old"));

    let before = Utc::now();
    let tokens = adapter(&server)
        .refresh(&account_with_refresh(&access, &refresh))
        .await
        .expect("refresh");

    assert_eq!(tokens.access_token.expose_secret(), "pina_access-new");
    assert_eq!(
        tokens
            .refresh_token
            .as_ref()
            .map(ExposeSecret::expose_secret),
        Some("pinr_refresh-new")
    );
    let expires_at = tokens.expires_at.expect("expiry");
    assert!(
        expires_at >= before + chrono::Duration::days(30)
            && expires_at <= Utc::now() + chrono::Duration::days(30)
    );
    let refresh_expires_at = tokens.refresh_expires_at.expect("refresh expiry");
    assert!(
        refresh_expires_at >= before + chrono::Duration::days(60)
            && refresh_expires_at <= Utc::now() + chrono::Duration::days(60),
        "a continuous refresh token gets a fresh 60 days"
    );
    assert_eq!(tokens.scopes.len(), 4);
}

#[tokio::test]
async fn pinterest_refresh_keeps_the_stored_refresh_token_when_none_is_returned() {
    let server = MockServer::start().await;
    mount_refresh(
        &server,
        ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "pina_access-new",
            "response_type": "refresh_token",
            "token_type": "bearer",
            "expires_in": 2_592_000,
            "scope": "boards:read,pins:read,pins:write,user_accounts:read"
        })),
    )
    .await;
    let (access, refresh) = (secret("pina_access-old"), secret("pinr_refresh-old"));

    let tokens = adapter(&server)
        .refresh(&account_with_refresh(&access, &refresh))
        .await
        .expect("refresh");

    assert_eq!(tokens.access_token.expose_secret(), "pina_access-new");
    assert!(
        tokens.refresh_token.is_none(),
        "None tells the caller to keep the stored refresh token"
    );
    assert_eq!(tokens.refresh_expires_at, None);
}

#[tokio::test]
async fn pinterest_refresh_without_expires_in_falls_back_to_the_documented_thirty_days() {
    let server = MockServer::start().await;
    mount_refresh(
        &server,
        ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "pina_access-new",
            "refresh_token": "pinr_refresh-new",
            "token_type": "bearer",
            "scope": "pins:read"
        })),
    )
    .await;
    let (access, refresh) = (secret("pina_access-old"), secret("pinr_refresh-old"));

    let before = Utc::now();
    let tokens = adapter(&server)
        .refresh(&account_with_refresh(&access, &refresh))
        .await
        .expect("refresh");

    let expires_at = tokens
        .expires_at
        .expect("a missing expires_in must not mean never");
    assert!(
        expires_at >= before + chrono::Duration::days(30)
            && expires_at <= Utc::now() + chrono::Duration::days(30)
    );
}

#[tokio::test]
async fn pinterest_without_a_refresh_token_asks_the_user_to_reconnect() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let access = secret("pina_access-old");

    let err = adapter(&server)
        .refresh(&account(&access))
        .await
        .expect_err("nothing to refresh with");

    assert!(
        matches!(&err, AdapterError::NeedsReauth { message } if message.contains("reconnect your Pinterest account")),
        "{err:?}"
    );
}

#[tokio::test]
async fn pinterest_refresh_with_a_refused_refresh_token_asks_the_user_to_reconnect() {
    let unauthenticated = refresh_failing_with(
        ResponseTemplate::new(401)
            .set_body_json(json!({"code": 2, "message": "Authentication failed."})),
    )
    .await;
    let invalid_grant = refresh_failing_with(ResponseTemplate::new(400).set_body_json(json!({
        "error": "invalid_grant",
        "error_description": "Refresh token pinr_refresh-old has expired."
    })))
    .await;

    for err in [unauthenticated, invalid_grant] {
        assert!(
            matches!(&err, AdapterError::NeedsReauth { message } if message.contains("reconnect your Pinterest account")),
            "{err:?}"
        );
        assert_no_secret_in(&err);
    }
}

#[tokio::test]
async fn pinterest_refresh_with_invalid_parameters_is_a_rejection() {
    let err = refresh_failing_with(
        ResponseTemplate::new(400)
            .set_body_json(json!({"code": 1, "message": "Invalid parameters."})),
    )
    .await;

    assert_eq!(
        err,
        AdapterError::Rejected {
            code: "400".into(),
            message: "Invalid parameters.".into()
        }
    );
}

#[tokio::test]
async fn pinterest_refresh_rate_limited_waits_as_pinterest_asks() {
    let err = refresh_failing_with(
        ResponseTemplate::new(429)
            .insert_header("retry-after", "15")
            .set_body_json(json!({"code": 8, "message": "Rate limit exceeded."})),
    )
    .await;

    assert_eq!(
        err,
        AdapterError::RateLimited {
            retry_after: Some(Duration::from_secs(15))
        }
    );
}

#[tokio::test]
async fn pinterest_refresh_server_errors_are_transient() {
    let err = refresh_failing_with(
        ResponseTemplate::new(503).set_body_string("<html>Service Unavailable</html>"),
    )
    .await;

    assert!(
        matches!(&err, AdapterError::Transient { message } if message.contains("503")),
        "{err:?}"
    );
    assert!(err.is_retryable());
}

// ---------------------------------------------------------------------------------------------
// Publishing: `POST /v5/pins` (images by URL; videos registered, uploaded and awaited first)
// ---------------------------------------------------------------------------------------------

const PIN_TOKEN: &str = "pina_publish";
const BOARD_ID: &str = "549755885175";
const PIN_ID: &str = "813744226420795884";
const MEDIA_ID: &str = "5212123920968240771";

fn pin_bearer() -> String {
    format!("Bearer {PIN_TOKEN}")
}

fn board_options() -> PostOptions {
    PostOptions {
        board_id: Some(BOARD_ID.into()),
        ..PostOptions::default()
    }
}

/// A `Pin` as `POST /v5/pins` answers it (201).
fn pin(title: &str, description: &str, created_at: &str) -> serde_json::Value {
    json!({
        "id": PIN_ID,
        "created_at": created_at,
        "link": null,
        "title": title,
        "description": description,
        "dominant_color": "#6E7874",
        "alt_text": null,
        "creative_type": "REGULAR",
        "board_id": BOARD_ID,
        "board_section_id": null,
        "board_owner": {"username": "pinterestdev"},
        "is_owner": true,
        "media": {"media_type": "image", "images": {"150x150": {"width": 150, "height": 150, "url": "https://i.pinimg.com/150x150/0d/f6/f1/0df6f1f0bfe7aaca849c1bbc3607a34b.jpg"}}},
        "parent_pin_id": null,
        "is_standard": true,
        "has_been_promoted": false,
        "note": null,
        "pin_metrics": null
    })
}

fn pin_created(title: &str, description: &str) -> ResponseTemplate {
    ResponseTemplate::new(201).set_body_json(pin(title, description, &Utc::now().to_rfc3339()))
}

/// `POST /v5/pins` expecting exactly `body`.
fn pin_request(body: serde_json::Value) -> wiremock::MockBuilder {
    Mock::given(method("POST"))
        .and(path("/v5/pins"))
        .and(header("authorization", pin_bearer().as_str()))
        .and(header("content-type", "application/json"))
        .and(body_json(body))
}

async fn publish_with(
    server: &MockServer,
    http: reqwest::Client,
    text: &str,
    media: &[MediaItem],
    options: &PostOptions,
) -> Result<Published, AdapterError> {
    let token = secret(PIN_TOKEN);
    adapter_on(server, http)
        .publish(&account(&token), &support::post(text, media, options))
        .await
}

async fn publish(
    server: &MockServer,
    text: &str,
    media: &[MediaItem],
    options: &PostOptions,
) -> Result<Published, AdapterError> {
    publish_with(
        server,
        platform_adapters::http::client(),
        text,
        media,
        options,
    )
    .await
}

fn short_timeout_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .expect("client")
}

fn second_image(base: &str) -> MediaItem {
    let mut image = support::image(base);
    image.url = format!("{base}/media/img-2.jpg?sig=signed");
    image.alt_text = None;
    image
}

#[tokio::test]
async fn an_image_pin_goes_on_the_board_by_url_with_title_link_and_alt_text() {
    let server = MockServer::start().await;
    let image = support::image(&server.uri());
    let options = PostOptions {
        title: Some("Spring salad".into()),
        link: Some("https://example.com/recipes/spring-salad".into()),
        ..board_options()
    };
    pin_request(json!({
        "board_id": BOARD_ID,
        "title": "Spring salad",
        "description": "Fresh greens in ten minutes.",
        "link": "https://example.com/recipes/spring-salad",
        "alt_text": "a test picture",
        "media_source": {"source_type": "image_url", "url": image.url}
    }))
    .respond_with(pin_created("Spring salad", "Fresh greens in ten minutes."))
    .expect(1)
    .mount(&server)
    .await;

    let published = publish(&server, "Fresh greens in ten minutes.", &[image], &options)
        .await
        .expect("pinned");

    assert_eq!(
        published,
        Published {
            platform_post_id: PIN_ID.into(),
            url: Some(format!("https://www.pinterest.com/pin/{PIN_ID}/")),
        }
    );
}

#[tokio::test]
async fn several_images_make_a_carousel_pin_titled_from_the_first_line() {
    let server = MockServer::start().await;
    let base = server.uri();
    let media = [support::image(&base), second_image(&base)];
    let text = "Five weeknight dinners\nAll under 30 minutes.";
    pin_request(json!({
        "board_id": BOARD_ID,
        "title": "Five weeknight dinners",
        "description": text,
        "alt_text": "a test picture",
        "media_source": {
            "source_type": "multiple_image_urls",
            "items": [{"url": media[0].url}, {"url": media[1].url}]
        }
    }))
    .respond_with(pin_created("Five weeknight dinners", text))
    .expect(1)
    .mount(&server)
    .await;

    let published = publish(&server, text, &media, &board_options())
        .await
        .expect("pinned");

    assert_eq!(published.platform_post_id, PIN_ID);
}

/// `POST /v5/media`, the multipart upload to the returned URL (204), then `GET /v5/media/{id}`
/// answering `processing` once and `final_status` after.
async fn mount_video_upload(server: &MockServer, video: &MediaItem, final_status: &str) {
    Mock::given(method("POST"))
        .and(path("/v5/media"))
        .and(header("authorization", pin_bearer().as_str()))
        .and(body_json(json!({"media_type": "video"})))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "media_id": MEDIA_ID,
            "media_type": "video",
            "upload_url": format!("{}/pinterest-media-upload/", server.uri()),
            "upload_parameters": {
                "x-amz-date": "20220127T185143Z",
                "x-amz-signature": "fcd6309a6aaee213348666a72abed8b44552a43acb6b340e8e1b288d21a5fe92",
                "x-amz-security-token": "IQoJb3JpZ2luX2VjEJr",
                "x-amz-algorithm": "AWS4-HMAC-SHA256",
                "key": "uploads/11/aa/22/3:video:203014033110991560:5212123920968240771",
                "policy": "eyJleHBpcmF0aW9uIjoiMj",
                "x-amz-credential": "ASIA6QZJ64OPIKV7FRVX/20220127/us-east-1/s3/aws4_request",
                "Content-Type": "multipart/form-data"
            }
        })))
        .expect(1)
        .mount(server)
        .await;
    let bytes = video.bytes.to_vec();
    Mock::given(method("POST"))
        .and(path("/pinterest-media-upload/"))
        .and(move |request: &wiremock::Request| {
            let is_multipart = request
                .headers
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("multipart/form-data; boundary="));
            let body = String::from_utf8_lossy(&request.body);
            let fields_before_file = [
                "name=\"key\"\r\n\r\nuploads/11/aa/22/3:video:203014033110991560:5212123920968240771\r\n",
                "name=\"policy\"\r\n\r\neyJleHBpcmF0aW9uIjoiMj\r\n",
                "name=\"x-amz-signature\"\r\n\r\nfcd6309a6aaee213348666a72abed8b44552a43acb6b340e8e1b288d21a5fe92\r\n",
                "name=\"Content-Type\"\r\n\r\nmultipart/form-data\r\n",
            ];
            let file_at = body.find("name=\"file\"");
            let file_is_last = file_at.is_some_and(|at| {
                fields_before_file
                    .iter()
                    .all(|field| body.find(field).is_some_and(|f| f < at))
            });
            let has_bytes = request.body.windows(bytes.len()).any(|w| w == bytes.as_slice());
            is_multipart
                && file_is_last
                && has_bytes
                && !request.headers.contains_key("authorization")
        })
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(server)
        .await;
    let media_status = |status: &str| {
        ResponseTemplate::new(200)
            .set_body_json(json!({"media_id": MEDIA_ID, "media_type": "video", "status": status}))
    };
    Mock::given(method("GET"))
        .and(path(format!("/v5/media/{MEDIA_ID}")))
        .and(header("authorization", pin_bearer().as_str()))
        .respond_with(media_status("processing"))
        .up_to_n_times(1)
        .expect(1)
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/v5/media/{MEDIA_ID}")))
        .and(header("authorization", pin_bearer().as_str()))
        .respond_with(media_status(final_status))
        .expect(1)
        .mount(server)
        .await;
}

#[tokio::test]
async fn a_video_is_registered_uploaded_and_awaited_before_its_pin_is_created() {
    let server = MockServer::start().await;
    let video = support::video(&server.uri());
    mount_video_upload(&server, &video, "succeeded").await;
    pin_request(json!({
        "board_id": BOARD_ID,
        "title": "Timelapse",
        "description": "Timelapse",
        "alt_text": "a test picture",
        "media_source": {
            "source_type": "video_id",
            "media_id": MEDIA_ID,
            "cover_image_key_frame_time": 0
        }
    }))
    .respond_with(pin_created("Timelapse", "Timelapse"))
    .expect(1)
    .mount(&server)
    .await;

    let published = publish(&server, "Timelapse", &[video], &board_options())
        .await
        .expect("pinned");

    assert_eq!(published.platform_post_id, PIN_ID);
}

#[tokio::test]
async fn an_image_next_to_a_video_becomes_its_cover() {
    let server = MockServer::start().await;
    let base = server.uri();
    let video = support::video(&base);
    let cover = second_image(&base);
    mount_video_upload(&server, &video, "succeeded").await;
    pin_request(json!({
        "board_id": BOARD_ID,
        "title": "Timelapse",
        "description": "Timelapse",
        "alt_text": "a test picture",
        "media_source": {
            "source_type": "video_id",
            "media_id": MEDIA_ID,
            "cover_image_url": cover.url
        }
    }))
    .respond_with(pin_created("Timelapse", "Timelapse"))
    .expect(1)
    .mount(&server)
    .await;

    publish(&server, "Timelapse", &[video, cover], &board_options())
        .await
        .expect("pinned");
}

#[tokio::test]
async fn a_video_pinterest_cannot_process_is_rejected_and_never_pinned() {
    let server = MockServer::start().await;
    let video = support::video(&server.uri());
    mount_video_upload(&server, &video, "failed").await;
    Mock::given(method("POST"))
        .and(path("/v5/pins"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;

    let err = publish(&server, "Timelapse", &[video], &board_options())
        .await
        .expect_err("failed");

    assert!(
        matches!(&err, AdapterError::Rejected { code, .. } if code == "video_processing_failed"),
        "{err:?}"
    );
}

#[tokio::test]
async fn pins_pinterest_cannot_take_are_rejected_without_calling_pinterest() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let base = server.uri();
    let image = support::image(&base);
    let bad_board = PostOptions {
        board_id: Some("../user_account".into()),
        ..PostOptions::default()
    };
    let cases = [
        (
            vec![image.clone()],
            PostOptions::default(),
            "board_required",
        ),
        (vec![image.clone()], bad_board, "invalid_board_id"),
        (vec![image.clone(); 6], board_options(), "too_many_images"),
        (
            vec![support::video(&base), support::video(&base)],
            board_options(),
            "unsupported_media_mix",
        ),
    ];
    for (media, options, expected) in cases {
        let err = publish(&server, "caption", &media, &options)
            .await
            .expect_err("rejected");
        assert!(
            matches!(&err, AdapterError::Rejected { code, message } if code == expected && !message.is_empty()),
            "{expected}: {err:?}"
        );
    }
}

#[tokio::test]
async fn pin_creation_errors_are_classified_reauth_rate_limited_and_rejected_with_pinterests_message(
) {
    let server = MockServer::start().await;
    let image = support::image(&server.uri());
    let cases = [
        (
            "Refused token",
            ResponseTemplate::new(401).set_body_json(json!({"code": 2, "message": "Authentication failed."})),
        ),
        (
            "Too fast",
            ResponseTemplate::new(429)
                .insert_header("retry-after", "20")
                .set_body_json(json!({"code": 8, "message": "Rate limit exceeded."})),
        ),
        (
            "Bad board",
            ResponseTemplate::new(400).set_body_json(
                json!({"code": 1, "message": "Invalid parameters: board_id does not belong to the user."}),
            ),
        ),
    ];
    for (text, answer) in cases {
        Mock::given(method("POST"))
            .and(path("/v5/pins"))
            .and(body_json(json!({
                "board_id": BOARD_ID,
                "title": text,
                "description": text,
                "alt_text": "a test picture",
                "media_source": {"source_type": "image_url", "url": image.url}
            })))
            .respond_with(answer)
            .expect(1)
            .mount(&server)
            .await;
    }
    let media = [image];
    let options = board_options();
    let publish_text = |text: &'static str| {
        let (server, media, options) = (&server, &media, &options);
        async move {
            publish(server, text, media, options)
                .await
                .expect_err("error")
        }
    };

    assert!(
        matches!(publish_text("Refused token").await, AdapterError::NeedsReauth { ref message } if message == "Authentication failed.")
    );
    assert_eq!(
        publish_text("Too fast").await,
        AdapterError::RateLimited {
            retry_after: Some(Duration::from_secs(20))
        }
    );
    assert_eq!(
        publish_text("Bad board").await,
        AdapterError::Rejected {
            code: "400".into(),
            message: "Invalid parameters: board_id does not belong to the user.".into()
        }
    );
}

#[tokio::test]
async fn a_delayed_pin_creation_leaves_the_outcome_unknown() {
    let server = MockServer::start().await;
    let image = support::image(&server.uri());
    Mock::given(method("POST"))
        .and(path("/v5/pins"))
        .respond_with(pin_created("caption", "caption").set_delay(Duration::from_secs(2)))
        .expect(1)
        .mount(&server)
        .await;

    let err = publish_with(
        &server,
        short_timeout_client(),
        "caption",
        &[image],
        &board_options(),
    )
    .await
    .expect_err("timed out");

    assert!(
        matches!(err, AdapterError::OutcomeUnknown { .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_delayed_video_registration_is_only_transient() {
    let server = MockServer::start().await;
    let video = support::video(&server.uri());
    Mock::given(method("POST"))
        .and(path("/v5/media"))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(json!({"media_id": MEDIA_ID, "media_type": "video"}))
                .set_delay(Duration::from_secs(2)),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v5/pins"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;

    let err = publish_with(
        &server,
        short_timeout_client(),
        "caption",
        &[video],
        &board_options(),
    )
    .await
    .expect_err("timed out");

    assert!(matches!(err, AdapterError::Transient { .. }), "{err:?}");
}

/// `GET /v5/boards/{board_id}/pins?page_size=50` answering `items`.
async fn mount_board_pins(server: &MockServer, items: serde_json::Value) {
    Mock::given(method("GET"))
        .and(path(format!("/v5/boards/{BOARD_ID}/pins")))
        .and(query_param("page_size", "50"))
        .and(header("authorization", pin_bearer().as_str()))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"items": items, "bookmark": null})),
        )
        .expect(1)
        .mount(server)
        .await;
}

async fn find(server: &MockServer, text: &str) -> Result<Option<Published>, AdapterError> {
    let token = secret(PIN_TOKEN);
    let media = [support::image(&server.uri())];
    let options = board_options();
    adapter(server)
        .find_published(&account(&token), &support::post(text, &media, &options))
        .await
}

#[tokio::test]
async fn find_published_finds_a_recent_pin_with_the_posts_title_and_description() {
    let server = MockServer::start().await;
    let recent = (Utc::now() - chrono::Duration::minutes(3)).to_rfc3339();
    let mut other = pin("Another pin", "Something else", &recent);
    other["id"] = json!("813744226420795000");
    mount_board_pins(
        &server,
        json!([
            other,
            pin("Garden tour", "Garden tour\nThe roses are out.", &recent)
        ]),
    )
    .await;

    let found = find(&server, "Garden tour\nThe roses are out.")
        .await
        .expect("looked up");

    assert_eq!(
        found,
        Some(Published {
            platform_post_id: PIN_ID.into(),
            url: Some(format!("https://www.pinterest.com/pin/{PIN_ID}/")),
        })
    );
}

#[tokio::test]
async fn find_published_ignores_an_identical_pin_older_than_a_week() {
    let server = MockServer::start().await;
    let old = (Utc::now() - chrono::Duration::days(30)).to_rfc3339();
    mount_board_pins(&server, json!([pin("Garden tour", "Garden tour", &old)])).await;

    let found = find(&server, "Garden tour").await.expect("looked up");

    assert_eq!(found, None);
}
