//! LinkedIn members: "Sign In with LinkedIn using OpenID Connect" plus "Share on LinkedIn".
//!
//! Identity comes from the OIDC `userinfo` endpoint (the legacy `r_liteprofile` sign-in was
//! deprecated on 1 August 2023); posting needs `w_member_social`. LinkedIn's 3-legged flow
//! for web apps has no PKCE (its PKCE variant is a separately approved native-app flow), so the
//! client secret goes in the token request body, as LinkedIn documents. References:
//! <https://learn.microsoft.com/en-us/linkedin/shared/authentication/authorization-code-flow>,
//! <https://learn.microsoft.com/en-us/linkedin/consumer/integrations/self-serve/sign-in-with-linkedin-v2>,
//! <https://learn.microsoft.com/en-us/linkedin/shared/authentication/programmatic-refresh-tokens>.
//!
//! Access tokens live 60 days. Programmatic refresh tokens are only granted to approved
//! Marketing Developer Platform partners; everyone else reconnects before the token expires.
//! A refresh token lives 365 days from the first authorization: refreshing gives a new 60-day
//! access token but never extends the refresh token (its `refresh_token_expires_in` counts
//! down), so even partners' members reconnect once a year.

use std::time::Duration;

use domain::{AccountKind, AuthKind, Platform};
use futures_util::future::BoxFuture;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::{
    http::{self, TokenResponse},
    AccountRef, AdapterError, AdapterSettings, AuthorizeParams, Capabilities, ClientCredentials,
    CodeExchange, Connection, Descriptor, Endpoints, MediaKind, PlatformAdapter, Profile,
    Revocation, Stats, TextCounting, TokenSet,
};

/// What a member without a programmatic refresh token must do: LinkedIn grants them to
/// approved partner apps only, so for everyone else the 60-day token simply runs out.
const NO_REFRESH_TOKEN: &str = "LinkedIn did not grant a refresh token: reconnect your LinkedIn account before the 60-day token expires";

/// OIDC identity (`openid profile email`) plus member posting (`w_member_social`).
const SCOPES: &[&str] = &["openid", "profile", "email", "w_member_social"];

/// LinkedIn's static facts.
pub fn descriptor() -> Descriptor {
    Descriptor {
        platform: Platform::Linkedin,
        auth_kind: AuthKind::Oauth2,
        scopes: SCOPES.iter().map(|s| (*s).to_owned()).collect(),
        pkce: false,
        // "By default, access tokens are valid for 60 days."
        access_token_lifetime: Some(Duration::from_secs(60 * 24 * 60 * 60)),
        // A refresh keeps the refresh token and its original one-year deadline.
        refresh_token_rotates: false,
        capabilities: Capabilities {
            text_limit: 3000,
            text_counting: TextCounting::Chars,
            media_kinds: vec![MediaKind::Image, MediaKind::Video],
            // A multi-image post carries up to 20 images; a video post one video.
            max_media: 20,
            requires_media: false,
            publish_limit: None,
            idempotent_publish: false,
        },
    }
}

/// Production URLs.
pub fn default_endpoints() -> Endpoints {
    Endpoints {
        authorize_url: "https://www.linkedin.com/oauth/v2/authorization".into(),
        token_url: "https://www.linkedin.com/oauth/v2/accessToken".into(),
        revoke_url: Some("https://www.linkedin.com/oauth/v2/revoke".into()),
        api_base: "https://api.linkedin.com".into(),
        upload_base: "https://api.linkedin.com".into(),
    }
}

/// The LinkedIn adapter.
#[derive(Debug)]
pub struct LinkedinAdapter {
    http: reqwest::Client,
    settings: AdapterSettings,
    descriptor: Descriptor,
}

impl LinkedinAdapter {
    /// An adapter on the shared HTTP client.
    pub fn new(http: reqwest::Client, settings: AdapterSettings) -> Self {
        Self {
            http,
            settings,
            descriptor: descriptor(),
        }
    }

    fn credentials(&self) -> Result<&ClientCredentials, AdapterError> {
        self.settings.require_credentials(Platform::Linkedin)
    }

    /// `GET /v2/userinfo` (OIDC). `sub` is the member id that posts are authored by
    /// (`urn:li:person:{sub}`). The OIDC profile carries no vanity name, so neither a handle
    /// nor a profile URL is known.
    async fn userinfo(&self, token: &SecretString) -> Result<Profile, AdapterError> {
        let url = format!("{}/v2/userinfo", self.settings.endpoints.api_base);
        let info: UserInfo = http::json(http::bearer(self.http.get(url), token)).await?;
        let display_name = info.name.or_else(|| {
            let joined = [info.given_name, info.family_name]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            (!joined.is_empty()).then_some(joined)
        });
        Ok(Profile {
            platform_account_id: info.sub,
            account_kind: Some(AccountKind::Profile),
            display_name,
            handle: None,
            avatar_url: info.picture,
            profile_url: None,
        })
    }

    /// `POST /oauth/v2/accessToken` with `grant_type=refresh_token`, the refresh token and the
    /// client credentials in the form, as LinkedIn documents for programmatic refresh tokens.
    /// The answer (`access_token`, `expires_in`, `refresh_token`, `refresh_token_expires_in`)
    /// carries the refresh token's remaining lifetime, which becomes
    /// [`TokenSet::refresh_expires_at`]; a missing `expires_in` falls back to 60 days.
    async fn refresh_grant(&self, account: &AccountRef<'_>) -> Result<TokenSet, AdapterError> {
        let credentials = self.credentials()?;
        let refresh_token = account
            .refresh_token
            .ok_or_else(|| AdapterError::NeedsReauth {
                message: NO_REFRESH_TOKEN.into(),
            })?;
        let request = self.http.post(&self.settings.endpoints.token_url).form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose_secret()),
            ("client_id", credentials.client_id.as_str()),
            ("client_secret", credentials.client_secret.expose_secret()),
        ]);
        let response = request
            .send()
            .await
            .map_err(|e| AdapterError::from_transport(&e))?;
        let status = response.status();
        if !status.is_success() {
            let headers = response.headers().clone();
            let body = response.text().await.unwrap_or_default();
            return Err(http::refresh_failure(
                "LinkedIn",
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
                    "unexpected token answer from LinkedIn (line {}, column {})",
                    e.line(),
                    e.column()
                ),
            })?;
        Ok(answer.into_token_set(self.descriptor.access_token_lifetime))
    }
}

impl PlatformAdapter for LinkedinAdapter {
    fn descriptor(&self) -> &Descriptor {
        &self.descriptor
    }

    fn authorize_url(&self, params: &AuthorizeParams<'_>) -> Result<String, AdapterError> {
        let credentials = self.credentials()?;
        let scope = self.descriptor.scopes.join(" ");
        http::url_with_query(
            &self.settings.endpoints.authorize_url,
            &[
                ("response_type", "code"),
                ("client_id", &credentials.client_id),
                ("redirect_uri", params.redirect_uri),
                ("state", params.state),
                ("scope", &scope),
            ],
        )
    }

    fn exchange_code<'a>(
        &'a self,
        exchange: &'a CodeExchange<'a>,
    ) -> BoxFuture<'a, Result<Vec<Connection>, AdapterError>> {
        Box::pin(async move {
            let credentials = self.credentials()?;
            let request = self.http.post(&self.settings.endpoints.token_url).form(&[
                ("grant_type", "authorization_code"),
                ("code", exchange.code),
                ("redirect_uri", exchange.redirect_uri),
                ("client_id", credentials.client_id.as_str()),
                ("client_secret", credentials.client_secret.expose_secret()),
            ]);
            let tokens = http::json::<TokenResponse>(request)
                .await?
                .into_token_set(self.descriptor.access_token_lifetime);
            let profile = self.userinfo(&tokens.access_token).await?;
            Ok(vec![Connection {
                profile,
                tokens,
                stats: Some(Stats::default()),
            }])
        })
    }

    fn profile<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
    ) -> BoxFuture<'a, Result<Profile, AdapterError>> {
        Box::pin(self.userinfo(account.access_token))
    }

    /// The self-serve products (OIDC sign-in, Share on LinkedIn) expose no follower, connection
    /// or post count of a member; those need partner products Postbridge does not assume. Every
    /// count is therefore unknown rather than a misleading zero, and no request is made.
    fn stats<'a>(
        &'a self,
        _account: &'a AccountRef<'a>,
    ) -> BoxFuture<'a, Result<Stats, AdapterError>> {
        Box::pin(async { Ok(Stats::default()) })
    }

    /// Exchanges the programmatic refresh token for a new 60-day access token (`POST
    /// /oauth/v2/accessToken`, client credentials in the form); the refresh token keeps its
    /// original one-year deadline. Without one (most apps), the member is asked to reconnect
    /// before the 60-day token runs out.
    fn refresh<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
    ) -> BoxFuture<'a, Result<TokenSet, AdapterError>> {
        Box::pin(self.refresh_grant(account))
    }

    /// `POST /oauth/v2/revoke` with the client credentials in the form, as for the token
    /// endpoint. The member access token is the grant (refresh tokens are rare on LinkedIn and
    /// expire with it).
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
                ("client_id", credentials.client_id.as_str()),
                ("client_secret", credentials.client_secret.expose_secret()),
                ("token", account.access_token.expose_secret()),
            ]);
            http::send(request).await?;
            Ok(Revocation::Revoked)
        })
    }
}

/// The OIDC `userinfo` claims LinkedIn returns (`email` is requested for sign-in parity but not
/// kept: Postbridge stores no member e-mail).
#[derive(Debug, Deserialize)]
struct UserInfo {
    sub: String,
    name: Option<String>,
    given_name: Option<String>,
    family_name: Option<String>,
    picture: Option<String>,
}
