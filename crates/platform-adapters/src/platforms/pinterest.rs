//! Pinterest accounts through OAuth 2.0 and API v5.
//!
//! The token endpoint authenticates the client with HTTP Basic (`client_id:client_secret`) and
//! takes a form body; Pinterest documents no PKCE for its authorization code flow. Access tokens
//! live 30 days; refresh tokens are "continuous" (60 days, renewed by each refresh). References:
//! <https://developers.pinterest.com/docs/getting-started/set-up-authentication-and-authorization/>
//! and the v5 OpenAPI description (`POST /oauth/token`, `GET /user_account`,
//! `POST /oauth/token/revoke`).
//!
//! On continuous refresh, the v5 description of `POST /oauth/token` (5.23) says: apps created
//! before 25 September 2025 must send `continuous_refresh=true` to use the continuous refresh
//! token ("60-day expiration, refreshable indefinitely"), as Pinterest no longer supports the
//! legacy one (365 days, hard limit); apps activated since use it automatically. Postbridge
//! cannot know its app's creation date, so every refresh sends the parameter. A refresh then
//! answers a new refresh token with a fresh `refresh_token_expires_in`, which is what keeps the
//! grant alive: an account not refreshed for 60 days has to reconnect.

use std::time::Duration;

use domain::{AccountKind, AuthKind, Platform};
use futures_util::future::BoxFuture;
use reqwest::{header::HeaderMap, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::{
    classify_response,
    http::{self, TokenResponse},
    AccountRef, AdapterError, AdapterSettings, AuthorizeParams, Capabilities, ClientCredentials,
    CodeExchange, Connection, Descriptor, Endpoints, MediaKind, PlatformAdapter, Profile,
    Revocation, Stats, TextCounting, TokenSet,
};

/// Read boards (a pin is created on one), read and create pins, and read the account.
const SCOPES: &[&str] = &[
    "boards:read",
    "pins:read",
    "pins:write",
    "user_accounts:read",
];

/// Pinterest's static facts.
pub fn descriptor() -> Descriptor {
    Descriptor {
        platform: Platform::Pinterest,
        auth_kind: AuthKind::Oauth2,
        scopes: SCOPES.iter().map(|s| (*s).to_owned()).collect(),
        pkce: false,
        // `expires_in` is 2592000 seconds: 30 days.
        access_token_lifetime: Some(Duration::from_secs(30 * 24 * 60 * 60)),
        refresh_token_rotates: false,
        capabilities: Capabilities {
            // The pin description.
            text_limit: 500,
            text_counting: TextCounting::Chars,
            media_kinds: vec![MediaKind::Image, MediaKind::Video],
            // A carousel pin holds up to 5 images; a video pin one video.
            max_media: 5,
            requires_media: true,
            publish_limit: None,
            idempotent_publish: false,
        },
    }
}

/// Production URLs. There is deliberately no revocation URL: see [`PinterestAdapter::revoke`].
pub fn default_endpoints() -> Endpoints {
    Endpoints {
        authorize_url: "https://www.pinterest.com/oauth/".into(),
        token_url: "https://api.pinterest.com/v5/oauth/token".into(),
        revoke_url: None,
        api_base: "https://api.pinterest.com/v5".into(),
        upload_base: "https://api.pinterest.com/v5".into(),
    }
}

/// The Pinterest adapter.
#[derive(Debug)]
pub struct PinterestAdapter {
    http: reqwest::Client,
    settings: AdapterSettings,
    descriptor: Descriptor,
}

impl PinterestAdapter {
    /// An adapter on the shared HTTP client.
    pub fn new(http: reqwest::Client, settings: AdapterSettings) -> Self {
        Self {
            http,
            settings,
            descriptor: descriptor(),
        }
    }

    fn credentials(&self) -> Result<&ClientCredentials, AdapterError> {
        self.settings.require_credentials(Platform::Pinterest)
    }

    /// `GET /user_account`: the account and its counts in one call.
    async fn account(&self, token: &SecretString) -> Result<(Profile, Stats), AdapterError> {
        let url = format!("{}/user_account", self.settings.endpoints.api_base);
        let account: Account = http::json(http::bearer(self.http.get(url), token)).await?;
        let stats = Stats {
            followers_count: account.follower_count,
            following_count: account.following_count,
            posts_count: account.pin_count,
        };
        let profile = Profile {
            // The numeric id is stable; the username can be changed by its owner.
            platform_account_id: account.id,
            // Personal and business Pinterest accounts post the same way; `Business` is the
            // Instagram professional kind.
            account_kind: Some(AccountKind::Profile),
            display_name: account
                .business_name
                .filter(|n| !n.is_empty())
                .or_else(|| account.username.clone()),
            profile_url: account
                .username
                .as_ref()
                .map(|u| format!("https://www.pinterest.com/{u}/")),
            handle: account.username,
            avatar_url: account.profile_image,
        };
        Ok((profile, stats))
    }

    /// `POST token_url` (`{api_base}/oauth/token`) with HTTP Basic client authentication and
    /// the form `grant_type=refresh_token`, `refresh_token`, `continuous_refresh=true` (see the
    /// module documentation). The answer (`OauthAccessTokenResponseRefresh`) carries a new
    /// access token and, for continuous refresh, a new refresh token with its
    /// `refresh_token_expires_in`; when it carries none, the result's `refresh_token` is `None`:
    /// keep the stored one. A missing `expires_in` falls back to the documented 30 days.
    async fn refresh_grant(&self, account: &AccountRef<'_>) -> Result<TokenSet, AdapterError> {
        let credentials = self.credentials()?;
        let refresh_token = account
            .refresh_token
            .ok_or_else(|| AdapterError::NeedsReauth {
                message: "Pinterest did not grant a refresh token for this account: reconnect your Pinterest account before its 30-day token expires".into(),
            })?;
        let request = self
            .http
            .post(&self.settings.endpoints.token_url)
            .basic_auth(
                &credentials.client_id,
                Some(credentials.client_secret.expose_secret()),
            )
            .form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token.expose_secret()),
                ("continuous_refresh", "true"),
            ]);
        let response = request
            .send()
            .await
            .map_err(|e| AdapterError::from_transport(&e))?;
        let status = response.status();
        if !status.is_success() {
            let headers = response.headers().clone();
            let body = response.text().await.unwrap_or_default();
            return Err(refresh_failure(
                status,
                &headers,
                &body,
                refresh_token.expose_secret(),
            ));
        }
        let bytes = response
            .bytes()
            .await
            .map_err(|e| AdapterError::from_transport(&e))?;
        let answer: TokenResponse =
            serde_json::from_slice(&bytes).map_err(|e| AdapterError::Transient {
                message: format!(
                    "unexpected token answer from Pinterest (line {}, column {})",
                    e.line(),
                    e.column()
                ),
            })?;
        Ok(answer.into_token_set(self.descriptor.access_token_lifetime))
    }
}

impl PlatformAdapter for PinterestAdapter {
    fn descriptor(&self) -> &Descriptor {
        &self.descriptor
    }

    fn authorize_url(&self, params: &AuthorizeParams<'_>) -> Result<String, AdapterError> {
        let credentials = self.credentials()?;
        let scope = self.descriptor.scopes.join(",");
        http::url_with_query(
            &self.settings.endpoints.authorize_url,
            &[
                ("response_type", "code"),
                ("client_id", &credentials.client_id),
                ("redirect_uri", params.redirect_uri),
                ("scope", &scope),
                ("state", params.state),
            ],
        )
    }

    fn exchange_code<'a>(
        &'a self,
        exchange: &'a CodeExchange<'a>,
    ) -> BoxFuture<'a, Result<Vec<Connection>, AdapterError>> {
        Box::pin(async move {
            let credentials = self.credentials()?;
            let request = self
                .http
                .post(&self.settings.endpoints.token_url)
                .basic_auth(
                    &credentials.client_id,
                    Some(credentials.client_secret.expose_secret()),
                )
                .form(&[
                    ("grant_type", "authorization_code"),
                    ("code", exchange.code),
                    ("redirect_uri", exchange.redirect_uri),
                ]);
            let tokens = http::json::<TokenResponse>(request)
                .await?
                .into_token_set(self.descriptor.access_token_lifetime);
            let (profile, stats) = self.account(&tokens.access_token).await?;
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
        Box::pin(async move { Ok(self.account(account.access_token).await?.0) })
    }

    fn stats<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
    ) -> BoxFuture<'a, Result<Stats, AdapterError>> {
        Box::pin(async move { Ok(self.account(account.access_token).await?.1) })
    }

    /// Exchanges the continuous refresh token for a new 30-day access token and, normally, a new
    /// 60-day refresh token (`POST /oauth/token`, Basic client authentication,
    /// `continuous_refresh=true`). An answer without a refresh token returns `None`: keep the
    /// stored one.
    fn refresh<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
    ) -> BoxFuture<'a, Result<TokenSet, AdapterError>> {
        Box::pin(self.refresh_grant(account))
    }

    /// Pinterest's `POST /oauth/token/revoke` "only supports tokens issued for system users",
    /// not the user tokens of this flow, so there is nothing to call: the tokens are forgotten
    /// and the user can remove the app under their Pinterest security settings.
    fn revoke<'a>(
        &'a self,
        _account: &'a AccountRef<'a>,
    ) -> BoxFuture<'a, Result<Revocation, AdapterError>> {
        Box::pin(async { Ok(Revocation::NotSupported) })
    }
}

/// `GET /user_account` (schema `Account`); counts are nullable.
#[derive(Debug, Deserialize)]
struct Account {
    id: String,
    username: Option<String>,
    business_name: Option<String>,
    profile_image: Option<String>,
    follower_count: Option<i64>,
    following_count: Option<i64>,
    pin_count: Option<i64>,
}

/// Classifies a failed refresh. Pinterest answers its v5 `Error` shape (`{"code": 2,
/// "message": "Authentication failed."}`), which carries no OAuth `error` string, so the
/// shared classification decides by status (401 → reconnect, 429 → rate limited, 5xx →
/// transient, other 4xx → a rejection keyed by the status), and an RFC 6749 `invalid_grant`
/// is understood too. Messages quote Pinterest's `message` (or `error_description`) only, never
/// the body, with `sent` (the refresh token) blanked out should it ever be echoed.
fn refresh_failure(
    status: StatusCode,
    headers: &HeaderMap,
    body: &str,
    sent: &str,
) -> AdapterError {
    let explanation = error_message(body, sent);
    match classify_response(status, headers, body) {
        AdapterError::NeedsReauth { .. } => AdapterError::NeedsReauth {
            message: match explanation {
                Some(why) => format!(
                    "Pinterest no longer accepts this account's refresh token ({why}): reconnect your Pinterest account"
                ),
                None => "Pinterest no longer accepts this account's refresh token: reconnect your Pinterest account".into(),
            },
        },
        AdapterError::Transient { .. } => AdapterError::Transient {
            message: format!("HTTP {} from the Pinterest token endpoint", status.as_u16()),
        },
        AdapterError::Rejected { code, .. } => AdapterError::Rejected {
            code,
            message: explanation.unwrap_or_else(|| format!("HTTP {}", status.as_u16())),
        },
        other => other,
    }
}

/// The explanation of an error body: Pinterest's `message`, or an OAuth `error_description`;
/// on one line, at most 300 characters, with `sent` replaced should the platform echo it.
fn error_message(body: &str, sent: &str) -> Option<String> {
    let value = serde_json::from_str::<serde_json::Value>(body).ok()?;
    let text = value
        .get("message")
        .or_else(|| value.get("error_description"))?
        .as_str()?;
    let text = if sent.is_empty() {
        text.to_owned()
    } else {
        text.replace(sent, "[redacted]")
    };
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(300)
        .collect();
    Some(one_line.trim().to_owned()).filter(|m| !m.is_empty())
}
