//! TikTok creators through Login Kit for Web (OAuth 2.0 v2) and the Display API.
//!
//! TikTok differs from plain OAuth in ways that matter here:
//! - the client is named `client_key` (not `client_id`) everywhere, and scopes are
//!   comma-separated;
//! - PKCE: the web flow takes the standard S256 challenge (base64url of SHA-256). TikTok's
//!   *desktop* flow instead wants the SHA-256 hex-encoded; Postbridge is a web client with an
//!   https redirect, so the standard form is used, and the matching `code_verifier` is sent at
//!   the exchange (the token endpoint documents it as required for mobile/desktop only; the
//!   widely used `arctic` client does the same for web);
//! - API answers carry `{"error": {"code": "ok" | "<code>", "message", "log_id"}}` even on
//!   success, and a failure may come with any status, so classification reads the body
//!   instead of relying on the status alone;
//! - a refresh answers a new refresh token and the previous one stops working (single use),
//!   with its own lifetime (`refresh_expires_in`: 365 days in older guides, 180 in newer ones);
//! - OAuth errors (token endpoint) are RFC 6749 strings: `{"error": "invalid_grant",
//!   "error_description", "log_id"}`, documented under "OAuth error handling".
//!
//! References: <https://developers.tiktok.com/doc/login-kit-web>,
//! <https://developers.tiktok.com/doc/oauth-user-access-token-management>,
//! <https://developers.tiktok.com/docs/en/oauth-refresh-a-user-access-token>,
//! <https://developers.tiktok.com/doc/tiktok-api-v2-get-user-info>,
//! <https://developers.tiktok.com/doc/tiktok-api-v2-error-handling>,
//! <https://developers.tiktok.com/doc/oauth-error-handling>.

use std::time::Duration;

use domain::{AccountKind, AuthKind, Platform};
use futures_util::future::BoxFuture;
use reqwest::{header::HeaderMap, RequestBuilder, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::{de::DeserializeOwned, Deserialize};
use serde_json::Value;

use crate::{
    classify_response,
    http::{self, TokenResponse},
    parse_retry_after, AccountRef, AdapterError, AdapterSettings, AuthorizeParams, Capabilities,
    ClientCredentials, CodeExchange, Connection, Descriptor, Endpoints, MediaKind, PlatformAdapter,
    Profile, PublishLimit, Revocation, Stats, TextCounting, TokenSet,
};

/// Profile basics, handle and profile link (`user.info.profile`: `username` needs it), counts
/// (`user.info.stats`), and both posting modes: direct post and upload to the inbox.
const SCOPES: &[&str] = &[
    "user.info.basic",
    "user.info.profile",
    "user.info.stats",
    "video.publish",
    "video.upload",
];

/// `user.info.basic` fields.
const BASIC_FIELDS: &str = "open_id,avatar_url,display_name";
/// `user.info.profile` fields.
const PROFILE_FIELDS: &str = "username,profile_deep_link";
/// `user.info.stats` fields.
const STATS_FIELDS: &str = "follower_count,following_count,video_count";

/// TikTok's static facts.
pub fn descriptor() -> Descriptor {
    Descriptor {
        platform: Platform::Tiktok,
        auth_kind: AuthKind::Oauth2,
        scopes: SCOPES.iter().map(|s| (*s).to_owned()).collect(),
        pkce: true,
        // The current token guide gives access tokens 2 hours (earlier revisions said 24);
        // the shorter figure is the safe fallback: an early refresh costs nothing.
        access_token_lifetime: Some(Duration::from_secs(2 * 60 * 60)),
        refresh_token_rotates: true,
        capabilities: Capabilities {
            // The post caption (`title`): at most 2200 UTF-16 code units.
            text_limit: 2200,
            text_counting: TextCounting::Chars,
            // One video per post (photo posts are a separate Content Posting flow, not offered).
            media_kinds: vec![MediaKind::Video],
            max_media: 1,
            requires_media: true,
            // Direct Post allows about 15 posts a day per creator.
            publish_limit: Some(PublishLimit::per_day(15)),
            idempotent_publish: false,
        },
    }
}

/// Production URLs.
pub fn default_endpoints() -> Endpoints {
    Endpoints {
        authorize_url: "https://www.tiktok.com/v2/auth/authorize/".into(),
        token_url: "https://open.tiktokapis.com/v2/oauth/token/".into(),
        revoke_url: Some("https://open.tiktokapis.com/v2/oauth/revoke/".into()),
        api_base: "https://open.tiktokapis.com".into(),
        // Content Posting init calls live on the API host; the bytes go to the `upload_url`
        // TikTok returns (on `open-upload.tiktokapis.com`).
        upload_base: "https://open.tiktokapis.com".into(),
    }
}

/// The TikTok adapter.
#[derive(Debug)]
pub struct TiktokAdapter {
    http: reqwest::Client,
    settings: AdapterSettings,
    descriptor: Descriptor,
}

impl TiktokAdapter {
    /// An adapter on the shared HTTP client.
    pub fn new(http: reqwest::Client, settings: AdapterSettings) -> Self {
        Self {
            http,
            settings,
            descriptor: descriptor(),
        }
    }

    fn credentials(&self) -> Result<&ClientCredentials, AdapterError> {
        self.settings.require_credentials(Platform::Tiktok)
    }

    /// `GET /v2/user/info/?fields=…`. Users may grant only some of the requested scopes, and
    /// each field needs its scope, so callers ask only for fields they expect to be granted.
    async fn user(&self, token: &SecretString, fields: &str) -> Result<User, AdapterError> {
        let url = format!("{}/v2/user/info/", self.settings.endpoints.api_base);
        let request = http::bearer(self.http.get(url).query(&[("fields", fields)]), token);
        let info: UserInfo = decode(&call(request).await?)?;
        info.data
            .and_then(|d| d.user)
            .ok_or_else(|| AdapterError::Transient {
                message: "TikTok returned no user".into(),
            })
    }
}

impl PlatformAdapter for TiktokAdapter {
    fn descriptor(&self) -> &Descriptor {
        &self.descriptor
    }

    fn authorize_url(&self, params: &AuthorizeParams<'_>) -> Result<String, AdapterError> {
        let credentials = self.credentials()?;
        let challenge = params
            .pkce_challenge
            .ok_or_else(|| AdapterError::Unsupported {
                what: "TikTok authorization without a PKCE challenge".into(),
            })?;
        let scope = self.descriptor.scopes.join(",");
        http::url_with_query(
            &self.settings.endpoints.authorize_url,
            &[
                ("client_key", &credentials.client_id),
                ("response_type", "code"),
                ("scope", &scope),
                ("redirect_uri", params.redirect_uri),
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
            let credentials = self.credentials()?;
            let mut form = vec![
                ("client_key", credentials.client_id.as_str()),
                ("client_secret", credentials.client_secret.expose_secret()),
                ("code", exchange.code),
                ("grant_type", "authorization_code"),
                ("redirect_uri", exchange.redirect_uri),
            ];
            if let Some(verifier) = exchange.pkce_verifier {
                form.push(("code_verifier", verifier));
            }
            let request = self
                .http
                .post(&self.settings.endpoints.token_url)
                .form(&form);
            let grant: TokenGrant = decode(&call(request).await?)?;
            let tokens = grant
                .token
                .into_token_set(self.descriptor.access_token_lifetime);
            // Ask only for what was granted: a declined `user.info.stats` must not fail the
            // whole connection.
            let granted = |scope: &str| tokens.scopes.iter().any(|s| s == scope);
            let mut fields = BASIC_FIELDS.to_owned();
            if granted("user.info.profile") {
                fields = format!("{fields},{PROFILE_FIELDS}");
            }
            let with_stats = granted("user.info.stats");
            if with_stats {
                fields = format!("{fields},{STATS_FIELDS}");
            }
            let user = self.user(&tokens.access_token, &fields).await?;
            let stats = with_stats.then(|| user.stats());
            let mut profile = user.into_profile();
            if profile.platform_account_id.is_empty() {
                profile.platform_account_id = grant.open_id;
            }
            Ok(vec![Connection {
                profile,
                tokens,
                stats,
            }])
        })
    }

    /// Basic and profile fields; without `user.info.profile` granted, basic fields only.
    fn profile<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
    ) -> BoxFuture<'a, Result<Profile, AdapterError>> {
        Box::pin(async move {
            let token = account.access_token;
            let user = match self
                .user(token, &format!("{BASIC_FIELDS},{PROFILE_FIELDS}"))
                .await
            {
                Err(AdapterError::Rejected { code, .. }) if code == "scope_not_authorized" => {
                    self.user(token, BASIC_FIELDS).await?
                }
                other => other?,
            };
            Ok(user.into_profile())
        })
    }

    /// Follower, following and video counts; all unknown when the user declined
    /// `user.info.stats` (the platform does not expose them to us then).
    fn stats<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
    ) -> BoxFuture<'a, Result<Stats, AdapterError>> {
        Box::pin(async move {
            match self
                .user(account.access_token, &format!("open_id,{STATS_FIELDS}"))
                .await
            {
                Ok(user) => Ok(user.stats()),
                Err(AdapterError::Rejected { code, .. }) if code == "scope_not_authorized" => {
                    Ok(Stats::default())
                }
                Err(e) => Err(e),
            }
        })
    }

    /// `POST /v2/oauth/token/` with `client_key`, `client_secret`, `grant_type=refresh_token`
    /// and the refresh token, form-encoded. TikTok rotates: the answer's refresh token replaces
    /// the one sent, which stops working, so the caller must store the returned set before
    /// anything else (`refresh_expires_in` becomes [`TokenSet::refresh_expires_at`]). A missing
    /// `expires_in` falls back to the documented two hours.
    ///
    /// No stored refresh token, and `invalid_grant` (expired, revoked, or already rotated away),
    /// are [`AdapterError::NeedsReauth`] telling the user to reconnect; errors arrive in TikTok's
    /// shapes, with any status, and `classify` reads them.
    fn refresh<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
    ) -> BoxFuture<'a, Result<TokenSet, AdapterError>> {
        Box::pin(async move {
            let credentials = self.credentials()?;
            let refresh_token = account
                .refresh_token
                .ok_or_else(|| AdapterError::NeedsReauth {
                    message: "no TikTok refresh token is stored for this account: reconnect your TikTok account".into(),
                })?;
            let request = self.http.post(&self.settings.endpoints.token_url).form(&[
                ("client_key", credentials.client_id.as_str()),
                ("client_secret", credentials.client_secret.expose_secret()),
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token.expose_secret()),
            ]);
            let body = call(request).await.map_err(|error| match error {
                AdapterError::NeedsReauth { message } => AdapterError::NeedsReauth {
                    message: format!(
                        "TikTok no longer accepts this account's refresh token: reconnect your TikTok account ({message})"
                    ),
                },
                other => other,
            })?;
            let grant: TokenGrant = decode(&body)?;
            Ok(grant
                .token
                .into_token_set(self.descriptor.access_token_lifetime))
        })
    }

    /// `POST /v2/oauth/revoke/` with the access token: TikTok then drops the user's whole
    /// authorization of the app, refresh token included.
    fn revoke<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
    ) -> BoxFuture<'a, Result<Revocation, AdapterError>> {
        Box::pin(async move {
            let Some(url) = self.settings.endpoints.revoke_url.as_deref() else {
                return Ok(Revocation::NotSupported);
            };
            let credentials = self.credentials()?;
            let request = self.http.post(url).form(&[
                ("client_key", credentials.client_id.as_str()),
                ("client_secret", credentials.client_secret.expose_secret()),
                ("token", account.access_token.expose_secret()),
            ]);
            call(request).await?;
            Ok(Revocation::Revoked)
        })
    }
}

/// Sends a TikTok request and returns the body of a successful answer; see [`classify`].
async fn call(request: RequestBuilder) -> Result<String, AdapterError> {
    let response = request
        .send()
        .await
        .map_err(|e| AdapterError::from_transport(&e))?;
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .text()
        .await
        .map_err(|e| AdapterError::from_transport(&e))?;
    match classify(status, &headers, &body) {
        Some(error) => Err(error),
        None => Ok(body),
    }
}

fn decode<T: DeserializeOwned>(body: &str) -> Result<T, AdapterError> {
    serde_json::from_str(body).map_err(|e| AdapterError::Transient {
        message: format!("unexpected response shape: {e}"),
    })
}

/// Whether a TikTok answer failed, and how. API errors are `{"error": {"code": …}}` objects
/// (`"ok"` on success); the OAuth endpoints use the RFC 6749 `{"error": "invalid_grant"}` form,
/// which the shared classification already understands, even when it arrives with a 200.
/// Of those, `invalid_client` and `unauthorized_client` blame Postbridge's app credentials, not
/// the user's grant: they are rejections carrying that code, since sending users through a
/// reconnect cannot fix a wrong client secret.
///
/// - `access_token_invalid` (expired, revoked or unknown token) → [`AdapterError::NeedsReauth`];
/// - `rate_limit_exceeded` → [`AdapterError::RateLimited`] with the `Retry-After`, if any;
/// - `internal_error` → [`AdapterError::Transient`];
/// - `scope_not_authorized` → a rejection: the token is fine, the user did not grant the scope,
///   so refreshing cannot help (callers degrade, the user may reconnect to grant it);
/// - any other code → the status decides (401 reauth, 5xx transient), rejections keep the code.
fn classify(status: StatusCode, headers: &HeaderMap, body: &str) -> Option<AdapterError> {
    let error = serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|mut v| v.get_mut("error").map(Value::take));
    let (code, message) = match error {
        Some(Value::Object(object)) => {
            let text = |key: &str| {
                object
                    .get(key)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned()
            };
            (text("code"), excerpt(&text("message")))
        }
        Some(Value::String(code))
            if matches!(code.as_str(), "invalid_client" | "unauthorized_client") =>
        {
            return Some(AdapterError::Rejected {
                code,
                message: "TikTok refused Postbridge's app credentials: check the configured client key and secret".into(),
            });
        }
        // OAuth errors: the shared classification, with TikTok's `error_description` ("Refresh
        // token is invalid or expired.") as the reason a user may read, not the JSON around it.
        Some(Value::String(_)) => {
            return Some(match classify_response(status, headers, body) {
                AdapterError::NeedsReauth { message } => AdapterError::NeedsReauth {
                    message: oauth_description(body).unwrap_or(message),
                },
                other => other,
            });
        }
        _ => (String::new(), String::new()),
    };
    if code.is_empty() || code == "ok" {
        return (!status.is_success()).then(|| classify_response(status, headers, body));
    }
    Some(match code.as_str() {
        "access_token_invalid" => AdapterError::NeedsReauth { message },
        "rate_limit_exceeded" => AdapterError::RateLimited {
            retry_after: parse_retry_after(headers, chrono::Utc::now().timestamp()),
        },
        "internal_error" => AdapterError::Transient { message },
        "scope_not_authorized" => AdapterError::Rejected { code, message },
        _ => match classify_response(status, headers, body) {
            AdapterError::Rejected { .. } => AdapterError::Rejected { code, message },
            other => other,
        },
    })
}

/// The non-empty `error_description` of an OAuth error body, as an excerpt.
fn oauth_description(body: &str) -> Option<String> {
    let value = serde_json::from_str::<Value>(body).ok()?;
    Some(excerpt(value.get("error_description")?.as_str()?)).filter(|d| !d.is_empty())
}

/// At most 300 characters of a platform message, on one line.
fn excerpt(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(300)
        .collect::<String>()
        .trim()
        .to_owned()
}

/// The token answer: the standard fields plus the user's `open_id`.
#[derive(Debug, Deserialize)]
struct TokenGrant {
    #[serde(flatten)]
    token: TokenResponse,
    #[serde(default)]
    open_id: String,
}

#[derive(Debug, Deserialize)]
struct UserInfo {
    data: Option<UserData>,
}

#[derive(Debug, Deserialize)]
struct UserData {
    user: Option<User>,
}

#[derive(Debug, Deserialize)]
struct User {
    #[serde(default)]
    open_id: String,
    display_name: Option<String>,
    avatar_url: Option<String>,
    username: Option<String>,
    profile_deep_link: Option<String>,
    follower_count: Option<i64>,
    following_count: Option<i64>,
    video_count: Option<i64>,
}

impl User {
    fn stats(&self) -> Stats {
        Stats {
            followers_count: self.follower_count,
            following_count: self.following_count,
            posts_count: self.video_count,
        }
    }

    /// `open_id` is the account id: it is what TikTok scopes tokens and posts to (`union_id`,
    /// shared across one developer's apps, is not asked for).
    fn into_profile(self) -> Profile {
        let profile_url = match &self.username {
            Some(username) => Some(format!("https://www.tiktok.com/@{username}")),
            None => self.profile_deep_link,
        };
        Profile {
            platform_account_id: self.open_id,
            account_kind: Some(AccountKind::Profile),
            display_name: self.display_name,
            handle: self.username,
            avatar_url: self.avatar_url,
            profile_url,
        }
    }
}
