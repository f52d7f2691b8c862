//! X (formerly Twitter): connecting accounts through OAuth 2.0 authorization code flow with PKCE.
//!
//! Postbridge is a *confidential* client (a "Web App" in the X developer console), so the token
//! and revoke endpoints are called with HTTP Basic client authentication; `client_id` is also
//! sent in the body, which X accepts and which keeps the request valid should the app ever be
//! switched to a public client. Reference:
//! <https://docs.x.com/fundamentals/authentication/oauth-2-0/user-access-token> and
//! <https://docs.x.com/fundamentals/authentication/oauth-2-0/authorization-code>.
//!
//! Two facts shape the rest of the system: access tokens live two hours, and a refresh token is
//! only issued with `offline.access` and works once (each refresh answers a new one), so a
//! refresh must never run twice for the same account, and its result must be stored before
//! anything else happens: losing the answer loses the grant.
//!
//! The refresh request (`grant_type=refresh_token`, `refresh_token`, `client_id`, Basic client
//! authentication) is the guide's "Step 5". The guide documents no error bodies; in practice X
//! reports bad grant values as a 400 `invalid_request` ("Value passed for the token was
//! invalid.", "… for the authorization code was invalid."), not the RFC 6749 `invalid_grant`,
//! so a refresh classifies both as "reconnect".

use std::time::Duration;

use domain::{AccountKind, AuthKind, Platform};
use futures_util::future::BoxFuture;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::{
    http::{self, TokenResponse},
    AccountRef, AdapterError, AdapterSettings, AuthorizeParams, Capabilities, ClientCredentials,
    CodeExchange, Connection, Descriptor, Endpoints, MediaKind, PlatformAdapter, Profile,
    PublishLimit, Revocation, Stats, TextCounting, TokenSet,
};

/// Read the user and their posts, post, upload media, and `offline.access` for a refresh token
/// (without it X issues none and the account would need reconnecting every two hours).
const SCOPES: &[&str] = &[
    "tweet.read",
    "tweet.write",
    "users.read",
    "offline.access",
    "media.write",
];

/// `user.fields` asked of `GET /2/users/me`; `id`, `name` and `username` come by default but are
/// listed so the answer does not depend on X's defaults.
const USER_FIELDS: &str = "id,name,username,profile_image_url,public_metrics";

/// X's static facts.
pub fn descriptor() -> Descriptor {
    Descriptor {
        platform: Platform::X,
        auth_kind: AuthKind::Oauth2,
        scopes: SCOPES.iter().map(|s| (*s).to_owned()).collect(),
        pkce: true,
        // "the access token ... will only stay valid for two hours".
        access_token_lifetime: Some(Duration::from_secs(2 * 60 * 60)),
        refresh_token_rotates: true,
        capabilities: Capabilities {
            text_limit: 280,
            text_counting: TextCounting::XWeighted,
            media_kinds: vec![MediaKind::Image, MediaKind::Video],
            // Four images, or one video/GIF: the publisher enforces the per-kind rule.
            max_media: 4,
            requires_media: false,
            // POST /2/tweets: 100 requests per 15 minutes per user.
            publish_limit: Some(PublishLimit {
                max: 100,
                window: std::time::Duration::from_secs(15 * 60),
            }),
            idempotent_publish: false,
        },
    }
}

/// Production URLs. The authorization page lives on `x.com`; every API call on `api.x.com`.
pub fn default_endpoints() -> Endpoints {
    Endpoints {
        authorize_url: "https://x.com/i/oauth2/authorize".into(),
        token_url: "https://api.x.com/2/oauth2/token".into(),
        revoke_url: Some("https://api.x.com/2/oauth2/revoke".into()),
        api_base: "https://api.x.com".into(),
        upload_base: "https://api.x.com".into(),
    }
}

/// The X adapter.
#[derive(Debug)]
pub struct XAdapter {
    http: reqwest::Client,
    settings: AdapterSettings,
    descriptor: Descriptor,
}

impl XAdapter {
    /// An adapter on the shared HTTP client.
    pub fn new(http: reqwest::Client, settings: AdapterSettings) -> Self {
        Self {
            http,
            settings,
            descriptor: descriptor(),
        }
    }

    fn credentials(&self) -> Result<&ClientCredentials, AdapterError> {
        self.settings.require_credentials(Platform::X)
    }

    /// `GET /2/users/me`: who the token belongs to and their public counts, in one call.
    async fn me(&self, token: &SecretString) -> Result<(Profile, Stats), AdapterError> {
        let url = format!("{}/2/users/me", self.settings.endpoints.api_base);
        let request = http::bearer(
            self.http.get(url).query(&[("user.fields", USER_FIELDS)]),
            token,
        );
        let answer: UsersMe = http::json(request).await?;
        let Some(user) = answer.data else {
            // X answers 200 with only `errors` when it cannot produce the object.
            return Err(match answer.errors.into_iter().next() {
                Some(problem) => AdapterError::Rejected {
                    code: problem
                        .kind
                        .rsplit('/')
                        .next()
                        .unwrap_or_default()
                        .to_owned(),
                    message: problem.detail.or(problem.title).unwrap_or_default(),
                },
                None => AdapterError::Transient {
                    message: "X returned no user".into(),
                },
            });
        };
        let stats = user.public_metrics.map_or_else(Stats::default, |m| Stats {
            followers_count: m.followers_count,
            following_count: m.following_count,
            posts_count: m.post_count.or(m.tweet_count),
        });
        let profile = Profile {
            platform_account_id: user.id,
            account_kind: Some(AccountKind::Profile),
            display_name: user.name,
            profile_url: user.username.as_ref().map(|u| format!("https://x.com/{u}")),
            handle: user.username,
            avatar_url: user.profile_image_url,
        };
        Ok((profile, stats))
    }

    /// `POST token_url` with `grant_type=refresh_token`, the refresh token and `client_id`,
    /// authenticated with HTTP Basic like the code exchange. The answer holds a new access
    /// token *and* a new refresh token; the one sent is spent from now on, so the caller must
    /// persist the returned set at once (a lost answer means the user has to reconnect).
    async fn refresh_grant(&self, account: &AccountRef<'_>) -> Result<TokenSet, AdapterError> {
        let credentials = self.credentials()?;
        let refresh_token = account
            .refresh_token
            .ok_or_else(|| AdapterError::NeedsReauth {
                message:
                    "X did not grant a refresh token for this account: reconnect your X account"
                        .into(),
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
                ("client_id", credentials.client_id.as_str()),
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
                "X",
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
                    "unexpected token answer from X (line {}, column {})",
                    e.line(),
                    e.column()
                ),
            })?;
        if answer.refresh_token.is_none() {
            // Not seen from X with `offline.access`; the stored token is likely spent, so the
            // next refresh will ask the user to reconnect.
            tracing::warn!("X answered a refresh without a new refresh token");
        }
        Ok(answer.into_token_set(self.descriptor.access_token_lifetime))
    }

    /// RFC 7009 revocation of one token, authenticated like the token endpoint.
    async fn revoke_token(
        &self,
        url: &str,
        token: &SecretString,
        hint: &str,
    ) -> Result<(), AdapterError> {
        let credentials = self.credentials()?;
        let request = self
            .http
            .post(url)
            .basic_auth(
                &credentials.client_id,
                Some(credentials.client_secret.expose_secret()),
            )
            .form(&[
                ("token", token.expose_secret()),
                ("token_type_hint", hint),
                ("client_id", credentials.client_id.as_str()),
            ]);
        http::send(request).await.map(drop)
    }
}

impl PlatformAdapter for XAdapter {
    fn descriptor(&self) -> &Descriptor {
        &self.descriptor
    }

    fn authorize_url(&self, params: &AuthorizeParams<'_>) -> Result<String, AdapterError> {
        let credentials = self.credentials()?;
        // X requires PKCE; a missing challenge is a caller bug, refused before it reaches X.
        let challenge = params
            .pkce_challenge
            .ok_or_else(|| AdapterError::Unsupported {
                what: "X authorization without a PKCE challenge".into(),
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
            let credentials = self.credentials()?;
            let mut form = vec![
                ("grant_type", "authorization_code"),
                ("code", exchange.code),
                ("redirect_uri", exchange.redirect_uri),
                ("client_id", credentials.client_id.as_str()),
            ];
            if let Some(verifier) = exchange.pkce_verifier {
                form.push(("code_verifier", verifier));
            }
            let request = self
                .http
                .post(&self.settings.endpoints.token_url)
                .basic_auth(
                    &credentials.client_id,
                    Some(credentials.client_secret.expose_secret()),
                )
                .form(&form);
            let tokens = http::json::<TokenResponse>(request)
                .await?
                .into_token_set(self.descriptor.access_token_lifetime);
            let (profile, stats) = self.me(&tokens.access_token).await?;
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
        Box::pin(async move { Ok(self.me(account.access_token).await?.0) })
    }

    fn stats<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
    ) -> BoxFuture<'a, Result<Stats, AdapterError>> {
        Box::pin(async move { Ok(self.me(account.access_token).await?.1) })
    }

    /// Exchanges the single-use refresh token for a new two-hour access token and a new refresh
    /// token (`POST /2/oauth2/token`, Basic client authentication). The caller must persist the
    /// returned set at once: the refresh token it sent no longer works, and losing the answer
    /// means the user has to reconnect.
    fn refresh<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
    ) -> BoxFuture<'a, Result<TokenSet, AdapterError>> {
        Box::pin(self.refresh_grant(account))
    }

    /// Revokes the refresh token (the long-lived grant) and then the access token, so neither
    /// outlives the disconnect: X does not document that revoking one revokes the other.
    fn revoke<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
    ) -> BoxFuture<'a, Result<Revocation, AdapterError>> {
        Box::pin(async move {
            let Some(url) = self.settings.endpoints.revoke_url.as_deref() else {
                return Ok(Revocation::NotSupported);
            };
            if let Some(refresh_token) = account.refresh_token {
                self.revoke_token(url, refresh_token, "refresh_token")
                    .await?;
            }
            self.revoke_token(url, account.access_token, "access_token")
                .await?;
            Ok(Revocation::Revoked)
        })
    }
}

/// `GET /2/users/me` answer: the user, or `errors` when X could not produce it.
#[derive(Debug, Deserialize)]
struct UsersMe {
    data: Option<User>,
    #[serde(default)]
    errors: Vec<Problem>,
}

#[derive(Debug, Deserialize)]
struct User {
    id: String,
    name: Option<String>,
    username: Option<String>,
    profile_image_url: Option<String>,
    public_metrics: Option<PublicMetrics>,
}

#[derive(Debug, Deserialize)]
struct PublicMetrics {
    followers_count: Option<i64>,
    following_count: Option<i64>,
    /// The current OpenAPI description's name.
    post_count: Option<i64>,
    /// The name in the API reference and in answers seen so far; kept as a separate field (not
    /// an alias) so an answer carrying both during a rename still parses.
    tweet_count: Option<i64>,
}

/// An RFC 7807-style problem from X's `errors` array.
#[derive(Debug, Deserialize)]
struct Problem {
    #[serde(rename = "type", default)]
    kind: String,
    title: Option<String>,
    detail: Option<String>,
}
