//! Mastodon: every instance is its own OAuth 2 server. Connecting an account on an instance
//! takes three steps: normalize what the user typed into an origin ([`normalize_instance`]),
//! refuse instances that resolve to private addresses ([`crate::hosts::resolve_public`]), register Postbridge
//! as an app there once ([`register_app`], stored by the caller per instance), then run the
//! authorization-code flow with PKCE through a [`MastodonAdapter`] built for that instance.
//!
//! References (checked against the official documentation, Mastodon 4.3+):
//! - <https://docs.joinmastodon.org/methods/apps/#create> (form parameters `client_name`,
//!   `redirect_uris`, `scopes`, `website`; answer `CredentialApplication`)
//! - <https://docs.joinmastodon.org/methods/oauth/> (`/oauth/authorize` with `state` and PKCE
//!   `code_challenge`/`code_challenge_method=S256` since 4.3.0; `/oauth/token` with
//!   `code_verifier`; `/oauth/revoke`, idempotent)
//! - <https://docs.joinmastodon.org/api/oauth-scopes/> (granular scopes; `profile` since 4.3.0)
//! - <https://docs.joinmastodon.org/methods/accounts/#verify_credentials> (`CredentialAccount`)
//! - <https://docs.joinmastodon.org/api/rate-limits/> (429 with `X-RateLimit-Reset`, ISO 8601)
//! - <https://docs.joinmastodon.org/methods/media/#v2> (multipart `file` and `description`; 200
//!   when processed, 202 with `url: null` while processing) and
//!   <https://docs.joinmastodon.org/methods/media/#get> (206 while processing, 200 when done)
//! - <https://docs.joinmastodon.org/methods/statuses/#create> (`status`, `media_ids`,
//!   `visibility`; the `Idempotency-Key` header, remembered for an hour)
//! - <https://docs.joinmastodon.org/methods/instance/#v2> (`configuration.statuses`)
//!
//! Tokens do not expire (the token answer has no `expires_in`) and there is no refresh token:
//! an account stays connected until the user or the instance revokes the grant.
//!
//! Publishing needs only the user's token ([`MastodonAdapter::for_publishing`]); the app's
//! credentials matter for connecting and revoking alone.

mod follow_ups;
mod rules;
pub mod text;

use std::time::Duration;

use chrono::{DateTime, Utc};
use domain::{AccountKind, AuthKind, Platform};
use futures_util::future::BoxFuture;
use reqwest::{
    header::HeaderMap,
    multipart::{Form, Part},
    Body, Client, StatusCode, Url,
};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{
    classify_response,
    hosts::HostPolicy,
    http::{self, TokenResponse},
    AccountRef, AdapterError, AuthorizeParams, Capabilities, ClientCredentials, CodeExchange,
    Connection, Descriptor, Endpoints, MediaItem, MediaKind, PlatformAdapter, Profile,
    PublishRequest, Published, Revocation, Stats, TextCounting,
};

/// Mastodon's transport: error answers read by `classify_mastodon`.
const API: http::Api = http::Api::new("Mastodon", classify_mastodon);

/// The name users see on the instance's authorization page and in their authorized apps.
pub const CLIENT_NAME: &str = "Postbridge";

/// Characters per status on a stock instance. Instances may configure another limit
/// (`configuration.statuses.max_characters` of `GET /api/v2/instance`); the descriptor is static,
/// so it states the default and a longer post on a roomier instance is refused before sending.
pub const DEFAULT_TEXT_LIMIT: usize = 500;

/// Scopes requested at registration and authorization: the least that publishing needs.
/// `read:accounts` (for `verify_credentials`) rather than the narrower `profile`, because
/// `profile` exists only since 4.3.0 and older instances refuse an app that asks for it.
pub const SCOPES: [&str; 3] = ["read:accounts", "write:statuses", "write:media"];

/// The instance `default_endpoints()` describes; every real adapter is built per instance.
const EXAMPLE_INSTANCE: &str = "https://mastodon.social";

/// Static facts: OAuth 2 per instance with PKCE, 500 characters, up to 4 images, tokens that
/// never expire and no refresh token.
pub fn descriptor() -> Descriptor {
    Descriptor {
        platform: Platform::Mastodon,
        auth_kind: AuthKind::Oauth2PerInstance,
        scopes: SCOPES.iter().map(|s| (*s).to_owned()).collect(),
        // Supported since 4.3.0 (`code_challenge_methods_supported: ["S256"]`). Older
        // instances (Doorkeeper without the PKCE columns) ignore the parameters, so sending them
        // is safe everywhere and protects the code wherever it is supported.
        pkce: true,
        access_token_lifetime: None,
        refresh_token_rotates: false,
        capabilities: Capabilities {
            text_limit: DEFAULT_TEXT_LIMIT,
            // Mastodon counts grapheme clusters, URLs as 23 and mentions without their domain:
            // `validate::check` applies its own count for Mastodon.
            text_counting: TextCounting::Graphemes,
            // Up to four images, or one video on its own (checked by `validate::check`).
            media_kinds: vec![MediaKind::Image, MediaKind::Video],
            max_media: 4,
            requires_media: false,
            publish_limit: None,
            idempotent_publish: true,
            // Mastodon remembers an `Idempotency-Key` for one hour; five minutes of margin.
            dedup_window: Some(Duration::from_secs(55 * 60)),
            follow_ups: crate::FollowUps {
                delete: true,
                threads: true,
                first_comment: true,
                metrics_batch: follow_ups::METRICS_BATCH,
            },
        },
    }
}

/// The endpoints of the instance at `origin` (`https://host[:port]`, no trailing slash).
pub fn endpoints_for(origin: &str) -> Endpoints {
    let origin = origin.trim_end_matches('/');
    Endpoints {
        authorize_url: format!("{origin}/oauth/authorize"),
        token_url: format!("{origin}/oauth/token"),
        revoke_url: Some(format!("{origin}/oauth/revoke")),
        api_base: origin.to_owned(),
        upload_base: origin.to_owned(),
    }
}

/// Endpoints of `mastodon.social`, as an example only: Mastodon has no global endpoints, and
/// [`MastodonAdapter::for_instance`] derives them from the user's instance.
pub fn default_endpoints() -> Endpoints {
    endpoints_for(EXAMPLE_INSTANCE)
}

/// Mastodon in the registry: an adapter per instance, with the app registered there.
pub const SPEC: crate::spec::PlatformSpec = crate::spec::PlatformSpec {
    descriptor,
    name: "Mastodon",
    rules: &rules::RULES,
    count_text: Some(text::count),
    default_endpoints,
    reach: crate::spec::Reach::InstanceApp(&Apps),
    build: |b| {
        let adapter = MastodonAdapter::build(
            b.http,
            b.instance.unwrap_or_default(),
            b.settings.credentials,
        );
        std::sync::Arc::new(adapter.with_endpoints(b.settings.endpoints))
    },
};

/// The per-instance steps: normalizing, registering our app, reading the instance's limits.
struct Apps;

impl crate::spec::InstanceApps for Apps {
    fn normalize(&self, input: &str, policy: HostPolicy) -> Result<String, AdapterError> {
        normalize_instance_with(input, policy)
    }

    fn endpoints(&self, instance: &str) -> Endpoints {
        endpoints_for(instance)
    }

    fn register<'a>(
        &'a self,
        http: &'a Client,
        api_base: &'a str,
        redirect_uri: &'a str,
    ) -> BoxFuture<'a, Result<ClientCredentials, AdapterError>> {
        Box::pin(async move { register_app(http, api_base, redirect_uri, &SCOPES.join(" ")).await })
    }

    fn limits<'a>(
        &'a self,
        http: &'a Client,
        api_base: &'a str,
    ) -> BoxFuture<'a, Result<InstanceLimits, AdapterError>> {
        Box::pin(instance_limits(http, api_base))
    }
}

/// Turns what a user typed into an instance origin `https://host[:port]`.
///
/// Accepted: a bare domain (`mastodon.social`), a URL (`https://mastodon.social/`, any path,
/// query or fragment is dropped, so a pasted profile URL `https://mastodon.social/@alice` works),
/// and a handle (`@alice@mastodon.social` or `alice@mastodon.social`, the domain after the `@`).
/// `http://` is upgraded to `https://`: tokens only ever travel encrypted. The host is lowercased
/// (international names become punycode), a trailing dot and the default port are dropped, any
/// other port is kept. IP literals pass here and are judged by [`crate::hosts::resolve_public`].
///
/// Refused with `Rejected { code: "invalid_instance" }`: empty input, whitespace inside, another
/// scheme, credentials in the URL (`https://user:pw@host`), single-label hosts (`localhost`,
/// `mastodon`) and anything that is not a valid host name.
pub fn normalize_instance(input: &str) -> Result<String, AdapterError> {
    normalize_instance_with(input, HostPolicy::default())
}

/// [`normalize_instance`] under `policy`: where private hosts are allowed (a test instance, never
/// production) an explicit `http://` is kept, since a fake instance on 127.0.0.1 speaks no TLS.
pub fn normalize_instance_with(input: &str, policy: HostPolicy) -> Result<String, AdapterError> {
    crate::hosts::normalize_origin(input, policy, "a Mastodon instance", "mastodon.social")
}

/// Registers Postbridge on `instance` (an origin from [`normalize_instance`]) and returns the
/// app's credentials, which the caller stores once per instance. Sent form-encoded with a single
/// `redirect_uris` string: JSON arrays of redirect URIs are only understood since 4.3.0, a single
/// form value by every version. `scopes` is space-separated (normally
/// `descriptor().scopes.join(" ")`); later authorizations must ask for a subset of it, so
/// changing [`SCOPES`] means registering the apps again.
pub async fn register_app(
    http: &Client,
    instance: &str,
    redirect_uri: &str,
    scopes: &str,
) -> Result<ClientCredentials, AdapterError> {
    let origin = instance.trim_end_matches('/');
    let form = [
        ("client_name", CLIENT_NAME),
        ("redirect_uris", redirect_uri),
        ("scopes", scopes),
    ];
    let app: CredentialApplication = API
        .json(http.post(format!("{origin}/api/v1/apps")).form(&form))
        .await?;
    Ok(ClientCredentials {
        client_id: app.client_id,
        client_secret: app.client_secret,
    })
}

pub use crate::spec::InstanceLimits;

impl Default for InstanceLimits {
    /// A stock instance's limits, used for every field the instance does not state.
    fn default() -> Self {
        Self {
            max_characters: 500,
            max_media_attachments: 4,
            characters_reserved_per_url: 23,
        }
    }
}

/// Reads the instance's status limits from `GET /api/v2/instance` (Mastodon 4.0+). An instance
/// without it (404 or 410: Mastodon before 4.0, some forks) is asked `GET /api/v1/instance`,
/// whose `configuration.statuses` has the same fields since 3.4, and whose `max_toot_chars` is
/// where Pleroma and glitch-soc state their limit. Missing or out-of-range fields take the stock
/// defaults (500 characters, 4 attachments, 23 per URL). No token is sent: the instance
/// description is public.
pub async fn instance_limits(
    http: &Client,
    instance_origin: &str,
) -> Result<InstanceLimits, AdapterError> {
    let origin = instance_origin.trim().trim_end_matches('/');
    let description: Value = match API
        .json(http.get(format!("{origin}/api/v2/instance")))
        .await
    {
        Ok(v2) => v2,
        Err(AdapterError::Rejected { code, .. }) if code == "404" || code == "410" => {
            API.json(http.get(format!("{origin}/api/v1/instance")))
                .await?
        }
        Err(other) => return Err(other),
    };
    Ok(limits_of(&description))
}

fn limits_of(description: &Value) -> InstanceLimits {
    let defaults = InstanceLimits::default();
    let statuses = description.pointer("/configuration/statuses");
    let field = |name: &str| {
        statuses
            .and_then(|s| s.get(name))
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok())
            .filter(|n| *n > 0)
    };
    let legacy_max_characters = description
        .get("max_toot_chars")
        .and_then(Value::as_u64)
        .and_then(|n| u32::try_from(n).ok())
        .filter(|n| *n > 0);
    InstanceLimits {
        max_characters: field("max_characters")
            .or(legacy_max_characters)
            .unwrap_or(defaults.max_characters),
        max_media_attachments: field("max_media_attachments")
            .unwrap_or(defaults.max_media_attachments),
        // Zero is a legitimate answer here (an instance counting URLs by their length); the
        // field is read without the positive filter.
        characters_reserved_per_url: statuses
            .and_then(|s| s.get("characters_reserved_per_url"))
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(defaults.characters_reserved_per_url),
    }
}

/// How long to wait for an upload the instance processes in the background (202): poll every
/// `interval`, at most `attempts` times, then give up with a transient error (the whole publish
/// is retried later; nothing was posted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaPolling {
    /// Pause before each `GET /api/v1/media/:id`.
    pub interval: Duration,
    /// Polls before giving up.
    pub attempts: u32,
}

impl Default for MediaPolling {
    /// Every 2 seconds for up to 2 minutes: images are processed at once since 4.0, and a
    /// short video takes seconds to a minute to transcode.
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(2),
            attempts: 60,
        }
    }
}

/// Visibilities a status may be given (`visibility`).
const VISIBILITIES: [&str; 4] = ["public", "unlisted", "private", "direct"];

/// The adapter of one instance: with the app registered there for connecting accounts
/// ([`Self::for_instance`]), or with no app credentials for publishing
/// ([`Self::for_publishing`]).
#[derive(Debug, Clone)]
pub struct MastodonAdapter {
    http: Client,
    origin: String,
    /// `host[:port]`: the domain part of handles and account ids.
    authority: String,
    endpoints: Endpoints,
    /// `None` for a publishing-only adapter: the OAuth steps then answer `Unsupported`.
    credentials: Option<ClientCredentials>,
    media_polling: MediaPolling,
    descriptor: Descriptor,
}

impl MastodonAdapter {
    /// An adapter for the instance at `instance_origin` (from [`normalize_instance`]) using the
    /// app `credentials` registered there with [`register_app`].
    pub fn for_instance(
        http: Client,
        instance_origin: String,
        credentials: ClientCredentials,
    ) -> Self {
        Self::build(http, instance_origin, Some(credentials))
    }

    /// An adapter that publishes for accounts of the instance at `instance_origin`. Posting
    /// takes only the user's token, so no app credentials are needed (nor looked up): the
    /// authorization, code exchange and revocation steps answer `Unsupported`.
    pub fn for_publishing(http: Client, instance_origin: String) -> Self {
        Self::build(http, instance_origin, None)
    }

    /// Replaces the URLs derived from the instance (`[platforms.mastodon]` overrides: a test
    /// server standing in for every instance).
    pub fn with_endpoints(mut self, endpoints: Endpoints) -> Self {
        self.endpoints = endpoints;
        self
    }

    /// Replaces how background media processing is waited for (tests poll in milliseconds).
    pub fn with_media_polling(mut self, polling: MediaPolling) -> Self {
        self.media_polling = polling;
        self
    }

    fn build(
        http: Client,
        instance_origin: String,
        credentials: Option<ClientCredentials>,
    ) -> Self {
        let origin = instance_origin.trim().trim_end_matches('/').to_owned();
        let authority = Url::parse(&origin)
            .ok()
            .and_then(|url| {
                let host = url.host_str()?.to_owned();
                Some(match url.port() {
                    Some(port) => format!("{host}:{port}"),
                    None => host,
                })
            })
            .unwrap_or_else(|| origin.clone());
        let endpoints = endpoints_for(&origin);
        Self {
            http,
            origin,
            authority,
            endpoints,
            credentials,
            media_polling: MediaPolling::default(),
            descriptor: descriptor(),
        }
    }

    /// The app's credentials, which connecting and revoking need.
    fn credentials(&self) -> Result<&ClientCredentials, AdapterError> {
        self.credentials
            .as_ref()
            .ok_or_else(|| AdapterError::Unsupported {
                what: format!(
                    "this Mastodon adapter for {} publishes only: it has no app credentials to connect or revoke accounts with",
                    self.origin
                ),
            })
    }

    /// The instance origin this adapter talks to.
    pub fn instance_origin(&self) -> &str {
        &self.origin
    }

    fn scope(&self) -> String {
        self.descriptor.scopes.join(" ")
    }

    /// Refuses an account of another instance: its token must never be sent here.
    fn check_instance(&self, account: &AccountRef<'_>) -> Result<(), AdapterError> {
        match account.instance_url {
            Some(instance)
                if !instance
                    .trim()
                    .trim_end_matches('/')
                    .eq_ignore_ascii_case(&self.origin) =>
            {
                Err(AdapterError::Rejected {
                    code: "wrong_instance".into(),
                    message: "this account belongs to another Mastodon instance".into(),
                })
            }
            _ => Ok(()),
        }
    }

    async fn verify_credentials(
        &self,
        token: &SecretString,
    ) -> Result<CredentialAccount, AdapterError> {
        let url = format!(
            "{}/api/v1/accounts/verify_credentials",
            self.endpoints.api_base
        );
        API.json(http::bearer(self.http.get(url), token)).await
    }
}

impl PlatformAdapter for MastodonAdapter {
    fn descriptor(&self) -> &Descriptor {
        &self.descriptor
    }

    fn authorize_url(&self, params: &AuthorizeParams<'_>) -> Result<String, AdapterError> {
        let credentials = self.credentials()?;
        let scope = self.scope();
        let mut query = vec![
            ("response_type", "code"),
            ("client_id", credentials.client_id.as_str()),
            ("redirect_uri", params.redirect_uri),
            ("scope", scope.as_str()),
            ("state", params.state),
        ];
        if let Some(challenge) = params.pkce_challenge {
            query.push(("code_challenge", challenge));
            query.push(("code_challenge_method", "S256"));
        }
        http::url_with_query(&self.endpoints.authorize_url, &query)
    }

    fn exchange_code<'a>(
        &'a self,
        exchange: &'a CodeExchange<'a>,
    ) -> BoxFuture<'a, Result<Vec<Connection>, AdapterError>> {
        Box::pin(async move {
            let credentials = self.credentials()?;
            let scope = self.scope();
            let mut form = vec![
                ("grant_type", "authorization_code"),
                ("code", exchange.code),
                ("client_id", credentials.client_id.as_str()),
                ("client_secret", credentials.client_secret.expose_secret()),
                ("redirect_uri", exchange.redirect_uri),
                // "Has no effect" for an authorization code since 4.3; older versions wanted
                // it equal to the authorized scope, which it is.
                ("scope", scope.as_str()),
            ];
            if let Some(verifier) = exchange.pkce_verifier {
                form.push(("code_verifier", verifier));
            }
            let token: TokenResponse = API
                .json(self.http.post(&self.endpoints.token_url).form(&form))
                .await?;
            // Mastodon omits `expires_in` because its tokens do not expire (no default lifetime);
            // forks that do send one (Akkoma, GoToSocial) get it honoured.
            let tokens = token.into_token_set(self.descriptor.access_token_lifetime);
            let account = self.verify_credentials(&tokens.access_token).await?;
            Ok(vec![Connection {
                stats: Some(account.stats()),
                profile: account.into_profile(&self.authority),
                tokens,
            }])
        })
    }

    fn profile<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
    ) -> BoxFuture<'a, Result<Profile, AdapterError>> {
        Box::pin(async move {
            self.check_instance(account)?;
            Ok(self
                .verify_credentials(account.access_token)
                .await?
                .into_profile(&self.authority))
        })
    }

    fn stats<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
    ) -> BoxFuture<'a, Result<Stats, AdapterError>> {
        Box::pin(async move {
            self.check_instance(account)?;
            Ok(self.verify_credentials(account.access_token).await?.stats())
        })
    }

    /// `verify_credentials` answers both.
    fn profile_and_stats<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
    ) -> BoxFuture<'a, Result<(Profile, Stats), AdapterError>> {
        Box::pin(async move {
            self.check_instance(account)?;
            let found = self.verify_credentials(account.access_token).await?;
            let stats = found.stats();
            Ok((found.into_profile(&self.authority), stats))
        })
    }

    /// `POST /oauth/revoke` with the app's credentials. Idempotent at the instance: revoking a
    /// token that is already gone answers 200 as well.
    fn revoke<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
    ) -> BoxFuture<'a, Result<Revocation, AdapterError>> {
        Box::pin(async move {
            self.check_instance(account)?;
            let credentials = self.credentials()?;
            let Some(revoke_url) = self.endpoints.revoke_url.as_deref() else {
                return Ok(Revocation::NotSupported);
            };
            let form = [
                ("client_id", credentials.client_id.as_str()),
                ("client_secret", credentials.client_secret.expose_secret()),
                ("token", account.access_token.expose_secret()),
            ];
            API.send(self.http.post(revoke_url).form(&form)).await?;
            Ok(Revocation::Revoked)
        })
    }

    /// Uploads the media (waiting for background processing where the instance needs it),
    /// then creates the status with `Idempotency-Key` set to the post's idempotency key. The
    /// instance remembers the key for an hour per account and answers a repeat with the status
    /// it already created, so a create whose answer was lost is simply repeated. Uploads carry
    /// no key: a repeat uploads again, and the instance deletes unattached media on its own.
    ///
    /// `visibility` comes from `options.privacy` (`public` when absent). A 422 is a
    /// rejection carrying the instance's sentence, except "files that have not finished
    /// processing", which is transient.
    ///
    /// [`PlatformAdapter::find_published`] keeps its default (`Unsupported`): a status can only
    /// be found by comparing rendered HTML with the text, and the idempotency key makes the
    /// lookup unnecessary within the hour it is remembered.
    fn publish<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
        post: &'a PublishRequest<'a>,
    ) -> BoxFuture<'a, Result<Published, AdapterError>> {
        Box::pin(async move {
            self.check_instance(account)?;
            let visibility = visibility(post.options.privacy.as_deref())?;
            let mut media_ids = Vec::with_capacity(post.media.len());
            for item in post.media {
                media_ids.push(self.upload_media(account.access_token, item).await?);
            }
            let body = NewStatus {
                status: post.text,
                media_ids,
                visibility,
                in_reply_to_id: post.reply_to.map(|to| to.parent.platform_post_id),
            };
            let request = http::bearer(
                self.http
                    .post(format!("{}/api/v1/statuses", self.endpoints.api_base)),
                account.access_token,
            )
            .header("Idempotency-Key", post.idempotency_key)
            .json(&body);
            let status: Status = API.json_unsure(request).await?;
            Ok(Published {
                url: status.url.filter(|u| !u.is_empty()).or(status.uri),
                platform_post_id: status.id,
            })
        })
    }

    /// `GET /api/v1/statuses?id[]=`, 20 statuses a request ([`follow_ups`]).
    fn post_metrics<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
        posts: &'a [crate::PostRef<'a>],
    ) -> BoxFuture<'a, Result<Vec<crate::PostMetrics>, AdapterError>> {
        Box::pin(self.read_post_metrics(account, posts))
    }

    /// `DELETE /api/v1/statuses/:id` ([`follow_ups`]).
    fn delete_post<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
        post: &'a crate::PostRef<'a>,
    ) -> BoxFuture<'a, Result<crate::Deletion, AdapterError>> {
        Box::pin(self.delete(account, post))
    }
}

impl MastodonAdapter {
    /// `POST /api/v2/media`, then, when the instance processes the file in the background (202,
    /// or a `url` still null), `GET /api/v1/media/:id` until it answers 200: a status naming an
    /// unprocessed attachment is refused.
    async fn upload_media(
        &self,
        token: &SecretString,
        item: &MediaItem,
    ) -> Result<String, AdapterError> {
        let file = Part::stream_with_length(Body::from(item.bytes.clone()), item.size())
            .file_name(format!("{}.{}", item.id, extension(&item.mime_type)))
            .mime_str(&item.mime_type)
            .map_err(|_| AdapterError::Rejected {
                code: "unsupported_media".into(),
                message: format!("`{}` is not a media type", short(&item.mime_type)),
            })?;
        let mut form = Form::new().part("file", file);
        if let Some(alt) = item.alt_text.as_deref().filter(|a| !a.trim().is_empty()) {
            form = form.text("description", alt.to_owned());
        }
        let response = API
            .send(
                http::bearer(
                    self.http
                        .post(format!("{}/api/v2/media", self.endpoints.api_base)),
                    token,
                )
                .multipart(form),
            )
            .await?;
        let accepted = response.status() == StatusCode::ACCEPTED;
        let attachment: MediaAttachment = API.decode(response).await?;
        if !accepted && attachment.url.is_some() {
            return Ok(attachment.id);
        }
        self.wait_for_processing(token, &attachment.id).await?;
        Ok(attachment.id)
    }

    async fn wait_for_processing(
        &self,
        token: &SecretString,
        id: &str,
    ) -> Result<(), AdapterError> {
        let url = format!("{}/api/v1/media/{id}", self.endpoints.api_base);
        for _ in 0..self.media_polling.attempts {
            tokio::time::sleep(self.media_polling.interval).await;
            // 206 Partial Content: still processing.
            let response = API.send(http::bearer(self.http.get(&url), token)).await?;
            if response.status() == StatusCode::OK {
                return Ok(());
            }
        }
        Err(AdapterError::Transient {
            message: format!(
                "the instance was still processing media attachment {id} after {} polls",
                self.media_polling.attempts
            ),
        })
    }
}

/// The visibility to post with: `privacy` trimmed and lowercased, `public` when absent, and
/// a rejection for anything Mastodon does not know (it would answer 422 only after the uploads).
fn visibility(privacy: Option<&str>) -> Result<&'static str, AdapterError> {
    let Some(wanted) = privacy.map(str::trim).filter(|p| !p.is_empty()) else {
        return Ok("public");
    };
    VISIBILITIES
        .into_iter()
        .find(|v| v.eq_ignore_ascii_case(wanted))
        .ok_or_else(|| AdapterError::Rejected {
            code: "invalid_visibility".into(),
            message: format!(
                "Mastodon visibility must be one of {}, not `{}`",
                VISIBILITIES.join(", "),
                short(wanted)
            ),
        })
}

/// A file name extension for `mime`: the instance checks the declared type, but a name
/// without one shows up oddly in its media storage and logs.
fn extension(mime: &str) -> &str {
    match mime {
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "image/gif" => "gif",
        "image/webp" => "webp",
        "image/heic" => "heic",
        "image/avif" => "avif",
        "video/mp4" => "mp4",
        "video/quicktime" => "mov",
        "video/webm" => "webm",
        _ => "bin",
    }
}

/// Classifies a Mastodon error answer. On top of [`classify_response`]:
/// - a 429 without `Retry-After` waits until `X-RateLimit-Reset` (an ISO 8601 time; Mastodon's
///   throttle sends that, not `Retry-After`);
/// - `invalid_client` (the instance no longer knows our app: deleted, or the instance was reset)
///   is `Rejected { code: "invalid_client" }` so the caller registers the app again, instead of
///   asking the user to reconnect with credentials that cannot work;
/// - API errors carry a sentence in `error` ("Record not found"), not a code: the code is then
///   the HTTP status and the sentence the message;
/// - a 422 "Cannot attach files that have not finished processing" is transient.
pub fn classify_mastodon(status: StatusCode, headers: &HeaderMap, body: &str) -> AdapterError {
    let parsed: ErrorBody = serde_json::from_str(body).unwrap_or_default();
    if status == StatusCode::UNPROCESSABLE_ENTITY
        && parsed
            .error
            .as_deref()
            .is_some_and(|e| e.contains("not finished processing"))
    {
        // "Cannot attach files that have not finished processing. Try again in a moment!": the
        // status was not created, and will be once the media is ready.
        return AdapterError::Transient {
            message: format!(
                "HTTP 422: {}",
                short(parsed.error.as_deref().unwrap_or_default())
            ),
        };
    }
    if parsed.error.as_deref() == Some("invalid_client") {
        return AdapterError::Rejected {
            code: "invalid_client".into(),
            message: "the instance does not recognise Postbridge's app registration; register the app again".into(),
        };
    }
    match classify_response(status, headers, body) {
        AdapterError::RateLimited { retry_after: None } => AdapterError::RateLimited {
            retry_after: rate_limit_reset(headers, Utc::now()),
        },
        AdapterError::Rejected { code, message } if !is_machine_code(&code) => {
            AdapterError::Rejected {
                code: status.as_u16().to_string(),
                message: parsed
                    .error_description
                    .or(parsed.error)
                    .map(|m| short(&m))
                    .unwrap_or(message),
            }
        }
        other => other,
    }
}

/// `X-RateLimit-Reset` (ISO 8601) as a wait from `now`.
fn rate_limit_reset(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    let reset = headers.get("x-ratelimit-reset")?.to_str().ok()?;
    let at = DateTime::parse_from_rfc3339(reset.trim())
        .ok()?
        .with_timezone(&Utc);
    Some((at - now).to_std().unwrap_or(Duration::ZERO))
}

/// OAuth error codes are short snake_case words (`invalid_grant`); Mastodon's API errors are
/// sentences.
fn is_machine_code(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= 64
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'.')
}

/// At most 100 characters on one line, for echoing user input and server text in messages.
fn short(text: &str) -> String {
    crate::http::excerpt(text, 100)
}

/// Mastodon's `Error` entity.
#[derive(Debug, Default, Deserialize)]
struct ErrorBody {
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_description: Option<String>,
}

/// The body of `POST /api/v1/statuses`.
#[derive(Debug, Serialize)]
struct NewStatus<'a> {
    status: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    media_ids: Vec<String>,
    visibility: &'static str,
    /// A thread's next part answers the previous status (`in_reply_to_id`).
    #[serde(skip_serializing_if = "Option::is_none")]
    in_reply_to_id: Option<&'a str>,
}

/// `Status` (the fields we use).
#[derive(Debug, Deserialize)]
struct Status {
    id: String,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    uri: Option<String>,
}

/// `MediaAttachment` (the fields we use): `url` is null while the file is being processed.
#[derive(Debug, Deserialize)]
struct MediaAttachment {
    id: String,
    #[serde(default)]
    url: Option<String>,
}

/// `CredentialApplication` (the fields we use).
#[derive(Debug, Deserialize)]
struct CredentialApplication {
    client_id: String,
    client_secret: SecretString,
}

/// `CredentialAccount` (the fields we use).
#[derive(Debug, Deserialize)]
struct CredentialAccount {
    id: String,
    username: String,
    #[serde(default)]
    acct: Option<String>,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    avatar: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    followers_count: Option<i64>,
    #[serde(default)]
    following_count: Option<i64>,
    #[serde(default)]
    statuses_count: Option<i64>,
}

impl CredentialAccount {
    fn stats(&self) -> Stats {
        Stats {
            followers_count: self.followers_count,
            following_count: self.following_count,
            posts_count: self.statuses_count,
        }
    }

    /// `platform_account_id` is `<id>@<instance>`: an account id is only unique within its
    /// instance (small instances all have an account `1`), and accounts are unique per
    /// (owner, platform, platform_account_id), so a bare id would let two instances' accounts
    /// overwrite each other. The handle is the full `user@instance` (`acct` is the bare username
    /// for the instance's own users).
    fn into_profile(self, authority: &str) -> Profile {
        let handle = match self.acct.filter(|a| a.contains('@')) {
            Some(acct) => acct,
            None => format!("{}@{authority}", self.username),
        };
        Profile {
            platform_account_id: format!("{}@{authority}", self.id),
            account_kind: Some(AccountKind::Profile),
            display_name: self.display_name.filter(|n| !n.trim().is_empty()),
            handle: Some(handle),
            avatar_url: self.avatar.filter(|a| !a.is_empty()),
            profile_url: self.url.filter(|u| !u.is_empty()),
        }
    }
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;

    #[test]
    fn rate_limit_reset_is_an_iso_time() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-ratelimit-reset",
            HeaderValue::from_static("2030-01-01T00:05:00.000000Z"),
        );
        let now = DateTime::parse_from_rfc3339("2030-01-01T00:00:00Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default();
        assert_eq!(
            rate_limit_reset(&headers, now),
            Some(Duration::from_secs(300))
        );
    }

    #[test]
    fn api_error_sentences_are_not_codes() {
        let err = classify_mastodon(
            StatusCode::UNPROCESSABLE_ENTITY,
            &HeaderMap::new(),
            r#"{"error":"Validation failed: Text can't be blank"}"#,
        );
        assert!(
            matches!(&err, AdapterError::Rejected { code, message } if code == "422" && message.contains("Text can't be blank"))
        );
    }
}
