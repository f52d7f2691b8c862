//! YouTube channels through Google OAuth 2.0 for web server applications.
//!
//! `access_type=offline` is what makes Google issue a refresh token, and `prompt=consent` makes
//! it issue one again on a reconnect (Google otherwise returns a refresh token only on the very
//! first consent, and a reconnect would leave us with a token that dies within the hour).
//! Google accepts PKCE (S256) from confidential clients as well, so it is used. References:
//! <https://developers.google.com/identity/protocols/oauth2/web-server>,
//! <https://developers.google.com/youtube/v3/docs/channels/list>,
//! <https://developers.google.com/youtube/v3/docs/errors>.
//!
//! The account is the *channel* the user picked on Google's consent screen (a Google account
//! can own several, through brand accounts), identified by its `UC…` channel id.
//!
//! Refresh tokens do not rotate: a refresh answers a new access token and, normally, no refresh
//! token, and the stored one keeps working. It stops working when the user revokes access, after
//! six months unused, when the account exceeds Google's per-client refresh-token limit, and after
//! seven days when the OAuth app is still in the "Testing" publishing status
//! (<https://developers.google.com/identity/protocols/oauth2#expiration>). Google then answers
//! `invalid_grant`, and only a new consent helps.

use std::time::Duration;

use domain::{AccountKind, AuthKind, Platform};
use futures_util::future::BoxFuture;
use reqwest::{header::HeaderMap, RequestBuilder, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::{de::DeserializeOwned, Deserialize};

use crate::{
    classify_response,
    http::{self, TokenResponse},
    parse_retry_after, AccountRef, AdapterError, AdapterSettings, AuthorizeParams, Capabilities,
    ClientCredentials, CodeExchange, Connection, Descriptor, Endpoints, MediaKind, PlatformAdapter,
    Profile, Revocation, Stats, TextCounting, TokenSet,
};

/// Upload videos, and read the channel (id, title, counts). `youtube.upload` alone cannot call
/// `channels.list`.
const SCOPES: &[&str] = &[
    "https://www.googleapis.com/auth/youtube.upload",
    "https://www.googleapis.com/auth/youtube.readonly",
];

/// OAuth errors that blame Postbridge's client registration, not the user's grant: a wrong or
/// rotated client secret, a deleted client, a client not allowed this grant type.
const CLIENT_ERRORS: &[&str] = &["invalid_client", "unauthorized_client", "deleted_client"];

/// Google API error reasons that mean "out of quota / too fast" rather than "this request is
/// wrong". YouTube answers them with 403, which would otherwise classify as a rejection.
const RATE_LIMIT_REASONS: &[&str] = &[
    "quotaExceeded",
    "rateLimitExceeded",
    "userRateLimitExceeded",
    "dailyLimitExceeded",
];

/// YouTube's static facts.
pub fn descriptor() -> Descriptor {
    Descriptor {
        platform: Platform::Youtube,
        auth_kind: AuthKind::Oauth2,
        scopes: SCOPES.iter().map(|s| (*s).to_owned()).collect(),
        pkce: true,
        // Google access tokens live one hour (`expires_in` is normally 3599).
        access_token_lifetime: Some(Duration::from_secs(60 * 60)),
        refresh_token_rotates: false,
        capabilities: Capabilities {
            // The text of a post is the video description: at most 5000 bytes per the Data API
            // (the title, 100 characters, is derived by the publisher). Counting is by chars
            // here; multi-byte text can still hit the byte limit, which YouTube then rejects.
            text_limit: 5000,
            text_counting: TextCounting::Chars,
            media_kinds: vec![MediaKind::Video],
            max_media: 1,
            requires_media: true,
            publish_limit: None,
            idempotent_publish: false,
        },
    }
}

/// Production URLs: Google's OAuth endpoints, the Data API v3 and its upload host.
pub fn default_endpoints() -> Endpoints {
    Endpoints {
        authorize_url: "https://accounts.google.com/o/oauth2/v2/auth".into(),
        token_url: "https://oauth2.googleapis.com/token".into(),
        revoke_url: Some("https://oauth2.googleapis.com/revoke".into()),
        api_base: "https://www.googleapis.com/youtube/v3".into(),
        upload_base: "https://www.googleapis.com/upload/youtube/v3".into(),
    }
}

/// The YouTube adapter.
#[derive(Debug)]
pub struct YoutubeAdapter {
    http: reqwest::Client,
    settings: AdapterSettings,
    descriptor: Descriptor,
}

impl YoutubeAdapter {
    /// An adapter on the shared HTTP client.
    pub fn new(http: reqwest::Client, settings: AdapterSettings) -> Self {
        Self {
            http,
            settings,
            descriptor: descriptor(),
        }
    }

    fn credentials(&self) -> Result<&ClientCredentials, AdapterError> {
        self.settings.require_credentials(Platform::Youtube)
    }

    /// `channels.list?part=snippet,statistics&mine=true`: the authorized channel and its counts.
    async fn channel(&self, token: &SecretString) -> Result<(Profile, Stats), AdapterError> {
        let url = format!("{}/channels", self.settings.endpoints.api_base);
        let request = http::bearer(
            self.http
                .get(url)
                .query(&[("part", "snippet,statistics"), ("mine", "true")]),
            token,
        );
        let list: ChannelList = google_json(request).await?;
        // A Google account without a channel answers 200 with no items: nothing to publish to.
        let channel = list
            .items
            .into_iter()
            .next()
            .ok_or_else(|| AdapterError::Rejected {
                code: "no_channel".into(),
                message: "this Google account has no YouTube channel".into(),
            })?;
        let snippet = channel.snippet.unwrap_or_default();
        let statistics = channel.statistics.unwrap_or_default();
        // Only an `@handle` is a handle; a legacy custom URL is not one and is not linked to.
        let handle = snippet
            .custom_url
            .as_deref()
            .and_then(|u| u.strip_prefix('@'))
            .map(str::to_owned);
        let profile_url = match &handle {
            Some(handle) => format!("https://www.youtube.com/@{handle}"),
            None => format!("https://www.youtube.com/channel/{}", channel.id),
        };
        let avatar_url = snippet
            .thumbnails
            .and_then(|t| t.high.or(t.medium).or(t.default))
            .map(|t| t.url);
        let stats = Stats {
            // A hidden count is not zero; `subscriberCount` is meaningless then.
            followers_count: if statistics.hidden_subscriber_count {
                None
            } else {
                count(statistics.subscriber_count)
            },
            following_count: None,
            posts_count: count(statistics.video_count),
        };
        let profile = Profile {
            platform_account_id: channel.id,
            account_kind: Some(AccountKind::Channel),
            display_name: snippet.title,
            handle,
            avatar_url,
            profile_url: Some(profile_url),
        };
        Ok((profile, stats))
    }
}

impl PlatformAdapter for YoutubeAdapter {
    fn descriptor(&self) -> &Descriptor {
        &self.descriptor
    }

    fn authorize_url(&self, params: &AuthorizeParams<'_>) -> Result<String, AdapterError> {
        let credentials = self.credentials()?;
        let challenge = params
            .pkce_challenge
            .ok_or_else(|| AdapterError::Unsupported {
                what: "Google authorization without a PKCE challenge".into(),
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
                ("access_type", "offline"),
                ("prompt", "consent"),
                ("include_granted_scopes", "true"),
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
                ("client_secret", credentials.client_secret.expose_secret()),
            ];
            if let Some(verifier) = exchange.pkce_verifier {
                form.push(("code_verifier", verifier));
            }
            let request = self
                .http
                .post(&self.settings.endpoints.token_url)
                .form(&form);
            let tokens = google_json::<TokenResponse>(request)
                .await?
                .into_token_set(self.descriptor.access_token_lifetime);
            let (profile, stats) = self.channel(&tokens.access_token).await?;
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
        Box::pin(async move { Ok(self.channel(account.access_token).await?.0) })
    }

    fn stats<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
    ) -> BoxFuture<'a, Result<Stats, AdapterError>> {
        Box::pin(async move { Ok(self.channel(account.access_token).await?.1) })
    }

    /// `POST token_url` with `grant_type=refresh_token`, the refresh token and the client
    /// credentials in the form body (Google's documented client authentication for web servers,
    /// as at the code exchange). The answer's `refresh_token` is normally absent, so the returned
    /// set says `None`: keep the stored one. A missing `expires_in` falls back to the documented
    /// hour.
    ///
    /// No stored refresh token, and `invalid_grant` (revoked, expired, unused for six months, or
    /// the seven-day limit of an app in testing), are [`AdapterError::NeedsReauth`] telling the
    /// user to reconnect; a refused client registration is a rejection (see `classify`), since
    /// no reconnect can fix the operator's credentials.
    fn refresh<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
    ) -> BoxFuture<'a, Result<TokenSet, AdapterError>> {
        Box::pin(async move {
            let credentials = self.credentials()?;
            let refresh_token = account
                .refresh_token
                .ok_or_else(|| AdapterError::NeedsReauth {
                    message: "no Google refresh token is stored for this channel: reconnect your YouTube account".into(),
                })?;
            let request = self.http.post(&self.settings.endpoints.token_url).form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token.expose_secret()),
                ("client_id", credentials.client_id.as_str()),
                ("client_secret", credentials.client_secret.expose_secret()),
            ]);
            match google_json::<TokenResponse>(request).await {
                Ok(tokens) => Ok(tokens.into_token_set(self.descriptor.access_token_lifetime)),
                Err(AdapterError::NeedsReauth { message }) => Err(AdapterError::NeedsReauth {
                    message: format!(
                        "Google no longer accepts this channel's grant: reconnect your YouTube account ({message})"
                    ),
                }),
                Err(other) => Err(other),
            }
        })
    }

    /// Revokes the refresh token when there is one (that ends the whole grant, access tokens
    /// included), else the access token (which also revokes its refresh token). The token goes
    /// in the form body (RFC 7009), not the query string Google's curl sample uses, so it cannot
    /// end up in an access log. A token Google already considers invalid (`invalid_token`) has
    /// nothing left to revoke.
    fn revoke<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
    ) -> BoxFuture<'a, Result<Revocation, AdapterError>> {
        Box::pin(async move {
            let Some(url) = self.settings.endpoints.revoke_url.as_deref() else {
                return Ok(Revocation::NotSupported);
            };
            let token = account.refresh_token.unwrap_or(account.access_token);
            let request = self
                .http
                .post(url)
                .form(&[("token", token.expose_secret())]);
            let response = request
                .send()
                .await
                .map_err(|e| AdapterError::from_transport(&e))?;
            let status = response.status();
            if status.is_success() {
                return Ok(Revocation::Revoked);
            }
            let headers = response.headers().clone();
            let body = response.text().await.unwrap_or_default();
            if status == StatusCode::BAD_REQUEST
                && oauth_error(&body).as_deref() == Some("invalid_token")
            {
                return Ok(Revocation::Revoked);
            }
            Err(classify(status, &headers, &body))
        })
    }
}

/// Sends a Google request and decodes its JSON answer, classifying failures with [`classify`].
async fn google_json<T: DeserializeOwned>(request: RequestBuilder) -> Result<T, AdapterError> {
    let response = request
        .send()
        .await
        .map_err(|e| AdapterError::from_transport(&e))?;
    let status = response.status();
    if !status.is_success() {
        let headers = response.headers().clone();
        let body = response.text().await.unwrap_or_default();
        return Err(classify(status, &headers, &body));
    }
    let bytes = response
        .bytes()
        .await
        .map_err(|e| AdapterError::from_transport(&e))?;
    serde_json::from_slice(&bytes).map_err(|e| AdapterError::Transient {
        message: format!("unexpected response shape: {e}"),
    })
}

/// Google's errors: quota and rate reasons are [`AdapterError::RateLimited`] whatever the status
/// (YouTube uses 403; its daily quota resets at midnight Pacific time, so without a
/// `Retry-After` the caller's default wait applies); a rejection carries the first `reason` as
/// its code. The token endpoint's client errors (`invalid_client`, which Google sends with a
/// 401) are rejections with that code: they mean the operator's client id or secret is wrong,
/// and classifying them as "reauthorize" would send every user through a reconnect that cannot
/// succeed either. Everything else is the shared classification (401 and `invalid_grant` →
/// reauthorize, 429 → rate limited, 5xx → transient).
fn classify(status: StatusCode, headers: &HeaderMap, body: &str) -> AdapterError {
    let reasons = api_error_reasons(body);
    if reasons
        .iter()
        .any(|r| RATE_LIMIT_REASONS.contains(&r.as_str()))
    {
        return AdapterError::RateLimited {
            retry_after: parse_retry_after(headers, chrono::Utc::now().timestamp()),
        };
    }
    if let Some(code) = oauth_error(body).filter(|e| CLIENT_ERRORS.contains(&e.as_str())) {
        return AdapterError::Rejected {
            code,
            message: "Google refused Postbridge's OAuth client: check the configured YouTube client id and secret".into(),
        };
    }
    match (
        classify_response(status, headers, body),
        reasons.into_iter().next(),
    ) {
        (AdapterError::Rejected { message, .. }, Some(reason)) => AdapterError::Rejected {
            code: reason,
            message,
        },
        // The token endpoint explains an `invalid_grant` in `error_description` ("Token has
        // been expired or revoked."): that sentence, not the JSON around it, reaches the user.
        (AdapterError::NeedsReauth { message }, _) => AdapterError::NeedsReauth {
            message: oauth_description(body).unwrap_or(message),
        },
        (other, _) => other,
    }
}

/// The `error_description` of an OAuth error body, on one line and at most 300 characters.
fn oauth_description(body: &str) -> Option<String> {
    let value = serde_json::from_str::<serde_json::Value>(body).ok()?;
    value.get("error")?.as_str()?;
    let description: String = value
        .get("error_description")?
        .as_str()?
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(300)
        .collect();
    Some(description.trim().to_owned()).filter(|d| !d.is_empty())
}

/// `error.errors[].reason` of a Google API error body.
fn api_error_reasons(body: &str) -> Vec<String> {
    serde_json::from_str::<GoogleErrorBody>(body)
        .ok()
        .and_then(|b| b.error)
        .map(|e| e.errors.into_iter().filter_map(|d| d.reason).collect())
        .unwrap_or_default()
}

/// The OAuth `error` string of a token-endpoint error body.
fn oauth_error(body: &str) -> Option<String> {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()?
        .get("error")?
        .as_str()
        .map(str::to_owned)
}

/// The Data API sends counts as decimal strings (they are `unsigned long`).
fn count(value: Option<String>) -> Option<i64> {
    value.and_then(|v| v.parse().ok())
}

#[derive(Debug, Deserialize)]
struct ChannelList {
    #[serde(default)]
    items: Vec<Channel>,
}

#[derive(Debug, Deserialize)]
struct Channel {
    id: String,
    snippet: Option<Snippet>,
    statistics: Option<Statistics>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Snippet {
    title: Option<String>,
    /// The channel's handle, `@name` today (older channels: a legacy custom URL).
    custom_url: Option<String>,
    thumbnails: Option<Thumbnails>,
}

#[derive(Debug, Deserialize)]
struct Thumbnails {
    default: Option<Thumbnail>,
    medium: Option<Thumbnail>,
    high: Option<Thumbnail>,
}

#[derive(Debug, Deserialize)]
struct Thumbnail {
    url: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Statistics {
    subscriber_count: Option<String>,
    #[serde(default)]
    hidden_subscriber_count: bool,
    video_count: Option<String>,
}

#[derive(Debug, Deserialize)]
struct GoogleErrorBody {
    /// An object for API errors; a string for OAuth errors, which then fails to parse here and
    /// yields no reasons.
    error: Option<GoogleError>,
}

#[derive(Debug, Deserialize)]
struct GoogleError {
    #[serde(default)]
    errors: Vec<GoogleErrorDetail>,
}

#[derive(Debug, Deserialize)]
struct GoogleErrorDetail {
    reason: Option<String>,
}
