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
//! refresh must never run twice for the same account.

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
