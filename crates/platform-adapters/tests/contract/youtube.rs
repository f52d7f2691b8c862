//! YouTube: Google OAuth 2.0 for web servers (offline access, consent, PKCE), `channels.list`,
//! revocation, and Google's error shapes (quota reasons on a 403). Shapes follow Google's
//! "OAuth 2.0 for Web Server Applications" and the YouTube Data API v3 reference.

use std::time::Duration;

use chrono::Utc;
use domain::AccountKind;
use platform_adapters::{
    platforms::youtube::{self, YoutubeAdapter},
    AccountRef, AdapterError, AuthorizeParams, CodeExchange, PlatformAdapter, Revocation, Stats,
};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use wiremock::{
    matchers::{any, body_string_contains, header, method, path, query_param},
    Mock, MockServer, ResponseTemplate,
};

use crate::{
    support::form_is,
    support::{self, param, secret, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI},
};

const REDIRECT_URI_FORM: &str =
    "redirect_uri=http%3A%2F%2F127.0.0.1%3A8080%2Fv1%2Foauth%2Fcallback";
const EXCHANGE: CodeExchange<'static> = CodeExchange {
    code: "4/0Adeu5B-code",
    pkce_verifier: Some("verifier-yt"),
    redirect_uri: REDIRECT_URI,
};
const CHANNEL_ID: &str = "UC_x5XG1OV2P6uZZ5FSM9Ttw";

/// The API base on the mock server keeps the Data API's `/youtube/v3` prefix.
fn adapter(server: &MockServer) -> YoutubeAdapter {
    let mut settings = support::settings(server);
    settings.endpoints.api_base = format!("{}/youtube/v3", server.uri());
    YoutubeAdapter::new(platform_adapters::http::client(), settings)
}

fn account<'a>(access: &'a SecretString, refresh: Option<&'a SecretString>) -> AccountRef<'a> {
    AccountRef {
        platform_account_id: CHANNEL_ID,
        access_token: access,
        refresh_token: refresh,
        instance_url: None,
    }
}

/// A `youtube#channelListResponse` with one channel.
fn channel_list(statistics: serde_json::Value) -> serde_json::Value {
    json!({
        "kind": "youtube#channelListResponse",
        "etag": "etag",
        "pageInfo": {"totalResults": 1, "resultsPerPage": 5},
        "items": [{
            "kind": "youtube#channel",
            "etag": "etag",
            "id": CHANNEL_ID,
            "snippet": {
                "title": "Google for Developers",
                "description": "Subscribe to join a community of creative developers",
                "customUrl": "@googledevelopers",
                "publishedAt": "2007-08-23T00:34:43Z",
                "thumbnails": {
                    "default": {"url": "https://yt3.ggpht.com/a/default.jpg", "width": 88, "height": 88},
                    "medium": {"url": "https://yt3.ggpht.com/a/medium.jpg", "width": 240, "height": 240},
                    "high": {"url": "https://yt3.ggpht.com/a/high.jpg", "width": 800, "height": 800}
                },
                "localized": {"title": "Google for Developers", "description": "…"},
                "country": "US"
            },
            "statistics": statistics
        }]
    })
}

async fn mount_channels(server: &MockServer, token: &str, body: serde_json::Value) {
    Mock::given(method("GET"))
        .and(path("/youtube/v3/channels"))
        .and(query_param("part", "snippet,statistics"))
        .and(query_param("mine", "true"))
        .and(header("authorization", format!("Bearer {token}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .expect(1)
        .mount(server)
        .await;
}

#[test]
fn descriptor_requires_a_video_and_states_one_hour_tokens() {
    let d = youtube::descriptor();
    assert!(d.pkce);
    assert!(!d.refresh_token_rotates);
    assert_eq!(d.access_token_lifetime, Some(Duration::from_secs(3600)));
    assert!(d.capabilities.requires_media);
    assert_eq!(d.capabilities.text_limit, 5000);
    assert_eq!(
        youtube::default_endpoints().token_url,
        "https://oauth2.googleapis.com/token"
    );
}

#[tokio::test]
async fn authorize_url_asks_for_offline_access_consent_and_s256() {
    let server = MockServer::start().await;
    let url = adapter(&server)
        .authorize_url(&AuthorizeParams {
            state: "state-yt",
            pkce_challenge: Some("challenge-yt"),
            redirect_uri: REDIRECT_URI,
        })
        .expect("authorize URL");
    assert!(url.starts_with(&format!("{}/oauth/authorize?", server.uri())));
    assert_eq!(param(&url, "response_type").as_deref(), Some("code"));
    assert_eq!(param(&url, "client_id").as_deref(), Some(CLIENT_ID));
    assert_eq!(param(&url, "redirect_uri").as_deref(), Some(REDIRECT_URI));
    assert_eq!(
        param(&url, "scope").as_deref(),
        Some("https://www.googleapis.com/auth/youtube.upload https://www.googleapis.com/auth/youtube.readonly")
    );
    assert_eq!(param(&url, "state").as_deref(), Some("state-yt"));
    assert_eq!(param(&url, "access_type").as_deref(), Some("offline"));
    assert_eq!(param(&url, "prompt").as_deref(), Some("consent"));
    assert_eq!(
        param(&url, "include_granted_scopes").as_deref(),
        Some("true")
    );
    assert_eq!(
        param(&url, "code_challenge").as_deref(),
        Some("challenge-yt")
    );
    assert_eq!(
        param(&url, "code_challenge_method").as_deref(),
        Some("S256")
    );
}

#[tokio::test]
async fn code_exchange_posts_the_documented_form_and_reads_the_channel() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(body_string_contains("grant_type=authorization_code"))
        .and(body_string_contains("code=4%2F0Adeu5B-code"))
        .and(body_string_contains("client_id=test-client-id"))
        .and(body_string_contains("client_secret=test-client-secret"))
        .and(body_string_contains("code_verifier=verifier-yt"))
        .and(body_string_contains(REDIRECT_URI_FORM))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "ya29.yt-access-1",
            "expires_in": 3599,
            "refresh_token": "1//yt-refresh-1",
            "scope": "https://www.googleapis.com/auth/youtube.upload https://www.googleapis.com/auth/youtube.readonly",
            "token_type": "Bearer"
        })))
        .expect(1)
        .mount(&server)
        .await;
    mount_channels(
        &server,
        "ya29.yt-access-1",
        channel_list(json!({"viewCount": "250000000", "subscriberCount": "2480000", "hiddenSubscriberCount": false, "videoCount": "6130"})),
    )
    .await;

    let connections = adapter(&server)
        .exchange_code(&EXCHANGE)
        .await
        .expect("exchange");
    let connection = &connections[0];
    assert_eq!(
        connection.tokens.access_token.expose_secret(),
        "ya29.yt-access-1"
    );
    assert_eq!(
        connection
            .tokens
            .refresh_token
            .as_ref()
            .map(|t| t.expose_secret().to_owned())
            .as_deref(),
        Some("1//yt-refresh-1")
    );
    assert_eq!(connection.tokens.scopes.len(), 2);
    let profile = &connection.profile;
    assert_eq!(profile.platform_account_id, CHANNEL_ID);
    assert_eq!(profile.account_kind, Some(AccountKind::Channel));
    assert_eq!(
        profile.display_name.as_deref(),
        Some("Google for Developers")
    );
    assert_eq!(profile.handle.as_deref(), Some("googledevelopers"));
    assert_eq!(
        profile.profile_url.as_deref(),
        Some("https://www.youtube.com/@googledevelopers")
    );
    assert_eq!(
        profile.avatar_url.as_deref(),
        Some("https://yt3.ggpht.com/a/high.jpg")
    );
    assert_eq!(
        connection.stats,
        Some(Stats {
            followers_count: Some(2_480_000),
            following_count: None,
            posts_count: Some(6130)
        })
    );
}

#[tokio::test]
async fn missing_expires_in_falls_back_to_the_documented_hour() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"access_token": "yt-access-2", "token_type": "Bearer"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    mount_channels(
        &server,
        "yt-access-2",
        channel_list(
            json!({"videoCount": "1", "hiddenSubscriberCount": false, "subscriberCount": "5"}),
        ),
    )
    .await;
    let before = Utc::now();
    let connections = adapter(&server)
        .exchange_code(&EXCHANGE)
        .await
        .expect("exchange");
    let expires_at = connections[0].tokens.expires_at.expect("fallback lifetime");
    assert!(
        expires_at >= before + chrono::Duration::hours(1)
            && expires_at <= Utc::now() + chrono::Duration::hours(1)
    );
}

#[tokio::test]
async fn a_hidden_subscriber_count_is_unknown_not_zero() {
    let server = MockServer::start().await;
    mount_channels(
        &server,
        "yt-access-3",
        channel_list(json!({"viewCount": "10", "hiddenSubscriberCount": true, "videoCount": "3"})),
    )
    .await;
    let token = secret("yt-access-3");
    let stats = adapter(&server)
        .stats(&account(&token, None))
        .await
        .expect("stats");
    assert_eq!(
        stats,
        Stats {
            followers_count: None,
            following_count: None,
            posts_count: Some(3)
        }
    );
}

#[tokio::test]
async fn a_google_account_without_a_channel_is_rejected() {
    let server = MockServer::start().await;
    mount_channels(
        &server,
        "yt-access-4",
        json!({"kind": "youtube#channelListResponse", "etag": "e", "pageInfo": {"totalResults": 0, "resultsPerPage": 5}}),
    )
    .await;
    let token = secret("yt-access-4");
    let err = adapter(&server)
        .profile(&account(&token, None))
        .await
        .expect_err("no channel");
    assert_eq!(
        err,
        AdapterError::Rejected {
            code: "no_channel".into(),
            message: "this Google account has no YouTube channel".into()
        }
    );
}

#[tokio::test]
async fn revoke_sends_the_refresh_token_in_the_form_body() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/revoke"))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(body_string_contains("token=1%2F%2Fyt-refresh-5"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .expect(1)
        .mount(&server)
        .await;
    let (access, refresh) = (secret("yt-access-5"), secret("1//yt-refresh-5"));
    assert_eq!(
        adapter(&server)
            .revoke(&account(&access, Some(&refresh)))
            .await
            .expect("revoke"),
        Revocation::Revoked
    );
}

#[tokio::test]
async fn revoking_a_token_google_already_dropped_counts_as_revoked() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/revoke"))
        .and(body_string_contains("token=yt-access-6"))
        .respond_with(ResponseTemplate::new(400).set_body_json(
            json!({"error": "invalid_token", "error_description": "Token expired or revoked"}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let access = secret("yt-access-6");
    assert_eq!(
        adapter(&server)
            .revoke(&account(&access, None))
            .await
            .expect("revoke"),
        Revocation::Revoked
    );
}

#[tokio::test]
async fn an_invalid_grant_on_the_exchange_means_needs_reauth() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(
            ResponseTemplate::new(400).set_body_json(
                json!({"error": "invalid_grant", "error_description": "Bad Request"}),
            ),
        )
        .expect(1)
        .mount(&server)
        .await;
    let err = adapter(&server)
        .exchange_code(&EXCHANGE)
        .await
        .expect_err("invalid grant");
    assert!(matches!(err, AdapterError::NeedsReauth { .. }));
}

/// A Google API error body (`error.errors[].reason`).
fn google_error(code: u16, reason: &str, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(code).set_body_json(json!({"error": {
        "code": code, "message": message,
        "errors": [{"message": message, "domain": "youtube.quota", "reason": reason}]
    }}))
}

#[tokio::test]
async fn api_errors_are_classified_including_quota_on_a_403() {
    let server = MockServer::start().await;
    let cases = [
        (
            "yt-401",
            google_error(
                401,
                "authError",
                "Request had invalid authentication credentials.",
            ),
        ),
        (
            "yt-quota",
            google_error(
                403,
                "quotaExceeded",
                "The request cannot be completed because you have exceeded your quota.",
            ),
        ),
        (
            "yt-429",
            ResponseTemplate::new(429).insert_header("retry-after", "120"),
        ),
        ("yt-503", google_error(503, "backendError", "Backend Error")),
        (
            "yt-403",
            google_error(403, "forbidden", "Access forbidden."),
        ),
    ];
    for (token, response) in cases {
        Mock::given(method("GET"))
            .and(path("/youtube/v3/channels"))
            .and(header("authorization", format!("Bearer {token}").as_str()))
            .respond_with(response)
            .expect(1)
            .mount(&server)
            .await;
    }
    let adapter = adapter(&server);
    let stats_of = |t: &'static str| {
        let token = secret(t);
        let adapter = &adapter;
        async move {
            adapter
                .stats(&account(&token, None))
                .await
                .expect_err("error")
        }
    };
    assert!(matches!(
        stats_of("yt-401").await,
        AdapterError::NeedsReauth { .. }
    ));
    assert_eq!(
        stats_of("yt-quota").await,
        AdapterError::RateLimited { retry_after: None }
    );
    assert_eq!(
        stats_of("yt-429").await,
        AdapterError::RateLimited {
            retry_after: Some(Duration::from_secs(120))
        }
    );
    assert!(matches!(
        stats_of("yt-503").await,
        AdapterError::Transient { .. }
    ));
    assert!(
        matches!(stats_of("yt-403").await, AdapterError::Rejected { ref code, .. } if code == "forbidden")
    );
}

/// The refresh form Google documents for web servers: grant type, refresh token and the client
/// credentials in the body, nothing else.
fn refresh_form(refresh_token: &str) -> crate::support::FormIs {
    form_is(&[
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
        ("client_id", CLIENT_ID),
        ("client_secret", CLIENT_SECRET),
    ])
}

async fn refresh_of(
    server: &MockServer,
    refresh_token: &str,
) -> Result<platform_adapters::TokenSet, AdapterError> {
    let (access, refresh) = (secret("ya29.yt-old"), secret(refresh_token));
    adapter(server)
        .refresh(&account(&access, Some(&refresh)))
        .await
}

#[tokio::test]
async fn google_refresh_keeps_the_stored_refresh_token() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(refresh_form("1//yt-refresh-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "ya29.yt-access-2",
            "expires_in": 3599,
            "scope": "https://www.googleapis.com/auth/youtube.upload https://www.googleapis.com/auth/youtube.readonly",
            "token_type": "Bearer"
        })))
        .expect(1)
        .mount(&server)
        .await;

    let before = Utc::now();
    let tokens = refresh_of(&server, "1//yt-refresh-1")
        .await
        .expect("refresh");

    assert_eq!(tokens.access_token.expose_secret(), "ya29.yt-access-2");
    assert!(
        tokens.refresh_token.is_none(),
        "no new refresh token: the stored one stays"
    );
    let expires_at = tokens.expires_at.expect("expiry");
    assert!(
        expires_at >= before + chrono::Duration::seconds(3599)
            && expires_at <= Utc::now() + chrono::Duration::seconds(3599)
    );
    assert_eq!(tokens.refresh_expires_at, None);
    assert_eq!(
        tokens.scopes,
        [
            "https://www.googleapis.com/auth/youtube.upload",
            "https://www.googleapis.com/auth/youtube.readonly"
        ]
    );
}

#[tokio::test]
async fn a_google_refresh_without_expires_in_expires_after_the_documented_hour() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(refresh_form("1//yt-refresh-2"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"access_token": "ya29.yt-access-3", "token_type": "Bearer"})),
        )
        .expect(1)
        .mount(&server)
        .await;

    let before = Utc::now();
    let tokens = refresh_of(&server, "1//yt-refresh-2")
        .await
        .expect("refresh");

    let expires_at = tokens
        .expires_at
        .expect("fallback lifetime, never 'forever'");
    assert!(
        expires_at >= before + chrono::Duration::hours(1)
            && expires_at <= Utc::now() + chrono::Duration::hours(1)
    );
}

#[tokio::test]
async fn revoked_google_grant_means_needs_reauth() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(refresh_form("1//yt-refresh-revoked"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "error": "invalid_grant",
            "error_description": "Token has been expired or revoked."
        })))
        .expect(1)
        .mount(&server)
        .await;

    let err = refresh_of(&server, "1//yt-refresh-revoked")
        .await
        .expect_err("revoked");

    assert!(
        matches!(&err, AdapterError::NeedsReauth { message }
            if message.contains("reconnect your YouTube account") && message.contains("Token has been expired or revoked.")),
        "{err:?}"
    );
    let printed = err.to_string();
    assert!(!printed.contains("yt-refresh-revoked") && !printed.contains(CLIENT_SECRET));
}

#[tokio::test]
async fn a_channel_without_a_stored_refresh_token_must_reconnect_and_google_is_not_called() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let access = secret("ya29.yt-old");

    let err = adapter(&server)
        .refresh(&account(&access, None))
        .await
        .expect_err("no refresh token");

    assert!(
        matches!(&err, AdapterError::NeedsReauth { message } if message.contains("reconnect your YouTube account")),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_refused_google_client_is_a_rejection_not_a_reconnect() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(refresh_form("1//yt-refresh-3"))
        .respond_with(
            ResponseTemplate::new(401).set_body_json(
                json!({"error": "invalid_client", "error_description": "Unauthorized"}),
            ),
        )
        .expect(1)
        .mount(&server)
        .await;

    let err = refresh_of(&server, "1//yt-refresh-3")
        .await
        .expect_err("invalid client");

    assert!(
        matches!(&err, AdapterError::Rejected { code, .. } if code == "invalid_client"),
        "{err:?}"
    );
    assert!(!err.to_string().contains(CLIENT_SECRET));
}

#[tokio::test]
async fn a_rate_limited_google_refresh_waits_for_the_retry_after() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(refresh_form("1//yt-refresh-4"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "30"))
        .expect(1)
        .mount(&server)
        .await;

    let err = refresh_of(&server, "1//yt-refresh-4")
        .await
        .expect_err("429");

    assert_eq!(
        err,
        AdapterError::RateLimited {
            retry_after: Some(Duration::from_secs(30))
        }
    );
}

#[tokio::test]
async fn a_google_server_error_on_refresh_is_transient() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(refresh_form("1//yt-refresh-5"))
        .respond_with(
            ResponseTemplate::new(503).set_body_string("<html>Service Unavailable</html>"),
        )
        .expect(1)
        .mount(&server)
        .await;

    let err = refresh_of(&server, "1//yt-refresh-5")
        .await
        .expect_err("503");

    assert!(
        matches!(&err, AdapterError::Transient { message } if message.contains("503")),
        "{err:?}"
    );
    assert!(err.is_retryable());
}
