//! The one HTTP client adapters use, and the small helpers every platform module shares.

use std::{cell::Cell, future::Future, time::Duration};

use reqwest::{header::HeaderMap, Client, RequestBuilder, Response, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::{de::DeserializeOwned, Deserialize};

use crate::{classify_response, AdapterError};

/// A client with timeouts and without redirect following: a platform answering with a redirect
/// is an error to surface, never a hop to follow (that is how tokens leak to third parties).
pub fn client() -> Client {
    client_with_timeout(Duration::from_secs(30))
}

/// [`client`] with a longer limit per request, for the publisher: a video upload to YouTube,
/// TikTok or Pinterest can take minutes, far beyond what a token or profile call needs.
pub fn client_with_timeout(timeout: Duration) -> Client {
    client_trusting(timeout, &[])
}

/// [`client_with_timeout`] that also trusts `extra_roots` (a test server's own certificate
/// authority, `[platforms] extra_root_certificates`) besides the built-in roots.
pub fn client_trusting(timeout: Duration, extra_roots: &[reqwest::Certificate]) -> Client {
    builder(timeout, extra_roots)
        .build()
        .unwrap_or_else(|_| Client::new())
}

/// The settings every client of this crate shares: timeouts, no redirects, our user agent,
/// and the built-in roots plus `extra_roots`.
pub(crate) fn builder(
    timeout: Duration,
    extra_roots: &[reqwest::Certificate],
) -> reqwest::ClientBuilder {
    let mut builder = Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("Postbridge/", env!("CARGO_PKG_VERSION")));
    for root in extra_roots {
        builder = builder.add_root_certificate(root.clone());
    }
    builder
}

tokio::task_local! {
    /// The status of the latest answer inside [`observe`]; `None` while a call is out.
    static LAST_STATUS: Cell<Option<u16>>;
}

/// Runs `work` and also returns the HTTP status of the last answer a platform gave during it:
/// `None` when the last call got no answer (a timeout, a dropped connection) or none was made.
/// The publisher stores it in the attempt log, so "HTTP 503" is on record next to the class.
pub async fn observe<F: Future>(work: F) -> (F::Output, Option<u16>) {
    LAST_STATUS
        .scope(Cell::new(None), async {
            let output = work.await;
            (output, LAST_STATUS.with(Cell::get))
        })
        .await
}

fn note(status: Option<u16>) {
    // Outside `observe` there is nobody to tell.
    let _ = LAST_STATUS.try_with(|last| last.set(status));
}

/// `RequestBuilder::send` that notes the answer's status for [`observe`]. Every platform call
/// goes through it.
pub trait Transmit {
    /// Sends the request.
    fn transmit(self) -> impl Future<Output = Result<Response, reqwest::Error>> + Send;
}

impl Transmit for RequestBuilder {
    async fn transmit(self) -> Result<Response, reqwest::Error> {
        note(None);
        let response = self.send().await?;
        note(Some(response.status().as_u16()));
        Ok(response)
    }
}

/// The transport of one platform, written once: how it sends a request and reads the answer,
/// with the platform's own classifier for error answers. A platform module holds one
/// `const API: Api` and calls `API.json(request)`; [`GENERIC`] (with [`classify_response`])
/// serves platforms with nothing peculiar in their errors.
#[derive(Clone, Copy)]
pub struct Api {
    /// How messages name the platform ("X"); empty for [`GENERIC`].
    name: &'static str,
    /// Reads a non-2xx answer.
    classify: fn(StatusCode, &HeaderMap, &str) -> AdapterError,
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// Every platform whose errors [`classify_response`] reads as they are.
pub const GENERIC: Api = Api::new("", classify_response);

impl Api {
    /// The transport of the platform called `name` in messages, reading error answers with
    /// `classify`.
    pub const fn new(
        name: &'static str,
        classify: fn(StatusCode, &HeaderMap, &str) -> AdapterError,
    ) -> Self {
        Self { name, classify }
    }

    fn naming(&self) -> String {
        if self.name.is_empty() {
            String::new()
        } else {
            format!(" from {}", self.name)
        }
    }

    /// Passes a 2xx through; classifies anything else.
    pub async fn checked(&self, response: Response) -> Result<Response, AdapterError> {
        if response.status().is_success() {
            return Ok(response);
        }
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.text().await.unwrap_or_default();
        Err((self.classify)(status, &headers, &body))
    }

    /// Sends a call that creates nothing (a read, an upload): a network failure is transient.
    pub async fn send(&self, request: RequestBuilder) -> Result<Response, AdapterError> {
        let response = request
            .transmit()
            .await
            .map_err(|e| AdapterError::from_transport(&e))?;
        self.checked(response).await
    }

    /// Sends the request that creates a post. Unlike [`Self::send`], a network failure after
    /// the request left (a timeout, a dropped connection) is [`AdapterError::OutcomeUnknown`]:
    /// the platform may have created the post, so the caller must not blindly repeat it.
    pub async fn send_unsure(&self, request: RequestBuilder) -> Result<Response, AdapterError> {
        let response = request
            .transmit()
            .await
            .map_err(|e| AdapterError::from_transport_unsure(&e))?;
        self.checked(response).await
    }

    /// [`Self::send`] and decode a JSON answer. A body that does not parse is a transient
    /// error (platforms return HTML error pages under load), reported without the body itself.
    pub async fn json<T: DeserializeOwned>(
        &self,
        request: RequestBuilder,
    ) -> Result<T, AdapterError> {
        self.decode(self.send(request).await?).await
    }

    /// Decodes the JSON answer of a call that created nothing.
    pub async fn decode<T: DeserializeOwned>(&self, response: Response) -> Result<T, AdapterError> {
        let bytes = response
            .bytes()
            .await
            .map_err(|e| AdapterError::from_transport(&e))?;
        serde_json::from_slice(&bytes).map_err(|e| AdapterError::Transient {
            message: format!("unexpected response shape{}: {e}", self.naming()),
        })
    }

    /// [`Self::send_unsure`] and decode a JSON answer; a 2xx whose body is lost or unreadable
    /// leaves the outcome unknown too (the post exists, we just do not know its id).
    pub async fn json_unsure<T: DeserializeOwned>(
        &self,
        request: RequestBuilder,
    ) -> Result<T, AdapterError> {
        let response = self.send_unsure(request).await?;
        let bytes = response
            .bytes()
            .await
            .map_err(|e| AdapterError::OutcomeUnknown {
                message: format!("reading the answer{}: {e}", self.naming()),
            })?;
        serde_json::from_slice(&bytes).map_err(|e| AdapterError::OutcomeUnknown {
            message: format!(
                "{} accepted the request but answered an unexpected shape: {e}",
                if self.name.is_empty() {
                    "the platform"
                } else {
                    self.name
                }
            ),
        })
    }
}

/// [`GENERIC`]`.send`.
pub async fn send(request: RequestBuilder) -> Result<Response, AdapterError> {
    GENERIC.send(request).await
}

/// [`GENERIC`]`.send_unsure`.
pub async fn send_unsure(request: RequestBuilder) -> Result<Response, AdapterError> {
    GENERIC.send_unsure(request).await
}

/// [`GENERIC`]`.json_unsure`.
pub async fn json_unsure<T: DeserializeOwned>(request: RequestBuilder) -> Result<T, AdapterError> {
    GENERIC.json_unsure(request).await
}

/// [`GENERIC`]`.json`.
pub async fn json<T: DeserializeOwned>(request: RequestBuilder) -> Result<T, AdapterError> {
    GENERIC.json(request).await
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

/// Classifies a failed `grant_type=refresh_token` call of a standard OAuth 2.0 token endpoint
/// (RFC 6749 §5.2). `sent` is the refresh token that was sent, blanked out should the platform
/// echo it. A dead grant (`invalid_grant`, a 401, and `invalid_request`, which X and LinkedIn
/// answer for a spent refresh token) asks the user to reconnect; `invalid_client` blames our
/// app credentials instead, so a wrong client secret never sends every user to reconnect.
pub fn refresh_failure(
    platform: &str,
    status: StatusCode,
    headers: &HeaderMap,
    body: &str,
    sent: &str,
) -> AdapterError {
    let (error, description) = oauth_error(body, sent);
    match (classify_response(status, headers, body), error.as_deref()) {
        (limited @ AdapterError::RateLimited { .. }, _) => limited,
        (AdapterError::Transient { .. }, _) => AdapterError::Transient {
            message: format!("HTTP {} from the {platform} token endpoint", status.as_u16()),
        },
        (_, Some(code @ ("invalid_client" | "unauthorized_client"))) => AdapterError::Rejected {
            code: code.to_owned(),
            message: format!("{platform} refused Postbridge's app credentials: check the configured {platform} client id and secret"),
        },
        (AdapterError::NeedsReauth { .. }, _) | (_, Some("invalid_request")) => {
            AdapterError::NeedsReauth {
                message: match description {
                    Some(why) => format!(
                        "{platform} no longer accepts this account's refresh token ({why}): reconnect your {platform} account"
                    ),
                    None => format!("{platform} no longer accepts this account's refresh token: reconnect your {platform} account"),
                },
            }
        }
        (_, code) => AdapterError::Rejected {
            code: code.map_or_else(|| status.as_u16().to_string(), str::to_owned),
            message: description.unwrap_or_else(|| format!("HTTP {}", status.as_u16())),
        },
    }
}

/// `(error, error_description)` of an OAuth error body; the description is sanitized (no
/// control characters, at most 300 characters, `sent` blanked out).
fn oauth_error(body: &str, sent: &str) -> (Option<String>, Option<String>) {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(body) else {
        return (None, None);
    };
    let text = |key: &str| value.get(key).and_then(|v| v.as_str()).map(str::to_owned);
    let description = text("error_description")
        .map(|d| {
            if sent.is_empty() {
                d
            } else {
                d.replace(sent, "[redacted]")
            }
        })
        .map(|d| excerpt(&d, 300))
        .filter(|d| !d.is_empty());
    (text("error"), description)
}

/// At most `max_chars` characters of a platform's message, on one line: what goes into error
/// messages, the attempt log and logs (a platform may echo anything; control characters could
/// forge log lines).
pub fn excerpt(text: &str, max_chars: usize) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(max_chars)
        .collect::<String>()
        .trim()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use wiremock::{matchers::method, Mock, MockServer, ResponseTemplate};

    use super::*;

    #[tokio::test]
    async fn observe_reports_the_last_answers_status_and_none_when_no_answer_came() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(503))
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(201).set_delay(Duration::from_secs(2)))
            .mount(&server)
            .await;
        let client = client_with_timeout(Duration::from_millis(200));

        let (result, status) = observe(send(client.get(server.uri()))).await;
        assert!(matches!(result, Err(AdapterError::Transient { .. })));
        assert_eq!(status, Some(503));

        let (result, status) = observe(async {
            let _ = send(client.get(server.uri())).await;
            send_unsure(client.post(server.uri())).await
        })
        .await;
        assert!(matches!(result, Err(AdapterError::OutcomeUnknown { .. })));
        assert_eq!(
            status, None,
            "the last call timed out: the earlier 503 is not its status"
        );

        let (_, status) = observe(async {}).await;
        assert_eq!(status, None);
    }
}
