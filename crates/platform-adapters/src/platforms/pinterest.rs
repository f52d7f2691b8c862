//! Pinterest accounts through OAuth 2.0 and API v5.
//!
//! The token endpoint authenticates the client with HTTP Basic (`client_id:client_secret`) and
//! takes a form body; Pinterest documents no PKCE for its authorization code flow. Access tokens
//! live 30 days; refresh tokens are "continuous" (60 days, renewed by each refresh). References:
//! <https://developers.pinterest.com/docs/getting-started/set-up-authentication-and-authorization/>
//! and the v5 OpenAPI description (`POST /oauth/token`, `GET /user_account`,
//! `POST /oauth/token/revoke`).

use std::time::Duration;

use domain::{AccountKind, AuthKind, Platform};
use futures_util::future::BoxFuture;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::{
    http::{self, TokenResponse},
    AccountRef, AdapterError, AdapterSettings, AuthorizeParams, Capabilities, ClientCredentials,
    CodeExchange, Connection, Descriptor, Endpoints, MediaKind, PlatformAdapter, Profile,
    Revocation, Stats, TextCounting,
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
