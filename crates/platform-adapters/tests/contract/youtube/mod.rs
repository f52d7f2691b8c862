//! YouTube: Google OAuth 2.0 for web servers (offline access, consent, PKCE), `channels.list`,
//! revocation, and Google's error shapes (quota reasons on a 403). Shapes follow Google's
//! "OAuth 2.0 for Web Server Applications" and the YouTube Data API v3 reference.

mod follow_ups;

use std::time::Duration;

use chrono::{Timelike, Utc};
use domain::AccountKind;
use platform_adapters::{
    platforms::youtube::{self, YoutubeAdapter},
    AccountRef, AdapterError, AuthorizeParams, CodeExchange, PlatformAdapter, PostOptions,
    Published, Revocation, Stats,
};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use wiremock::{
    matchers::{
        any, body_bytes, body_json, body_partial_json, body_string_contains, header, method, path,
        query_param,
    },
    Mock, MockBuilder, MockServer, ResponseTemplate,
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

/// The API and upload bases on the mock server keep the Data API's prefixes, as in production.
fn adapter(server: &MockServer) -> YoutubeAdapter {
    adapter_on(server, platform_adapters::http::client())
}

fn adapter_on(server: &MockServer, http: reqwest::Client) -> YoutubeAdapter {
    let mut settings = support::settings(server);
    settings.endpoints.api_base = format!("{}/youtube/v3", server.uri());
    settings.endpoints.upload_base = format!("{}/upload/youtube/v3", server.uri());
    YoutubeAdapter::new(http, settings)
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
        Some("https://www.googleapis.com/auth/youtube.upload https://www.googleapis.com/auth/youtube.readonly https://www.googleapis.com/auth/youtube.force-ssl")
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
    // The daily quota is the project's and resets at midnight Pacific: every channel waits,
    // at most a day.
    assert!(matches!(
        stats_of("yt-quota").await,
        AdapterError::AppRateLimited { retry_after: Some(wait) } if wait <= Duration::from_secs(24 * 3600)
    ));
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

// ---------------------------------------------------------------------------------------------
// Publishing: resumable upload (`POST …/videos?uploadType=resumable`, then `PUT` to the session)
// ---------------------------------------------------------------------------------------------

const UPLOAD_TOKEN: &str = "ya29.yt-upload";
const UPLOAD_ID: &str = "xa298sd_f";
const VIDEO_ID: &str = "Ks-_Mh1QhMc";

fn bearer() -> String {
    format!("Bearer {UPLOAD_TOKEN}")
}

/// The session URI YouTube answers in `Location`.
fn session_uri(server: &MockServer) -> String {
    format!(
        "{}/upload/youtube/v3/videos?uploadType=resumable&upload_id={UPLOAD_ID}&part=snippet,status",
        server.uri()
    )
}

/// The session-opening `POST`, expecting exactly the documented query, headers and `resource`.
fn session_request(
    video: &platform_adapters::MediaItem,
    resource: serde_json::Value,
) -> MockBuilder {
    Mock::given(method("POST"))
        .and(path("/upload/youtube/v3/videos"))
        .and(query_param("uploadType", "resumable"))
        .and(query_param("part", "snippet,status"))
        .and(header("authorization", bearer().as_str()))
        .and(header("content-type", "application/json; charset=UTF-8"))
        .and(header(
            "x-upload-content-length",
            video.size().to_string().as_str(),
        ))
        .and(header("x-upload-content-type", "video/mp4"))
        .and(body_json(resource))
}

/// 200 with the session URI, as the resumable upload guide shows.
fn session_opened(server: &MockServer) -> ResponseTemplate {
    ResponseTemplate::new(200).insert_header("location", session_uri(server).as_str())
}

/// The `PUT` of the whole file to the session.
fn upload_request(video: &platform_adapters::MediaItem) -> MockBuilder {
    Mock::given(method("PUT"))
        .and(path("/upload/youtube/v3/videos"))
        .and(query_param("upload_id", UPLOAD_ID))
        .and(header("authorization", bearer().as_str()))
        .and(header("content-type", "video/mp4"))
        .and(body_bytes(video.bytes.to_vec()))
}

/// A `youtube#video` resource as `videos.insert` answers it.
fn video_resource(title: &str, upload_status: &str) -> serde_json::Value {
    json!({
        "kind": "youtube#video",
        "etag": "Bdx4f4ps3xCOOo1WZ91nTLkRZ_c",
        "id": VIDEO_ID,
        "snippet": {
            "publishedAt": "2025-03-01T12:00:00Z",
            "channelId": CHANNEL_ID,
            "title": title,
            "description": "",
            "thumbnails": {"default": {"url": "https://i.ytimg.com/vi/Ks-_Mh1QhMc/default.jpg", "width": 120, "height": 90}},
            "channelTitle": "Google for Developers",
            "categoryId": "22",
            "liveBroadcastContent": "none",
            "localized": {"title": title, "description": ""}
        },
        "status": {
            "uploadStatus": upload_status,
            "privacyStatus": "public",
            "license": "youtube",
            "embeddable": true,
            "publicStatsViewable": true,
            "selfDeclaredMadeForKids": false,
            "madeForKids": false
        }
    })
}

fn default_resource(title: &str, description: &str) -> serde_json::Value {
    json!({
        "snippet": {"title": title, "description": description},
        "status": {"privacyStatus": "public", "selfDeclaredMadeForKids": false}
    })
}

async fn publish_with(
    server: &MockServer,
    http: reqwest::Client,
    text: &str,
    media: &[platform_adapters::MediaItem],
    options: &PostOptions,
) -> Result<Published, AdapterError> {
    let token = secret(UPLOAD_TOKEN);
    adapter_on(server, http)
        .publish(&account(&token, None), &support::post(text, media, options))
        .await
}

async fn publish(
    server: &MockServer,
    text: &str,
    media: &[platform_adapters::MediaItem],
    options: &PostOptions,
) -> Result<Published, AdapterError> {
    publish_with(
        server,
        platform_adapters::http::client(),
        text,
        media,
        options,
    )
    .await
}

fn short_timeout_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .expect("client")
}

#[tokio::test]
async fn publish_opens_a_resumable_session_then_puts_the_video_and_links_it() {
    let server = MockServer::start().await;
    let video = support::video(&server.uri());
    let text = "Launch day\nEverything we shipped this week.";
    session_request(&video, default_resource("Launch day", text))
        .respond_with(session_opened(&server))
        .expect(1)
        .mount(&server)
        .await;
    upload_request(&video)
        .respond_with(
            ResponseTemplate::new(201).set_body_json(video_resource("Launch day", "uploaded")),
        )
        .expect(1)
        .mount(&server)
        .await;

    let published = publish(&server, text, &[video], support::no_options())
        .await
        .expect("published");

    assert_eq!(
        published,
        Published {
            platform_post_id: VIDEO_ID.into(),
            url: Some(format!("https://www.youtube.com/watch?v={VIDEO_ID}")),
        }
    );
}

#[tokio::test]
async fn publish_uses_the_given_title_and_privacy() {
    let server = MockServer::start().await;
    let video = support::video(&server.uri());
    let options = PostOptions {
        title: Some("Release notes, March".into()),
        privacy: Some("Unlisted".into()),
        ..PostOptions::default()
    };
    session_request(
        &video,
        json!({
            "snippet": {"title": "Release notes, March", "description": "All the details."},
            "status": {"privacyStatus": "unlisted", "selfDeclaredMadeForKids": false}
        }),
    )
    .respond_with(session_opened(&server))
    .expect(1)
    .mount(&server)
    .await;
    upload_request(&video)
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(video_resource("Release notes, March", "uploaded")),
        )
        .expect(1)
        .mount(&server)
        .await;

    let published = publish(&server, "All the details.", &[video], &options)
        .await
        .expect("published");

    assert_eq!(published.platform_post_id, VIDEO_ID);
}

#[tokio::test]
async fn a_derived_title_is_the_first_visible_line_cut_to_100_characters_without_angle_brackets() {
    let server = MockServer::start().await;
    let video = support::video(&server.uri());
    let long_line = format!("<b>{}</b>", "é".repeat(150));
    let text = format!("  \n{long_line}\nsecond line");
    let expected_title = format!("b{}", "é".repeat(99));
    Mock::given(method("POST"))
        .and(path("/upload/youtube/v3/videos"))
        .and(body_partial_json(
            json!({"snippet": {"title": expected_title, "description": text}}),
        ))
        .respond_with(session_opened(&server))
        .expect(1)
        .mount(&server)
        .await;
    upload_request(&video)
        .respond_with(ResponseTemplate::new(201).set_body_json(video_resource("t", "uploaded")))
        .expect(1)
        .mount(&server)
        .await;

    publish(&server, &text, &[video], support::no_options())
        .await
        .expect("published");
}

#[tokio::test]
async fn posts_youtube_cannot_take_are_rejected_without_calling_youtube() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let base = server.uri();
    let long_title = PostOptions {
        title: Some("x".repeat(101)),
        ..PostOptions::default()
    };
    let odd_privacy = PostOptions {
        privacy: Some("friends".into()),
        ..PostOptions::default()
    };
    let cases = [
        (
            "an image",
            vec![support::image(&base)],
            support::no_options().clone(),
            "video_required",
        ),
        (
            "no title",
            vec![support::video(&base)],
            PostOptions::default(),
            "title_required",
        ),
        (
            "title",
            vec![support::video(&base)],
            long_title,
            "title_too_long",
        ),
        (
            "privacy",
            vec![support::video(&base)],
            odd_privacy,
            "invalid_privacy",
        ),
    ];
    for (text, media, options, expected) in cases {
        let text = if expected == "title_required" {
            " \n "
        } else {
            text
        };
        let err = publish(&server, text, &media, &options)
            .await
            .expect_err("rejected");
        assert!(
            matches!(&err, AdapterError::Rejected { code, .. } if code == expected),
            "{expected}: {err:?}"
        );
    }
}

/// The session-opening call answering `response`; the upload must never be attempted.
async fn opening_fails_with(response: ResponseTemplate) -> AdapterError {
    let server = MockServer::start().await;
    let video = support::video(&server.uri());
    Mock::given(method("POST"))
        .and(path("/upload/youtube/v3/videos"))
        .respond_with(response)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    publish(&server, "A title", &[video], support::no_options())
        .await
        .expect_err("refused")
}

#[tokio::test]
async fn a_refused_token_at_upload_means_needs_reauth() {
    let err = opening_fails_with(google_error(
        401,
        "authError",
        "Request had invalid authentication credentials.",
    ))
    .await;
    assert!(matches!(err, AdapterError::NeedsReauth { .. }), "{err:?}");
}

#[tokio::test]
async fn a_spent_daily_quota_pauses_every_channel_until_midnight_pacific() {
    let err = opening_fails_with(google_error(
        403,
        "quotaExceeded",
        "The request cannot be completed because you have exceeded your quota.",
    ))
    .await;
    // The quota is the Google Cloud project's, so every channel waits.
    let AdapterError::AppRateLimited {
        retry_after: Some(wait),
    } = err
    else {
        panic!("expected an app-wide rate limit with a wait, got {err:?}");
    };
    assert!(wait <= Duration::from_secs(24 * 3600));
    // Midnight PST is 08:00 UTC (an hour late under daylight saving time, never early).
    let reset = Utc::now() + chrono::Duration::from_std(wait).expect("duration");
    assert_eq!((reset.hour(), reset.minute()), (8, 0), "reset at {reset}");
}

#[tokio::test]
async fn a_reached_channel_upload_limit_waits_a_day() {
    let err = opening_fails_with(google_error(
        400,
        "uploadLimitExceeded",
        "The user has exceeded the number of videos they may upload.",
    ))
    .await;
    assert_eq!(
        err,
        AdapterError::RateLimited {
            retry_after: Some(Duration::from_secs(24 * 3600))
        }
    );
}

#[tokio::test]
async fn too_many_requests_at_upload_waits_for_the_retry_after() {
    let err =
        opening_fails_with(ResponseTemplate::new(429).insert_header("retry-after", "60")).await;
    assert_eq!(
        err,
        AdapterError::RateLimited {
            retry_after: Some(Duration::from_secs(60))
        }
    );
}

#[tokio::test]
async fn an_invalid_video_resource_is_rejected_with_youtubes_reason_and_message() {
    let err = opening_fails_with(google_error(
        400,
        "invalidTitle",
        "The request metadata specifies an invalid or empty video title.",
    ))
    .await;
    assert!(
        matches!(&err, AdapterError::Rejected { code, message }
            if code == "invalidTitle" && message.contains("invalid or empty video title")),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_delayed_session_opening_is_only_transient() {
    let server = MockServer::start().await;
    let video = support::video(&server.uri());
    Mock::given(method("POST"))
        .and(path("/upload/youtube/v3/videos"))
        .respond_with(session_opened(&server).set_delay(Duration::from_secs(2)))
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;

    let err = publish_with(
        &server,
        short_timeout_client(),
        "A title",
        &[video],
        support::no_options(),
    )
    .await
    .expect_err("timed out");

    assert!(matches!(err, AdapterError::Transient { .. }), "{err:?}");
}

#[tokio::test]
async fn a_delayed_upload_leaves_the_outcome_unknown() {
    let server = MockServer::start().await;
    let video = support::video(&server.uri());
    Mock::given(method("POST"))
        .and(path("/upload/youtube/v3/videos"))
        .respond_with(session_opened(&server))
        .expect(1)
        .mount(&server)
        .await;
    upload_request(&video)
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(video_resource("A title", "uploaded"))
                .set_delay(Duration::from_secs(2)),
        )
        .expect(1)
        .mount(&server)
        .await;

    let err = publish_with(
        &server,
        short_timeout_client(),
        "A title",
        &[video],
        support::no_options(),
    )
    .await
    .expect_err("timed out");

    assert!(
        matches!(err, AdapterError::OutcomeUnknown { .. }),
        "{err:?}"
    );
}

/// The upload answers 503; the session, asked with `Content-Range: bytes */size`, answers
/// `status_answer`.
async fn interrupted_upload_then(
    status_answer: ResponseTemplate,
) -> Result<Published, AdapterError> {
    let server = MockServer::start().await;
    let video = support::video(&server.uri());
    Mock::given(method("POST"))
        .and(path("/upload/youtube/v3/videos"))
        .respond_with(session_opened(&server))
        .expect(1)
        .mount(&server)
        .await;
    upload_request(&video)
        .respond_with(google_error(503, "backendError", "Backend Error"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/upload/youtube/v3/videos"))
        .and(query_param("upload_id", UPLOAD_ID))
        .and(header("authorization", bearer().as_str()))
        .and(header(
            "content-range",
            format!("bytes */{}", video.size()).as_str(),
        ))
        .and(body_bytes(Vec::new()))
        .respond_with(status_answer)
        .expect(1)
        .mount(&server)
        .await;
    publish(&server, "A title", &[video], support::no_options()).await
}

#[tokio::test]
async fn an_interrupted_upload_that_completed_after_all_is_recovered_from_the_session() {
    let published = interrupted_upload_then(
        ResponseTemplate::new(201).set_body_json(video_resource("A title", "uploaded")),
    )
    .await
    .expect("the session had the whole video");
    assert_eq!(published.platform_post_id, VIDEO_ID);
}

#[tokio::test]
async fn an_interrupted_upload_the_session_has_only_part_of_is_transient() {
    let err =
        interrupted_upload_then(ResponseTemplate::new(308).insert_header("range", "bytes=0-9"))
            .await
            .expect_err("incomplete");
    assert!(matches!(err, AdapterError::Transient { .. }), "{err:?}");
}

#[tokio::test]
async fn a_video_youtube_rejects_at_upload_is_a_rejection() {
    let server = MockServer::start().await;
    let video = support::video(&server.uri());
    Mock::given(method("POST"))
        .and(path("/upload/youtube/v3/videos"))
        .respond_with(session_opened(&server))
        .expect(1)
        .mount(&server)
        .await;
    let mut resource = video_resource("A title", "rejected");
    resource["status"]["rejectionReason"] = json!("duplicate");
    upload_request(&video)
        .respond_with(ResponseTemplate::new(201).set_body_json(resource))
        .expect(1)
        .mount(&server)
        .await;

    let err = publish(&server, "A title", &[video], support::no_options())
        .await
        .expect_err("rejected");

    assert!(
        matches!(&err, AdapterError::Rejected { code, .. } if code == "duplicate"),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_session_on_another_host_gets_neither_the_video_nor_the_token() {
    let server = MockServer::start().await;
    let elsewhere = MockServer::start().await;
    let video = support::video(&server.uri());
    Mock::given(method("POST"))
        .and(path("/upload/youtube/v3/videos"))
        .respond_with(
            ResponseTemplate::new(200).insert_header(
                "location",
                format!(
                    "{}/upload/youtube/v3/videos?upload_id={UPLOAD_ID}",
                    elsewhere.uri()
                )
                .as_str(),
            ),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&elsewhere)
        .await;

    let err = publish(&server, "A title", &[video], support::no_options())
        .await
        .expect_err("refused");

    assert!(
        matches!(&err, AdapterError::Rejected { code, .. } if code == "unexpected_upload_url"),
        "{err:?}"
    );
}
