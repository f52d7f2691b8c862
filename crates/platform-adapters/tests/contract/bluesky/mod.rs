//! Bluesky: app-password sessions (`com.atproto.server.createSession`), profiles
//! (`app.bsky.actor.getProfile`), session deletion and publishing (`uploadBlob`, facets,
//! `createRecord` at a record key derived from the idempotency key, `getRecord`), against
//! fixtures shaped like the lexicons and the reference PDS's answers.

mod follow_ups;
mod replies;
mod richtext;

use std::time::Duration;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use domain::{AccountKind, AuthKind};
use platform_adapters::{
    platforms::bluesky::{self, BlueskyAdapter},
    AccountRef, AdapterError, AdapterSettings, AuthorizeParams, CodeExchange, PlatformAdapter,
    PublishRequest, Published, Revocation, TextCounting,
};
use secrecy::ExposeSecret;
use serde_json::{json, Value};
use wiremock::{
    matchers::{any, body_bytes, body_json, header, method, path, query_param},
    Mock, MockServer, Request, ResponseTemplate,
};

use crate::support::{endpoints, image, no_options, post, secret, video, REDIRECT_URI};

const DID: &str = "did:plc:z72i7hdynmk6r22z27h6tvur";
const HANDLE: &str = "alice.bsky.social";
const APP_PASSWORD: &str = "abcd-ef23-ghij-kl45";

fn adapter(server: &MockServer) -> BlueskyAdapter {
    // Bluesky needs no client credentials: the default service is all it takes.
    BlueskyAdapter::new(
        platform_adapters::http::client(),
        AdapterSettings {
            credentials: None,
            endpoints: endpoints(server),
        },
    )
}

/// An unsigned JWT with `claims`, shaped like the PDS's (ES256K header, base64url parts).
fn jwt(claims: &Value) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"typ":"at+jwt","alg":"ES256K"}"#);
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).expect("claims serialize"));
    format!("{header}.{payload}.c2lnbmF0dXJlLW5vdC1jaGVja2Vk")
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn access_jwt(scope: &str, exp: i64) -> String {
    jwt(
        &json!({"scope": scope, "sub": DID, "aud": "did:web:bsky.social", "iat": exp - 7200, "exp": exp}),
    )
}

fn refresh_jwt(exp: i64) -> String {
    jwt(
        &json!({"scope": "com.atproto.refresh", "sub": DID, "aud": "did:web:bsky.social", "jti": "8c5f0e6b", "iat": now(), "exp": exp}),
    )
}

/// `createSession` output as the reference PDS sends it.
fn session(access: &str, refresh: &str) -> Value {
    json!({
        "did": DID,
        "didDoc": {"id": DID, "alsoKnownAs": [format!("at://{HANDLE}")]},
        "handle": HANDLE,
        "email": "alice@example.com",
        "emailConfirmed": true,
        "emailAuthFactor": false,
        "accessJwt": access,
        "refreshJwt": refresh,
        "active": true
    })
}

/// `app.bsky.actor.defs#profileViewDetailed`.
fn profile_view() -> Value {
    json!({
        "did": DID,
        "handle": HANDLE,
        "displayName": "Alice",
        "description": "Writes about bridges.",
        "avatar": format!("https://cdn.bsky.app/img/avatar/plain/{DID}/bafkreihw5q@jpeg"),
        "banner": format!("https://cdn.bsky.app/img/banner/plain/{DID}/bafkreib7x@jpeg"),
        "followersCount": 1200,
        "followsCount": 310,
        "postsCount": 4821,
        "indexedAt": "2024-11-02T10:00:00.000Z",
        "createdAt": "2023-04-18T08:30:00.000Z",
        "labels": []
    })
}

fn xrpc_error(error: &str, message: &str) -> Value {
    json!({"error": error, "message": message})
}

fn account_ref<'a>(
    access: &'a secrecy::SecretString,
    refresh: Option<&'a secrecy::SecretString>,
    service: Option<&'a str>,
) -> AccountRef<'a> {
    AccountRef {
        platform_account_id: DID,
        access_token: access,
        refresh_token: refresh,
        instance_url: service,
    }
}

async fn mount_create_session(server: &MockServer, response: ResponseTemplate) {
    Mock::given(method("POST"))
        .and(path("/xrpc/com.atproto.server.createSession"))
        .and(header("content-type", "application/json"))
        .and(body_json(
            json!({"identifier": HANDLE, "password": APP_PASSWORD}),
        ))
        .respond_with(response)
        .expect(1)
        .mount(server)
        .await;
}

#[test]
fn descriptor_states_app_passwords_and_grapheme_limits() {
    let d = bluesky::descriptor();
    assert_eq!(d.auth_kind, AuthKind::AppPassword);
    assert_eq!(d.capabilities.text_limit, 300);
    assert_eq!(d.capabilities.text_counting, TextCounting::Graphemes);
    assert_eq!(d.capabilities.max_media, 4);
    assert_eq!(
        d.access_token_lifetime,
        Some(Duration::from_secs(2 * 60 * 60))
    );
    assert!(d.refresh_token_rotates);
    assert!(!d.pkce);
    assert_eq!(bluesky::default_endpoints().api_base, "https://bsky.social");
}

#[tokio::test]
async fn bluesky_creates_a_session_and_reads_the_profile() {
    let server = MockServer::start().await;
    let exp = now() + 7200;
    let refresh_exp = now() + 90 * 86_400;
    let (access, refresh) = (
        access_jwt("com.atproto.appPass", exp),
        refresh_jwt(refresh_exp),
    );
    mount_create_session(
        &server,
        ResponseTemplate::new(200).set_body_json(session(&access, &refresh)),
    )
    .await;
    Mock::given(method("GET"))
        .and(path("/xrpc/app.bsky.actor.getProfile"))
        .and(query_param("actor", DID))
        .and(header("authorization", format!("Bearer {access}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(profile_view()))
        .expect(1)
        .mount(&server)
        .await;

    let connection = adapter(&server)
        .create_session(HANDLE, &secret(APP_PASSWORD), None)
        .await
        .expect("session");

    let profile = &connection.profile;
    assert_eq!(profile.platform_account_id, DID);
    assert_eq!(profile.account_kind, Some(AccountKind::Profile));
    assert_eq!(profile.handle.as_deref(), Some(HANDLE));
    assert_eq!(profile.display_name.as_deref(), Some("Alice"));
    assert_eq!(
        profile.avatar_url.as_deref(),
        Some(format!("https://cdn.bsky.app/img/avatar/plain/{DID}/bafkreihw5q@jpeg").as_str())
    );
    assert_eq!(
        profile.profile_url.as_deref(),
        Some("https://bsky.app/profile/alice.bsky.social")
    );
    let stats = connection.stats.expect("stats read with the profile");
    assert_eq!(
        (
            stats.followers_count,
            stats.following_count,
            stats.posts_count
        ),
        (Some(1200), Some(310), Some(4821))
    );
    let tokens = &connection.tokens;
    assert_eq!(tokens.access_token.expose_secret(), access);
    assert_eq!(
        tokens
            .refresh_token
            .as_ref()
            .map(|t| t.expose_secret().to_owned()),
        Some(refresh)
    );
    assert_eq!(
        tokens.expires_at.map(|t| t.timestamp()),
        Some(exp),
        "expiry comes from the JWT's exp claim"
    );
    assert_eq!(
        tokens.refresh_expires_at.map(|t| t.timestamp()),
        Some(refresh_exp)
    );
    assert_eq!(tokens.scopes, vec!["com.atproto.appPass".to_owned()]);
}

#[tokio::test]
async fn an_unreadable_jwt_expires_after_the_documented_two_hours() {
    let server = MockServer::start().await;
    mount_create_session(
        &server,
        ResponseTemplate::new(200).set_body_json(session("opaque-access", "opaque-refresh")),
    )
    .await;
    Mock::given(method("GET"))
        .and(path("/xrpc/app.bsky.actor.getProfile"))
        .and(query_param("actor", DID))
        .and(header("authorization", "Bearer opaque-access"))
        .respond_with(ResponseTemplate::new(200).set_body_json(profile_view()))
        .expect(1)
        .mount(&server)
        .await;

    let before = now();
    let connection = adapter(&server)
        .create_session(HANDLE, &secret(APP_PASSWORD), None)
        .await
        .expect("session");

    let expires = connection
        .tokens
        .expires_at
        .expect("an expiry, never 'does not expire'")
        .timestamp();
    assert!(
        (before + 7200..=now() + 7200).contains(&expires),
        "expires at {expires}, connected at {before}"
    );
    assert!(connection.tokens.scopes.is_empty());
}

#[tokio::test]
async fn main_password_is_rejected_with_a_clear_message() {
    let server = MockServer::start().await;
    // Nothing may reach the PDS: a main password is refused before it leaves the process.
    Mock::given(any())
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;

    let err = adapter(&server)
        .create_session(HANDLE, &secret("my main password 123"), None)
        .await
        .expect_err("refused");

    let AdapterError::Rejected { code, message } = err else {
        panic!("expected a rejection, got {err:?}")
    };
    assert_eq!(code, "app_password_required");
    assert!(
        message.contains("app password") && message.contains("Settings → App passwords"),
        "{message}"
    );
}

#[tokio::test]
async fn an_email_sign_in_code_request_means_a_main_password_was_used() {
    let server = MockServer::start().await;
    // What the PDS answers a main-password login of an account with email 2FA.
    let body = xrpc_error(
        "AuthFactorTokenRequired",
        "A sign in code has been sent to your email address",
    );
    mount_create_session(&server, ResponseTemplate::new(401).set_body_json(body)).await;

    let err = adapter(&server)
        .create_session(HANDLE, &secret(APP_PASSWORD), None)
        .await
        .expect_err("refused");

    assert!(
        matches!(&err, AdapterError::Rejected { code, .. } if code == "app_password_required"),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_full_access_session_is_deleted_and_rejected() {
    let server = MockServer::start().await;
    let refresh = refresh_jwt(now() + 90 * 86_400);
    // A main password that happens to look like an app password yields full-access scope.
    let session = session(&access_jwt("com.atproto.access", now() + 7200), &refresh);
    mount_create_session(&server, ResponseTemplate::new(200).set_body_json(session)).await;
    Mock::given(method("POST"))
        .and(path("/xrpc/com.atproto.server.deleteSession"))
        .and(header(
            "authorization",
            format!("Bearer {refresh}").as_str(),
        ))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;

    let err = adapter(&server)
        .create_session(HANDLE, &secret(APP_PASSWORD), None)
        .await
        .expect_err("refused");

    assert!(
        matches!(&err, AdapterError::Rejected { code, .. } if code == "app_password_required"),
        "{err:?}"
    );
}

#[tokio::test]
async fn wrong_password_is_invalid_credentials() {
    let server = MockServer::start().await;
    let body = xrpc_error("AuthenticationRequired", "Invalid identifier or password");
    mount_create_session(&server, ResponseTemplate::new(401).set_body_json(body)).await;

    let err = adapter(&server)
        .create_session(HANDLE, &secret(APP_PASSWORD), None)
        .await
        .expect_err("refused");

    // Not NeedsReauth: the user is right there and typed it wrong.
    assert!(
        matches!(&err, AdapterError::Rejected { code, .. } if code == "invalid_credentials"),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_taken_down_account_cannot_connect() {
    let server = MockServer::start().await;
    let body = xrpc_error("AccountTakedown", "Account has been taken down");
    mount_create_session(&server, ResponseTemplate::new(401).set_body_json(body)).await;

    let err = adapter(&server)
        .create_session(HANDLE, &secret(APP_PASSWORD), None)
        .await
        .expect_err("refused");

    assert!(
        matches!(&err, AdapterError::Rejected { code, .. } if code == "account_takedown"),
        "{err:?}"
    );
}

#[tokio::test]
async fn plain_http_services_are_refused_when_the_default_service_is_https() {
    let production = BlueskyAdapter::new(
        platform_adapters::http::client(),
        AdapterSettings {
            credentials: None,
            endpoints: bluesky::default_endpoints(),
        },
    );
    for service in [
        "http://pds.example",
        "https://pds.example/xrpc",
        "https://user:pw@pds.example",
        "ftp://pds.example",
        "https://pds.example/?a=b",
    ] {
        let err = production
            .create_session(HANDLE, &secret(APP_PASSWORD), Some(service))
            .await
            .expect_err(service);
        assert!(
            matches!(&err, AdapterError::Rejected { code, .. } if code == "invalid_service"),
            "{service}: {err:?}"
        );
    }
    assert_eq!(
        production
            .service_origin(Some("pds.example"))
            .expect("bare host"),
        "https://pds.example"
    );
    assert_eq!(
        production
            .service_origin(Some("https://PDS.example:8443/"))
            .expect("origin"),
        "https://pds.example:8443"
    );
    assert_eq!(
        production.service_origin(None).expect("default"),
        "https://bsky.social"
    );
}

#[tokio::test]
async fn expired_token_means_needs_reauth() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/xrpc/app.bsky.actor.getProfile"))
        .and(query_param("actor", DID))
        .and(header("authorization", "Bearer stale-access"))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_json(xrpc_error("ExpiredToken", "Token has expired")),
        )
        .expect(1)
        .mount(&server)
        .await;
    let access = secret("stale-access");

    let err = adapter(&server)
        .profile(&account_ref(&access, None, None))
        .await
        .expect_err("expired");

    assert!(
        matches!(&err, AdapterError::NeedsReauth { message } if message.contains("ExpiredToken")),
        "{err:?}"
    );
}

#[tokio::test]
async fn profile_and_stats_go_to_the_accounts_own_service() {
    let default_service = MockServer::start().await;
    let own_pds = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&default_service)
        .await;
    Mock::given(method("GET"))
        .and(path("/xrpc/app.bsky.actor.getProfile"))
        .and(query_param("actor", DID))
        .and(header("authorization", "Bearer access"))
        .respond_with(ResponseTemplate::new(200).set_body_json(profile_view()))
        .expect(2)
        .mount(&own_pds)
        .await;
    let access = secret("access");
    let service = own_pds.uri();
    let account = account_ref(&access, None, Some(&service));
    let adapter = adapter(&default_service);

    let profile = adapter.profile(&account).await.expect("profile");
    let stats = adapter.stats(&account).await.expect("stats");

    assert_eq!(profile.platform_account_id, DID);
    assert_eq!(profile.handle.as_deref(), Some(HANDLE));
    assert_eq!(
        (
            stats.followers_count,
            stats.following_count,
            stats.posts_count
        ),
        (Some(1200), Some(310), Some(4821))
    );
}

#[tokio::test]
async fn a_profile_sync_reads_profile_and_counts_with_one_get_profile_call() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/xrpc/app.bsky.actor.getProfile"))
        .and(query_param("actor", DID))
        .and(header("authorization", "Bearer access"))
        .respond_with(ResponseTemplate::new(200).set_body_json(profile_view()))
        .expect(1)
        .mount(&server)
        .await;
    let access = secret("access");

    let (profile, stats) = adapter(&server)
        .profile_and_stats(&account_ref(&access, None, None))
        .await
        .expect("profile and stats");

    assert_eq!(profile.handle.as_deref(), Some(HANDLE));
    assert_eq!(stats.posts_count, Some(4821));
    let calls = server.received_requests().await.expect("recorded").len();
    assert_eq!(calls, 1, "one getProfile per sync");
}

#[tokio::test]
async fn rate_limited_reads_wait_until_the_rate_limit_reset() {
    let server = MockServer::start().await;
    let reset = now() + 30;
    Mock::given(method("GET"))
        .and(path("/xrpc/app.bsky.actor.getProfile"))
        .and(query_param("actor", DID))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("ratelimit-limit", "3000")
                .insert_header("ratelimit-remaining", "0")
                .insert_header("ratelimit-reset", reset.to_string().as_str())
                .insert_header("ratelimit-policy", "3000;w=300")
                .set_body_json(xrpc_error("RateLimitExceeded", "Rate Limit Exceeded")),
        )
        .expect(1)
        .mount(&server)
        .await;
    let access = secret("access");

    let err = adapter(&server)
        .stats(&account_ref(&access, None, None))
        .await
        .expect_err("rate limited");

    let AdapterError::RateLimited {
        retry_after: Some(wait),
    } = err
    else {
        panic!("expected a wait, got {err:?}")
    };
    assert!(
        (Duration::from_secs(28)..=Duration::from_secs(30)).contains(&wait),
        "{wait:?}"
    );
}

#[tokio::test]
async fn retry_after_is_honoured_on_a_429() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/xrpc/app.bsky.actor.getProfile"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "42")
                .set_body_json(xrpc_error("RateLimitExceeded", "Rate Limit Exceeded")),
        )
        .expect(1)
        .mount(&server)
        .await;
    let access = secret("access");

    let err = adapter(&server)
        .profile(&account_ref(&access, None, None))
        .await
        .expect_err("rate limited");

    assert_eq!(
        err,
        AdapterError::RateLimited {
            retry_after: Some(Duration::from_secs(42))
        }
    );
}

#[tokio::test]
async fn server_errors_are_transient() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/xrpc/app.bsky.actor.getProfile"))
        .respond_with(ResponseTemplate::new(502).set_body_string("<html>bad gateway</html>"))
        .expect(1)
        .mount(&server)
        .await;
    let access = secret("access");

    let err = adapter(&server)
        .profile(&account_ref(&access, None, None))
        .await
        .expect_err("down");

    assert!(
        matches!(&err, AdapterError::Transient { message } if message.contains("502")),
        "{err:?}"
    );
    assert!(err.is_retryable());
}

#[tokio::test]
async fn revoke_deletes_the_session_with_the_refresh_token() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/xrpc/com.atproto.server.deleteSession"))
        .and(header("authorization", "Bearer the-refresh-jwt"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    let (access, refresh) = (secret("the-access-jwt"), secret("the-refresh-jwt"));

    let revocation = adapter(&server)
        .revoke(&account_ref(&access, Some(&refresh), None))
        .await
        .expect("revoked");

    assert_eq!(revocation, Revocation::Revoked);
}

#[tokio::test]
async fn revoking_an_already_expired_session_succeeds() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/xrpc/com.atproto.server.deleteSession"))
        .and(header("authorization", "Bearer old-refresh"))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_json(xrpc_error("ExpiredToken", "Token has expired")),
        )
        .expect(1)
        .mount(&server)
        .await;
    let (access, refresh) = (secret("old-access"), secret("old-refresh"));

    let revocation = adapter(&server)
        .revoke(&account_ref(&access, Some(&refresh), None))
        .await
        .expect("already gone");

    assert_eq!(revocation, Revocation::Revoked);
}

#[tokio::test]
async fn oauth_entry_points_are_unsupported() {
    let server = MockServer::start().await;
    let adapter = adapter(&server);
    let params = AuthorizeParams {
        state: "s",
        pkce_challenge: None,
        redirect_uri: REDIRECT_URI,
    };
    let exchange = CodeExchange {
        code: "c",
        pkce_verifier: None,
        redirect_uri: REDIRECT_URI,
    };

    assert!(matches!(
        adapter.authorize_url(&params),
        Err(AdapterError::Unsupported { .. })
    ));
    assert!(matches!(
        adapter.exchange_code(&exchange).await,
        Err(AdapterError::Unsupported { .. })
    ));
}

/// `com.atproto.server.refreshSession` output as the reference PDS sends it (the lexicon's
/// required `accessJwt`, `refreshJwt`, `handle`, `did`, plus `didDoc` and `active`).
fn refreshed(access: &str, refresh: &str) -> Value {
    json!({
        "accessJwt": access,
        "refreshJwt": refresh,
        "handle": HANDLE,
        "did": DID,
        "didDoc": {"id": DID, "alsoKnownAs": [format!("at://{HANDLE}")]},
        "active": true
    })
}

async fn mount_refresh_session(server: &MockServer, refresh_jwt: &str, response: ResponseTemplate) {
    Mock::given(method("POST"))
        .and(path("/xrpc/com.atproto.server.refreshSession"))
        .and(header(
            "authorization",
            format!("Bearer {refresh_jwt}").as_str(),
        ))
        .respond_with(response)
        .expect(1)
        .mount(server)
        .await;
}

#[tokio::test]
async fn bluesky_refresh_session_rotates_the_refresh_jwt() {
    let server = MockServer::start().await;
    let old_refresh = refresh_jwt(now() + 86_400);
    let exp = now() + 7200;
    let refresh_exp = now() + 90 * 86_400;
    let (access, refresh) = (
        access_jwt("com.atproto.appPass", exp),
        refresh_jwt(refresh_exp),
    );
    mount_refresh_session(
        &server,
        &old_refresh,
        ResponseTemplate::new(200).set_body_json(refreshed(&access, &refresh)),
    )
    .await;
    let (stale_access, stored_refresh) = (secret("stale-access"), secret(&old_refresh));

    let tokens = adapter(&server)
        .refresh(&account_ref(&stale_access, Some(&stored_refresh), None))
        .await
        .expect("refreshed");

    assert_eq!(tokens.access_token.expose_secret(), access);
    assert_eq!(
        tokens
            .refresh_token
            .as_ref()
            .map(|t| t.expose_secret().to_owned()),
        Some(refresh),
        "the new refresh JWT replaces the spent one"
    );
    assert_eq!(
        tokens.expires_at.map(|t| t.timestamp()),
        Some(exp),
        "expiry comes from the new access JWT's exp claim"
    );
    assert_eq!(
        tokens.refresh_expires_at.map(|t| t.timestamp()),
        Some(refresh_exp)
    );
    assert_eq!(tokens.scopes, vec!["com.atproto.appPass".to_owned()]);
}

#[tokio::test]
async fn a_refresh_goes_to_the_accounts_own_service() {
    let default_service = MockServer::start().await;
    let own_pds = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&default_service)
        .await;
    let access = access_jwt("com.atproto.appPass", now() + 7200);
    let refresh = refresh_jwt(now() + 86_400);
    mount_refresh_session(
        &own_pds,
        "own-refresh",
        ResponseTemplate::new(200).set_body_json(refreshed(&access, &refresh)),
    )
    .await;
    let (stale_access, stored_refresh) = (secret("stale-access"), secret("own-refresh"));
    let service = format!("{}/", own_pds.uri());

    let tokens = adapter(&default_service)
        .refresh(&account_ref(
            &stale_access,
            Some(&stored_refresh),
            Some(&service),
        ))
        .await
        .expect("refreshed");

    assert_eq!(tokens.access_token.expose_secret(), access);
}

#[tokio::test]
async fn an_unreadable_refreshed_jwt_expires_after_the_documented_two_hours() {
    let server = MockServer::start().await;
    mount_refresh_session(
        &server,
        "old-refresh",
        ResponseTemplate::new(200).set_body_json(refreshed("opaque-access", "opaque-refresh")),
    )
    .await;
    let (stale_access, stored_refresh) = (secret("stale-access"), secret("old-refresh"));

    let before = now();
    let tokens = adapter(&server)
        .refresh(&account_ref(&stale_access, Some(&stored_refresh), None))
        .await
        .expect("refreshed");

    let expires = tokens
        .expires_at
        .expect("an expiry, never 'does not expire'")
        .timestamp();
    assert!(
        (before + 7200..=now() + 7200).contains(&expires),
        "expires at {expires}, refreshed at {before}"
    );
    assert_eq!(tokens.refresh_expires_at, None);
}

#[tokio::test]
async fn an_expired_or_invalid_refresh_jwt_means_reconnecting() {
    let server = MockServer::start().await;
    mount_refresh_session(
        &server,
        "expired-refresh",
        ResponseTemplate::new(400).set_body_json(xrpc_error("ExpiredToken", "Token has expired")),
    )
    .await;
    mount_refresh_session(
        &server,
        "not-a-refresh-jwt",
        ResponseTemplate::new(401).set_body_json(xrpc_error("InvalidToken", "Invalid token type")),
    )
    .await;
    let adapter = adapter(&server);
    let access = secret("stale-access");

    for (stored, name) in [
        ("expired-refresh", "ExpiredToken"),
        ("not-a-refresh-jwt", "InvalidToken"),
    ] {
        let refresh = secret(stored);
        let err = adapter
            .refresh(&account_ref(&access, Some(&refresh), None))
            .await
            .expect_err("refused");
        assert!(
            matches!(&err, AdapterError::NeedsReauth { message }
                if message.contains("reconnect your Bluesky account") && message.contains(name)),
            "{err:?}"
        );
        assert!(!err.to_string().contains(stored));
    }
}

#[tokio::test]
async fn a_bluesky_account_without_a_refresh_jwt_must_reconnect_and_nothing_is_called() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let access = secret("stale-access");

    let err = adapter(&server)
        .refresh(&account_ref(&access, None, None))
        .await
        .expect_err("no refresh JWT");

    assert!(
        matches!(&err, AdapterError::NeedsReauth { message } if message.contains("reconnect your Bluesky account")),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_taken_down_account_cannot_refresh_and_reconnecting_is_not_offered() {
    let server = MockServer::start().await;
    mount_refresh_session(
        &server,
        "old-refresh",
        ResponseTemplate::new(400)
            .set_body_json(xrpc_error("AccountTakedown", "Account has been taken down")),
    )
    .await;
    let (access, refresh) = (secret("stale-access"), secret("old-refresh"));

    let err = adapter(&server)
        .refresh(&account_ref(&access, Some(&refresh), None))
        .await
        .expect_err("taken down");

    assert!(
        matches!(&err, AdapterError::Rejected { code, .. } if code == "account_takedown"),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_rate_limited_refresh_waits_for_the_retry_after() {
    let server = MockServer::start().await;
    mount_refresh_session(
        &server,
        "old-refresh",
        ResponseTemplate::new(429)
            .insert_header("retry-after", "17")
            .set_body_json(xrpc_error("RateLimitExceeded", "Rate Limit Exceeded")),
    )
    .await;
    let (access, refresh) = (secret("stale-access"), secret("old-refresh"));

    let err = adapter(&server)
        .refresh(&account_ref(&access, Some(&refresh), None))
        .await
        .expect_err("rate limited");

    assert_eq!(
        err,
        AdapterError::RateLimited {
            retry_after: Some(Duration::from_secs(17))
        }
    );
}

#[tokio::test]
async fn a_pds_server_error_on_refresh_is_transient() {
    let server = MockServer::start().await;
    mount_refresh_session(
        &server,
        "old-refresh",
        ResponseTemplate::new(503).set_body_string("<html>maintenance</html>"),
    )
    .await;
    let (access, refresh) = (secret("stale-access"), secret("old-refresh"));

    let err = adapter(&server)
        .refresh(&account_ref(&access, Some(&refresh), None))
        .await
        .expect_err("down");

    assert!(
        matches!(&err, AdapterError::Transient { message } if message.contains("503")),
        "{err:?}"
    );
    assert!(err.is_retryable());
}

// Publishing.

/// The key `support::post` publishes with, and the record key every attempt derives from it
/// and the target's creation time (`support::target_created_at`).
const KEY: &str = "0b7c6a3e-5f1d-4c2b-9a8e-7d6f5e4c3b2a";
const RKEY: &str = "3m732f6jnm2ov";

fn post_uri(rkey: &str) -> String {
    format!("at://{DID}/app.bsky.feed.post/{rkey}")
}

fn post_url(rkey: &str) -> String {
    format!("https://bsky.app/profile/{DID}/post/{rkey}")
}

/// `com.atproto.repo.createRecord` output as the reference PDS sends it.
fn created(rkey: &str) -> Value {
    json!({
        "uri": post_uri(rkey),
        "cid": "bafyreibjifzpqj6o6wcq3hejh7y4z4z2vmiklkvykc57tw3pcbx3kxifpm",
        "commit": {"cid": "bafyreihd6wqgmbndw4zrxfmnwhdwvgkqc5qaxx3mdgfkrq6nyifvvcrv2i", "rev": "3lbwf2gaqvk2a"},
        "validationStatus": "valid"
    })
}

/// `com.atproto.repo.getRecord` output.
fn record_view(rkey: &str, text: &str) -> Value {
    json!({
        "uri": post_uri(rkey),
        "cid": "bafyreibjifzpqj6o6wcq3hejh7y4z4z2vmiklkvykc57tw3pcbx3kxifpm",
        "value": {"$type": "app.bsky.feed.post", "text": text, "createdAt": "2024-11-22T06:29:00.000Z"}
    })
}

/// A blob reference as `uploadBlob` answers it.
fn blob(link: &str, mime: &str, size: usize) -> Value {
    json!({"$type": "blob", "ref": {"$link": link}, "mimeType": mime, "size": size})
}

async fn mount_create_record(server: &MockServer, response: ResponseTemplate, times: u64) {
    Mock::given(method("POST"))
        .and(path("/xrpc/com.atproto.repo.createRecord"))
        .and(header("authorization", "Bearer access-jwt"))
        .and(header("content-type", "application/json"))
        .respond_with(response)
        .expect(times)
        .mount(server)
        .await;
}

async fn mount_get_record(server: &MockServer, response: ResponseTemplate, times: u64) {
    Mock::given(method("GET"))
        .and(path("/xrpc/com.atproto.repo.getRecord"))
        .and(query_param("repo", DID))
        .and(query_param("collection", "app.bsky.feed.post"))
        .and(query_param("rkey", RKEY))
        .and(header("authorization", "Bearer access-jwt"))
        .respond_with(response)
        .expect(times)
        .mount(server)
        .await;
}

/// The JSON body of the one `createRecord` the server received.
async fn create_record_body(server: &MockServer) -> Value {
    let requests: Vec<Request> = server.received_requests().await.expect("recording");
    let creates: Vec<&Request> = requests
        .iter()
        .filter(|r| r.url.path() == "/xrpc/com.atproto.repo.createRecord")
        .collect();
    assert_eq!(creates.len(), 1, "one createRecord");
    serde_json::from_slice(&creates[0].body).expect("a JSON body")
}

async fn publish(
    server: &MockServer,
    request: &PublishRequest<'_>,
) -> Result<Published, AdapterError> {
    let access = secret("access-jwt");
    let service = server.uri();
    adapter(server)
        .publish(&account_ref(&access, None, Some(&service)), request)
        .await
}

/// The TID syntax of atproto.com/specs/tid, checked independently of the adapter's own check.
fn is_tid(candidate: &str) -> bool {
    const ALPHABET: &str = "234567abcdefghijklmnopqrstuvwxyz";
    candidate.len() == 13
        && candidate.chars().all(|c| ALPHABET.contains(c))
        && candidate.starts_with(|c: char| "234567abcdefghij".contains(c))
}

#[test]
fn record_keys_are_tids_derived_deterministically_from_the_target() {
    // Pinned: a change would give posts still being retried a new key, and a second post.
    let created_at = crate::support::target_created_at();
    assert_eq!(bluesky::record_key(created_at, KEY), RKEY);
    assert_eq!(bluesky::record_key(created_at, &KEY.to_uppercase()), RKEY);
    assert!(is_tid(RKEY) && bluesky::is_valid_tid(RKEY));
    assert_ne!(
        bluesky::record_key(created_at, "9f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f"),
        RKEY
    );
}

#[tokio::test]
async fn a_text_post_is_created_at_the_derived_record_key() {
    let server = MockServer::start().await;
    mount_create_record(
        &server,
        ResponseTemplate::new(200).set_body_json(created(RKEY)),
        1,
    )
    .await;

    let published = publish(&server, &post("Hello from Postbridge", &[], no_options()))
        .await
        .expect("published");

    assert_eq!(
        published,
        Published {
            platform_post_id: post_uri(RKEY),
            url: Some(post_url(RKEY)),
        }
    );
    let body = create_record_body(&server).await;
    assert_eq!(body["repo"], DID);
    assert_eq!(body["collection"], "app.bsky.feed.post");
    assert_eq!(body["rkey"], RKEY);
    let record = &body["record"];
    assert_eq!(record["$type"], "app.bsky.feed.post");
    assert_eq!(record["text"], "Hello from Postbridge");
    let created_at = record["createdAt"].as_str().expect("createdAt");
    assert!(
        chrono::DateTime::parse_from_rfc3339(created_at).is_ok() && created_at.ends_with('Z'),
        "{created_at}"
    );
    assert!(
        record.get("facets").is_none() && record.get("embed").is_none(),
        "{record}"
    );
}

#[tokio::test]
async fn every_attempt_of_a_post_writes_the_same_record_key_and_other_posts_another() {
    let server = MockServer::start().await;
    mount_create_record(
        &server,
        ResponseTemplate::new(200).set_body_json(created(RKEY)),
        3,
    )
    .await;
    let first = post("one", &[], no_options());
    let other = PublishRequest {
        idempotency_key: "9f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f",
        ..first
    };

    for request in [&first, &first, &other] {
        publish(&server, request).await.expect("published");
    }

    let rkeys: Vec<Value> = server
        .received_requests()
        .await
        .expect("recording")
        .iter()
        .map(|r| serde_json::from_slice::<Value>(&r.body).expect("JSON")["rkey"].clone())
        .collect();
    assert_eq!(rkeys[0], RKEY);
    assert_eq!(rkeys[1], RKEY);
    assert_ne!(rkeys[2], RKEY);
    assert!(is_tid(rkeys[2].as_str().expect("a string")));
}

#[tokio::test]
async fn links_and_resolved_mentions_become_facets_at_utf8_byte_offsets() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/xrpc/com.atproto.identity.resolveHandle"))
        .and(query_param("handle", "alice.bsky.social"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"did": "did:plc:alice4mention"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/xrpc/com.atproto.identity.resolveHandle"))
        .and(query_param("handle", "ghost.example.com"))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_json(xrpc_error("InvalidRequest", "Unable to resolve handle")),
        )
        .expect(1)
        .mount(&server)
        .await;
    mount_create_record(
        &server,
        ResponseTemplate::new(200).set_body_json(created(RKEY)),
        1,
    )
    .await;
    // "ü", "ß" and "ö" take two bytes each and the emoji four: byte offsets run ahead of
    // character offsets (the link starts at character 26 but byte 32).
    let text = "Grüße aus Köln 🎉 Details: https://example.com/launch?ref=bsky. \
                Danke @alice.bsky.social und @ghost.example.com!";

    publish(&server, &post(text, &[], no_options()))
        .await
        .expect("published");

    let body = create_record_body(&server).await;
    assert_eq!(body["record"]["text"], text);
    assert_eq!(
        body["record"]["facets"],
        json!([
            {
                "index": {"byteStart": 32, "byteEnd": 67},
                "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://example.com/launch?ref=bsky"}]
            },
            {
                "index": {"byteStart": 75, "byteEnd": 93},
                "features": [{"$type": "app.bsky.richtext.facet#mention", "did": "did:plc:alice4mention"}]
            }
        ])
    );
    let bytes = text.as_bytes();
    assert_eq!(&bytes[32..67], b"https://example.com/launch?ref=bsky");
    assert_eq!(&bytes[75..93], b"@alice.bsky.social");
}

#[tokio::test]
async fn a_failing_handle_resolution_holds_the_post_back_rather_than_dropping_the_mention() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/xrpc/com.atproto.identity.resolveHandle"))
        .respond_with(
            ResponseTemplate::new(502)
                .set_body_json(xrpc_error("UpstreamFailure", "Upstream Failure")),
        )
        .expect(1)
        .mount(&server)
        .await;
    mount_create_record(&server, ResponseTemplate::new(200), 0).await;

    let err = publish(&server, &post("hi @alice.bsky.social", &[], no_options()))
        .await
        .expect_err("held back");

    assert!(matches!(err, AdapterError::Transient { .. }), "{err:?}");
}

#[tokio::test]
async fn two_images_are_uploaded_as_blobs_and_embedded_with_alt_text_and_aspect_ratio() {
    let server = MockServer::start().await;
    let first = image(&server.uri());
    let mut second = image(&server.uri());
    second.mime_type = "image/png".into();
    second.bytes = bytes::Bytes::from_static(b"\x89PNG\r\n\x1a\n fake png bytes");
    second.alt_text = None;
    second.width = Some(1200);
    second.height = Some(800);
    let first_blob = blob(
        "bafkreibabalobzn6cd366ukcsjycp4yymjymgfxcv6xczmlgpemzkz3cfa",
        "image/jpeg",
        first.bytes.len(),
    );
    let second_blob = blob(
        "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy",
        "image/png",
        second.bytes.len(),
    );
    for (item, mime, uploaded) in [
        (&first, "image/jpeg", &first_blob),
        (&second, "image/png", &second_blob),
    ] {
        Mock::given(method("POST"))
            .and(path("/xrpc/com.atproto.repo.uploadBlob"))
            .and(header("authorization", "Bearer access-jwt"))
            .and(header("content-type", mime))
            .and(body_bytes(item.bytes.to_vec()))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"blob": uploaded})))
            .expect(1)
            .mount(&server)
            .await;
    }
    mount_create_record(
        &server,
        ResponseTemplate::new(200).set_body_json(created(RKEY)),
        1,
    )
    .await;
    let media = [first, second];

    let published = publish(&server, &post("two pictures", &media, no_options()))
        .await
        .expect("published");

    assert_eq!(published.platform_post_id, post_uri(RKEY));
    let body = create_record_body(&server).await;
    assert_eq!(
        body["record"]["embed"],
        json!({
            "$type": "app.bsky.embed.images",
            "images": [
                {"alt": "a test picture", "image": first_blob, "aspectRatio": {"width": 1080, "height": 1080}},
                {"alt": "", "image": second_blob, "aspectRatio": {"width": 1200, "height": 800}}
            ]
        })
    );
}

#[tokio::test]
async fn videos_too_many_images_and_oversized_images_are_refused_before_any_request() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&server)
        .await;
    let base = server.uri();
    let mut large = image(&base);
    large.bytes = bytes::Bytes::from(vec![0u8; 1_000_001]);
    let five = [
        image(&base),
        image(&base),
        image(&base),
        image(&base),
        image(&base),
    ];

    for (media, expected) in [
        (vec![video(&base)], "unsupported_media"),
        (five.to_vec(), "too_many_media"),
        (vec![large], "media_too_large"),
    ] {
        let err = publish(&server, &post("media", &media, no_options()))
            .await
            .expect_err("refused");
        assert!(
            matches!(&err, AdapterError::Rejected { code, .. } if code == expected),
            "{err:?}"
        );
    }
}

#[tokio::test]
async fn a_create_refused_because_the_record_exists_is_answered_from_the_existing_record() {
    let server = MockServer::start().await;
    // The reference PDS refuses a create at a taken key with an untyped error, which XRPC
    // answers as a bare 500.
    mount_create_record(
        &server,
        ResponseTemplate::new(500)
            .set_body_json(xrpc_error("InternalServerError", "Internal Server Error")),
        1,
    )
    .await;
    mount_get_record(
        &server,
        ResponseTemplate::new(200).set_body_json(record_view(RKEY, "again")),
        1,
    )
    .await;

    let published = publish(&server, &post("again", &[], no_options()))
        .await
        .expect("the earlier attempt's post");

    assert_eq!(
        published,
        Published {
            platform_post_id: post_uri(RKEY),
            url: Some(post_url(RKEY)),
        }
    );
}

#[tokio::test]
async fn a_create_saying_the_record_already_exists_is_answered_from_the_existing_record() {
    let server = MockServer::start().await;
    mount_create_record(
        &server,
        ResponseTemplate::new(400).set_body_json(xrpc_error(
            "InvalidRequest",
            &format!("Record already exists: {}", post_uri(RKEY)),
        )),
        1,
    )
    .await;
    mount_get_record(
        &server,
        ResponseTemplate::new(200).set_body_json(record_view(RKEY, "again")),
        1,
    )
    .await;

    let published = publish(&server, &post("again", &[], no_options()))
        .await
        .expect("the earlier attempt's post");

    assert_eq!(published.platform_post_id, post_uri(RKEY));
}

#[tokio::test]
async fn a_server_error_with_no_record_at_the_key_stays_transient() {
    let server = MockServer::start().await;
    mount_create_record(
        &server,
        ResponseTemplate::new(502).set_body_json(xrpc_error("UpstreamFailure", "Upstream Failure")),
        1,
    )
    .await;
    mount_get_record(
        &server,
        ResponseTemplate::new(400).set_body_json(xrpc_error(
            "RecordNotFound",
            &format!("Could not locate record: {}", post_uri(RKEY)),
        )),
        1,
    )
    .await;

    let err = publish(&server, &post("hello", &[], no_options()))
        .await
        .expect_err("not created");

    assert!(
        matches!(&err, AdapterError::Transient { message } if message.contains("502")),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_rejected_record_is_not_looked_up() {
    let server = MockServer::start().await;
    mount_create_record(
        &server,
        ResponseTemplate::new(400).set_body_json(xrpc_error(
            "InvalidRequest",
            "Invalid app.bsky.feed.post record: Record/text must not be longer than 300 graphemes",
        )),
        1,
    )
    .await;
    mount_get_record(&server, ResponseTemplate::new(200), 0).await;

    let err = publish(&server, &post("too long", &[], no_options()))
        .await
        .expect_err("rejected");

    assert!(
        matches!(&err, AdapterError::Rejected { message, .. } if message.contains("300 graphemes")),
        "{err:?}"
    );
}

#[tokio::test]
async fn find_published_answers_the_record_at_the_derived_key() {
    let server = MockServer::start().await;
    mount_get_record(
        &server,
        ResponseTemplate::new(200).set_body_json(record_view(RKEY, "hello")),
        1,
    )
    .await;
    let access = secret("access-jwt");
    let service = server.uri();

    let found = adapter(&server)
        .find_published(
            &account_ref(&access, None, Some(&service)),
            &post("hello", &[], no_options()),
        )
        .await
        .expect("looked up");

    assert_eq!(
        found,
        Some(Published {
            platform_post_id: post_uri(RKEY),
            url: Some(post_url(RKEY)),
        })
    );
}

#[tokio::test]
async fn find_published_is_none_when_the_record_is_not_found() {
    let server = MockServer::start().await;
    mount_get_record(
        &server,
        ResponseTemplate::new(400).set_body_json(xrpc_error(
            "RecordNotFound",
            &format!("Could not locate record: {}", post_uri(RKEY)),
        )),
        1,
    )
    .await;
    let access = secret("access-jwt");
    let service = server.uri();

    let found = adapter(&server)
        .find_published(
            &account_ref(&access, None, Some(&service)),
            &post("hello", &[], no_options()),
        )
        .await
        .expect("looked up");

    assert_eq!(found, None);
}

#[tokio::test]
async fn an_expired_token_on_publish_means_needs_reauth() {
    let server = MockServer::start().await;
    mount_create_record(
        &server,
        ResponseTemplate::new(400).set_body_json(xrpc_error("ExpiredToken", "Token has expired")),
        1,
    )
    .await;
    mount_get_record(&server, ResponseTemplate::new(200), 0).await;

    let err = publish(&server, &post("hello", &[], no_options()))
        .await
        .expect_err("expired");

    assert!(
        matches!(&err, AdapterError::NeedsReauth { message } if message.contains("ExpiredToken")),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_rate_limited_publish_waits_until_the_rate_limit_reset() {
    let server = MockServer::start().await;
    let reset = (now() + 300).to_string();
    mount_create_record(
        &server,
        ResponseTemplate::new(429)
            .insert_header("ratelimit-limit", "5000")
            .insert_header("ratelimit-remaining", "0")
            .insert_header("ratelimit-reset", reset.as_str())
            .insert_header("ratelimit-policy", "5000;w=3600")
            .set_body_json(xrpc_error("RateLimitExceeded", "Rate Limit Exceeded")),
        1,
    )
    .await;

    let err = publish(&server, &post("hello", &[], no_options()))
        .await
        .expect_err("rate limited");

    let AdapterError::RateLimited {
        retry_after: Some(wait),
    } = err
    else {
        panic!("expected a wait, got {err:?}")
    };
    assert!(
        (Duration::from_secs(295)..=Duration::from_secs(300)).contains(&wait),
        "{wait:?}"
    );
}

#[tokio::test]
async fn a_create_that_gets_no_answer_in_time_leaves_the_outcome_unknown() {
    let server = MockServer::start().await;
    mount_create_record(
        &server,
        ResponseTemplate::new(200)
            .set_body_json(created(RKEY))
            .set_delay(Duration::from_secs(2)),
        1,
    )
    .await;
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .expect("client");
    let adapter = BlueskyAdapter::new(
        impatient,
        AdapterSettings {
            credentials: None,
            endpoints: endpoints(&server),
        },
    );
    let access = secret("access-jwt");
    let service = server.uri();

    let err = adapter
        .publish(
            &account_ref(&access, None, Some(&service)),
            &post("hello", &[], no_options()),
        )
        .await
        .expect_err("no answer");

    assert!(
        matches!(err, AdapterError::OutcomeUnknown { .. }),
        "{err:?}"
    );
}

// Record-key collisions: two targets of one account created in the same microsecond whose ids
// hash to the same clock id (1 in 1,024) derive the same key.

/// The record key `step` places after `rkey` in the probe sequence: the same microsecond, the
/// clock id (the low 10 bits, the last two characters) plus `step`, modulo 1,024. Written out
/// here rather than taken from the adapter so the test pins the sequence.
fn probe_key(rkey: &str, step: u16) -> String {
    const ALPHABET: &[u8; 32] = b"234567abcdefghijklmnopqrstuvwxyz";
    let digit = |c: u8| {
        ALPHABET
            .iter()
            .position(|a| *a == c)
            .expect("base32-sortable") as u16
    };
    let bytes = rkey.as_bytes();
    let clock = (digit(bytes[11]) << 5) | digit(bytes[12]);
    let next = (clock + step) % 1024;
    let mut key = rkey[..11].to_string();
    key.push(char::from(ALPHABET[usize::from(next >> 5)]));
    key.push(char::from(ALPHABET[usize::from(next & 0x1f)]));
    key
}

/// The first key after [`RKEY`]: its clock id plus one.
const RKEY_NEXT: &str = "3m732f6jnm2ow";

/// A PDS's post collection, faithful in what the adapter relies on: `createRecord` at a taken
/// key is refused the way the reference PDS refuses it (a bare 500, its repository tree's
/// untyped error), `getRecord` answers the stored record or 400 `RecordNotFound`.
#[derive(Clone, Default)]
struct Repository {
    records: std::sync::Arc<std::sync::Mutex<std::collections::BTreeMap<String, String>>>,
}

impl Repository {
    fn holding(records: &[(&str, &str)]) -> Self {
        let repository = Self::default();
        for (rkey, text) in records {
            repository.put(rkey, text);
        }
        repository
    }

    fn put(&self, rkey: &str, text: &str) {
        self.records
            .lock()
            .expect("not poisoned")
            .insert(rkey.to_string(), text.to_string());
    }

    fn records(&self) -> Vec<(String, String)> {
        self.records
            .lock()
            .expect("not poisoned")
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    async fn mount(&self, server: &MockServer) {
        Mock::given(method("POST"))
            .and(path("/xrpc/com.atproto.repo.createRecord"))
            .and(header("authorization", "Bearer access-jwt"))
            .respond_with(CreateRecord(self.clone()))
            .mount(server)
            .await;
        Mock::given(method("GET"))
            .and(path("/xrpc/com.atproto.repo.getRecord"))
            .and(query_param("repo", DID))
            .and(query_param("collection", "app.bsky.feed.post"))
            .and(header("authorization", "Bearer access-jwt"))
            .respond_with(GetRecord(self.clone()))
            .mount(server)
            .await;
    }
}

struct CreateRecord(Repository);

impl wiremock::Respond for CreateRecord {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).expect("a JSON body");
        let rkey = body["rkey"].as_str().expect("an rkey").to_string();
        let text = body["record"]["text"].as_str().expect("a text").to_string();
        let mut records = self.0.records.lock().expect("not poisoned");
        if records.contains_key(&rkey) {
            return ResponseTemplate::new(500)
                .set_body_json(xrpc_error("InternalServerError", "Internal Server Error"));
        }
        records.insert(rkey.clone(), text);
        ResponseTemplate::new(200).set_body_json(created(&rkey))
    }
}

struct GetRecord(Repository);

impl wiremock::Respond for GetRecord {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let rkey = request
            .url
            .query_pairs()
            .find(|(name, _)| name == "rkey")
            .map(|(_, value)| value.into_owned())
            .unwrap_or_default();
        match self.0.records.lock().expect("not poisoned").get(&rkey) {
            Some(text) => ResponseTemplate::new(200).set_body_json(record_view(&rkey, text)),
            None => ResponseTemplate::new(400).set_body_json(xrpc_error(
                "RecordNotFound",
                &format!("Could not locate record: {}", post_uri(&rkey)),
            )),
        }
    }
}

/// The `rkey` of every request to `endpoint` (`createRecord` bodies, `getRecord` queries), in
/// the order they came.
async fn rkeys_sent_to(server: &MockServer, endpoint: &str) -> Vec<String> {
    let requests: Vec<Request> = server.received_requests().await.expect("recording");
    requests
        .iter()
        .filter(|r| r.url.path() == format!("/xrpc/com.atproto.repo.{endpoint}"))
        .map(|r| {
            if r.method.as_str() == "GET" {
                r.url
                    .query_pairs()
                    .find(|(name, _)| name == "rkey")
                    .map(|(_, value)| value.into_owned())
                    .unwrap_or_default()
            } else {
                serde_json::from_slice::<Value>(&r.body).expect("JSON")["rkey"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            }
        })
        .collect()
}

async fn find(server: &MockServer, request: &PublishRequest<'_>) -> Option<Published> {
    let access = secret("access-jwt");
    let service = server.uri();
    adapter(server)
        .find_published(&account_ref(&access, None, Some(&service)), request)
        .await
        .expect("looked up")
}

#[test]
fn the_probe_sequence_steps_the_clock_id_within_the_targets_microsecond() {
    assert_eq!(probe_key(RKEY, 0), RKEY);
    assert_eq!(probe_key(RKEY, 1), RKEY_NEXT);
    // The clock id wraps within the microsecond rather than carrying into it.
    assert_eq!(probe_key("3m732f6jnm2zz", 1), "3m732f6jnm222");
}

#[tokio::test]
async fn another_posts_record_at_our_key_moves_the_post_to_the_next_key() {
    let server = MockServer::start().await;
    let repository = Repository::holding(&[(RKEY, "someone else's post")]);
    repository.mount(&server).await;

    let published = publish(&server, &post("hello", &[], no_options()))
        .await
        .expect("published at the next key");

    assert_eq!(
        published,
        Published {
            platform_post_id: post_uri(RKEY_NEXT),
            url: Some(post_url(RKEY_NEXT)),
        }
    );
    assert_eq!(
        repository.records(),
        vec![
            (RKEY.to_string(), "someone else's post".to_string()),
            (RKEY_NEXT.to_string(), "hello".to_string()),
        ]
    );
    assert_eq!(
        rkeys_sent_to(&server, "createRecord").await,
        [RKEY, RKEY_NEXT]
    );
}

#[tokio::test]
async fn a_retry_after_a_collision_answers_the_post_at_the_next_key_and_adds_nothing() {
    let server = MockServer::start().await;
    let repository = Repository::holding(&[(RKEY, "someone else's post"), (RKEY_NEXT, "hello")]);
    repository.mount(&server).await;

    let published = publish(&server, &post("hello", &[], no_options()))
        .await
        .expect("the earlier attempt's post");

    assert_eq!(published.platform_post_id, post_uri(RKEY_NEXT));
    assert_eq!(repository.records().len(), 2, "no third record");
    assert_eq!(
        find(&server, &post("hello", &[], no_options())).await,
        Some(published)
    );
}

#[tokio::test]
async fn every_attempt_of_a_collided_post_lands_on_one_key() {
    let server = MockServer::start().await;
    let repository = Repository::holding(&[(RKEY, "someone else's post")]);
    repository.mount(&server).await;

    let first = publish(&server, &post("hello", &[], no_options()))
        .await
        .expect("published");
    let second = publish(&server, &post("hello", &[], no_options()))
        .await
        .expect("answered");

    assert_eq!(first, second);
    assert_eq!(repository.records().len(), 2, "one post added, once");
}

#[tokio::test]
async fn find_published_passes_over_another_posts_record_and_stops_at_the_first_free_key() {
    let server = MockServer::start().await;
    let repository = Repository::holding(&[(RKEY, "someone else's post")]);
    repository.mount(&server).await;

    assert_eq!(find(&server, &post("hello", &[], no_options())).await, None);
    assert_eq!(rkeys_sent_to(&server, "getRecord").await, [RKEY, RKEY_NEXT]);
}

#[tokio::test]
async fn find_published_does_not_claim_another_posts_record_at_our_key() {
    let server = MockServer::start().await;
    let repository = Repository::holding(&[(RKEY, "someone else's post"), (RKEY_NEXT, "hello")]);
    repository.mount(&server).await;

    assert_eq!(
        find(&server, &post("hello", &[], no_options())).await,
        Some(Published {
            platform_post_id: post_uri(RKEY_NEXT),
            url: Some(post_url(RKEY_NEXT)),
        })
    );
}

#[tokio::test]
async fn when_every_probed_key_holds_another_post_the_publish_is_refused_for_good() {
    let server = MockServer::start().await;
    let others: Vec<(String, String)> = (0..16)
        .map(|step| (probe_key(RKEY, step), format!("other post {step}")))
        .collect();
    let repository = Repository::default();
    for (rkey, text) in &others {
        repository.put(rkey, text);
    }
    repository.mount(&server).await;

    let err = publish(&server, &post("hello", &[], no_options()))
        .await
        .expect_err("no free key");

    assert!(
        matches!(&err, AdapterError::Rejected { code, .. } if code == "record_key_collision"),
        "{err:?}"
    );
    assert!(!err.is_retryable());
    assert_eq!(
        repository.records(),
        others,
        "nothing written or overwritten"
    );
    let creates = rkeys_sent_to(&server, "createRecord").await;
    assert!(
        (2..16).contains(&creates.len()),
        "a few keys are probed, not all: {creates:?}"
    );
    let expected: Vec<String> = (0..creates.len() as u16)
        .map(|s| probe_key(RKEY, s))
        .collect();
    assert_eq!(creates, expected, "in the fixed sequence");
    assert_eq!(find(&server, &post("hello", &[], no_options())).await, None);
}
