//! The one HTTP client adapters use, and the small helpers every platform module shares.

use std::time::Duration;

use reqwest::{Client, RequestBuilder, Response};
use secrecy::{ExposeSecret, SecretString};
use serde::{de::DeserializeOwned, Deserialize};

use crate::{classify_response, AdapterError};

/// A client with timeouts and without redirect following: a platform answering with a redirect
/// is an error to surface, never a hop to follow (that is how tokens leak to third parties).
pub fn client() -> Client {
    Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("Postbridge/", env!("CARGO_PKG_VERSION")))
        .build()
        .unwrap_or_else(|_| Client::new())
}

/// Sends `request`; a non-2xx answer becomes a classified [`AdapterError`].
pub async fn send(request: RequestBuilder) -> Result<Response, AdapterError> {
    let response = request
        .send()
        .await
        .map_err(|e| AdapterError::from_transport(&e))?;
    if response.status().is_success() {
        return Ok(response);
    }
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.text().await.unwrap_or_default();
    Err(classify_response(status, &headers, &body))
}

/// Sends `request` and decodes a JSON answer. A body that does not parse is a transient error
/// (platforms return HTML error pages under load), reported without the body itself.
pub async fn json<T: DeserializeOwned>(request: RequestBuilder) -> Result<T, AdapterError> {
    let response = send(request).await?;
    let bytes = response
        .bytes()
        .await
        .map_err(|e| AdapterError::from_transport(&e))?;
    serde_json::from_slice(&bytes).map_err(|e| AdapterError::Transient {
        message: format!("unexpected response shape: {e}"),
    })
}

/// `Authorization: Bearer …` without the token ever passing through a `String` that could be
/// logged.
pub fn bearer(request: RequestBuilder, token: &SecretString) -> RequestBuilder {
    request.bearer_auth(token.expose_secret())
}

/// The standard OAuth 2.0 token response (RFC 6749 §5.1) plus the extra fields platforms add.
#[derive(Debug, Clone, Deserialize)]
pub struct TokenResponse {
    /// The access token.
    pub access_token: SecretString,
    /// The refresh token, if granted.
    #[serde(default)]
    pub refresh_token: Option<SecretString>,
    /// Access token lifetime in seconds.
    #[serde(default)]
    pub expires_in: Option<i64>,
    /// Refresh token lifetime in seconds (LinkedIn, TikTok, Pinterest).
    #[serde(
        default,
        alias = "refresh_expires_in",
        alias = "refresh_token_expires_in"
    )]
    pub refresh_token_expires_in: Option<i64>,
    /// Granted scopes: space- or comma-separated.
    #[serde(default)]
    pub scope: Option<String>,
}

impl TokenResponse {
    /// Converts to a [`crate::TokenSet`]. A missing `expires_in` falls back to `default_lifetime`
    /// (the platform's documented lifetime): "not stated" must never mean "never expires".
    pub fn into_token_set(self, default_lifetime: Option<Duration>) -> crate::TokenSet {
        let now = chrono::Utc::now();
        let expires_at = self
            .expires_in
            .filter(|s| *s > 0)
            .map(chrono::Duration::seconds)
            .or_else(|| default_lifetime.and_then(|d| chrono::Duration::from_std(d).ok()))
            .map(|d| now + d);
        let refresh_expires_at = self
            .refresh_token_expires_in
            .filter(|s| *s > 0)
            .map(|s| now + chrono::Duration::seconds(s));
        let scopes = self
            .scope
            .map(|s| {
                s.split([' ', ','])
                    .filter(|p| !p.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        crate::TokenSet {
            access_token: self.access_token,
            refresh_token: self.refresh_token,
            expires_at,
            refresh_expires_at,
            scopes,
        }
    }
}

/// Appends query parameters to `base` (which may already have some), percent-encoding them.
pub fn url_with_query(base: &str, params: &[(&str, &str)]) -> Result<String, AdapterError> {
    let mut url = reqwest::Url::parse(base).map_err(|e| AdapterError::Unsupported {
        what: format!("invalid URL `{base}`: {e}"),
    })?;
    url.query_pairs_mut().extend_pairs(params);
    Ok(url.into())
}
