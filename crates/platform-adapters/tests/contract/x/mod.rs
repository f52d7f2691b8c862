//! X: OAuth 2.0 with PKCE as a confidential client, `GET /2/users/me`, token revocation, and
//! publishing (media uploads, alt text, `POST /2/tweets`, the lookup of a post whose creation
//! went unanswered). Shapes follow docs.x.com (OAuth 2.0 user access token guide, media upload
//! quickstarts) and the X API v2 OpenAPI description.

mod follow_ups;
mod replies;

use std::time::Duration;

use chrono::Utc;
use platform_adapters::{
    platforms::x::{self, ProcessingPolling, XAdapter},
    AccountRef, AdapterError, AdapterSettings, AuthorizeParams, CodeExchange, MediaItem,
    PlatformAdapter, Published, Revocation, Stats, TextCounting,
};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use wiremock::{
    matchers::{any, body_json, body_string_contains, header, method, path, query_param},
    Match, Mock, MockServer, Request, ResponseTemplate,
};

use crate::support::form_is;
use crate::support::{self, param, secret, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI};

/// `Basic base64("test-client-id:test-client-secret")`.
const BASIC: &str = "Basic dGVzdC1jbGllbnQtaWQ6dGVzdC1jbGllbnQtc2VjcmV0";
/// The redirect URI as it appears in a form body.
const REDIRECT_URI_FORM: &str =
    "redirect_uri=http%3A%2F%2F127.0.0.1%3A8080%2Fv1%2Foauth%2Fcallback";
const USER_FIELDS: &str = "id,name,username,profile_image_url,public_metrics";

fn adapter(server: &MockServer) -> XAdapter {
    XAdapter::new(platform_adapters::http::client(), support::settings(server))
}

fn account<'a>(access: &'a SecretString, refresh: Option<&'a SecretString>) -> AccountRef<'a> {
    AccountRef {
        platform_account_id: "2244994945",
        access_token: access,
        refresh_token: refresh,
        instance_url: None,
    }
}

const EXCHANGE: CodeExchange<'static> = CodeExchange {
    code: "auth-code-1",
    pkce_verifier: Some("verifier-1"),
    redirect_uri: REDIRECT_URI,
};

/// The documented `/2/users/me` answer with `public_metrics`.
fn me_body() -> serde_json::Value {
    json!({"data": {
        "id": "2244994945",
        "name": "X Dev",
        "username": "XDevelopers",
        "profile_image_url": "https://pbs.twimg.com/profile_images/1/abc_normal.jpg",
        "public_metrics": {"followers_count": 583423, "following_count": 2048, "tweet_count": 14052, "listed_count": 1672, "like_count": 3}
    }})
}

async fn mount_me(server: &MockServer, token: &str) {
    Mock::given(method("GET"))
        .and(path("/2/users/me"))
        .and(query_param("user.fields", USER_FIELDS))
        .and(header("authorization", format!("Bearer {token}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(me_body()))
        .expect(1)
        .mount(server)
        .await;
}

#[test]
fn descriptor_states_pkce_rotation_and_the_weighted_280_limit() {
    let d = x::descriptor();
    assert!(d.pkce);
    assert!(d.refresh_token_rotates);
    assert_eq!(d.access_token_lifetime, Some(Duration::from_secs(7200)));
    assert_eq!(d.capabilities.text_limit, 280);
    assert_eq!(d.capabilities.text_counting, TextCounting::XWeighted);
    assert!(!d.capabilities.requires_media);
    assert!(d.scopes.iter().any(|s| s == "offline.access"));
    assert_eq!(
        x::default_endpoints().authorize_url,
        "https://x.com/i/oauth2/authorize"
    );
    assert_eq!(
        x::default_endpoints().token_url,
        "https://api.x.com/2/oauth2/token"
    );
}

#[tokio::test]
async fn authorize_url_carries_client_scopes_state_and_s256_challenge() {
    let server = MockServer::start().await;
    let url = adapter(&server)
        .authorize_url(&AuthorizeParams {
            state: "state-1",
            pkce_challenge: Some("challenge-1"),
            redirect_uri: REDIRECT_URI,
        })
        .expect("authorize URL");
    assert!(url.starts_with(&format!("{}/oauth/authorize?", server.uri())));
    assert_eq!(param(&url, "response_type").as_deref(), Some("code"));
    assert_eq!(param(&url, "client_id").as_deref(), Some(CLIENT_ID));
    assert_eq!(param(&url, "redirect_uri").as_deref(), Some(REDIRECT_URI));
    assert_eq!(
        param(&url, "scope").as_deref(),
        Some("tweet.read tweet.write users.read offline.access media.write")
    );
    assert_eq!(param(&url, "state").as_deref(), Some("state-1"));
    assert_eq!(
        param(&url, "code_challenge").as_deref(),
        Some("challenge-1")
    );
    assert_eq!(
        param(&url, "code_challenge_method").as_deref(),
        Some("S256")
    );
}

#[tokio::test]
async fn authorize_url_without_a_pkce_challenge_is_refused() {
    let server = MockServer::start().await;
    let err = adapter(&server)
        .authorize_url(&AuthorizeParams {
            state: "s",
            pkce_challenge: None,
            redirect_uri: REDIRECT_URI,
        })
        .expect_err("PKCE is required");
    assert!(matches!(err, AdapterError::Unsupported { .. }));
}

#[tokio::test]
async fn an_unconfigured_adapter_refuses_to_start_a_connection() {
    let server = MockServer::start().await;
    let settings = AdapterSettings {
        credentials: None,
        endpoints: support::endpoints(&server),
    };
    let err = XAdapter::new(platform_adapters::http::client(), settings)
        .authorize_url(&AuthorizeParams {
            state: "s",
            pkce_challenge: Some("c"),
            redirect_uri: REDIRECT_URI,
        })
        .expect_err("not configured");
    assert!(matches!(err, AdapterError::Unsupported { .. }));
}

#[tokio::test]
async fn code_exchange_uses_basic_auth_and_the_verifier_then_reads_the_user() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(header("authorization", BASIC))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(body_string_contains("grant_type=authorization_code"))
        .and(body_string_contains("code=auth-code-1"))
        .and(body_string_contains("code_verifier=verifier-1"))
        .and(body_string_contains("client_id=test-client-id"))
        .and(body_string_contains(REDIRECT_URI_FORM))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "token_type": "bearer",
            "expires_in": 7200,
            "access_token": "x-access-1",
            "scope": "tweet.read tweet.write users.read offline.access media.write",
            "refresh_token": "x-refresh-1"
        })))
        .expect(1)
        .mount(&server)
        .await;
    mount_me(&server, "x-access-1").await;

    let before = Utc::now();
    let connections = adapter(&server)
        .exchange_code(&EXCHANGE)
        .await
        .expect("exchange");
    assert_eq!(connections.len(), 1);
    let connection = &connections[0];
    assert_eq!(connection.tokens.access_token.expose_secret(), "x-access-1");
    assert_eq!(
        connection
            .tokens
            .refresh_token
            .as_ref()
            .map(|t| t.expose_secret().to_owned())
            .as_deref(),
        Some("x-refresh-1")
    );
    let expires_at = connection.tokens.expires_at.expect("expiry");
    assert!(
        expires_at >= before + chrono::Duration::seconds(7200)
            && expires_at <= Utc::now() + chrono::Duration::seconds(7200)
    );
    assert_eq!(connection.tokens.scopes.len(), 5);
    let profile = &connection.profile;
    assert_eq!(profile.platform_account_id, "2244994945");
    assert_eq!(profile.handle.as_deref(), Some("XDevelopers"));
    assert_eq!(profile.display_name.as_deref(), Some("X Dev"));
    assert_eq!(
        profile.profile_url.as_deref(),
        Some("https://x.com/XDevelopers")
    );
    assert_eq!(
        profile.avatar_url.as_deref(),
        Some("https://pbs.twimg.com/profile_images/1/abc_normal.jpg")
    );
    assert_eq!(profile.account_kind, Some(domain::AccountKind::Profile));
    assert_eq!(
        connection.stats,
        Some(Stats {
            followers_count: Some(583423),
            following_count: Some(2048),
            posts_count: Some(14052)
        })
    );
}

#[tokio::test]
async fn missing_expires_in_falls_back_to_the_documented_two_hours() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"token_type": "bearer", "access_token": "x-access-2", "scope": "users.read"}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    mount_me(&server, "x-access-2").await;

    let before = Utc::now();
    let connections = adapter(&server)
        .exchange_code(&EXCHANGE)
        .await
        .expect("exchange");
    let expires_at = connections[0]
        .tokens
        .expires_at
        .expect("a missing expires_in must not mean never");
    assert!(
        expires_at >= before + chrono::Duration::hours(2)
            && expires_at <= Utc::now() + chrono::Duration::hours(2)
    );
    assert!(connections[0].tokens.refresh_token.is_none());
}

#[tokio::test]
async fn stats_read_post_count_as_named_in_the_openapi_description() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/2/users/me"))
        .and(header("authorization", "Bearer x-access-3"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": {
            "id": "1", "name": "n", "username": "u",
            "public_metrics": {"followers_count": 10, "following_count": 20, "post_count": 30, "listed_count": 0}
        }})))
        .expect(1)
        .mount(&server)
        .await;
    let token = secret("x-access-3");
    let stats = adapter(&server)
        .stats(&account(&token, None))
        .await
        .expect("stats");
    assert_eq!(
        stats,
        Stats {
            followers_count: Some(10),
            following_count: Some(20),
            posts_count: Some(30)
        }
    );
}

#[tokio::test]
async fn a_profile_sync_reads_profile_and_counts_with_one_users_me_call() {
    let server = MockServer::start().await;
    mount_me(&server, "x-access-sync").await;
    let token = secret("x-access-sync");
    let (profile, stats) = adapter(&server)
        .profile_and_stats(&account(&token, None))
        .await
        .expect("profile and stats");
    assert_eq!(profile.handle.as_deref(), Some("XDevelopers"));
    assert_eq!(stats.followers_count, Some(583_423));
    assert_eq!(stats.posts_count, Some(14_052));
    // `mount_me` expects exactly one call; dropping the server verifies it.
    let calls = server.received_requests().await.expect("recorded").len();
    assert_eq!(
        calls, 1,
        "one GET /2/users/me per sync, not one for the profile and one for the counts"
    );
}

#[tokio::test]
async fn a_users_me_answer_with_only_errors_is_a_rejection() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/2/users/me"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"errors": [{
            "type": "https://api.x.com/2/problems/resource-not-found", "title": "Not Found Error", "detail": "Could not find user"
        }]})))
        .expect(1)
        .mount(&server)
        .await;
    let token = secret("x-access-4");
    let err = adapter(&server)
        .profile(&account(&token, None))
        .await
        .expect_err("no user");
    assert_eq!(
        err,
        AdapterError::Rejected {
            code: "resource-not-found".into(),
            message: "Could not find user".into()
        }
    );
}

#[tokio::test]
async fn revoke_revokes_the_refresh_token_and_the_access_token_with_basic_auth() {
    let server = MockServer::start().await;
    for (token, hint) in [
        ("x-refresh-5", "refresh_token"),
        ("x-access-5", "access_token"),
    ] {
        Mock::given(method("POST"))
            .and(path("/oauth/revoke"))
            .and(header("authorization", BASIC))
            .and(body_string_contains(format!("token={token}").as_str()))
            .and(body_string_contains(
                format!("token_type_hint={hint}").as_str(),
            ))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"revoked": true})))
            .expect(1)
            .mount(&server)
            .await;
    }
    let (access, refresh) = (secret("x-access-5"), secret("x-refresh-5"));
    let outcome = adapter(&server)
        .revoke(&account(&access, Some(&refresh)))
        .await
        .expect("revoke");
    assert_eq!(outcome, Revocation::Revoked);
}

#[tokio::test]
async fn a_401_from_the_api_means_needs_reauth() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/2/users/me"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"})))
        .expect(1)
        .mount(&server)
        .await;
    let token = secret("x-expired");
    let err = adapter(&server)
        .profile(&account(&token, None))
        .await
        .expect_err("401");
    assert!(matches!(err, AdapterError::NeedsReauth { .. }));
}

#[tokio::test]
async fn an_invalid_grant_means_needs_reauth_and_other_token_errors_are_rejections() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": "invalid_request", "error_description": "Value passed for the authorization code was invalid."})))
        .expect(1)
        .mount(&server)
        .await;
    let err = adapter(&server)
        .exchange_code(&EXCHANGE)
        .await
        .expect_err("bad code");
    assert!(matches!(err, AdapterError::Rejected { ref code, .. } if code == "invalid_request"));

    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": "invalid_grant", "error_description": "Value passed for the token was invalid."})))
        .expect(1)
        .mount(&server)
        .await;
    let err = adapter(&server)
        .exchange_code(&EXCHANGE)
        .await
        .expect_err("invalid grant");
    assert!(matches!(err, AdapterError::NeedsReauth { .. }));
}

#[tokio::test]
async fn a_429_carries_retry_after_and_the_x_reset_header_is_understood() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/2/users/me"))
        .and(header("authorization", "Bearer x-a"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "60"))
        .expect(1)
        .mount(&server)
        .await;
    let reset = (Utc::now().timestamp() + 900).to_string();
    Mock::given(method("GET"))
        .and(path("/2/users/me"))
        .and(header("authorization", "Bearer x-b"))
        .respond_with(
            ResponseTemplate::new(429).insert_header("x-rate-limit-reset", reset.as_str()),
        )
        .expect(1)
        .mount(&server)
        .await;
    let adapter = adapter(&server);
    let (a, b) = (secret("x-a"), secret("x-b"));
    let err = adapter.stats(&account(&a, None)).await.expect_err("429");
    assert_eq!(
        err,
        AdapterError::RateLimited {
            retry_after: Some(Duration::from_secs(60))
        }
    );
    let AdapterError::RateLimited {
        retry_after: Some(wait),
    } = adapter.stats(&account(&b, None)).await.expect_err("429")
    else {
        panic!("expected a rate limit with a wait");
    };
    assert!(wait > Duration::from_secs(890) && wait <= Duration::from_secs(900));
}

#[tokio::test]
async fn a_5xx_is_transient() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/2/users/me"))
        .respond_with(ResponseTemplate::new(503).set_body_string("Service Unavailable"))
        .expect(1)
        .mount(&server)
        .await;
    let token = secret("x-access-6");
    let err = adapter(&server)
        .profile(&account(&token, None))
        .await
        .expect_err("503");
    assert!(matches!(err, AdapterError::Transient { .. }));
    assert!(err.is_retryable());
}

// ---------------------------------------------------------------------------------------------
// Refresh (docs.x.com "OAuth 2.0 Authorization Code Flow with PKCE", step 5)
// ---------------------------------------------------------------------------------------------

/// The token endpoint expecting exactly one refresh of `refresh_token`, answered with `answer`.
async fn mount_refresh(server: &MockServer, refresh_token: &str, answer: ResponseTemplate) {
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(header("authorization", BASIC))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(form_is(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", CLIENT_ID),
        ]))
        .respond_with(answer)
        .expect(1)
        .mount(server)
        .await;
}

async fn refresh_failing_with(answer: ResponseTemplate) -> AdapterError {
    let server = MockServer::start().await;
    mount_refresh(&server, "x-refresh-old", answer).await;
    let (access, refresh) = (secret("x-access-old"), secret("x-refresh-old"));
    adapter(&server)
        .refresh(&account(&access, Some(&refresh)))
        .await
        .expect_err("a failed refresh")
}

fn assert_no_secret_in(err: &AdapterError) {
    let text = format!("{err} {err:?}");
    for secret in ["x-refresh-old", "x-access-old", CLIENT_SECRET] {
        assert!(!text.contains(secret), "`{secret}` leaked into: {text}");
    }
}

#[tokio::test]
async fn x_refresh_rotates_the_refresh_token_with_basic_auth() {
    let server = MockServer::start().await;
    mount_refresh(
        &server,
        "x-refresh-old",
        ResponseTemplate::new(200).set_body_json(json!({
            "token_type": "bearer",
            "expires_in": 7200,
            "access_token": "x-access-new",
            "scope": "tweet.read tweet.write users.read offline.access media.write",
            "refresh_token": "x-refresh-new"
        })),
    )
    .await;
    let (access, refresh) = (secret("x-access-old"), secret("x-refresh-old"));

    let before = Utc::now();
    let tokens = adapter(&server)
        .refresh(&account(&access, Some(&refresh)))
        .await
        .expect("refresh");

    assert_eq!(tokens.access_token.expose_secret(), "x-access-new");
    assert_eq!(
        tokens
            .refresh_token
            .as_ref()
            .map(ExposeSecret::expose_secret),
        Some("x-refresh-new"),
        "the single-use refresh token is replaced by the new one"
    );
    let expires_at = tokens.expires_at.expect("expiry");
    assert!(
        expires_at >= before + chrono::Duration::seconds(7200)
            && expires_at <= Utc::now() + chrono::Duration::seconds(7200)
    );
    assert_eq!(tokens.refresh_expires_at, None);
    assert_eq!(tokens.scopes.len(), 5);
}

#[tokio::test]
async fn x_refresh_without_expires_in_falls_back_to_the_documented_two_hours() {
    let server = MockServer::start().await;
    mount_refresh(
        &server,
        "x-refresh-old",
        ResponseTemplate::new(200).set_body_json(json!({
            "token_type": "bearer",
            "access_token": "x-access-new",
            "scope": "users.read offline.access",
            "refresh_token": "x-refresh-new"
        })),
    )
    .await;
    let (access, refresh) = (secret("x-access-old"), secret("x-refresh-old"));

    let before = Utc::now();
    let tokens = adapter(&server)
        .refresh(&account(&access, Some(&refresh)))
        .await
        .expect("refresh");

    let expires_at = tokens
        .expires_at
        .expect("a missing expires_in must not mean never");
    assert!(
        expires_at >= before + chrono::Duration::hours(2)
            && expires_at <= Utc::now() + chrono::Duration::hours(2)
    );
}

#[tokio::test]
async fn x_without_a_refresh_token_asks_the_user_to_reconnect_without_calling_x() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let access = secret("x-access-old");

    let err = adapter(&server)
        .refresh(&account(&access, None))
        .await
        .expect_err("nothing to refresh with");

    assert!(
        matches!(&err, AdapterError::NeedsReauth { message } if message.contains("reconnect your X account")),
        "{err:?}"
    );
}

#[tokio::test]
async fn x_refresh_with_a_spent_refresh_token_asks_the_user_to_reconnect() {
    // X's answer to a refresh token that was already used, expired or revoked.
    let err = refresh_failing_with(ResponseTemplate::new(400).set_body_json(json!({
        "error": "invalid_request",
        "error_description": "Value passed for the token was invalid."
    })))
    .await;

    assert!(
        matches!(&err, AdapterError::NeedsReauth { message }
            if message.contains("reconnect your X account") && message.contains("Value passed for the token was invalid")),
        "{err:?}"
    );
    assert_no_secret_in(&err);
}

#[tokio::test]
async fn x_refresh_invalid_grant_asks_the_user_to_reconnect() {
    let err = refresh_failing_with(ResponseTemplate::new(400).set_body_json(json!({
        "error": "invalid_grant",
        "error_description": "Refresh token has been revoked."
    })))
    .await;

    assert!(
        matches!(&err, AdapterError::NeedsReauth { message } if message.contains("reconnect your X account")),
        "{err:?}"
    );
    assert_no_secret_in(&err);
}

#[tokio::test]
async fn x_refresh_refused_for_the_app_credentials_is_a_rejection_not_a_reconnect() {
    // A wrong client secret: every user reconnecting would not help.
    let err = refresh_failing_with(ResponseTemplate::new(401).set_body_json(json!({
        "error": "unauthorized_client",
        "error_description": "Missing valid authorization header"
    })))
    .await;

    assert!(
        matches!(&err, AdapterError::Rejected { code, message }
            if code == "unauthorized_client" && message.contains("client id and secret")),
        "{err:?}"
    );
    assert_no_secret_in(&err);
}

#[tokio::test]
async fn x_refresh_errors_never_echo_the_refresh_token() {
    let err = refresh_failing_with(ResponseTemplate::new(400).set_body_json(json!({
        "error": "invalid_grant",
        "error_description": "Unknown refresh token x-refresh-old"
    })))
    .await;

    assert!(matches!(err, AdapterError::NeedsReauth { .. }), "{err:?}");
    assert_no_secret_in(&err);
}

#[tokio::test]
async fn x_refresh_rate_limited_waits_as_x_asks() {
    let err = refresh_failing_with(
        ResponseTemplate::new(429)
            .insert_header("retry-after", "60")
            .set_body_json(json!({"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank", "status": 429})),
    )
    .await;

    assert_eq!(
        err,
        AdapterError::RateLimited {
            retry_after: Some(Duration::from_secs(60))
        }
    );
}

#[tokio::test]
async fn x_refresh_server_errors_are_transient() {
    let err = refresh_failing_with(
        ResponseTemplate::new(503).set_body_string("<html>Service Unavailable</html>"),
    )
    .await;

    assert!(
        matches!(&err, AdapterError::Transient { message } if message.contains("503")),
        "{err:?}"
    );
    assert!(err.is_retryable());
}

// ---------------------------------------------------------------------------------------------
// Publishing (X API v2 OpenAPI: createPosts, media upload, media metadata, users/:id/tweets)
// ---------------------------------------------------------------------------------------------

const POST_ID: &str = "1445880548472328192";
const IMAGE_ID: &str = "1880028106020515840";
const VIDEO_ID: &str = "1880028106020515841";

fn publisher(server: &MockServer) -> XAdapter {
    adapter(server).with_processing_polling(ProcessingPolling {
        max_interval: Duration::from_millis(10),
        max_wait: Duration::from_secs(5),
    })
}

/// An adapter whose HTTP client gives up after 300 ms.
fn impatient(server: &MockServer) -> XAdapter {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .expect("client");
    XAdapter::new(http, support::settings(server))
}

/// Matches a `multipart/form-data` body made of exactly these fields (name and content), in
/// any order.
struct MultipartIs(Vec<(String, Vec<u8>)>);

fn multipart_is(fields: &[(&str, &[u8])]) -> MultipartIs {
    let mut expected: Vec<(String, Vec<u8>)> = fields
        .iter()
        .map(|(name, value)| ((*name).to_owned(), value.to_vec()))
        .collect();
    expected.sort();
    MultipartIs(expected)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

impl Match for MultipartIs {
    fn matches(&self, request: &Request) -> bool {
        let Some(boundary) = request
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("multipart/form-data; boundary="))
        else {
            return false;
        };
        let delimiter = format!("--{boundary}");
        let mut fields = Vec::new();
        let mut rest = request.body.as_slice();
        while let Some(start) = find(rest, delimiter.as_bytes()) {
            rest = &rest[start + delimiter.len()..];
            if rest.starts_with(b"--") {
                break;
            }
            let Some(end) = find(rest, delimiter.as_bytes()) else {
                return false;
            };
            let part = &rest[..end];
            let Some(split) = find(part, b"\r\n\r\n") else {
                return false;
            };
            let head = String::from_utf8_lossy(&part[..split]);
            let Some(name) = head
                .split("name=\"")
                .nth(1)
                .and_then(|n| n.split('"').next())
            else {
                return false;
            };
            let content = part[split + 4..]
                .strip_suffix(b"\r\n")
                .unwrap_or(&part[split + 4..]);
            fields.push((name.to_owned(), content.to_vec()));
        }
        fields.sort();
        fields == self.0
    }
}

/// `POST /2/tweets` with exactly `body`, answered with the documented 201.
async fn mount_create(server: &MockServer, token: &str, body: serde_json::Value) {
    let text = body["text"].clone();
    Mock::given(method("POST"))
        .and(path("/2/tweets"))
        .and(header("authorization", format!("Bearer {token}").as_str()))
        .and(header("content-type", "application/json"))
        .and(body_json(body))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"data": {
            "id": POST_ID,
            "text": text,
            "edit_history_tweet_ids": [POST_ID]
        }})))
        .expect(1)
        .mount(server)
        .await;
}

fn expected_post() -> Published {
    Published {
        platform_post_id: POST_ID.into(),
        url: Some(format!("https://x.com/i/web/status/{POST_ID}")),
    }
}

/// `POST /2/media/upload` of the test image, answered as documented.
async fn mount_image_upload(server: &MockServer, image: &MediaItem) {
    Mock::given(method("POST"))
        .and(path("/2/media/upload"))
        .and(header("authorization", "Bearer x-pub"))
        .and(multipart_is(&[
            ("media_category", b"tweet_image"),
            ("media", &image.bytes),
        ]))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": {
            "id": IMAGE_ID,
            "media_key": format!("3_{IMAGE_ID}"),
            "size": image.bytes.len(),
            "expires_after_secs": 86400,
            "image": {"image_type": "image/jpeg", "w": 1080, "h": 1080}
        }})))
        .expect(1)
        .mount(server)
        .await;
}

#[tokio::test]
async fn a_text_post_is_created_with_post_2_tweets() {
    let server = MockServer::start().await;
    mount_create(&server, "x-pub", json!({"text": "Hello from Postbridge"})).await;
    let token = secret("x-pub");

    let published = publisher(&server)
        .publish(
            &account(&token, None),
            &support::post("Hello from Postbridge", &[], support::no_options()),
        )
        .await
        .expect("published");

    assert_eq!(published, expected_post());
}

#[tokio::test]
async fn an_image_is_uploaded_given_its_alt_text_and_attached() {
    let server = MockServer::start().await;
    let image = support::image(&server.uri());
    mount_image_upload(&server, &image).await;
    Mock::given(method("POST"))
        .and(path("/2/media/metadata"))
        .and(header("authorization", "Bearer x-pub"))
        .and(body_json(json!({
            "id": IMAGE_ID,
            "metadata": {"alt_text": {"text": "a test picture"}}
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": {
            "id": IMAGE_ID,
            "associated_metadata": {"alt_text": {"text": "a test picture"}}
        }})))
        .expect(1)
        .mount(&server)
        .await;
    mount_create(
        &server,
        "x-pub",
        json!({"text": "With a picture", "media": {"media_ids": [IMAGE_ID]}}),
    )
    .await;
    let token = secret("x-pub");
    let media = [image];

    let published = publisher(&server)
        .publish(
            &account(&token, None),
            &support::post("With a picture", &media, support::no_options()),
        )
        .await
        .expect("published");

    assert_eq!(published, expected_post());
}

#[tokio::test]
async fn an_image_without_alt_text_sets_no_metadata() {
    let server = MockServer::start().await;
    let mut image = support::image(&server.uri());
    image.alt_text = Some("   ".into());
    mount_image_upload(&server, &image).await;
    Mock::given(path("/2/media/metadata"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    mount_create(
        &server,
        "x-pub",
        json!({"text": "", "media": {"media_ids": [IMAGE_ID]}}),
    )
    .await;
    let token = secret("x-pub");
    let media = [image];

    let published = publisher(&server)
        .publish(
            &account(&token, None),
            &support::post("", &media, support::no_options()),
        )
        .await
        .expect("published");

    assert_eq!(published.platform_post_id, POST_ID);
}

/// The chunked flow for the test video: initialize, one append, finalize answering `pending`.
async fn mount_video_upload(server: &MockServer, video: &MediaItem, category: &str, id: &str) {
    Mock::given(method("POST"))
        .and(path("/2/media/upload/initialize"))
        .and(header("authorization", "Bearer x-pub"))
        .and(body_json(json!({
            "media_type": video.mime_type,
            "total_bytes": video.bytes.len(),
            "media_category": category
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": {
            "id": id,
            "media_key": format!("7_{id}"),
            "expires_after_secs": 86399
        }})))
        .expect(1)
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/2/media/upload/{id}/append")))
        .and(header("authorization", "Bearer x-pub"))
        .and(multipart_is(&[
            ("segment_index", b"0"),
            ("media", &video.bytes),
        ]))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"data": {"expires_at": 1_900_000_000}})),
        )
        .expect(1)
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/2/media/upload/{id}/finalize")))
        .and(header("authorization", "Bearer x-pub"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": {
            "id": id,
            "media_key": format!("7_{id}"),
            "size": video.bytes.len(),
            "expires_after_secs": 86400,
            "processing_info": {"state": "pending", "check_after_secs": 1}
        }})))
        .expect(1)
        .mount(server)
        .await;
}

/// `GET /2/media/upload?command=STATUS` answering `state` (once, when `once`).
async fn mount_status(server: &MockServer, id: &str, info: serde_json::Value, once: bool) {
    let mock = Mock::given(method("GET"))
        .and(path("/2/media/upload"))
        .and(query_param("command", "STATUS"))
        .and(query_param("media_id", id))
        .and(header("authorization", "Bearer x-pub"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": {
            "id": id,
            "media_key": format!("7_{id}"),
            "processing_info": info
        }})));
    if once {
        mock.up_to_n_times(1)
            .with_priority(1)
            .expect(1)
            .mount(server)
            .await;
    } else {
        mock.expect(1).mount(server).await;
    }
}

#[tokio::test]
async fn a_video_goes_up_in_chunks_and_is_attached_once_processing_succeeded() {
    let server = MockServer::start().await;
    let video = support::video(&server.uri());
    mount_video_upload(&server, &video, "tweet_video", VIDEO_ID).await;
    mount_status(
        &server,
        VIDEO_ID,
        json!({"state": "in_progress", "check_after_secs": 1, "progress_percent": 40}),
        true,
    )
    .await;
    mount_status(
        &server,
        VIDEO_ID,
        json!({"state": "succeeded", "progress_percent": 100}),
        false,
    )
    .await;
    // Alt text is an image feature on X.
    Mock::given(path("/2/media/metadata"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    mount_create(
        &server,
        "x-pub",
        json!({"text": "Watch this", "media": {"media_ids": [VIDEO_ID]}}),
    )
    .await;
    let token = secret("x-pub");
    let media = [video];

    let published = publisher(&server)
        .publish(
            &account(&token, None),
            &support::post("Watch this", &media, support::no_options()),
        )
        .await
        .expect("published");

    assert_eq!(published, expected_post());
}

#[tokio::test]
async fn an_animated_gif_goes_up_in_chunks_as_tweet_gif() {
    let server = MockServer::start().await;
    let mut gif = support::image(&server.uri());
    gif.mime_type = "image/gif".into();
    gif.alt_text = None;
    mount_video_upload(&server, &gif, "tweet_gif", IMAGE_ID).await;
    mount_status(&server, IMAGE_ID, json!({"state": "succeeded"}), false).await;
    mount_create(
        &server,
        "x-pub",
        json!({"text": "A gif", "media": {"media_ids": [IMAGE_ID]}}),
    )
    .await;
    let token = secret("x-pub");
    let media = [gif];

    let published = publisher(&server)
        .publish(
            &account(&token, None),
            &support::post("A gif", &media, support::no_options()),
        )
        .await
        .expect("published");

    assert_eq!(published.platform_post_id, POST_ID);
}

#[tokio::test]
async fn a_video_x_fails_to_process_is_rejected_with_x_reason_and_nothing_is_posted() {
    let server = MockServer::start().await;
    let video = support::video(&server.uri());
    mount_video_upload(&server, &video, "tweet_video", VIDEO_ID).await;
    mount_status(
        &server,
        VIDEO_ID,
        json!({"state": "failed", "progress_percent": 0, "error": {
            "code": 1, "name": "InvalidMedia", "message": "Unsupported video format"
        }}),
        false,
    )
    .await;
    Mock::given(path("/2/tweets"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let token = secret("x-pub");
    let media = [video];

    let err = publisher(&server)
        .publish(
            &account(&token, None),
            &support::post("Watch this", &media, support::no_options()),
        )
        .await
        .expect_err("processing failed");

    assert_eq!(
        err,
        AdapterError::Rejected {
            code: "InvalidMedia".into(),
            message: "Unsupported video format".into()
        }
    );
}

#[tokio::test]
async fn a_video_still_processing_when_patience_runs_out_is_transient() {
    let server = MockServer::start().await;
    let video = support::video(&server.uri());
    mount_video_upload(&server, &video, "tweet_video", VIDEO_ID).await;
    Mock::given(method("GET"))
        .and(path("/2/media/upload"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": {
            "id": VIDEO_ID, "processing_info": {"state": "in_progress", "check_after_secs": 5}
        }})))
        .mount(&server)
        .await;
    Mock::given(path("/2/tweets"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let token = secret("x-pub");
    let media = [video];

    let err = adapter(&server)
        .with_processing_polling(ProcessingPolling {
            max_interval: Duration::from_millis(10),
            max_wait: Duration::from_millis(50),
        })
        .publish(
            &account(&token, None),
            &support::post("Watch this", &media, support::no_options()),
        )
        .await
        .expect_err("still processing");

    assert!(matches!(err, AdapterError::Transient { .. }), "{err:?}");
}

/// The error `answer` of `POST /2/tweets` for a text post.
async fn create_failing_with(answer: ResponseTemplate) -> AdapterError {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/2/tweets"))
        .respond_with(answer)
        .expect(1)
        .mount(&server)
        .await;
    let token = secret("x-pub");
    publisher(&server)
        .publish(
            &account(&token, None),
            &support::post("Hello again", &[], support::no_options()),
        )
        .await
        .expect_err("refused")
}

#[tokio::test]
async fn a_401_on_create_means_needs_reauth() {
    let err = create_failing_with(ResponseTemplate::new(401).set_body_json(json!({
        "title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"
    })))
    .await;

    assert_eq!(
        err,
        AdapterError::NeedsReauth {
            message: "Unauthorized".into()
        }
    );
}

#[tokio::test]
async fn a_429_on_create_waits_until_the_x_rate_limit_reset() {
    let reset = (Utc::now().timestamp() + 900).to_string();
    let err = create_failing_with(
        ResponseTemplate::new(429)
            .insert_header("x-rate-limit-limit", "100")
            .insert_header("x-rate-limit-remaining", "0")
            .insert_header("x-rate-limit-reset", reset.as_str())
            .set_body_json(json!({"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank", "status": 429})),
    )
    .await;

    let AdapterError::RateLimited {
        retry_after: Some(wait),
    } = err
    else {
        panic!("expected a rate limit with a wait, got {err:?}");
    };
    assert!(
        wait > Duration::from_secs(890) && wait <= Duration::from_secs(900),
        "{wait:?}"
    );
}

#[tokio::test]
async fn a_429_from_the_daily_user_cap_waits_for_the_24_hour_reset() {
    let now = Utc::now().timestamp();
    let (window_reset, daily_reset) = ((now + 600).to_string(), (now + 7200).to_string());
    let err = create_failing_with(
        ResponseTemplate::new(429)
            .insert_header("x-rate-limit-limit", "100")
            .insert_header("x-rate-limit-remaining", "87")
            .insert_header("x-rate-limit-reset", window_reset.as_str())
            .insert_header("x-user-limit-24hour-limit", "17")
            .insert_header("x-user-limit-24hour-remaining", "0")
            .insert_header("x-user-limit-24hour-reset", daily_reset.as_str())
            .set_body_json(json!({"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank", "status": 429})),
    )
    .await;

    let AdapterError::RateLimited {
        retry_after: Some(wait),
    } = err
    else {
        panic!("expected a rate limit with a wait, got {err:?}");
    };
    assert!(
        wait > Duration::from_secs(7190) && wait <= Duration::from_secs(7200),
        "{wait:?}"
    );
}

#[tokio::test]
async fn a_429_from_the_daily_app_cap_pauses_every_account_until_its_reset() {
    let now = Utc::now().timestamp();
    let (window_reset, daily_reset) = ((now + 600).to_string(), (now + 3600).to_string());
    let err = create_failing_with(
        ResponseTemplate::new(429)
            .insert_header("x-rate-limit-limit", "100")
            .insert_header("x-rate-limit-remaining", "42")
            .insert_header("x-rate-limit-reset", window_reset.as_str())
            .insert_header("x-app-limit-24hour-limit", "1667")
            .insert_header("x-app-limit-24hour-remaining", "0")
            .insert_header("x-app-limit-24hour-reset", daily_reset.as_str())
            .set_body_json(json!({"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank", "status": 429})),
    )
    .await;

    let AdapterError::AppRateLimited {
        retry_after: Some(wait),
    } = err
    else {
        panic!("expected an app-wide rate limit with a wait, got {err:?}");
    };
    assert!(
        wait > Duration::from_secs(3590) && wait <= Duration::from_secs(3600),
        "{wait:?}"
    );
}

#[tokio::test]
async fn a_403_duplicate_is_rejected_with_x_detail() {
    let err = create_failing_with(ResponseTemplate::new(403).set_body_json(json!({
        "detail": "You are not allowed to create a Tweet with duplicate content.",
        "type": "about:blank",
        "title": "Forbidden",
        "status": 403
    })))
    .await;

    assert_eq!(
        err,
        AdapterError::Rejected {
            code: "403".into(),
            message: "You are not allowed to create a Tweet with duplicate content.".into()
        }
    );
}

#[tokio::test]
async fn a_400_invalid_request_is_rejected_with_the_problem_type_and_its_errors() {
    let err = create_failing_with(ResponseTemplate::new(400).set_body_json(json!({
        "errors": [{"parameters": {"media.media_ids": ["1"]}, "message": "Your media IDs are invalid."}],
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": "https://api.x.com/2/problems/invalid-request"
    })))
    .await;

    assert_eq!(
        err,
        AdapterError::Rejected {
            code: "invalid-request".into(),
            message:
                "One or more parameters to your request was invalid. Your media IDs are invalid."
                    .into()
        }
    );
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn a_create_call_that_times_out_leaves_the_outcome_unknown() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/2/tweets"))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(json!({"data": {"id": POST_ID, "text": "slow"}}))
                .set_delay(Duration::from_secs(2)),
        )
        .expect(1)
        .mount(&server)
        .await;
    let token = secret("x-pub");

    let err = impatient(&server)
        .publish(
            &account(&token, None),
            &support::post("slow", &[], support::no_options()),
        )
        .await
        .expect_err("no answer in time");

    assert!(
        matches!(err, AdapterError::OutcomeUnknown { .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_media_upload_that_times_out_is_transient_and_nothing_is_posted() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/2/media/upload"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"data": {"id": IMAGE_ID}}))
                .set_delay(Duration::from_secs(2)),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/2/tweets"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let token = secret("x-pub");
    let media = [support::image(&server.uri())];

    let err = impatient(&server)
        .publish(
            &account(&token, None),
            &support::post("slow upload", &media, support::no_options()),
        )
        .await
        .expect_err("no answer in time");

    assert!(matches!(err, AdapterError::Transient { .. }), "{err:?}");
    assert!(err.is_retryable());
}

#[tokio::test]
async fn a_201_without_the_post_leaves_the_outcome_unknown() {
    let err =
        create_failing_with(ResponseTemplate::new(201).set_body_string("<html>ok</html>")).await;

    assert!(
        matches!(err, AdapterError::OutcomeUnknown { .. }),
        "{err:?}"
    );
}

/// The account's timeline as `GET /2/users/:id/tweets` answers it.
async fn mount_timeline(server: &MockServer, posts: serde_json::Value) {
    Mock::given(method("GET"))
        .and(path("/2/users/2244994945/tweets"))
        .and(query_param("max_results", "100"))
        .and(query_param("exclude", "replies,retweets"))
        .and(query_param(
            "tweet.fields",
            "created_at,entities,note_tweet",
        ))
        .and(header("authorization", "Bearer x-pub"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": posts,
            "meta": {"result_count": 2, "newest_id": POST_ID, "oldest_id": "1445880548472328000"}
        })))
        .expect(1)
        .mount(server)
        .await;
}

fn minutes_ago(minutes: i64) -> String {
    (Utc::now() - chrono::Duration::minutes(minutes))
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

#[tokio::test]
async fn find_published_recognises_the_post_behind_x_rewriting_of_links_and_entities() {
    let server = MockServer::start().await;
    mount_timeline(
        &server,
        json!([
            {
                "id": POST_ID,
                "text": "Q&amp;A &lt;tonight&gt; at https://t.co/ExAmPl \u{2192} https://t.co/AbCdEf https://t.co/MeDiA1",
                "created_at": minutes_ago(3),
                "edit_history_tweet_ids": [POST_ID],
                "entities": {"urls": [
                    {"start": 24, "end": 47, "url": "https://t.co/ExAmPl", "expanded_url": "http://example.com/qa", "display_url": "example.com/qa"},
                    {"start": 50, "end": 73, "url": "https://t.co/AbCdEf", "expanded_url": "https://postbridge.dev/launch", "display_url": "postbridge.dev/launch"},
                    {"start": 74, "end": 97, "url": "https://t.co/MeDiA1", "expanded_url": "https://x.com/XDevelopers/status/1445880548472328192/photo/1", "display_url": "pic.x.com/MeDiA1", "media_key": "3_1880028106020515840"}
                ]}
            },
            {
                "id": "1445880548472328000",
                "text": "Something else",
                "created_at": minutes_ago(30),
                "edit_history_tweet_ids": ["1445880548472328000"]
            }
        ]),
    )
    .await;
    let token = secret("x-pub");
    let media = [support::image(&server.uri())];

    let found = publisher(&server)
        .find_published(
            &account(&token, None),
            &support::post(
                "Q&A <tonight> at example.com/qa \u{2192} https://postbridge.dev/launch",
                &media,
                support::no_options(),
            ),
        )
        .await
        .expect("looked up");

    assert_eq!(found, Some(expected_post()));
}

#[tokio::test]
async fn find_published_reads_the_whole_text_of_long_posts_from_note_tweet() {
    let server = MockServer::start().await;
    let long = "word ".repeat(80);
    mount_timeline(
        &server,
        json!([{
            "id": POST_ID,
            "text": format!("{}\u{2026} https://t.co/LoNg", &long[..270]),
            "created_at": minutes_ago(1),
            "note_tweet": {"text": long.trim()}
        }]),
    )
    .await;
    let token = secret("x-pub");

    let found = publisher(&server)
        .find_published(
            &account(&token, None),
            &support::post(long.trim(), &[], support::no_options()),
        )
        .await
        .expect("looked up");

    assert_eq!(found, Some(expected_post()));
}

#[tokio::test]
async fn find_published_answers_none_when_only_older_or_different_posts_exist() {
    let server = MockServer::start().await;
    mount_timeline(
        &server,
        json!([
            {"id": "1", "text": "Hello from Postbridge", "created_at": minutes_ago(60 * 25)},
            {"id": "2", "text": "Hello from Postbridge!", "created_at": minutes_ago(2)}
        ]),
    )
    .await;
    let token = secret("x-pub");

    let found = publisher(&server)
        .find_published(
            &account(&token, None),
            &support::post("Hello from Postbridge", &[], support::no_options()),
        )
        .await
        .expect("looked up");

    assert_eq!(found, None);
}

#[tokio::test]
async fn find_published_on_an_empty_timeline_answers_none() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/2/users/2244994945/tweets"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"meta": {"result_count": 0}})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let token = secret("x-pub");

    let found = publisher(&server)
        .find_published(
            &account(&token, None),
            &support::post("Hello from Postbridge", &[], support::no_options()),
        )
        .await
        .expect("looked up");

    assert_eq!(found, None);
}

#[tokio::test]
async fn find_published_does_not_guess_for_a_post_without_text() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let token = secret("x-pub");
    let media = [support::image(&server.uri())];

    let err = publisher(&server)
        .find_published(
            &account(&token, None),
            &support::post("  ", &media, support::no_options()),
        )
        .await
        .expect_err("cannot tell");

    assert!(matches!(err, AdapterError::Unsupported { .. }), "{err:?}");
}
