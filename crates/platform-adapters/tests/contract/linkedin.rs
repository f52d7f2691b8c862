//! LinkedIn: 3-legged OAuth with the client secret in the form, OIDC `userinfo`, revocation.
//! Shapes follow LinkedIn's "Authorization Code Flow" and "Sign In with LinkedIn using OpenID
//! Connect" guides.

use std::time::Duration;

use chrono::Utc;
use platform_adapters::{
    platforms::linkedin::{self, LinkedinAdapter},
    AccountRef, AdapterError, AuthorizeParams, CodeExchange, PlatformAdapter, Revocation, Stats,
};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use wiremock::{
    matchers::{any, body_string_contains, header, method, path},
    Mock, MockServer, ResponseTemplate,
};

use crate::support::form_is;
use crate::support::{self, param, secret, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI};

const REDIRECT_URI_FORM: &str =
    "redirect_uri=http%3A%2F%2F127.0.0.1%3A8080%2Fv1%2Foauth%2Fcallback";
const EXCHANGE: CodeExchange<'static> = CodeExchange {
    code: "li-code-1",
    pkce_verifier: None,
    redirect_uri: REDIRECT_URI,
};

fn adapter(server: &MockServer) -> LinkedinAdapter {
    LinkedinAdapter::new(platform_adapters::http::client(), support::settings(server))
}

fn account(access: &SecretString) -> AccountRef<'_> {
    AccountRef {
        platform_account_id: "782bbtaQ",
        access_token: access,
        refresh_token: None,
        instance_url: None,
    }
}

async fn mount_userinfo(server: &MockServer, token: &str) {
    Mock::given(method("GET"))
        .and(path("/v2/userinfo"))
        .and(header("authorization", format!("Bearer {token}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "sub": "782bbtaQ",
            "name": "John Doe",
            "given_name": "John",
            "family_name": "Doe",
            "picture": "https://media.licdn-ei.com/dms/image/C5F03AQHqK8v7tB1HCQ/profile-displayphoto-shrink_100_100/0/",
            "locale": {"country": "US", "language": "en"},
            "email": "doe@email.com",
            "email_verified": true
        })))
        .expect(1)
        .mount(server)
        .await;
}

#[test]
fn descriptor_has_no_pkce_and_sixty_day_tokens() {
    let d = linkedin::descriptor();
    assert!(!d.pkce);
    assert!(!d.refresh_token_rotates);
    assert_eq!(
        d.access_token_lifetime,
        Some(Duration::from_secs(60 * 86_400))
    );
    assert_eq!(d.capabilities.text_limit, 3000);
    assert_eq!(
        linkedin::default_endpoints().token_url,
        "https://www.linkedin.com/oauth/v2/accessToken"
    );
}

#[tokio::test]
async fn authorize_url_requests_oidc_and_member_share_scopes() {
    let server = MockServer::start().await;
    let url = adapter(&server)
        .authorize_url(&AuthorizeParams {
            state: "state-li",
            pkce_challenge: None,
            redirect_uri: REDIRECT_URI,
        })
        .expect("authorize URL");
    assert!(url.starts_with(&format!("{}/oauth/authorize?", server.uri())));
    assert_eq!(param(&url, "response_type").as_deref(), Some("code"));
    assert_eq!(param(&url, "client_id").as_deref(), Some(CLIENT_ID));
    assert_eq!(param(&url, "redirect_uri").as_deref(), Some(REDIRECT_URI));
    assert_eq!(param(&url, "state").as_deref(), Some("state-li"));
    assert_eq!(
        param(&url, "scope").as_deref(),
        Some("openid profile email w_member_social")
    );
    assert_eq!(param(&url, "code_challenge"), None);
}

#[tokio::test]
async fn code_exchange_sends_client_credentials_in_the_form_and_reads_userinfo() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(body_string_contains("grant_type=authorization_code"))
        .and(body_string_contains("code=li-code-1"))
        .and(body_string_contains("client_id=test-client-id"))
        .and(body_string_contains("client_secret=test-client-secret"))
        .and(body_string_contains(REDIRECT_URI_FORM))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "li-access-1",
            "expires_in": 5_184_000,
            "scope": "email,openid,profile,w_member_social",
            "token_type": "Bearer",
            "id_token": "eyJ6aXAiOiJERUYiLCJlbmMiOiJBMjU2R0NNIiwiYWxnIjoiUlNBLU9BRVAifQ.e30.sig"
        })))
        .expect(1)
        .mount(&server)
        .await;
    mount_userinfo(&server, "li-access-1").await;

    let before = Utc::now();
    let connections = adapter(&server)
        .exchange_code(&EXCHANGE)
        .await
        .expect("exchange");
    let connection = &connections[0];
    assert_eq!(
        connection.tokens.access_token.expose_secret(),
        "li-access-1"
    );
    assert!(connection.tokens.refresh_token.is_none());
    assert_eq!(
        connection.tokens.scopes,
        ["email", "openid", "profile", "w_member_social"]
    );
    assert!(connection.tokens.expires_at.expect("expiry") >= before + chrono::Duration::days(60));
    assert_eq!(connection.profile.platform_account_id, "782bbtaQ");
    assert_eq!(connection.profile.display_name.as_deref(), Some("John Doe"));
    assert!(connection
        .profile
        .avatar_url
        .as_deref()
        .is_some_and(|u| u.starts_with("https://media.licdn")));
    assert_eq!(connection.profile.handle, None);
    assert_eq!(connection.stats, Some(Stats::default()));
}

#[tokio::test]
async fn a_programmatic_refresh_token_and_its_expiry_are_kept() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "li-access-2", "expires_in": 5_184_000,
            "refresh_token": "li-refresh-2", "refresh_token_expires_in": 31_536_000,
            "scope": "openid,profile,w_member_social"
        })))
        .expect(1)
        .mount(&server)
        .await;
    mount_userinfo(&server, "li-access-2").await;
    let before = Utc::now();
    let connections = adapter(&server)
        .exchange_code(&EXCHANGE)
        .await
        .expect("exchange");
    let tokens = &connections[0].tokens;
    assert_eq!(
        tokens
            .refresh_token
            .as_ref()
            .map(|t| t.expose_secret().to_owned())
            .as_deref(),
        Some("li-refresh-2")
    );
    assert!(
        tokens.refresh_expires_at.expect("refresh expiry") >= before + chrono::Duration::days(365)
    );
}

#[tokio::test]
async fn missing_expires_in_falls_back_to_the_documented_sixty_days() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"access_token": "li-access-3", "scope": "openid"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    mount_userinfo(&server, "li-access-3").await;
    let before = Utc::now();
    let connections = adapter(&server)
        .exchange_code(&EXCHANGE)
        .await
        .expect("exchange");
    let expires_at = connections[0].tokens.expires_at.expect("fallback lifetime");
    assert!(
        expires_at >= before + chrono::Duration::days(60)
            && expires_at <= Utc::now() + chrono::Duration::days(60)
    );
}

#[tokio::test]
async fn stats_are_unknown_without_calling_linkedin() {
    let server = MockServer::start().await;
    let token = secret("li-access-4");
    let stats = adapter(&server)
        .stats(&account(&token))
        .await
        .expect("stats");
    assert_eq!(
        stats,
        Stats {
            followers_count: None,
            following_count: None,
            posts_count: None
        }
    );
    assert!(server
        .received_requests()
        .await
        .unwrap_or_default()
        .is_empty());
}

#[tokio::test]
async fn revoke_posts_the_token_with_client_credentials() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/revoke"))
        .and(body_string_contains("client_id=test-client-id"))
        .and(body_string_contains("client_secret=test-client-secret"))
        .and(body_string_contains("token=li-access-5"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    let token = secret("li-access-5");
    assert_eq!(
        adapter(&server)
            .revoke(&account(&token))
            .await
            .expect("revoke"),
        Revocation::Revoked
    );
}

#[tokio::test]
async fn errors_are_classified_reauth_rate_limited_and_transient() {
    let server = MockServer::start().await;
    let cases = [
        ("li-401", ResponseTemplate::new(401).set_body_json(json!({"serviceErrorCode": 65600, "message": "Invalid access token", "status": 401}))),
        ("li-429", ResponseTemplate::new(429).insert_header("retry-after", "30")),
        ("li-500", ResponseTemplate::new(500).set_body_json(json!({"message": "Internal Server Error", "status": 500}))),
    ];
    for (token, response) in cases {
        Mock::given(method("GET"))
            .and(path("/v2/userinfo"))
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
        profile_of("li-401").await,
        AdapterError::NeedsReauth { .. }
    ));
    assert_eq!(
        profile_of("li-429").await,
        AdapterError::RateLimited {
            retry_after: Some(Duration::from_secs(30))
        }
    );
    assert!(matches!(
        profile_of("li-500").await,
        AdapterError::Transient { .. }
    ));
}

#[tokio::test]
async fn an_invalid_grant_on_the_code_exchange_means_needs_reauth() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "error": "invalid_grant",
            "error_description": "The provided authorization grant or refresh token is invalid, expired or revoked."
        })))
        .expect(1)
        .mount(&server)
        .await;
    let err = adapter(&server)
        .exchange_code(&EXCHANGE)
        .await
        .expect_err("invalid grant");
    assert!(matches!(err, AdapterError::NeedsReauth { .. }));
}

// ---------------------------------------------------------------------------------------------
// Refresh ("Refresh Tokens with OAuth 2.0": programmatic refresh tokens)
// ---------------------------------------------------------------------------------------------

fn account_with_refresh<'a>(access: &'a SecretString, refresh: &'a SecretString) -> AccountRef<'a> {
    AccountRef {
        refresh_token: Some(refresh),
        ..account(access)
    }
}

/// The token endpoint expecting exactly one refresh of `li-refresh-old`, answered with `answer`.
async fn mount_refresh(server: &MockServer, answer: ResponseTemplate) {
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(form_is(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "li-refresh-old"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
        ]))
        .respond_with(answer)
        .expect(1)
        .mount(server)
        .await;
}

async fn refresh_failing_with(answer: ResponseTemplate) -> AdapterError {
    let server = MockServer::start().await;
    mount_refresh(&server, answer).await;
    let (access, refresh) = (secret("li-access-old"), secret("li-refresh-old"));
    adapter(&server)
        .refresh(&account_with_refresh(&access, &refresh))
        .await
        .expect_err("a failed refresh")
}

fn assert_no_secret_in(err: &AdapterError) {
    let text = format!("{err} {err:?}");
    for secret in ["li-refresh-old", "li-access-old", CLIENT_SECRET] {
        assert!(!text.contains(secret), "`{secret}` leaked into: {text}");
    }
}

#[tokio::test]
async fn linkedin_refresh_sends_the_client_credentials_in_the_form_and_keeps_the_yearly_deadline() {
    let server = MockServer::start().await;
    // Day 59 of LinkedIn's example: a new 60-day access token, 306 days left on the refresh
    // token.
    mount_refresh(
        &server,
        ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "li-access-new",
            "expires_in": 5_184_000,
            "refresh_token": "li-refresh-old",
            "refresh_token_expires_in": 26_438_400,
            "scope": "email,openid,profile,w_member_social"
        })),
    )
    .await;
    let (access, refresh) = (secret("li-access-old"), secret("li-refresh-old"));

    let before = Utc::now();
    let tokens = adapter(&server)
        .refresh(&account_with_refresh(&access, &refresh))
        .await
        .expect("refresh");

    assert_eq!(tokens.access_token.expose_secret(), "li-access-new");
    assert_eq!(
        tokens
            .refresh_token
            .as_ref()
            .map(ExposeSecret::expose_secret),
        Some("li-refresh-old")
    );
    let expires_at = tokens.expires_at.expect("expiry");
    assert!(
        expires_at >= before + chrono::Duration::days(60)
            && expires_at <= Utc::now() + chrono::Duration::days(60)
    );
    let refresh_expires_at = tokens.refresh_expires_at.expect("refresh expiry");
    assert!(
        refresh_expires_at >= before + chrono::Duration::days(306)
            && refresh_expires_at <= Utc::now() + chrono::Duration::days(306),
        "the refresh token's deadline counts down, it is not extended"
    );
    assert_eq!(tokens.scopes.len(), 4);
}

#[tokio::test]
async fn linkedin_refresh_without_expires_in_falls_back_to_the_documented_sixty_days() {
    let server = MockServer::start().await;
    mount_refresh(
        &server,
        ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "li-access-new",
            "refresh_token": "li-refresh-old",
            "refresh_token_expires_in": 26_438_400
        })),
    )
    .await;
    let (access, refresh) = (secret("li-access-old"), secret("li-refresh-old"));

    let before = Utc::now();
    let tokens = adapter(&server)
        .refresh(&account_with_refresh(&access, &refresh))
        .await
        .expect("refresh");

    let expires_at = tokens
        .expires_at
        .expect("a missing expires_in must not mean never");
    assert!(
        expires_at >= before + chrono::Duration::days(60)
            && expires_at <= Utc::now() + chrono::Duration::days(60)
    );
}

#[tokio::test]
async fn linkedin_without_a_refresh_token_asks_the_user_to_reconnect() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let access = secret("li-access-old");

    let err = adapter(&server)
        .refresh(&account(&access))
        .await
        .expect_err("no programmatic refresh token");

    assert_eq!(
        err,
        AdapterError::NeedsReauth {
            message: "LinkedIn did not grant a refresh token: reconnect your LinkedIn account before the 60-day token expires".into()
        }
    );
}

#[tokio::test]
async fn linkedin_refresh_with_an_expired_or_revoked_refresh_token_asks_the_user_to_reconnect() {
    for error in ["invalid_grant", "invalid_request"] {
        let err = refresh_failing_with(ResponseTemplate::new(400).set_body_json(json!({
            "error": error,
            "error_description": "The provided authorization grant or refresh token is invalid, expired or revoked."
        })))
        .await;

        assert!(
            matches!(&err, AdapterError::NeedsReauth { message }
                if message.contains("reconnect your LinkedIn account") && message.contains("expired or revoked")),
            "{error}: {err:?}"
        );
        assert_no_secret_in(&err);
    }
}

#[tokio::test]
async fn linkedin_refresh_refused_for_the_app_credentials_is_a_rejection_not_a_reconnect() {
    let err = refresh_failing_with(ResponseTemplate::new(401).set_body_json(json!({
        "error": "invalid_client",
        "error_description": "Client authentication failed"
    })))
    .await;

    assert!(
        matches!(&err, AdapterError::Rejected { code, message }
            if code == "invalid_client" && message.contains("client id and secret")),
        "{err:?}"
    );
    assert_no_secret_in(&err);
}

#[tokio::test]
async fn linkedin_refresh_rate_limited_waits_as_linkedin_asks() {
    let err = refresh_failing_with(
        ResponseTemplate::new(429)
            .insert_header("retry-after", "30")
            .set_body_json(json!({"message": "Resource level throttle limit for calls to this resource is reached.", "status": 429})),
    )
    .await;

    assert_eq!(
        err,
        AdapterError::RateLimited {
            retry_after: Some(Duration::from_secs(30))
        }
    );
}

#[tokio::test]
async fn linkedin_refresh_server_errors_are_transient() {
    let err = refresh_failing_with(
        ResponseTemplate::new(500)
            .set_body_json(json!({"message": "Internal Server Error", "status": 500})),
    )
    .await;

    assert!(
        matches!(&err, AdapterError::Transient { message } if message.contains("500")),
        "{err:?}"
    );
    assert!(err.is_retryable());
}
