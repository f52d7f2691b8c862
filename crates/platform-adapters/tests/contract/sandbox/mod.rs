//! Sandbox: the adapter against the HTTP surface documented in `crates/platform-sim/README.md`
//! (RFC 6749 token endpoint with Basic client authentication and PKCE, RFC 7009 revocation,
//! `GET /api/v1/me` and `/api/v1/me/stats`, and the posting API: raw-body media uploads,
//! `POST /api/v1/posts` under an `Idempotency-Key`, lookup by key). Form and JSON bodies are
//! matched exactly, so an extra or missing parameter fails the test.

mod deletion;
mod metrics;
mod replies;

use std::time::Duration;

use chrono::Utc;
use platform_adapters::{
    platforms::sandbox::{self, SandboxAdapter},
    AccountRef, AdapterError, AdapterSettings, AuthorizeParams, CodeExchange, PlatformAdapter,
    Profile, Published, Revocation, Stats, TextCounting,
};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use wiremock::{
    matchers::{any, body_bytes, body_json, header, method, path, query_param},
    Mock, MockServer, ResponseTemplate,
};

use crate::support::form_is;
use crate::support::{self, param, secret, CLIENT_ID, REDIRECT_URI};

/// `Basic base64("test-client-id:test-client-secret")`.
const BASIC: &str = "Basic dGVzdC1jbGllbnQtaWQ6dGVzdC1jbGllbnQtc2VjcmV0";

fn adapter(server: &MockServer) -> SandboxAdapter {
    SandboxAdapter::new(platform_adapters::http::client(), support::settings(server))
}

fn account<'a>(access: &'a SecretString, refresh: Option<&'a SecretString>) -> AccountRef<'a> {
    AccountRef {
        platform_account_id: "sim-alice",
        access_token: access,
        refresh_token: refresh,
        instance_url: None,
    }
}

const EXCHANGE: CodeExchange<'static> = CodeExchange {
    code: "simcode_1",
    pkce_verifier: Some("verifier-1"),
    redirect_uri: REDIRECT_URI,
};

fn token_body(access: &str, refresh: &str) -> serde_json::Value {
    json!({
        "access_token": access,
        "token_type": "bearer",
        "expires_in": 3600,
        "refresh_token": refresh,
        "scope": "profile publish"
    })
}

async fn mount_me(server: &MockServer, token: &str) {
    Mock::given(method("GET"))
        .and(path("/api/v1/me"))
        .and(header("authorization", format!("Bearer {token}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "sim-alice",
            "username": "alice",
            "name": "Alice (sandbox)",
            "avatar_url": "http://127.0.0.1:8090/avatars/alice.png",
            "profile_url": "http://127.0.0.1:8090/u/alice"
        })))
        .expect(1)
        .mount(server)
        .await;
}

async fn mount_stats(server: &MockServer, token: &str) {
    Mock::given(method("GET"))
        .and(path("/api/v1/me/stats"))
        .and(header("authorization", format!("Bearer {token}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "followers_count": 1234, "following_count": 56, "posts_count": 7
        })))
        .expect(1)
        .mount(server)
        .await;
}

fn alice() -> Profile {
    Profile {
        platform_account_id: "sim-alice".into(),
        account_kind: Some(domain::AccountKind::Profile),
        display_name: Some("Alice (sandbox)".into()),
        handle: Some("alice".into()),
        avatar_url: Some("http://127.0.0.1:8090/avatars/alice.png".into()),
        profile_url: Some("http://127.0.0.1:8090/u/alice".into()),
    }
}

const ALICE_STATS: Stats = Stats {
    followers_count: Some(1234),
    following_count: Some(56),
    posts_count: Some(7),
};

#[test]
fn descriptor_states_pkce_rotation_and_the_5000_char_limit() {
    let d = sandbox::descriptor();
    assert_eq!(d.platform, domain::Platform::Sandbox);
    assert_eq!(d.auth_kind, domain::AuthKind::Oauth2);
    assert!(d.pkce);
    assert!(d.refresh_token_rotates);
    assert_eq!(d.scopes, ["profile", "publish"]);
    assert_eq!(d.access_token_lifetime, Some(Duration::from_secs(3600)));
    assert_eq!(d.capabilities.text_limit, 5000);
    assert_eq!(d.capabilities.text_counting, TextCounting::Chars);
    assert_eq!(d.capabilities.max_media, 4);
    assert!(!d.capabilities.requires_media);
}

#[test]
fn default_endpoints_point_at_the_local_sim() {
    let e = sandbox::default_endpoints();
    assert_eq!(e.authorize_url, "http://127.0.0.1:8090/oauth/authorize");
    assert_eq!(e.token_url, "http://127.0.0.1:8090/oauth/token");
    assert_eq!(
        e.revoke_url.as_deref(),
        Some("http://127.0.0.1:8090/oauth/revoke")
    );
    assert_eq!(e.api_base, "http://127.0.0.1:8090");
    assert_eq!(e.upload_base, "http://127.0.0.1:8090");
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
    let mut query = support::query_of(&url);
    query.sort();
    let mut expected: Vec<(String, String)> = [
        ("client_id", CLIENT_ID),
        ("code_challenge", "challenge-1"),
        ("code_challenge_method", "S256"),
        ("redirect_uri", REDIRECT_URI),
        ("response_type", "code"),
        ("scope", "profile publish"),
        ("state", "state-1"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    expected.sort();
    assert_eq!(query, expected);
    assert_eq!(param(&url, "scope").as_deref(), Some("profile publish"));
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
    let err = SandboxAdapter::new(platform_adapters::http::client(), settings)
        .authorize_url(&AuthorizeParams {
            state: "s",
            pkce_challenge: Some("c"),
            redirect_uri: REDIRECT_URI,
        })
        .expect_err("not configured");
    assert!(matches!(err, AdapterError::Unsupported { .. }));
}

#[tokio::test]
async fn code_exchange_posts_code_redirect_and_verifier_with_basic_auth_then_reads_profile_and_stats(
) {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(header("authorization", BASIC))
        .and(form_is(&[
            ("grant_type", "authorization_code"),
            ("code", "simcode_1"),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", "verifier-1"),
        ]))
        .respond_with(ResponseTemplate::new(200).set_body_json(token_body("simat_1", "simrt_1")))
        .expect(1)
        .mount(&server)
        .await;
    mount_me(&server, "simat_1").await;
    mount_stats(&server, "simat_1").await;

    let before = Utc::now();
    let connections = adapter(&server)
        .exchange_code(&EXCHANGE)
        .await
        .expect("exchange");
    assert_eq!(connections.len(), 1);
    let connection = &connections[0];
    assert_eq!(connection.profile, alice());
    assert_eq!(connection.stats, Some(ALICE_STATS));
    assert_eq!(connection.tokens.access_token.expose_secret(), "simat_1");
    assert_eq!(
        connection
            .tokens
            .refresh_token
            .as_ref()
            .map(|t| t.expose_secret()),
        Some("simrt_1")
    );
    assert_eq!(connection.tokens.scopes, ["profile", "publish"]);
    let expires_at = connection.tokens.expires_at.expect("expiry");
    let hour = chrono::Duration::seconds(3600);
    assert!(expires_at >= before + hour && expires_at <= Utc::now() + hour);
}

#[tokio::test]
async fn a_token_answer_without_expires_in_still_expires_after_the_documented_hour() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"access_token": "simat_1", "token_type": "bearer", "refresh_token": "simrt_1"}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    mount_me(&server, "simat_1").await;
    mount_stats(&server, "simat_1").await;

    let connections = adapter(&server)
        .exchange_code(&EXCHANGE)
        .await
        .expect("exchange");
    let expires_at = connections[0]
        .tokens
        .expires_at
        .expect("a default expiry, never 'forever'");
    assert!(expires_at > Utc::now() + chrono::Duration::seconds(3500));
}

#[tokio::test]
async fn a_refused_code_means_needs_reauth_and_no_profile_is_fetched() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(
            json!({"error": "invalid_grant", "error_description": "PKCE verification failed"}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;

    let err = adapter(&server)
        .exchange_code(&EXCHANGE)
        .await
        .expect_err("refused");
    assert!(matches!(err, AdapterError::NeedsReauth { message } if message.contains("PKCE")));
}

#[tokio::test]
async fn refresh_posts_the_refresh_token_with_basic_auth_and_returns_the_rotated_pair() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(header("authorization", BASIC))
        .and(form_is(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "simrt_1"),
        ]))
        .respond_with(ResponseTemplate::new(200).set_body_json(token_body("simat_2", "simrt_2")))
        .expect(1)
        .mount(&server)
        .await;

    let (access, refresh) = (secret("simat_1"), secret("simrt_1"));
    let tokens = adapter(&server)
        .refresh(&account(&access, Some(&refresh)))
        .await
        .expect("refresh");
    assert_eq!(tokens.access_token.expose_secret(), "simat_2");
    assert_eq!(
        tokens.refresh_token.as_ref().map(|t| t.expose_secret()),
        Some("simrt_2")
    );
}

#[tokio::test]
async fn reusing_a_rotated_refresh_token_means_needs_reauth() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": "invalid_grant", "error_description": "the refresh token was already used"})))
        .expect(1)
        .mount(&server)
        .await;

    let (access, refresh) = (secret("simat_1"), secret("simrt_1"));
    let err = adapter(&server)
        .refresh(&account(&access, Some(&refresh)))
        .await
        .expect_err("reuse");
    assert!(
        matches!(&err, AdapterError::NeedsReauth { message }
            if message.contains("reconnect your sandbox account") && message.contains("already used")),
        "{err:?}"
    );
    assert!(!err.to_string().contains("simrt_1"));
}

#[tokio::test]
async fn profile_and_stats_read_the_api_with_the_bearer_token() {
    let server = MockServer::start().await;
    mount_me(&server, "simat_9").await;
    mount_stats(&server, "simat_9").await;
    let access = secret("simat_9");
    let adapter = adapter(&server);
    assert_eq!(
        adapter
            .profile(&account(&access, None))
            .await
            .expect("profile"),
        alice()
    );
    assert_eq!(
        adapter.stats(&account(&access, None)).await.expect("stats"),
        ALICE_STATS
    );
}

#[tokio::test]
async fn revoke_sends_the_refresh_token_which_ends_the_grant() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/revoke"))
        .and(header("authorization", BASIC))
        .and(form_is(&[
            ("token", "simrt_1"),
            ("token_type_hint", "refresh_token"),
        ]))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    let (access, refresh) = (secret("simat_1"), secret("simrt_1"));
    let outcome = adapter(&server)
        .revoke(&account(&access, Some(&refresh)))
        .await
        .expect("revoke");
    assert_eq!(outcome, Revocation::Revoked);
}

#[tokio::test]
async fn revoke_without_a_refresh_token_sends_the_access_token() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/revoke"))
        .and(header("authorization", BASIC))
        .and(form_is(&[
            ("token", "simat_1"),
            ("token_type_hint", "access_token"),
        ]))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    let access = secret("simat_1");
    let outcome = adapter(&server)
        .revoke(&account(&access, None))
        .await
        .expect("revoke");
    assert_eq!(outcome, Revocation::Revoked);
}

#[tokio::test]
async fn revoke_without_an_endpoint_is_not_supported_and_calls_nothing() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let mut settings = support::settings(&server);
    settings.endpoints.revoke_url = None;
    let access = secret("simat_1");
    let outcome = SandboxAdapter::new(platform_adapters::http::client(), settings)
        .revoke(&account(&access, None))
        .await
        .expect("revoke");
    assert_eq!(outcome, Revocation::NotSupported);
}

#[tokio::test]
async fn an_unauthorized_api_answer_means_needs_reauth() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/me"))
        .respond_with(ResponseTemplate::new(401).set_body_json(
            json!({"error": "invalid_token", "error_description": "the access token has expired"}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let access = secret("simat_old");
    let err = adapter(&server)
        .profile(&account(&access, None))
        .await
        .expect_err("401");
    assert!(matches!(err, AdapterError::NeedsReauth { .. }));
}

#[tokio::test]
async fn a_429_is_rate_limited_with_the_retry_after() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/me/stats"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "1")
                .set_body_json(json!({"error": "rate_limited"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let access = secret("simat_1");
    let err = adapter(&server)
        .stats(&account(&access, None))
        .await
        .expect_err("429");
    assert_eq!(
        err,
        AdapterError::RateLimited {
            retry_after: Some(Duration::from_secs(1))
        }
    );
}

#[tokio::test]
async fn a_503_is_transient() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(
            ResponseTemplate::new(503).set_body_json(json!({"error": "temporarily_unavailable"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let (access, refresh) = (secret("simat_1"), secret("simrt_1"));
    let err = adapter(&server)
        .refresh(&account(&access, Some(&refresh)))
        .await
        .expect_err("503");
    assert!(matches!(&err, AdapterError::Transient { .. }));
    assert!(err.is_retryable());
}

#[tokio::test]
async fn a_sandbox_account_without_a_refresh_token_must_reconnect_and_nothing_is_called() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let access = secret("simat_1");
    let err = adapter(&server)
        .refresh(&account(&access, None))
        .await
        .expect_err("no refresh token");
    assert!(
        matches!(&err, AdapterError::NeedsReauth { message } if message.contains("reconnect your sandbox account")),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_sandbox_refresh_without_expires_in_still_expires_after_the_documented_hour() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(header("authorization", BASIC))
        .and(form_is(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "simrt_1"),
        ]))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"access_token": "simat_2", "token_type": "bearer", "refresh_token": "simrt_2"}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let (access, refresh) = (secret("simat_1"), secret("simrt_1"));
    let before = Utc::now();
    let tokens = adapter(&server)
        .refresh(&account(&access, Some(&refresh)))
        .await
        .expect("refresh");
    let expires_at = tokens
        .expires_at
        .expect("a default expiry, never 'forever'");
    let hour = chrono::Duration::seconds(3600);
    assert!(expires_at >= before + hour && expires_at <= Utc::now() + hour);
}

#[tokio::test]
async fn refused_client_credentials_are_a_rejection_not_a_reconnect() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(401).set_body_json(
            json!({"error": "invalid_client", "error_description": "unknown client or wrong secret"}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let (access, refresh) = (secret("simat_1"), secret("simrt_1"));
    let err = adapter(&server)
        .refresh(&account(&access, Some(&refresh)))
        .await
        .expect_err("invalid client");
    assert!(
        matches!(&err, AdapterError::Rejected { code, .. } if code == "invalid_client"),
        "{err:?}"
    );
    assert!(!err.to_string().contains(support::CLIENT_SECRET));
}

#[tokio::test]
async fn a_rate_limited_sandbox_refresh_waits_for_the_retry_after() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "3")
                .set_body_json(json!({"error": "rate_limited"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let (access, refresh) = (secret("simat_1"), secret("simrt_1"));
    let err = adapter(&server)
        .refresh(&account(&access, Some(&refresh)))
        .await
        .expect_err("429");
    assert_eq!(
        err,
        AdapterError::RateLimited {
            retry_after: Some(Duration::from_secs(3))
        }
    );
}

// ----- publishing ----------------------------------------------------------------------------

const KEY: &str = "0b7c6a3e-5f1d-4c2b-9a8e-7d6f5e4c3b2a";

fn post_answer(server: &MockServer, id: &str, text: &str, media_ids: &[&str]) -> serde_json::Value {
    json!({
        "id": id,
        "text": text,
        "media_ids": media_ids,
        "url": format!("{}/u/alice/posts/{id}", server.uri()),
        "created_at": "2026-11-22T10:00:00.000Z"
    })
}

#[tokio::test]
async fn publish_uploads_each_file_raw_then_creates_the_post_under_the_idempotency_key() {
    let server = MockServer::start().await;
    let media = [support::image(&server.uri())];
    Mock::given(method("POST"))
        .and(path("/api/v1/media"))
        .and(header("authorization", "Bearer simat_1"))
        .and(header("content-type", "image/jpeg"))
        .and(query_param("alt_text", "a test picture"))
        .and(body_bytes(media[0].bytes.to_vec()))
        .respond_with(
            ResponseTemplate::new(201).set_body_json(
                json!({"id": "17", "mime_type": "image/jpeg", "size": media[0].size()}),
            ),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v1/posts"))
        .and(header("authorization", "Bearer simat_1"))
        .and(header("idempotency-key", KEY))
        .and(header("content-type", "application/json"))
        .and(body_json(json!({"text": "hello", "media_ids": ["17"]})))
        .respond_with(ResponseTemplate::new(201).set_body_json(post_answer(
            &server,
            "42",
            "hello",
            &["17"],
        )))
        .expect(1)
        .mount(&server)
        .await;

    let access = secret("simat_1");
    let published = adapter(&server)
        .publish(
            &account(&access, None),
            &support::post("hello", &media, support::no_options()),
        )
        .await
        .expect("publish");
    assert_eq!(
        published,
        Published {
            platform_post_id: "42".into(),
            url: Some(format!("{}/u/alice/posts/42", server.uri())),
        }
    );
}

#[tokio::test]
async fn a_text_post_uploads_nothing_and_a_replayed_key_is_success_too() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/media"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    // 200 + Idempotent-Replayed: the key had already made this post.
    Mock::given(method("POST"))
        .and(path("/api/v1/posts"))
        .and(header("idempotency-key", KEY))
        .and(body_json(json!({"text": "just text", "media_ids": []})))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("idempotent-replayed", "true")
                .set_body_json(post_answer(&server, "7", "just text", &[])),
        )
        .expect(1)
        .mount(&server)
        .await;
    let access = secret("simat_1");
    let published = adapter(&server)
        .publish(
            &account(&access, None),
            &support::post("just text", &[], support::no_options()),
        )
        .await
        .expect("publish");
    assert_eq!(published.platform_post_id, "7");
}

async fn publish_against(server: &MockServer, answer: ResponseTemplate) -> AdapterError {
    Mock::given(method("POST"))
        .and(path("/api/v1/posts"))
        .respond_with(answer)
        .expect(1)
        .mount(server)
        .await;
    let access = secret("simat_1");
    adapter(server)
        .publish(
            &account(&access, None),
            &support::post("hello", &[], support::no_options()),
        )
        .await
        .expect_err("refused")
}

#[tokio::test]
async fn a_401_on_create_means_needs_reauth() {
    let server = MockServer::start().await;
    let err = publish_against(
        &server,
        ResponseTemplate::new(401)
            .insert_header("www-authenticate", r#"Bearer realm="platform-sim", error="invalid_token""#)
            .set_body_json(json!({"error": "invalid_token", "error_description": "the access token has been revoked"})),
    )
    .await;
    assert!(matches!(err, AdapterError::NeedsReauth { .. }), "{err:?}");
}

#[tokio::test]
async fn a_token_without_the_publish_scope_means_reconnect() {
    let server = MockServer::start().await;
    let err = publish_against(
        &server,
        ResponseTemplate::new(403)
            .set_body_json(json!({"error": "insufficient_scope", "error_description": "publish"})),
    )
    .await;
    assert!(
        matches!(&err, AdapterError::NeedsReauth { message } if message.contains("reconnect your sandbox account")),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_429_on_create_is_rate_limited_with_the_retry_after() {
    let server = MockServer::start().await;
    let err = publish_against(
        &server,
        ResponseTemplate::new(429)
            .insert_header("retry-after", "1")
            .set_body_json(
                json!({"error": "rate_limited", "error_description": "injected by platform-sim"}),
            ),
    )
    .await;
    assert_eq!(
        err,
        AdapterError::RateLimited {
            retry_after: Some(Duration::from_secs(1))
        }
    );
}

#[tokio::test]
async fn a_422_is_a_rejection_carrying_the_platforms_code_and_reason() {
    let server = MockServer::start().await;
    let err = publish_against(
        &server,
        ResponseTemplate::new(422).set_body_json(json!({
            "error": "text_too_long",
            "error_description": "text is 5001 characters long, the limit is 5000"
        })),
    )
    .await;
    assert_eq!(
        err,
        AdapterError::Rejected {
            code: "text_too_long".into(),
            message: "text is 5001 characters long, the limit is 5000".into(),
        }
    );
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn a_503_on_create_is_transient_since_the_sim_refused_before_storing_anything() {
    let server = MockServer::start().await;
    let err = publish_against(
        &server,
        ResponseTemplate::new(503).set_body_json(json!({"error": "temporarily_unavailable"})),
    )
    .await;
    assert!(err.is_retryable(), "{err:?}");
}

/// An adapter whose client gives up after 300 ms, against a platform that answers after 2 s.
fn impatient(server: &MockServer) -> SandboxAdapter {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .expect("client");
    SandboxAdapter::new(client, support::settings(server))
}

#[tokio::test]
async fn a_create_call_that_times_out_leaves_the_outcome_unknown() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/posts"))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(post_answer(&server, "42", "hello", &[]))
                .set_delay(Duration::from_secs(2)),
        )
        .expect(1)
        .mount(&server)
        .await;
    let access = secret("simat_1");
    let err = impatient(&server)
        .publish(
            &account(&access, None),
            &support::post("hello", &[], support::no_options()),
        )
        .await
        .expect_err("timed out");
    assert!(
        matches!(err, AdapterError::OutcomeUnknown { .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn an_upload_that_times_out_is_only_transient_and_no_post_is_attempted() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/media"))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(json!({"id": "17", "mime_type": "image/jpeg", "size": 1}))
                .set_delay(Duration::from_secs(2)),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v1/posts"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let media = [support::image(&server.uri())];
    let access = secret("simat_1");
    let err = impatient(&server)
        .publish(
            &account(&access, None),
            &support::post("hello", &media, support::no_options()),
        )
        .await
        .expect_err("timed out");
    assert!(matches!(err, AdapterError::Transient { .. }), "{err:?}");
}

#[tokio::test]
async fn a_refused_upload_is_rejected_with_the_reason_and_no_post_is_attempted() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/media"))
        .respond_with(ResponseTemplate::new(415).set_body_json(json!({
            "error": "unsupported_media_type",
            "error_description": "Content-Type must be one of image/jpeg, image/png"
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v1/posts"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let media = [support::video(&server.uri())];
    let access = secret("simat_1");
    let err = adapter(&server)
        .publish(
            &account(&access, None),
            &support::post("hello", &media, support::no_options()),
        )
        .await
        .expect_err("refused");
    assert!(
        matches!(&err, AdapterError::Rejected { code, message }
            if code == "unsupported_media_type" && message.starts_with("Content-Type must be")),
        "{err:?}"
    );
}

#[tokio::test]
async fn find_published_looks_the_post_up_by_its_idempotency_key() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/posts"))
        .and(query_param("idempotency_key", KEY))
        .and(header("authorization", "Bearer simat_1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([post_answer(
            &server,
            "42",
            "hello",
            &[]
        )])))
        .expect(1)
        .mount(&server)
        .await;
    let access = secret("simat_1");
    let found = adapter(&server)
        .find_published(
            &account(&access, None),
            &support::post("hello", &[], support::no_options()),
        )
        .await
        .expect("lookup");
    assert_eq!(
        found,
        Some(Published {
            platform_post_id: "42".into(),
            url: Some(format!("{}/u/alice/posts/42", server.uri())),
        })
    );
}

#[tokio::test]
async fn find_published_answers_none_when_no_post_carries_the_key() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/posts"))
        .and(query_param("idempotency_key", KEY))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .expect(1)
        .mount(&server)
        .await;
    let access = secret("simat_1");
    let found = adapter(&server)
        .find_published(
            &account(&access, None),
            &support::post("hello", &[], support::no_options()),
        )
        .await
        .expect("lookup");
    assert_eq!(found, None);
}

#[tokio::test]
async fn a_failed_lookup_is_an_error_never_a_none() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/posts"))
        .respond_with(
            ResponseTemplate::new(503).set_body_json(json!({"error": "temporarily_unavailable"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let access = secret("simat_1");
    let err = adapter(&server)
        .find_published(
            &account(&access, None),
            &support::post("hello", &[], support::no_options()),
        )
        .await
        .expect_err("503");
    assert!(matches!(err, AdapterError::Transient { .. }), "{err:?}");
}
