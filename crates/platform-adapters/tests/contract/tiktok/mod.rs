//! TikTok: Login Kit for Web (`client_key`, comma-separated scopes, PKCE), the v2 token and
//! revoke endpoints, `GET /v2/user/info/`, and TikTok's in-body error objects. Shapes follow
//! developers.tiktok.com (Login Kit for Web, Manage User Access Tokens, Get User Info, Error
//! Handling).

mod follow_ups;

use std::time::Duration;

use chrono::Utc;
use platform_adapters::{
    platforms::tiktok::{self, StatusPolling, TiktokAdapter},
    AccountRef, AdapterError, AuthorizeParams, CodeExchange, MediaItem, PlatformAdapter,
    PostOptions, Published, Revocation, Stats,
};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use wiremock::{
    matchers::{
        any, body_bytes, body_json, body_string_contains, header, method, path, query_param,
    },
    Mock, MockServer, ResponseTemplate,
};

use crate::{
    support::{self, param, secret, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI},
    support::{form_is, FormIs},
};

const REDIRECT_URI_FORM: &str =
    "redirect_uri=http%3A%2F%2F127.0.0.1%3A8080%2Fv1%2Foauth%2Fcallback";
const EXCHANGE: CodeExchange<'static> = CodeExchange {
    code: "tt-code-1",
    pkce_verifier: Some("verifier-tt"),
    redirect_uri: REDIRECT_URI,
};
const OPEN_ID: &str = "723f24d7-e717-40f8-a2b6-cb8464cd23b4";
const ALL_FIELDS: &str = "open_id,avatar_url,display_name,username,profile_deep_link,follower_count,following_count,video_count";

/// TikTok's own paths (with their trailing slashes) on the mock server.
fn adapter(server: &MockServer) -> TiktokAdapter {
    adapter_on(server, platform_adapters::http::client())
}

/// Status checks every 10 ms, at most 5 of them.
fn adapter_on(server: &MockServer, http: reqwest::Client) -> TiktokAdapter {
    let mut settings = support::settings(server);
    settings.endpoints.authorize_url = format!("{}/v2/auth/authorize/", server.uri());
    settings.endpoints.token_url = format!("{}/v2/oauth/token/", server.uri());
    settings.endpoints.revoke_url = Some(format!("{}/v2/oauth/revoke/", server.uri()));
    TiktokAdapter::new(http, settings).with_status_polling(StatusPolling {
        interval: Duration::from_millis(10),
        attempts: 5,
    })
}

fn account(access: &SecretString) -> AccountRef<'_> {
    AccountRef {
        platform_account_id: OPEN_ID,
        access_token: access,
        refresh_token: None,
        instance_url: None,
    }
}

/// The documented success envelope: data plus `error.code = "ok"`.
fn user_info(user: serde_json::Value) -> serde_json::Value {
    json!({"data": {"user": user}, "error": {"code": "ok", "message": "", "log_id": "20220829194722CBE87ED59D524E727021"}})
}

fn full_user() -> serde_json::Value {
    json!({
        "open_id": OPEN_ID,
        "avatar_url": "https://p16-sign.tiktokcdn-us.com/tos-useast5-avt-0068-tx/b17f0e4b3a4f4a50993cf72cda8b88b8~c5_168x168.jpeg",
        "display_name": "Tik Toker",
        "username": "tiktoker",
        "profile_deep_link": "https://vm.tiktok.com/ZMabcdef/",
        "follower_count": 1200,
        "following_count": 35,
        "video_count": 48
    })
}

/// An API error envelope.
fn api_error(status: u16, code: &str, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(
        json!({"error": {"code": code, "message": message, "log_id": "202208291947"}}),
    )
}

fn token_body(scope: &str) -> serde_json::Value {
    json!({
        "access_token": "act.tt-access-1",
        "expires_in": 86400,
        "open_id": OPEN_ID,
        "refresh_expires_in": 31_536_000,
        "refresh_token": "rft.tt-refresh-1",
        "scope": scope,
        "token_type": "Bearer"
    })
}

async fn mount_token(server: &MockServer, body: serde_json::Value) {
    Mock::given(method("POST"))
        .and(path("/v2/oauth/token/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .expect(1)
        .mount(server)
        .await;
}

#[test]
fn descriptor_states_pkce_rotation_and_a_required_video() {
    let d = tiktok::descriptor();
    assert!(d.pkce);
    assert!(d.refresh_token_rotates);
    assert_eq!(d.access_token_lifetime, Some(Duration::from_secs(2 * 3600)));
    assert_eq!(d.capabilities.text_limit, 2200);
    assert!(d.capabilities.requires_media);
    assert_eq!(
        tiktok::default_endpoints().token_url,
        "https://open.tiktokapis.com/v2/oauth/token/"
    );
}

#[tokio::test]
async fn authorize_url_uses_client_key_comma_scopes_and_s256() {
    let server = MockServer::start().await;
    let url = adapter(&server)
        .authorize_url(&AuthorizeParams {
            state: "state-tt",
            pkce_challenge: Some("challenge-tt"),
            redirect_uri: REDIRECT_URI,
        })
        .expect("authorize URL");
    assert!(url.starts_with(&format!("{}/v2/auth/authorize/?", server.uri())));
    assert_eq!(param(&url, "client_key").as_deref(), Some(CLIENT_ID));
    assert_eq!(param(&url, "client_id"), None);
    assert_eq!(param(&url, "response_type").as_deref(), Some("code"));
    assert_eq!(
        param(&url, "scope").as_deref(),
        Some("user.info.basic,user.info.profile,user.info.stats,video.publish,video.upload")
    );
    assert_eq!(param(&url, "redirect_uri").as_deref(), Some(REDIRECT_URI));
    assert_eq!(param(&url, "state").as_deref(), Some("state-tt"));
    assert_eq!(
        param(&url, "code_challenge").as_deref(),
        Some("challenge-tt")
    );
    assert_eq!(
        param(&url, "code_challenge_method").as_deref(),
        Some("S256")
    );
}

#[tokio::test]
async fn code_exchange_sends_client_key_and_verifier_then_reads_the_user() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/oauth/token/"))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(body_string_contains("client_key=test-client-id"))
        .and(body_string_contains("client_secret=test-client-secret"))
        .and(body_string_contains("code=tt-code-1"))
        .and(body_string_contains("grant_type=authorization_code"))
        .and(body_string_contains("code_verifier=verifier-tt"))
        .and(body_string_contains(REDIRECT_URI_FORM))
        .respond_with(ResponseTemplate::new(200).set_body_json(token_body(
            "user.info.basic,user.info.profile,user.info.stats,video.publish,video.upload",
        )))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/user/info/"))
        .and(query_param("fields", ALL_FIELDS))
        .and(header("authorization", "Bearer act.tt-access-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(user_info(full_user())))
        .expect(1)
        .mount(&server)
        .await;

    let before = Utc::now();
    let connections = adapter(&server)
        .exchange_code(&EXCHANGE)
        .await
        .expect("exchange");
    let connection = &connections[0];
    let tokens = &connection.tokens;
    assert_eq!(tokens.access_token.expose_secret(), "act.tt-access-1");
    assert_eq!(
        tokens
            .refresh_token
            .as_ref()
            .map(|t| t.expose_secret().to_owned())
            .as_deref(),
        Some("rft.tt-refresh-1")
    );
    assert!(tokens.expires_at.expect("expiry") >= before + chrono::Duration::seconds(86400));
    assert!(
        tokens.refresh_expires_at.expect("refresh expiry") >= before + chrono::Duration::days(365)
    );
    assert_eq!(tokens.scopes.len(), 5);
    let profile = &connection.profile;
    assert_eq!(profile.platform_account_id, OPEN_ID);
    assert_eq!(profile.handle.as_deref(), Some("tiktoker"));
    assert_eq!(profile.display_name.as_deref(), Some("Tik Toker"));
    assert_eq!(
        profile.profile_url.as_deref(),
        Some("https://www.tiktok.com/@tiktoker")
    );
    assert!(profile
        .avatar_url
        .as_deref()
        .is_some_and(|u| u.contains("tiktokcdn")));
    assert_eq!(
        connection.stats,
        Some(Stats {
            followers_count: Some(1200),
            following_count: Some(35),
            posts_count: Some(48)
        })
    );
}

#[tokio::test]
async fn a_profile_sync_reads_profile_and_counts_with_one_user_info_call() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/user/info/"))
        .and(query_param("fields", ALL_FIELDS))
        .and(header("authorization", "Bearer act.tt-sync"))
        .respond_with(ResponseTemplate::new(200).set_body_json(user_info(full_user())))
        .expect(1)
        .mount(&server)
        .await;
    let access = secret("act.tt-sync");

    let (profile, stats) = adapter(&server)
        .profile_and_stats(&account(&access))
        .await
        .expect("profile and stats");

    assert_eq!(profile.handle.as_deref(), Some("tiktoker"));
    assert_eq!(stats.followers_count, Some(1200));
    let calls = server.received_requests().await.expect("recorded").len();
    assert_eq!(calls, 1, "one user info call per sync");
}

#[tokio::test]
async fn a_profile_sync_with_a_declined_scope_falls_back_to_what_was_granted() {
    let server = MockServer::start().await;
    let declined = || {
        api_error(
            401,
            "scope_not_authorized",
            "The user did not authorize the scope required for completing this request.",
        )
    };
    for fields in [
        ALL_FIELDS,
        "open_id,avatar_url,display_name,username,profile_deep_link",
        "open_id,follower_count,following_count,video_count",
    ] {
        Mock::given(method("GET"))
            .and(path("/v2/user/info/"))
            .and(query_param("fields", fields))
            .respond_with(declined())
            .expect(1)
            .mount(&server)
            .await;
    }
    Mock::given(method("GET"))
        .and(path("/v2/user/info/"))
        .and(query_param("fields", "open_id,avatar_url,display_name"))
        .respond_with(ResponseTemplate::new(200).set_body_json(user_info(
            json!({"open_id": OPEN_ID, "display_name": "Tik Toker"}),
        )))
        .expect(1)
        .mount(&server)
        .await;
    let token = secret("act.tt-5");

    let (profile, stats) = adapter(&server)
        .profile_and_stats(&account(&token))
        .await
        .expect("profile and stats");

    assert_eq!(profile.display_name.as_deref(), Some("Tik Toker"));
    assert_eq!(
        stats,
        Stats::default(),
        "counts unknown without user.info.stats"
    );
}

#[tokio::test]
async fn only_fields_of_granted_scopes_are_requested() {
    let server = MockServer::start().await;
    mount_token(&server, token_body("user.info.basic,video.publish")).await;
    Mock::given(method("GET"))
        .and(path("/v2/user/info/"))
        .and(query_param("fields", "open_id,avatar_url,display_name"))
        .respond_with(ResponseTemplate::new(200).set_body_json(user_info(json!({"open_id": OPEN_ID, "display_name": "Tik Toker", "avatar_url": "https://a/x.jpeg"}))))
        .expect(1)
        .mount(&server)
        .await;
    let connections = adapter(&server)
        .exchange_code(&EXCHANGE)
        .await
        .expect("exchange");
    assert_eq!(connections[0].profile.platform_account_id, OPEN_ID);
    assert_eq!(connections[0].profile.handle, None);
    assert_eq!(connections[0].stats, None);
}

#[tokio::test]
async fn missing_expires_in_falls_back_to_the_documented_lifetime() {
    let server = MockServer::start().await;
    mount_token(&server, json!({"access_token": "act.tt-2", "open_id": OPEN_ID, "scope": "user.info.basic", "token_type": "Bearer"})).await;
    Mock::given(method("GET"))
        .and(path("/v2/user/info/"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(user_info(json!({"open_id": OPEN_ID}))),
        )
        .expect(1)
        .mount(&server)
        .await;
    let before = Utc::now();
    let connections = adapter(&server)
        .exchange_code(&EXCHANGE)
        .await
        .expect("exchange");
    let expires_at = connections[0].tokens.expires_at.expect("fallback lifetime");
    assert!(
        expires_at >= before + chrono::Duration::hours(2)
            && expires_at <= Utc::now() + chrono::Duration::hours(2)
    );
}

#[tokio::test]
async fn an_oauth_error_on_the_token_endpoint_is_classified_even_with_a_200() {
    let server = MockServer::start().await;
    mount_token(&server, json!({"error": "invalid_grant", "error_description": "Authorization code is expired.", "log_id": "2022"})).await;
    let err = adapter(&server)
        .exchange_code(&EXCHANGE)
        .await
        .expect_err("expired code");
    assert!(matches!(err, AdapterError::NeedsReauth { .. }));

    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/oauth/token/"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": "invalid_request", "error_description": "Code verifier or code challenge is invalid.", "log_id": "2022"})))
        .expect(1)
        .mount(&server)
        .await;
    let err = adapter(&server)
        .exchange_code(&EXCHANGE)
        .await
        .expect_err("bad verifier");
    assert!(matches!(err, AdapterError::Rejected { ref code, .. } if code == "invalid_request"));
}

#[tokio::test]
async fn api_error_codes_are_classified_whatever_the_status() {
    let server = MockServer::start().await;
    let cases = [
        (
            "tt-invalid-200",
            api_error(
                200,
                "access_token_invalid",
                "The access token is invalid or not found in the request.",
            ),
        ),
        (
            "tt-invalid-401",
            api_error(
                401,
                "access_token_invalid",
                "The access token is invalid or not found in the request.",
            ),
        ),
        (
            "tt-rate",
            api_error(429, "rate_limit_exceeded", "API rate limit exceeded")
                .insert_header("retry-after", "45"),
        ),
        (
            "tt-internal",
            api_error(500, "internal_error", "Something went wrong."),
        ),
        (
            "tt-params",
            api_error(400, "invalid_params", "The field `foo` is not valid."),
        ),
        (
            "tt-plain-503",
            ResponseTemplate::new(503).set_body_string("<html>busy</html>"),
        ),
    ];
    for (token, response) in cases {
        Mock::given(method("GET"))
            .and(path("/v2/user/info/"))
            .and(header("authorization", format!("Bearer {token}").as_str()))
            .respond_with(response)
            .expect(1)
            .mount(&server)
            .await;
    }
    let adapter = adapter(&server);
    let profile_of = |t: &'static str| {
        let token = secret(t);
        let adapter = &adapter;
        async move { adapter.profile(&account(&token)).await.expect_err("error") }
    };
    assert!(matches!(
        profile_of("tt-invalid-200").await,
        AdapterError::NeedsReauth { .. }
    ));
    assert!(matches!(
        profile_of("tt-invalid-401").await,
        AdapterError::NeedsReauth { .. }
    ));
    assert_eq!(
        profile_of("tt-rate").await,
        AdapterError::RateLimited {
            retry_after: Some(Duration::from_secs(45))
        }
    );
    assert!(matches!(
        profile_of("tt-internal").await,
        AdapterError::Transient { .. }
    ));
    assert!(
        matches!(profile_of("tt-params").await, AdapterError::Rejected { ref code, .. } if code == "invalid_params")
    );
    assert!(matches!(
        profile_of("tt-plain-503").await,
        AdapterError::Transient { .. }
    ));
}

#[tokio::test]
async fn profile_falls_back_to_basic_fields_when_the_profile_scope_was_declined() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/user/info/"))
        .and(query_param(
            "fields",
            "open_id,avatar_url,display_name,username,profile_deep_link",
        ))
        .respond_with(api_error(
            401,
            "scope_not_authorized",
            "The user did not authorize the scope required for completing this request.",
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/user/info/"))
        .and(query_param("fields", "open_id,avatar_url,display_name"))
        .respond_with(ResponseTemplate::new(200).set_body_json(user_info(
            json!({"open_id": OPEN_ID, "display_name": "Tik Toker"}),
        )))
        .expect(1)
        .mount(&server)
        .await;
    let token = secret("act.tt-3");
    let profile = adapter(&server)
        .profile(&account(&token))
        .await
        .expect("profile");
    assert_eq!(profile.platform_account_id, OPEN_ID);
    assert_eq!(profile.display_name.as_deref(), Some("Tik Toker"));
    assert_eq!(profile.handle, None);
}

#[tokio::test]
async fn stats_are_unknown_when_the_stats_scope_was_declined() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/user/info/"))
        .and(query_param(
            "fields",
            "open_id,follower_count,following_count,video_count",
        ))
        .respond_with(api_error(
            401,
            "scope_not_authorized",
            "The user did not authorize the scope required for completing this request.",
        ))
        .expect(1)
        .mount(&server)
        .await;
    let token = secret("act.tt-4");
    assert_eq!(
        adapter(&server)
            .stats(&account(&token))
            .await
            .expect("stats"),
        Stats::default()
    );
}

#[tokio::test]
async fn revoke_posts_client_key_secret_and_the_access_token() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/oauth/revoke/"))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(body_string_contains("client_key=test-client-id"))
        .and(body_string_contains("client_secret=test-client-secret"))
        .and(body_string_contains("token=act.tt-5"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    let token = secret("act.tt-5");
    assert_eq!(
        adapter(&server)
            .revoke(&account(&token))
            .await
            .expect("revoke"),
        Revocation::Revoked
    );
}

/// The documented refresh form: `client_key`, `client_secret`, the grant type and the refresh
/// token, nothing else.
fn refresh_form(refresh_token: &str) -> FormIs {
    form_is(&[
        ("client_key", CLIENT_ID),
        ("client_secret", CLIENT_SECRET),
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
    ])
}

async fn mount_refresh(server: &MockServer, refresh_token: &str, response: ResponseTemplate) {
    Mock::given(method("POST"))
        .and(path("/v2/oauth/token/"))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(refresh_form(refresh_token))
        .respond_with(response)
        .expect(1)
        .mount(server)
        .await;
}

async fn refresh_of(
    server: &MockServer,
    refresh_token: &str,
) -> Result<platform_adapters::TokenSet, AdapterError> {
    let (access, refresh) = (secret("act.tt-old"), secret(refresh_token));
    let account = AccountRef {
        refresh_token: Some(&refresh),
        ..account(&access)
    };
    adapter(server).refresh(&account).await
}

#[tokio::test]
async fn tiktok_refresh_rotates_both_tokens() {
    let server = MockServer::start().await;
    mount_refresh(
        &server,
        "rft.tt-refresh-1",
        ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "act.tt-access-2",
            "expires_in": 7200,
            "open_id": OPEN_ID,
            "refresh_expires_in": 15_552_000,
            "refresh_token": "rft.tt-refresh-2",
            "scope": "user.info.basic,user.info.profile,user.info.stats,video.publish,video.upload",
            "token_type": "Bearer"
        })),
    )
    .await;

    let before = Utc::now();
    let tokens = refresh_of(&server, "rft.tt-refresh-1")
        .await
        .expect("refresh");

    assert_eq!(tokens.access_token.expose_secret(), "act.tt-access-2");
    assert_eq!(
        tokens
            .refresh_token
            .as_ref()
            .map(|t| t.expose_secret().to_owned())
            .as_deref(),
        Some("rft.tt-refresh-2")
    );
    let expires_at = tokens.expires_at.expect("expiry");
    assert!(
        expires_at >= before + chrono::Duration::seconds(7200)
            && expires_at <= Utc::now() + chrono::Duration::seconds(7200)
    );
    let refresh_expires_at = tokens.refresh_expires_at.expect("refresh expiry");
    assert!(
        refresh_expires_at >= before + chrono::Duration::days(180)
            && refresh_expires_at <= Utc::now() + chrono::Duration::days(180)
    );
    assert_eq!(tokens.scopes.len(), 5);
}

#[tokio::test]
async fn a_tiktok_refresh_without_expires_in_falls_back_to_two_hours() {
    let server = MockServer::start().await;
    mount_refresh(
        &server,
        "rft.tt-refresh-3",
        ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "act.tt-access-3",
            "open_id": OPEN_ID,
            "refresh_token": "rft.tt-refresh-4",
            "scope": "user.info.basic",
            "token_type": "Bearer"
        })),
    )
    .await;

    let before = Utc::now();
    let tokens = refresh_of(&server, "rft.tt-refresh-3")
        .await
        .expect("refresh");

    let expires_at = tokens
        .expires_at
        .expect("fallback lifetime, never 'forever'");
    assert!(
        expires_at >= before + chrono::Duration::hours(2)
            && expires_at <= Utc::now() + chrono::Duration::hours(2)
    );
}

#[tokio::test]
async fn a_rotated_away_tiktok_refresh_token_means_needs_reauth_even_with_a_200() {
    let server = MockServer::start().await;
    mount_refresh(
        &server,
        "rft.tt-spent",
        ResponseTemplate::new(200).set_body_json(json!({
            "error": "invalid_grant",
            "error_description": "Refresh token is invalid or expired.",
            "log_id": "20230101000000ABCDEF"
        })),
    )
    .await;

    let err = refresh_of(&server, "rft.tt-spent")
        .await
        .expect_err("spent");

    assert!(
        matches!(&err, AdapterError::NeedsReauth { message }
            if message.contains("reconnect your TikTok account") && message.contains("Refresh token is invalid or expired.")),
        "{err:?}"
    );
    let printed = err.to_string();
    assert!(!printed.contains("rft.tt-spent") && !printed.contains(CLIENT_SECRET));
}

#[tokio::test]
async fn a_tiktok_account_without_a_refresh_token_must_reconnect_and_tiktok_is_not_called() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let access = secret("act.tt-old");

    let err = adapter(&server)
        .refresh(&account(&access))
        .await
        .expect_err("no refresh token");

    assert!(
        matches!(&err, AdapterError::NeedsReauth { message } if message.contains("reconnect your TikTok account")),
        "{err:?}"
    );
}

#[tokio::test]
async fn refused_tiktok_app_credentials_are_a_rejection_not_a_reconnect() {
    let server = MockServer::start().await;
    mount_refresh(
        &server,
        "rft.tt-refresh-5",
        ResponseTemplate::new(401).set_body_json(json!({
            "error": "invalid_client",
            "error_description": "Client key or secret is incorrect.",
            "log_id": "20230101000000ABCDEF"
        })),
    )
    .await;

    let err = refresh_of(&server, "rft.tt-refresh-5")
        .await
        .expect_err("invalid client");

    assert!(
        matches!(&err, AdapterError::Rejected { code, .. } if code == "invalid_client"),
        "{err:?}"
    );
    assert!(!err.to_string().contains(CLIENT_SECRET));
}

#[tokio::test]
async fn a_rate_limited_tiktok_refresh_waits_for_the_retry_after() {
    let server = MockServer::start().await;
    mount_refresh(
        &server,
        "rft.tt-refresh-6",
        api_error(429, "rate_limit_exceeded", "API rate limit exceeded")
            .insert_header("retry-after", "60"),
    )
    .await;

    let err = refresh_of(&server, "rft.tt-refresh-6")
        .await
        .expect_err("429");

    assert_eq!(
        err,
        AdapterError::RateLimited {
            retry_after: Some(Duration::from_secs(60))
        }
    );
}

#[tokio::test]
async fn a_tiktok_server_error_on_refresh_is_transient() {
    let server = MockServer::start().await;
    mount_refresh(
        &server,
        "rft.tt-refresh-7",
        ResponseTemplate::new(502).set_body_string("<html>Bad Gateway</html>"),
    )
    .await;

    let err = refresh_of(&server, "rft.tt-refresh-7")
        .await
        .expect_err("502");

    assert!(
        matches!(&err, AdapterError::Transient { message } if message.contains("502")),
        "{err:?}"
    );
    assert!(err.is_retryable());
}

// ---------------------------------------------------------------------------------------------
// Publishing: Content Posting API, Direct Post with FILE_UPLOAD
// ---------------------------------------------------------------------------------------------

const POST_TOKEN: &str = "act.tt-post";
const PUBLISH_ID: &str = "v_pub_file~v2-1.7291234567890123456";
const POST_ID: u64 = 7_291_234_567_890_123_456;
const JSON_UTF8: &str = "application/json; charset=UTF-8";

fn post_bearer() -> String {
    format!("Bearer {POST_TOKEN}")
}

/// A success envelope around `data`.
fn ok(data: serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "data": data,
        "error": {"code": "ok", "message": "", "log_id": "202210112248442CB9319E1FB30C1073F3"}
    }))
}

/// `creator_info/query` data of a public creator who turned stitches off.
fn creator(privacy_level_options: &[&str], max_secs: u64) -> serde_json::Value {
    json!({
        "creator_avatar_url": "https://lf16-tt4d.tiktokcdn.com/obj/tiktok-open-platform/8d5740ac3844be417beeacd0df75aef1",
        "creator_username": "tiktoker",
        "creator_nickname": "Tik Toker",
        "privacy_level_options": privacy_level_options,
        "comment_disabled": false,
        "duet_disabled": false,
        "stitch_disabled": true,
        "max_video_post_duration_sec": max_secs
    })
}

async fn mount_creator_info(server: &MockServer, answer: ResponseTemplate) {
    Mock::given(method("POST"))
        .and(path("/v2/post/publish/creator_info/query/"))
        .and(header("authorization", post_bearer().as_str()))
        .and(header("content-type", JSON_UTF8))
        .respond_with(answer)
        .expect(1)
        .mount(server)
        .await;
}

fn upload_url(server: &MockServer) -> String {
    format!(
        "{}/upload/?upload_id=67890&upload_token=Xza123",
        server.uri()
    )
}

/// The init call expecting exactly `post_info` with `privacy` and a one-chunk `source_info`.
async fn mount_init(server: &MockServer, video: &MediaItem, caption: &str, privacy: &str) {
    let size = video.size();
    Mock::given(method("POST"))
        .and(path("/v2/post/publish/video/init/"))
        .and(header("authorization", post_bearer().as_str()))
        .and(header("content-type", JSON_UTF8))
        .and(body_json(json!({
            "post_info": {
                "title": caption,
                "privacy_level": privacy,
                "disable_duet": false,
                "disable_comment": false,
                "disable_stitch": true
            },
            "source_info": {
                "source": "FILE_UPLOAD",
                "video_size": size,
                "chunk_size": size,
                "total_chunk_count": 1
            }
        })))
        .respond_with(ok(
            json!({"publish_id": PUBLISH_ID, "upload_url": upload_url(server)}),
        ))
        .expect(1)
        .mount(server)
        .await;
}

/// The one-chunk `PUT` of the whole video.
fn upload_request(video: &MediaItem) -> wiremock::MockBuilder {
    let size = video.size();
    Mock::given(method("PUT"))
        .and(path("/upload/"))
        .and(query_param("upload_id", "67890"))
        .and(query_param("upload_token", "Xza123"))
        .and(header("content-type", "video/mp4"))
        .and(header(
            "content-range",
            format!("bytes 0-{}/{size}", size - 1).as_str(),
        ))
        .and(body_bytes(video.bytes.to_vec()))
}

fn status(data: serde_json::Value) -> ResponseTemplate {
    ok(data)
}

fn status_request() -> wiremock::MockBuilder {
    Mock::given(method("POST"))
        .and(path("/v2/post/publish/status/fetch/"))
        .and(header("authorization", post_bearer().as_str()))
        .and(header("content-type", JSON_UTF8))
        .and(body_json(json!({"publish_id": PUBLISH_ID})))
}

fn processing() -> ResponseTemplate {
    status(json!({"status": "PROCESSING_UPLOAD", "uploaded_bytes": 0}))
}

fn publish_complete(post_ids: serde_json::Value) -> ResponseTemplate {
    status(json!({
        "status": "PUBLISH_COMPLETE",
        "publicaly_available_post_id": post_ids,
        "uploaded_bytes": 27
    }))
}

async fn publish_with(
    server: &MockServer,
    http: reqwest::Client,
    text: &str,
    media: &[MediaItem],
    options: &PostOptions,
) -> Result<Published, AdapterError> {
    let token = secret(POST_TOKEN);
    adapter_on(server, http)
        .publish(&account(&token), &support::post(text, media, options))
        .await
}

async fn publish(
    server: &MockServer,
    text: &str,
    media: &[MediaItem],
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
async fn direct_post_queries_the_creator_inits_uploads_and_polls_until_published() {
    let server = MockServer::start().await;
    let video = support::video(&server.uri());
    let caption = "Behind the scenes #postbridge";
    mount_creator_info(
        &server,
        ok(creator(
            &["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"],
            600,
        )),
    )
    .await;
    mount_init(&server, &video, caption, "PUBLIC_TO_EVERYONE").await;
    upload_request(&video)
        .respond_with(ResponseTemplate::new(201))
        .expect(1)
        .mount(&server)
        .await;
    status_request()
        .respond_with(processing())
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    status_request()
        .respond_with(publish_complete(json!([POST_ID])))
        .expect(1)
        .mount(&server)
        .await;

    let published = publish(&server, caption, &[video], support::no_options())
        .await
        .expect("published");

    assert_eq!(
        published,
        Published {
            platform_post_id: POST_ID.to_string(),
            url: Some(format!("https://www.tiktok.com/@tiktoker/video/{POST_ID}")),
        }
    );
    let requests = server.received_requests().await.expect("recorded");
    let upload = requests
        .iter()
        .find(|r| r.method == wiremock::http::Method::PUT)
        .expect("an upload");
    assert!(
        !upload.headers.contains_key("authorization"),
        "the access token must not go to the upload URL"
    );
}

#[tokio::test]
async fn a_private_post_asked_for_is_recorded_by_its_publish_id_without_a_url() {
    let server = MockServer::start().await;
    let video = support::video(&server.uri());
    let options = PostOptions {
        privacy: Some("self_only".into()),
        ..PostOptions::default()
    };
    mount_creator_info(
        &server,
        ok(creator(&["PUBLIC_TO_EVERYONE", "SELF_ONLY"], 600)),
    )
    .await;
    mount_init(&server, &video, "Just for me", "SELF_ONLY").await;
    upload_request(&video)
        .respond_with(ResponseTemplate::new(201))
        .expect(1)
        .mount(&server)
        .await;
    status_request()
        .respond_with(publish_complete(json!([])))
        .expect(1)
        .mount(&server)
        .await;

    let published = publish(&server, "Just for me", &[video], &options)
        .await
        .expect("published");

    assert_eq!(
        published,
        Published {
            platform_post_id: PUBLISH_ID.into(),
            url: None,
        }
    );
}

#[tokio::test]
async fn posts_the_creator_may_not_make_are_rejected_before_anything_is_uploaded() {
    let public = PostOptions {
        privacy: Some("PUBLIC_TO_EVERYONE".into()),
        ..PostOptions::default()
    };
    let cases = [
        // A private account has no public level.
        (
            creator(&["FOLLOWER_OF_CREATOR", "SELF_ONLY"], 600),
            public,
            "privacy_level_not_allowed",
        ),
        // The test video lasts 4 seconds.
        (
            creator(&["PUBLIC_TO_EVERYONE"], 3),
            PostOptions::default(),
            "video_too_long",
        ),
    ];
    for (info, options, expected) in cases {
        let server = MockServer::start().await;
        let video = support::video(&server.uri());
        mount_creator_info(&server, ok(info)).await;
        Mock::given(method("POST"))
            .and(path("/v2/post/publish/video/init/"))
            .respond_with(ResponseTemplate::new(500))
            .expect(0)
            .mount(&server)
            .await;

        let err = publish(&server, "caption", &[video], &options)
            .await
            .expect_err("rejected");

        assert!(
            matches!(&err, AdapterError::Rejected { code, .. } if code == expected),
            "{expected}: {err:?}"
        );
    }
}

#[tokio::test]
async fn a_post_without_a_video_is_rejected_without_calling_tiktok() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let image = support::image(&server.uri());

    let err = publish(&server, "caption", &[image], support::no_options())
        .await
        .expect_err("rejected");

    assert!(
        matches!(&err, AdapterError::Rejected { code, .. } if code == "video_required"),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_failed_publication_is_rejected_with_tiktoks_fail_reason() {
    let server = MockServer::start().await;
    let video = support::video(&server.uri());
    mount_creator_info(&server, ok(creator(&["PUBLIC_TO_EVERYONE"], 600))).await;
    mount_init(&server, &video, "caption", "PUBLIC_TO_EVERYONE").await;
    upload_request(&video)
        .respond_with(ResponseTemplate::new(201))
        .expect(1)
        .mount(&server)
        .await;
    status_request()
        .respond_with(status(json!({
            "status": "FAILED",
            "fail_reason": "file_format_check_failed",
            "publicaly_available_post_id": [],
            "uploaded_bytes": 27
        })))
        .expect(1)
        .mount(&server)
        .await;

    let err = publish(&server, "caption", &[video], support::no_options())
        .await
        .expect_err("failed");

    assert!(
        matches!(&err, AdapterError::Rejected { code, message }
            if code == "file_format_check_failed" && message.contains("file_format_check_failed")),
        "{err:?}"
    );
}

#[tokio::test]
async fn publish_errors_are_classified_from_tiktoks_error_codes() {
    // creator_info refusing the token, or throttled; init refusing the post or capping it.
    let server = MockServer::start().await;
    let video = support::video(&server.uri());
    let creator_cases = [
        (
            "act.tt-401",
            api_error(
                401,
                "access_token_invalid",
                "The access token is invalid or not found in the request.",
            ),
        ),
        (
            "act.tt-429",
            api_error(429, "rate_limit_exceeded", "API rate limit was exceeded.")
                .insert_header("retry-after", "60"),
        ),
    ];
    for (token, answer) in creator_cases {
        Mock::given(method("POST"))
            .and(path("/v2/post/publish/creator_info/query/"))
            .and(header("authorization", format!("Bearer {token}").as_str()))
            .respond_with(answer)
            .expect(1)
            .mount(&server)
            .await;
    }
    let init_cases = [
        (
            "act.tt-cap",
            api_error(
                403,
                "spam_risk_too_many_posts",
                "The daily post cap from the API is reached for the current user.",
            ),
        ),
        (
            "act.tt-400",
            api_error(400, "invalid_param", "The video_size field is required."),
        ),
    ];
    for (token, answer) in init_cases {
        Mock::given(method("POST"))
            .and(path("/v2/post/publish/creator_info/query/"))
            .and(header("authorization", format!("Bearer {token}").as_str()))
            .respond_with(ok(creator(&["PUBLIC_TO_EVERYONE"], 600)))
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/v2/post/publish/video/init/"))
            .and(header("authorization", format!("Bearer {token}").as_str()))
            .respond_with(answer)
            .expect(1)
            .mount(&server)
            .await;
    }
    let adapter = adapter(&server);
    let media = [video];
    let publish_as = |t: &'static str| {
        let token = secret(t);
        let adapter = &adapter;
        let media = &media;
        async move {
            adapter
                .publish(
                    &account(&token),
                    &support::post("caption", media, support::no_options()),
                )
                .await
                .expect_err("error")
        }
    };

    assert!(matches!(
        publish_as("act.tt-401").await,
        AdapterError::NeedsReauth { .. }
    ));
    assert_eq!(
        publish_as("act.tt-429").await,
        AdapterError::RateLimited {
            retry_after: Some(Duration::from_secs(60))
        }
    );
    assert_eq!(
        publish_as("act.tt-cap").await,
        AdapterError::RateLimited { retry_after: None }
    );
    assert_eq!(
        publish_as("act.tt-400").await,
        AdapterError::Rejected {
            code: "invalid_param".into(),
            message: "The video_size field is required.".into()
        }
    );
}

#[tokio::test]
async fn a_delayed_init_is_only_transient() {
    let server = MockServer::start().await;
    let video = support::video(&server.uri());
    mount_creator_info(&server, ok(creator(&["PUBLIC_TO_EVERYONE"], 600))).await;
    Mock::given(method("POST"))
        .and(path("/v2/post/publish/video/init/"))
        .respond_with(
            ok(json!({"publish_id": PUBLISH_ID, "upload_url": upload_url(&server)}))
                .set_delay(Duration::from_secs(2)),
        )
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(201))
        .expect(0)
        .mount(&server)
        .await;

    let err = publish_with(
        &server,
        short_timeout_client(),
        "caption",
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
    mount_creator_info(&server, ok(creator(&["PUBLIC_TO_EVERYONE"], 600))).await;
    mount_init(&server, &video, "caption", "PUBLIC_TO_EVERYONE").await;
    upload_request(&video)
        .respond_with(ResponseTemplate::new(201).set_delay(Duration::from_secs(2)))
        .expect(1)
        .mount(&server)
        .await;
    status_request()
        .respond_with(publish_complete(json!([POST_ID])))
        .expect(0)
        .mount(&server)
        .await;

    let err = publish_with(
        &server,
        short_timeout_client(),
        "caption",
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

#[tokio::test]
async fn a_post_still_processing_after_every_check_leaves_the_outcome_unknown() {
    let server = MockServer::start().await;
    let video = support::video(&server.uri());
    mount_creator_info(&server, ok(creator(&["PUBLIC_TO_EVERYONE"], 600))).await;
    mount_init(&server, &video, "caption", "PUBLIC_TO_EVERYONE").await;
    upload_request(&video)
        .respond_with(ResponseTemplate::new(201))
        .expect(1)
        .mount(&server)
        .await;
    status_request()
        .respond_with(processing())
        .expect(5)
        .mount(&server)
        .await;

    let err = publish(&server, "caption", &[video], support::no_options())
        .await
        .expect_err("still processing");

    assert!(
        matches!(&err, AdapterError::OutcomeUnknown { message } if message.contains(PUBLISH_ID)),
        "{err:?}"
    );
}
