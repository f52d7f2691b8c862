//! Sandbox: the local `platform-sim`, the zero-credential platform of `make run`, the
//! end-to-end tests and the benchmarks.
//!
//! It is deliberately a *strict* OAuth 2.0 provider (RFC 6749, PKCE S256 per RFC 7636,
//! revocation per RFC 7009) with the hard parts of the real platforms: refresh tokens rotate
//! and work once (like X and TikTok), codes are single-use, revoked tokens answer 401. So the
//! code path exercised locally is the one that must hold against the real platforms. The API
//! is documented in `crates/platform-sim/README.md`; this adapter knows only that HTTP
//! surface, never the sim's code.
//!
//! Publishing uploads each media file (`POST /api/v1/media`, raw bytes), then creates the post
//! (`POST /api/v1/posts`) with the target's idempotency key as `Idempotency-Key`. The sim
//! answers a key it has seen with the post that key created, forever, so repeating a create
//! call whose answer was lost can never post twice — that is what `idempotent_publish: true`
//! in the descriptor promises. `find_published` asks for the post by that same key.

mod deletion;
mod metrics;
mod rules;

use std::time::Duration;

use domain::{AccountKind, AuthKind, Platform};
use futures_util::future::BoxFuture;
use reqwest::{header::HeaderMap, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::{
    classify_response, http,
    oauth::{ClientAuth, TokenEndpoint},
    AccountRef, AdapterError, AdapterSettings, AuthorizeParams, Capabilities, ClientCredentials,
    CodeExchange, Connection, Descriptor, Endpoints, MediaItem, MediaKind, PlatformAdapter,
    Profile, PublishRequest, Published, Revocation, Stats, TextCounting, TokenSet,
};

/// Read the profile and counts; publish posts.
const SCOPES: &[&str] = &["profile", "publish"];

/// The sandbox's static facts (they mirror platform-sim's defaults).
pub fn descriptor() -> Descriptor {
    Descriptor {
        platform: Platform::Sandbox,
        auth_kind: AuthKind::Oauth2,
        scopes: SCOPES.iter().map(|s| (*s).to_owned()).collect(),
        pkce: true,
        // platform-sim's default `access_token_ttl_secs`; its answers always carry
        // `expires_in`, so this only matters if that ever goes missing.
        access_token_lifetime: Some(Duration::from_secs(3600)),
        refresh_token_rotates: true,
        capabilities: Capabilities {
            text_limit: 5000,
            text_counting: TextCounting::Chars,
            media_kinds: vec![MediaKind::Image, MediaKind::Video],
            max_media: 4,
            requires_media: false,
            publish_limit: None,
            idempotent_publish: true,
            dedup_window: None,
            follow_ups: crate::FollowUps {
                delete: true,
                threads: true,
                first_comment: true,
                metrics_batch: 100,
            },
        },
    }
}

/// platform-sim on its default local address (`[platform_sim] listen`).
pub fn default_endpoints() -> Endpoints {
    let base = "http://127.0.0.1:8090";
    Endpoints {
        authorize_url: format!("{base}/oauth/authorize"),
        token_url: format!("{base}/oauth/token"),
        revoke_url: Some(format!("{base}/oauth/revoke")),
        api_base: base.into(),
        upload_base: base.into(),
    }
}

/// The sandbox in the registry: one app of ours, configured in `[platforms.sandbox]`.
pub const SPEC: crate::spec::PlatformSpec = crate::spec::PlatformSpec {
    descriptor,
    name: "The sandbox",
    rules: &rules::RULES,
    count_text: None,
    default_endpoints,
    reach: crate::spec::Reach::App,
    build: |b| std::sync::Arc::new(SandboxAdapter::new(b.http, b.settings)),
};

/// The sandbox adapter.
#[derive(Debug)]
pub struct SandboxAdapter {
    http: reqwest::Client,
    settings: AdapterSettings,
    descriptor: Descriptor,
}

impl SandboxAdapter {
    /// An adapter on the shared HTTP client.
    pub fn new(http: reqwest::Client, settings: AdapterSettings) -> Self {
        Self {
            http,
            settings,
            descriptor: descriptor(),
        }
    }

    fn credentials(&self) -> Result<&ClientCredentials, AdapterError> {
        self.settings.require_credentials(Platform::Sandbox)
    }

    /// The token endpoint, `POST /oauth/token` with HTTP Basic client authentication
    /// (RFC 6749 §2.3.1); the revocation endpoint takes the same.
    fn token_endpoint(&self) -> Result<TokenEndpoint<'_>, AdapterError> {
        Ok(TokenEndpoint {
            platform: "the sandbox",
            http: &self.http,
            url: &self.settings.endpoints.token_url,
            credentials: self.credentials()?,
            auth: ClientAuth::Basic,
            lifetime: self.descriptor.access_token_lifetime,
        })
    }

    /// `GET /api/v1/me`.
    async fn me(&self, token: &SecretString) -> Result<Profile, AdapterError> {
        let url = format!("{}/api/v1/me", self.settings.endpoints.api_base);
        let user: Me = http::json(http::bearer(self.http.get(url), token)).await?;
        Ok(Profile {
            platform_account_id: user.id,
            account_kind: Some(AccountKind::Profile),
            display_name: user.name,
            handle: user.username,
            avatar_url: user.avatar_url,
            profile_url: user.profile_url,
        })
    }

    /// `GET /api/v1/me/stats`.
    async fn me_stats(&self, token: &SecretString) -> Result<Stats, AdapterError> {
        let url = format!("{}/api/v1/me/stats", self.settings.endpoints.api_base);
        let counts: MeStats = http::json(http::bearer(self.http.get(url), token)).await?;
        Ok(Stats {
            followers_count: counts.followers_count,
            following_count: counts.following_count,
            posts_count: counts.posts_count,
        })
    }

    /// `POST /api/v1/media` with the file as the raw body. A timeout here is only
    /// [`AdapterError::Transient`]: an orphaned upload creates no post, so repeating is safe.
    async fn upload(&self, token: &SecretString, item: &MediaItem) -> Result<String, AdapterError> {
        let url = format!("{}/api/v1/media", self.settings.endpoints.upload_base);
        let mut request = http::bearer(self.http.post(url), token)
            .header(reqwest::header::CONTENT_TYPE, &item.mime_type)
            .body(item.bytes.clone());
        if let Some(alt_text) = item.alt_text.as_deref().filter(|a| !a.is_empty()) {
            request = request.query(&[("alt_text", alt_text)]);
        }
        let uploaded: MediaAnswer = http::json(request).await.map_err(explain)?;
        Ok(uploaded.id)
    }
}

impl PlatformAdapter for SandboxAdapter {
    fn descriptor(&self) -> &Descriptor {
        &self.descriptor
    }

    fn authorize_url(&self, params: &AuthorizeParams<'_>) -> Result<String, AdapterError> {
        let credentials = self.credentials()?;
        // The sim refuses authorization requests without S256 PKCE, as it should: refuse here
        // first, where the caller's bug is obvious.
        let challenge = params
            .pkce_challenge
            .ok_or_else(|| AdapterError::Unsupported {
                what: "sandbox authorization without a PKCE challenge".into(),
            })?;
        let scope = self.descriptor.scopes.join(" ");
        http::url_with_query(
            &self.settings.endpoints.authorize_url,
            &[
                ("response_type", "code"),
                ("client_id", &credentials.client_id),
                ("redirect_uri", params.redirect_uri),
                ("scope", &scope),
                ("state", params.state),
                ("code_challenge", challenge),
                ("code_challenge_method", "S256"),
            ],
        )
    }

    fn exchange_code<'a>(
        &'a self,
        exchange: &'a CodeExchange<'a>,
    ) -> BoxFuture<'a, Result<Vec<Connection>, AdapterError>> {
        Box::pin(async move {
            let mut form = vec![
                ("grant_type", "authorization_code"),
                ("code", exchange.code),
                ("redirect_uri", exchange.redirect_uri),
            ];
            if let Some(verifier) = exchange.pkce_verifier {
                form.push(("code_verifier", verifier));
            }
            let tokens = self
                .token_endpoint()?
                .grant(&form, "", token_failure)
                .await?;
            let profile = self.me(&tokens.access_token).await?;
            let stats = self.me_stats(&tokens.access_token).await?;
            Ok(vec![Connection {
                profile,
                tokens,
                stats: Some(stats),
            }])
        })
    }

    fn profile<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
    ) -> BoxFuture<'a, Result<Profile, AdapterError>> {
        Box::pin(self.me(account.access_token))
    }

    fn stats<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
    ) -> BoxFuture<'a, Result<Stats, AdapterError>> {
        Box::pin(self.me_stats(account.access_token))
    }

    /// Exchanges the account's refresh token (`grant_type=refresh_token`, Basic client
    /// authentication) for a new token set. platform-sim rotates refresh tokens and each works
    /// once, like X and TikTok: the answer carries a new one and the old one is dead, so the
    /// caller must store the new set before anything else can refresh this account again. A
    /// second refresh with the same token, and a missing one, are
    /// [`AdapterError::NeedsReauth`] telling the user to reconnect.
    fn refresh<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
    ) -> BoxFuture<'a, Result<TokenSet, AdapterError>> {
        Box::pin(async move {
            self.credentials()?;
            let refresh_token = account
                .refresh_token
                .ok_or_else(|| AdapterError::NeedsReauth {
                    message: "no sandbox refresh token is stored for this account: reconnect your sandbox account".into(),
                })?;
            let form = [
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token.expose_secret()),
            ];
            self.token_endpoint()?
                .refresh(&form, refresh_token, token_failure)
                .await
                .map_err(|error| match error {
                    AdapterError::NeedsReauth { message } => AdapterError::NeedsReauth {
                        message: format!(
                            "the sandbox refused the refresh token: reconnect your sandbox account ({message})"
                        ),
                    },
                    other => other,
                })
        })
    }

    /// Uploads the media in order, then creates the post under the request's idempotency key.
    /// Only the create call can answer [`AdapterError::OutcomeUnknown`]; repeating the whole
    /// publish after one is safe (the key returns the post already made, and the re-uploaded
    /// media are merely left unattached).
    fn publish<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
        post: &'a PublishRequest<'a>,
    ) -> BoxFuture<'a, Result<Published, AdapterError>> {
        Box::pin(async move {
            let mut media_ids = Vec::with_capacity(post.media.len());
            for item in post.media {
                media_ids.push(self.upload(account.access_token, item).await?);
            }
            let url = format!("{}/api/v1/posts", self.settings.endpoints.api_base);
            let request = http::bearer(self.http.post(url), account.access_token)
                .header("Idempotency-Key", post.idempotency_key)
                .json(&NewPost {
                    text: post.text,
                    media_ids: &media_ids,
                    reply_to: post.reply_to.map(|r| r.parent.platform_post_id),
                });
            let created: PostAnswer = http::json_unsure(request).await.map_err(explain)?;
            Ok(created.into())
        })
    }

    /// `GET /api/v1/metrics?ids=…`, 100 posts a request (see `metrics.rs`).
    fn post_metrics<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
        posts: &'a [crate::PostRef<'a>],
    ) -> BoxFuture<'a, Result<Vec<crate::PostMetrics>, AdapterError>> {
        Box::pin(self.metrics(account, posts))
    }

    /// `GET /api/v1/posts?idempotency_key=…`: the account's post made with this request's key,
    /// if an earlier attempt got that far.
    fn find_published<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
        post: &'a PublishRequest<'a>,
    ) -> BoxFuture<'a, Result<Option<Published>, AdapterError>> {
        Box::pin(async move {
            let url = http::url_with_query(
                &format!("{}/api/v1/posts", self.settings.endpoints.api_base),
                &[("idempotency_key", post.idempotency_key)],
            )?;
            let found: Vec<PostAnswer> =
                http::json(http::bearer(self.http.get(url), account.access_token))
                    .await
                    .map_err(explain)?;
            Ok(found.into_iter().next().map(Published::from))
        })
    }

    fn delete_post<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
        post: &'a crate::PostRef<'a>,
    ) -> BoxFuture<'a, Result<crate::Deletion, AdapterError>> {
        Box::pin(self.delete(account, post))
    }

    /// Revokes the refresh token when there is one (the sim then ends the whole grant, its
    /// access tokens included), else the access token: one call either way.
    fn revoke<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
    ) -> BoxFuture<'a, Result<Revocation, AdapterError>> {
        Box::pin(async move {
            let Some(url) = self.settings.endpoints.revoke_url.as_deref() else {
                return Ok(Revocation::NotSupported);
            };
            let (token, hint) = match account.refresh_token {
                Some(refresh_token) => (refresh_token, "refresh_token"),
                None => (account.access_token, "access_token"),
            };
            self.token_endpoint()?
                .revoke(
                    url,
                    &[("token", token.expose_secret()), ("token_type_hint", hint)],
                )
                .await?;
            Ok(Revocation::Revoked)
        })
    }
}

/// Reads a failed token request. The sim answers wrong or missing client credentials with
/// `401 invalid_client`; that blames the operator's configuration, not the user's grant, so it
/// is a rejection with that code rather than the "reauthorize" a 401 would otherwise mean. A
/// refused grant carries the sim's `error_description` ("the refresh token was already used"),
/// the reason a user may read, not the JSON around it.
fn token_failure(status: StatusCode, headers: &HeaderMap, body: &str, _sent: &str) -> AdapterError {
    let parsed = serde_json::from_str::<OAuthError>(body).unwrap_or_default();
    if parsed.error.as_deref() == Some("invalid_client") {
        return AdapterError::Rejected {
            code: "invalid_client".into(),
            message: "platform-sim refused Postbridge's client credentials: check the configured sandbox client id and secret".into(),
        };
    }
    match classify_response(status, headers, body) {
        AdapterError::NeedsReauth { message } => AdapterError::NeedsReauth {
            message: parsed
                .error_description
                .map(|d| d.chars().filter(|c| !c.is_control()).take(300).collect())
                .unwrap_or(message),
        },
        other => other,
    }
}

/// An RFC 6749 §5.2 error answer.
#[derive(Debug, Default, Deserialize)]
struct OAuthError {
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_description: Option<String>,
}

/// Puts the sim's `error_description` where a person reads it, and sends a token granted
/// without `publish` to reconnect (asking again grants it) instead of failing every post.
fn explain(error: AdapterError) -> AdapterError {
    match error {
        AdapterError::Rejected { code, message } => {
            let parsed = serde_json::from_str::<OAuthError>(&message).unwrap_or_default();
            if parsed.error.as_deref() == Some("insufficient_scope") {
                return AdapterError::NeedsReauth {
                    message: "the sandbox account was connected without the publish permission: reconnect your sandbox account".into(),
                };
            }
            // The excerpt had its control characters blanked; JSON escapes bring them back.
            let description = parsed
                .error_description
                .map(|d| d.chars().filter(|c| !c.is_control()).take(300).collect());
            AdapterError::Rejected {
                code,
                message: description.unwrap_or(message),
            }
        }
        other => other,
    }
}

/// The body of `POST /api/v1/posts`.
#[derive(Debug, Serialize)]
struct NewPost<'a> {
    text: &'a str,
    media_ids: &'a [String],
    /// The post this one answers (a thread's previous part), as Mastodon's `in_reply_to_id`.
    #[serde(skip_serializing_if = "Option::is_none")]
    reply_to: Option<&'a str>,
}

/// A post in the sim's answers.
#[derive(Debug, Deserialize)]
struct PostAnswer {
    id: String,
    #[serde(default)]
    url: Option<String>,
}

impl From<PostAnswer> for Published {
    fn from(post: PostAnswer) -> Self {
        Self {
            platform_post_id: post.id,
            url: post.url,
        }
    }
}

/// The answer of `POST /api/v1/media`.
#[derive(Debug, Deserialize)]
struct MediaAnswer {
    id: String,
}

/// `GET /api/v1/me`.
#[derive(Debug, Deserialize)]
struct Me {
    id: String,
    username: Option<String>,
    name: Option<String>,
    avatar_url: Option<String>,
    profile_url: Option<String>,
}

/// `GET /api/v1/me/stats`.
#[derive(Debug, Deserialize)]
struct MeStats {
    followers_count: Option<i64>,
    following_count: Option<i64>,
    posts_count: Option<i64>,
}
