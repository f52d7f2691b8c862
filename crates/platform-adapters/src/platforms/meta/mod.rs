//! Meta's Graph API as the Facebook Pages and Instagram adapters share it: both connect through
//! Facebook Login (login dialog → short-lived user token → long-lived user token → the Pages the
//! user shared), and every Meta API, Threads included, answers errors in the same Graph shape,
//! which this module classifies. Publishing shares the rest: nodes created with a form POST,
//! Instagram's and Threads' media containers waited for until `FINISHED`, the one creating call
//! sent "unsure", and lookups of recent posts by their exact text.
//!
//! Sources, checked against Meta's documentation in November 2026:
//! - login dialog and code exchange: <https://developers.facebook.com/docs/facebook-login/guides/advanced/manual-flow>
//! - long-lived user tokens (`fb_exchange_token`, "about 60 days"):
//!   <https://developers.facebook.com/docs/facebook-login/guides/access-tokens/get-long-lived>
//! - Page tokens from `/me/accounts` ("no expiration date" when taken with a long-lived user
//!   token): <https://developers.facebook.com/docs/pages/access-tokens/>
//! - granted permissions: <https://developers.facebook.com/docs/graph-api/reference/user/permissions/>
//! - error shape and codes: <https://developers.facebook.com/docs/graph-api/guides/error-handling>
//! - rate limits and `X-Business-Use-Case-Usage`:
//!   <https://developers.facebook.com/docs/graph-api/overview/rate-limiting/>
//! - versions: <https://developers.facebook.com/docs/graph-api/changelog/versions/>
//! - container states (`IN_PROGRESS`, `FINISHED`, `ERROR`, `EXPIRED`, `PUBLISHED`):
//!   <https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-container>
//!   and <https://developers.facebook.com/docs/threads/troubleshooting>

pub(crate) mod follow_ups;

use std::time::Duration;

use domain::Platform;
use reqwest::{header::HeaderMap, Client, RequestBuilder, Response, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::{de::DeserializeOwned, Deserialize};

use crate::http::Transmit;
use crate::{
    classify_response, http::TokenResponse, parse_retry_after, AdapterError, AdapterSettings,
    AuthorizeParams, ClientCredentials, CodeExchange, Endpoints, TokenSet,
};

/// The Graph API version every Facebook and Instagram URL is pinned to (v26.0, released July
/// 2026). Meta keeps a version callable for about two years after its successor ships; moving
/// to a newer one is a change to this constant and nothing else.
pub(crate) const GRAPH_API_VERSION: &str = "v26.0";

/// "A long-lived token generally lasts about 60 days": the lifetime assumed when Meta's answer
/// omits `expires_in` (it sometimes does for long-lived tokens). Threads documents the same 60
/// days for its long-lived tokens.
pub(crate) const LONG_LIVED_TOKEN_LIFETIME: Duration = Duration::from_secs(60 * 24 * 60 * 60);

/// Pages asked for per `/me/accounts` request.
const PAGES_PER_REQUEST: &str = "100";

/// Most `/me/accounts` requests one connect makes (so at most 1,000 Pages). Following the
/// cursor without a bound would let a misbehaving answer keep us looping forever.
const MAX_PAGE_REQUESTS: usize = 10;

/// Production endpoints of the Graph API, for Facebook and Instagram alike. Video uploads use
/// the same host: `graph-video.facebook.com` is deprecated for uploads.
pub(crate) fn graph_endpoints() -> Endpoints {
    let api_base = format!("https://graph.facebook.com/{GRAPH_API_VERSION}");
    Endpoints {
        authorize_url: format!("https://www.facebook.com/{GRAPH_API_VERSION}/dialog/oauth"),
        token_url: format!("{api_base}/oauth/access_token"),
        // Revoking needs a user token; we keep Page tokens only (see `revoke` of the adapters).
        revoke_url: None,
        upload_base: api_base.clone(),
        api_base,
    }
}

/// The app credentials, or `Unsupported` when the operator did not configure the platform.
pub(crate) fn credentials(
    settings: &AdapterSettings,
    platform: Platform,
) -> Result<&ClientCredentials, AdapterError> {
    settings.require_credentials(platform)
}

/// The authorization URL of Facebook Login and of Threads, which take the same parameters:
/// `client_id`, `redirect_uri`, `state`, `response_type=code` and comma-separated `scope`.
/// Neither documents PKCE for this flow, so no challenge is sent.
pub(crate) fn authorize_url(
    settings: &AdapterSettings,
    platform: Platform,
    scopes: &[String],
    params: &AuthorizeParams<'_>,
) -> Result<String, AdapterError> {
    let credentials = credentials(settings, platform)?;
    let scope = scopes.join(",");
    crate::http::url_with_query(
        &settings.endpoints.authorize_url,
        &[
            ("client_id", credentials.client_id.as_str()),
            ("redirect_uri", params.redirect_uri),
            ("state", params.state),
            ("response_type", "code"),
            ("scope", scope.as_str()),
        ],
    )
}

/// Facebook Login's two exchanges: the code for a short-lived user token (about an hour), then
/// that for a long-lived one (about 60 days). Page tokens listed with the long-lived token do
/// not expire, which is why the short-lived token is never used for anything else.
pub(crate) async fn long_lived_user_token(
    http: &Client,
    settings: &AdapterSettings,
    platform: Platform,
    exchange: &CodeExchange<'_>,
) -> Result<TokenSet, AdapterError> {
    let credentials = credentials(settings, platform)?;
    let token_url = settings.endpoints.token_url.as_str();
    let short: TokenResponse = json(http.get(token_url).query(&[
        ("client_id", credentials.client_id.as_str()),
        ("redirect_uri", exchange.redirect_uri),
        ("client_secret", credentials.client_secret.expose_secret()),
        ("code", exchange.code),
    ]))
    .await?;
    let long: TokenResponse = json(http.get(token_url).query(&[
        ("grant_type", "fb_exchange_token"),
        ("client_id", credentials.client_id.as_str()),
        ("client_secret", credentials.client_secret.expose_secret()),
        ("fb_exchange_token", short.access_token.expose_secret()),
    ]))
    .await?;
    Ok(long.into_token_set(Some(LONG_LIVED_TOKEN_LIFETIME)))
}

/// The permissions the user actually granted. Facebook Login lets people untick permissions in
/// the dialog, and the token answers do not say which were kept, so we ask.
pub(crate) async fn granted_permissions(
    http: &Client,
    settings: &AdapterSettings,
    user_token: &SecretString,
) -> Result<Vec<String>, AdapterError> {
    #[derive(Deserialize)]
    struct Permissions {
        data: Vec<Permission>,
    }
    #[derive(Deserialize)]
    struct Permission {
        permission: String,
        status: String,
    }

    let url = format!("{}/me/permissions", settings.endpoints.api_base);
    let answer: Permissions = json(
        http.get(url)
            .query(&[("access_token", user_token.expose_secret())]),
    )
    .await?;
    Ok(answer
        .data
        .into_iter()
        .filter(|p| p.status == "granted")
        .map(|p| p.permission)
        .collect())
}

/// The Pages the user shared with the app (`GET /me/accounts`), each with the `fields` asked
/// for. Follows the `after` cursor while Graph says there is a `next` page, up to
/// [`MAX_PAGE_REQUESTS`] requests of 100 Pages.
pub(crate) async fn managed_pages<T: DeserializeOwned>(
    http: &Client,
    settings: &AdapterSettings,
    user_token: &SecretString,
    fields: &str,
) -> Result<Vec<T>, AdapterError> {
    #[derive(Deserialize)]
    struct Listing<T> {
        data: Vec<T>,
        #[serde(default)]
        paging: Option<Paging>,
    }
    #[derive(Deserialize)]
    struct Paging {
        #[serde(default)]
        cursors: Option<Cursors>,
        #[serde(default)]
        next: Option<String>,
    }
    #[derive(Deserialize)]
    struct Cursors {
        #[serde(default)]
        after: Option<String>,
    }

    let url = format!("{}/me/accounts", settings.endpoints.api_base);
    let mut pages = Vec::new();
    let mut after: Option<String> = None;
    for _ in 0..MAX_PAGE_REQUESTS {
        // Our own URL plus the cursor, rather than Graph's `next` URL: a link from a response
        // is never followed with a token attached.
        let mut request = http.get(&url).query(&[
            ("fields", fields),
            ("limit", PAGES_PER_REQUEST),
            ("access_token", user_token.expose_secret()),
        ]);
        if let Some(cursor) = after.as_deref() {
            request = request.query(&[("after", cursor)]);
        }
        let listing: Listing<T> = json(request).await?;
        pages.extend(listing.data);
        // Graph includes `next` only when another page of results exists.
        after = listing
            .paging
            .filter(|paging| paging.next.is_some())
            .and_then(|paging| paging.cursors)
            .and_then(|cursors| cursors.after);
        if after.is_none() {
            return Ok(pages);
        }
    }
    tracing::warn!(
        pages = pages.len(),
        "stopped listing Facebook Pages after {MAX_PAGE_REQUESTS} requests"
    );
    Ok(pages)
}

/// `{api_base}/{node}[/{edge}]`, with the node id escaped as a single path segment: ids come
/// from storage, and one holding `/` or `?` must not reach another node or add parameters.
pub(crate) fn node_url(
    api_base: &str,
    node: &str,
    edge: Option<&str>,
) -> Result<reqwest::Url, AdapterError> {
    let invalid = |e: String| AdapterError::Unsupported {
        what: format!("invalid API base URL `{api_base}`: {e}"),
    };
    let mut url = reqwest::Url::parse(api_base).map_err(|e| invalid(e.to_string()))?;
    url.path_segments_mut()
        .map_err(|()| invalid("it cannot have a path".into()))?
        .pop_if_empty()
        .push(node)
        .extend(edge);
    Ok(url)
}

/// Sends a Graph API request; a non-2xx answer becomes an [`AdapterError`] classified by
/// [`classify`]. Tokens travel as the documented `access_token` parameter, so transport errors
/// drop the URL before they are turned into messages.
pub(crate) async fn send(request: RequestBuilder) -> Result<Response, AdapterError> {
    let response = request.transmit().await.map_err(transport)?;
    if response.status().is_success() {
        return Ok(response);
    }
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.text().await.unwrap_or_default();
    Err(classify(status, &headers, &body))
}

/// Sends a Graph API request and decodes its JSON answer. A body that does not decode is
/// transient (Meta answers HTML pages under load); the message names where decoding failed and
/// never quotes the body, which may hold tokens.
pub(crate) async fn json<T: DeserializeOwned>(request: RequestBuilder) -> Result<T, AdapterError> {
    let response = send(request).await?;
    let bytes = response.bytes().await.map_err(transport)?;
    decode(&bytes)
}

/// Like [`json`], but a Graph permission error (code 10 or 200–299) answers `Ok(None)`: for
/// optional data, such as insights behind a permission the app may not have been approved for,
/// where a missing permission means "not available", not "reconnect".
pub(crate) async fn json_if_permitted<T: DeserializeOwned>(
    request: RequestBuilder,
) -> Result<Option<T>, AdapterError> {
    let response = request.transmit().await.map_err(transport)?;
    let status = response.status();
    if !status.is_success() {
        let headers = response.headers().clone();
        let body = response.text().await.unwrap_or_default();
        if graph_error(&body).is_some_and(|e| is_permission_code(e.code.unwrap_or_default())) {
            return Ok(None);
        }
        return Err(classify(status, &headers, &body));
    }
    let bytes = response.bytes().await.map_err(transport)?;
    decode(&bytes).map(Some)
}

fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AdapterError> {
    serde_json::from_slice(bytes).map_err(|e| AdapterError::Transient {
        message: format!(
            "unexpected response shape (line {}, column {})",
            e.line(),
            e.column()
        ),
    })
}

/// A network-level failure, without its URL: Graph takes tokens and the app secret as query
/// parameters, and reqwest's message would otherwise print them.
fn transport(err: reqwest::Error) -> AdapterError {
    AdapterError::from_transport(&err.without_url())
}

/// The `error` object of a Graph API answer.
#[derive(Debug, Deserialize)]
struct GraphError {
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    code: Option<i64>,
    #[serde(default)]
    error_subcode: Option<i64>,
    #[serde(default)]
    is_transient: Option<bool>,
}

fn graph_error(body: &str) -> Option<GraphError> {
    #[derive(Deserialize)]
    struct Envelope {
        error: GraphError,
    }
    serde_json::from_str::<Envelope>(body).ok().map(|e| e.error)
}

/// Graph's permission errors: "permission is either not granted or has been removed". The
/// documented recovery is asking the user to grant it again, i.e. reconnecting.
fn is_permission_code(code: i64) -> bool {
    code == 10 || (200..=299).contains(&code)
}

/// Classifies a non-2xx Graph answer. Meta signals most conditions in the body's error `code`
/// rather than the HTTP status (an expired token is a 400 with code 190), so the code decides
/// first; answers without a Graph error fall back to [`classify_response`].
///
/// - 102 (session), 190 (token invalid, expired or revoked), 10 and 200–299 (permission
///   missing or removed) → `NeedsReauth`;
/// - 4 (app), 17 (user), 32 (Page), 613 (custom), 341 (application limit) and 80001–80014
///   (Business Use Case limits) → `RateLimited`, waiting for `Retry-After` if sent, else for
///   the `estimated_time_to_regain_access` of `X-Business-Use-Case-Usage`;
/// - 1, 2 (unknown / service error) or `is_transient: true` → `Transient`;
/// - anything else: a 429 is rate limiting, a 5xx or 408 transient, the rest a rejection with
///   code `graph_<code>`.
pub(crate) fn classify(status: StatusCode, headers: &HeaderMap, body: &str) -> AdapterError {
    let Some(error) = graph_error(body) else {
        return classify_response(status, headers, body);
    };
    let code = error.code.unwrap_or_default();
    let message = sanitized(error.message.as_deref().unwrap_or("no message"));
    if code == APP_LIMIT_CODE {
        return AdapterError::AppRateLimited {
            retry_after: retry_after(headers),
        };
    }
    if status == StatusCode::TOO_MANY_REQUESTS || is_rate_limit_code(code) {
        return AdapterError::RateLimited {
            retry_after: retry_after(headers),
        };
    }
    if matches!(code, 102 | 190) || is_permission_code(code) {
        return AdapterError::NeedsReauth { message };
    }
    if matches!(code, 1 | 2)
        || error.is_transient == Some(true)
        || status.is_server_error()
        || status == StatusCode::REQUEST_TIMEOUT
    {
        return AdapterError::Transient {
            message: format!("HTTP {} (Graph error {code}): {message}", status.as_u16()),
        };
    }
    let code = match error.error_subcode {
        Some(subcode) => format!("graph_{code}_{subcode}"),
        None => format!("graph_{code}"),
    };
    AdapterError::Rejected { code, message }
}

/// "Application request limit reached": the app's calls over all users are throttled.
const APP_LIMIT_CODE: i64 = 4;

fn is_rate_limit_code(code: i64) -> bool {
    matches!(code, 17 | 32 | 341 | 613) || (80_001..=80_014).contains(&code)
}

/// `Retry-After` when present; otherwise the longest `estimated_time_to_regain_access` (in
/// minutes) of the `X-Business-Use-Case-Usage` header, which Meta sends with Page and
/// Instagram throttling: `{"<business-id>": [{"type": "pages", …,
/// "estimated_time_to_regain_access": 5}]}`.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    if let Some(wait) = parse_retry_after(headers, chrono::Utc::now().timestamp()) {
        return Some(wait);
    }
    #[derive(Deserialize)]
    struct Usage {
        #[serde(default)]
        estimated_time_to_regain_access: Option<u64>,
    }
    let header = headers.get("x-business-use-case-usage")?.to_str().ok()?;
    let usage: std::collections::HashMap<String, Vec<Usage>> = serde_json::from_str(header).ok()?;
    usage
        .values()
        .flatten()
        .filter_map(|u| u.estimated_time_to_regain_access)
        .max()
        .filter(|minutes| *minutes > 0)
        .map(|minutes| Duration::from_secs(minutes.saturating_mul(60)))
}

/// Graph's own message, on one line and at most 300 characters.
fn sanitized(message: &str) -> String {
    crate::http::excerpt(message, 300)
}

// ---------------------------------------------------------------------------------------------
// Publishing, shared by Facebook Pages, Instagram and Threads
// ---------------------------------------------------------------------------------------------

/// How long a lookup after an unanswered publish looks back. Posts older than this cannot be
/// the unanswered attempt (the publisher reconciles within seconds to minutes), and an older
/// post with the same text must not be mistaken for it.
const LOOKUP_WINDOW: chrono::Duration = chrono::Duration::hours(48);

/// Recent posts read per lookup: the newest come first, and an account rarely publishes more
/// than this within [`LOOKUP_WINDOW`].
const LOOKUP_LIMIT: &str = "50";

/// How Instagram and Threads media containers are waited for before they are published: a
/// container is checked at once, then every `interval`, at most `max_polls` times in one
/// publish (all of its containers together). Both platforms fetch the media from our signed
/// URL and process it first; publishing a container that is not `FINISHED` is refused.
///
/// The default (every 10 seconds, at most 18 checks, so about three minutes) stays inside the
/// publisher's 240-second publish timeout. Meta suggests checking once a minute for up to five
/// minutes, but images are ready within seconds and a minute's wait for each would be wasted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ContainerPolling {
    /// Pause between two checks of the same container.
    pub(crate) interval: Duration,
    /// Checks allowed in one publish, over all of its containers.
    pub(crate) max_polls: u32,
}

impl Default for ContainerPolling {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(10),
            max_polls: 18,
        }
    }
}

/// `{"id": "…"}`: what Graph answers for every node it creates.
#[derive(Debug, Deserialize)]
pub(crate) struct Created {
    pub(crate) id: String,
}

/// `POST {url}` with `params` and the token as form fields (the token in the body rather than
/// the URL, which proxies log), answering the created node's id. For the preparatory calls
/// (photos, containers): a timeout here is [`AdapterError::Transient`], since repeating it
/// creates nothing visible.
pub(crate) async fn create(
    http: &Client,
    url: reqwest::Url,
    params: &[(&str, &str)],
    token: &SecretString,
) -> Result<String, AdapterError> {
    let created: Created = json(http.post(url).form(&with_token(params, token))).await?;
    Ok(created.id)
}

/// The form of a Graph POST: `params` followed by `access_token`.
pub(crate) fn with_token<'a>(
    params: &[(&'a str, &'a str)],
    token: &'a SecretString,
) -> Vec<(&'a str, &'a str)> {
    let mut form = params.to_vec();
    form.push(("access_token", token.expose_secret()));
    form
}

/// Sends the one call that makes a post visible and decodes its answer. Unlike [`json`]:
///
/// - a network failure after the request left (a timeout, a dropped connection) is
///   [`AdapterError::OutcomeUnknown`], and so is a 2xx whose body is lost or unreadable;
/// - so is a server-side failure (5xx, Graph codes 1 and 2, `is_transient`): Meta is known to
///   answer "an unknown error occurred" to `media_publish` and still publish the post. Repeating
///   the whole publish would then post twice; the caller looks the post up instead.
///
/// Rate limits, rejections and refused tokens stay what they are: Graph refused the call.
pub(crate) async fn json_unsure<T: DeserializeOwned>(
    request: RequestBuilder,
) -> Result<T, AdapterError> {
    let response = request
        .transmit()
        .await
        .map_err(|e| AdapterError::from_transport_unsure(&e.without_url()))?;
    let status = response.status();
    if !status.is_success() {
        let headers = response.headers().clone();
        let body = response.text().await.unwrap_or_default();
        return Err(match classify(status, &headers, &body) {
            AdapterError::Transient { message } => AdapterError::OutcomeUnknown { message },
            other => other,
        });
    }
    let bytes = response
        .bytes()
        .await
        .map_err(|e| AdapterError::OutcomeUnknown {
            message: format!("reading the answer: {}", e.without_url()),
        })?;
    serde_json::from_slice(&bytes).map_err(|e| AdapterError::OutcomeUnknown {
        message: format!(
            "the platform accepted the post but answered an unexpected shape (line {}, column {})",
            e.line(),
            e.column()
        ),
    })
}

/// A media container's state, as Instagram (`status_code`, with the error in `status`) and
/// Threads (`status`, with the error in `error_message`) answer it.
#[derive(Debug, Deserialize)]
struct ContainerStatus {
    #[serde(default)]
    status_code: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    error_message: Option<String>,
}

impl ContainerStatus {
    fn state(&self) -> &str {
        self.status_code
            .as_deref()
            .or(self.status.as_deref())
            .unwrap_or_default()
    }

    /// Why the container failed, where the platform said.
    fn reason(&self) -> Option<&str> {
        self.error_message
            .as_deref()
            .or(if self.status_code.is_some() {
                self.status.as_deref()
            } else {
                None
            })
    }
}

/// Waits until the container `id` is `FINISHED`: checked at once, then every
/// `polling.interval` while it is `IN_PROGRESS`, drawing on `polls_left` (shared by all the
/// containers of one publish). `fields` names the status fields of the platform.
///
/// - `ERROR` (Meta could not fetch or process the media) and `EXPIRED` (not published within
///   24 hours) are [`AdapterError::Rejected`]: the same media would fail again;
/// - still processing when the polls run out is [`AdapterError::Transient`]: nothing was
///   published, and a later attempt starts over with new containers.
pub(crate) async fn wait_until_finished(
    http: &Client,
    api_base: &str,
    id: &str,
    token: &SecretString,
    fields: &str,
    polling: ContainerPolling,
    polls_left: &mut u32,
) -> Result<(), AdapterError> {
    let url = node_url(api_base, id, None)?;
    let mut first = true;
    while *polls_left > 0 {
        if !first {
            tokio::time::sleep(polling.interval).await;
        }
        first = false;
        *polls_left -= 1;
        let status: ContainerStatus = json(
            http.get(url.clone())
                .query(&[("fields", fields), ("access_token", token.expose_secret())]),
        )
        .await?;
        match status.state() {
            "FINISHED" => return Ok(()),
            state @ ("ERROR" | "EXPIRED") => {
                let reason = status.reason().map(sanitized);
                return Err(AdapterError::Rejected {
                    code: format!("container_{}", state.to_ascii_lowercase()),
                    message: match reason {
                        Some(reason) if !reason.is_empty() => {
                            format!("the media could not be prepared for publishing ({reason})")
                        }
                        _ if state == "EXPIRED" => {
                            "the media container expired before it was published".to_owned()
                        }
                        _ => "the media could not be prepared for publishing".to_owned(),
                    },
                });
            }
            // IN_PROGRESS, and anything new: wait while the polls last.
            _ => {}
        }
    }
    Err(AdapterError::Transient {
        message: format!(
            "media container {id} was still being processed after {} checks",
            polling.max_polls
        ),
    })
}

/// The public link of a node just published (`fields` names it: `permalink` on Instagram and
/// Threads, `permalink_url` on Facebook). Best effort: the post exists whatever this answers,
/// so a failure is logged and the caller keeps the post without a link (or builds one).
pub(crate) async fn permalink(
    http: &Client,
    api_base: &str,
    id: &str,
    token: &SecretString,
    field: &str,
) -> Option<String> {
    #[derive(Deserialize)]
    struct Link {
        #[serde(default, alias = "permalink_url")]
        permalink: Option<String>,
    }
    let url = match node_url(api_base, id, None) {
        Ok(url) => url,
        Err(err) => {
            tracing::warn!(error = %err, "cannot ask for the permalink of a published post");
            return None;
        }
    };
    let answer: Result<Link, _> = json(
        http.get(url)
            .query(&[("fields", field), ("access_token", token.expose_secret())]),
    )
    .await;
    match answer {
        Ok(link) => link.permalink.filter(|l| !l.is_empty()),
        Err(err) => {
            tracing::warn!(error = %err, post.id = %id, "published, but its permalink is unavailable");
            None
        }
    }
}

/// A post of a recent listing: Facebook's `/feed` (`message`, `created_time`,
/// `permalink_url`), Instagram's `/media` (`caption`, `timestamp`, `permalink`) and Threads'
/// `/threads` (`text`, `timestamp`, `permalink`).
#[derive(Debug, Deserialize)]
pub(crate) struct ListedPost {
    pub(crate) id: String,
    #[serde(default, alias = "message", alias = "caption")]
    text: Option<String>,
    #[serde(default, alias = "created_time")]
    timestamp: Option<String>,
    #[serde(default, alias = "permalink_url")]
    pub(crate) permalink: Option<String>,
}

/// Looks for a post with exactly `text` among the account's recent posts (`GET {url}` with
/// `fields`), published within [`LOOKUP_WINDOW`]: what an unanswered publish call would have
/// created. Text is the only thing Meta keeps of a post that we choose, so a post without text
/// cannot be told apart from the account's other posts: that lookup is
/// [`AdapterError::Unsupported`], and the caller leaves the post for a person to check.
pub(crate) async fn find_recent(
    http: &Client,
    url: reqwest::Url,
    fields: &str,
    token: &SecretString,
    text: &str,
) -> Result<Option<ListedPost>, AdapterError> {
    #[derive(Deserialize)]
    struct Listing {
        #[serde(default)]
        data: Vec<ListedPost>,
    }
    if text.trim().is_empty() {
        return Err(AdapterError::Unsupported {
            what: "a post without text cannot be told apart from the account's other posts".into(),
        });
    }
    let listing: Listing = json(http.get(url).query(&[
        ("fields", fields),
        ("limit", LOOKUP_LIMIT),
        ("access_token", token.expose_secret()),
    ]))
    .await?;
    let now = chrono::Utc::now();
    Ok(listing.data.into_iter().find(|post| {
        post.text.as_deref().is_some_and(|t| same_text(t, text))
            && is_recent(post.timestamp.as_deref(), now)
    }))
}

/// Whether Meta's copy of a text is ours: Graph trims the ends and may store `\r\n` as `\n`.
fn same_text(stored: &str, ours: &str) -> bool {
    let normalize = |s: &str| s.trim().replace("\r\n", "\n");
    normalize(stored) == normalize(ours)
}

/// Whether a Graph timestamp (`2026-11-20T10:15:00+0000`) lies within [`LOOKUP_WINDOW`] of
/// `now`. One that is missing or unreadable counts as recent: the text already matched
/// exactly, and recording a post twice is worse than recording one already there.
fn is_recent(timestamp: Option<&str>, now: chrono::DateTime<chrono::Utc>) -> bool {
    let Some(timestamp) = timestamp else {
        return true;
    };
    let parsed = chrono::DateTime::parse_from_str(timestamp, "%Y-%m-%dT%H:%M:%S%z")
        .or_else(|_| chrono::DateTime::parse_from_rfc3339(timestamp));
    match parsed {
        Ok(at) => now.signed_duration_since(at) <= LOOKUP_WINDOW,
        Err(_) => true,
    }
}

/// Blanks `secrets` (the token, the signed media URLs) out of an error's message: Graph and
/// its media fetchers sometimes quote the request, and a signed URL is a bearer credential for
/// the file.
pub(crate) fn redact(err: AdapterError, secrets: &[&str]) -> AdapterError {
    let scrub = |message: String| {
        secrets
            .iter()
            .filter(|s| !s.is_empty())
            .fold(message, |m, s| m.replace(s, "[redacted]"))
    };
    match err {
        AdapterError::NeedsReauth { message } => AdapterError::NeedsReauth {
            message: scrub(message),
        },
        AdapterError::Transient { message } => AdapterError::Transient {
            message: scrub(message),
        },
        AdapterError::Rejected { code, message } => AdapterError::Rejected {
            code,
            message: scrub(message),
        },
        AdapterError::OutcomeUnknown { message } => AdapterError::OutcomeUnknown {
            message: scrub(message),
        },
        other @ (AdapterError::RateLimited { .. }
        | AdapterError::AppRateLimited { .. }
        | AdapterError::Unsupported { .. }) => other,
    }
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;

    fn body(code: i64) -> String {
        format!(
            r#"{{"error":{{"message":"m","type":"OAuthException","code":{code},"fbtrace_id":"A"}}}}"#
        )
    }

    #[test]
    fn expired_token_on_a_400_means_needs_reauth() {
        let err = classify(StatusCode::BAD_REQUEST, &HeaderMap::new(), &body(190));
        assert!(matches!(err, AdapterError::NeedsReauth { .. }));
    }

    #[test]
    fn throttling_codes_are_rate_limits_whatever_the_status() {
        for code in [17, 32, 341, 613, 80_001, 80_014] {
            let err = classify(StatusCode::BAD_REQUEST, &HeaderMap::new(), &body(code));
            assert_eq!(
                err,
                AdapterError::RateLimited { retry_after: None },
                "code {code}"
            );
        }
    }

    #[test]
    fn the_application_request_limit_pauses_the_whole_app() {
        let err = classify(StatusCode::FORBIDDEN, &HeaderMap::new(), &body(4));
        assert_eq!(err, AdapterError::AppRateLimited { retry_after: None });
    }

    #[test]
    fn business_use_case_usage_gives_the_wait_in_minutes() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-business-use-case-usage",
            HeaderValue::from_static(
                r#"{"1":[{"type":"pages","call_count":100,"estimated_time_to_regain_access":3},{"type":"pages","estimated_time_to_regain_access":0}]}"#,
            ),
        );
        let err = classify(StatusCode::BAD_REQUEST, &headers, &body(80_001));
        assert_eq!(
            err,
            AdapterError::RateLimited {
                retry_after: Some(Duration::from_secs(180))
            }
        );
    }

    #[test]
    fn unknown_codes_are_rejections_with_the_graph_code() {
        let err = classify(
            StatusCode::BAD_REQUEST,
            &HeaderMap::new(),
            r#"{"error":{"message":"This authorization code has been used.","type":"OAuthException","code":100,"error_subcode":36009}}"#,
        );
        assert!(
            matches!(&err, AdapterError::Rejected { code, message } if code == "graph_100_36009" && message.contains("has been used"))
        );
    }

    #[test]
    fn node_ids_stay_one_path_segment() {
        let url = node_url(
            "http://127.0.0.1:1/v26.0",
            "1/../me?fields=x",
            Some("threads_insights"),
        );
        assert_eq!(
            url.map(String::from),
            Ok("http://127.0.0.1:1/v26.0/1%2F..%2Fme%3Ffields=x/threads_insights".to_owned())
        );
    }

    #[test]
    fn graph_timestamps_within_the_window_are_recent() {
        let now = chrono::Utc::now();
        let fresh = (now - chrono::Duration::hours(1))
            .format("%Y-%m-%dT%H:%M:%S%z")
            .to_string();
        let old = (now - chrono::Duration::days(5))
            .format("%Y-%m-%dT%H:%M:%S%z")
            .to_string();
        assert!(is_recent(Some(&fresh), now));
        assert!(!is_recent(Some(&old), now));
        assert!(is_recent(Some("not a date"), now));
        assert!(is_recent(None, now));
    }

    #[test]
    fn texts_match_across_trimmed_ends_and_line_endings() {
        assert!(same_text("  Hello\nworld ", "Hello\r\nworld"));
        assert!(!same_text("Hello world", "Hello  world"));
    }

    #[test]
    fn redaction_blanks_signed_urls_and_tokens_out_of_messages() {
        let err = AdapterError::Rejected {
            code: "graph_100".into(),
            message: "cannot fetch https://cdn/x.jpg?sig=s with EAAB-page-token".into(),
        };
        assert_eq!(
            redact(err, &["https://cdn/x.jpg?sig=s", "EAAB-page-token", ""]),
            AdapterError::Rejected {
                code: "graph_100".into(),
                message: "cannot fetch [redacted] with [redacted]".into(),
            }
        );
    }

    #[test]
    fn bodies_without_a_graph_error_use_the_generic_classification() {
        let err = classify(
            StatusCode::BAD_GATEWAY,
            &HeaderMap::new(),
            "<html>oops</html>",
        );
        assert!(matches!(err, AdapterError::Transient { .. }));
    }
}
