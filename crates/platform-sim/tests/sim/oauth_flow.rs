//! The authorization code flow with PKCE (RFC 6749 §4.1, RFC 7636).

use crate::support::{location, oauth_error, param, pkce, spawn_sim, REDIRECT_URI};

#[tokio::test]
async fn full_code_flow_with_pkce_issues_prefixed_tokens_that_read_the_profile() {
    let sim = spawn_sim();
    let (verifier, challenge) = pkce();
    let response = sim.authorize_with(&challenge, &[]).await;
    assert_eq!(response.status(), 302);
    let redirect = location(&response);
    assert!(redirect.starts_with(&format!("{REDIRECT_URI}?")));
    assert_eq!(param(&redirect, "state").as_deref(), Some("state-1"));
    let code = param(&redirect, "code").expect("code");
    assert!(code.starts_with("simcode_"));

    let response = sim.exchange(&code, &verifier).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let tokens: crate::support::Tokens = response.json().await.expect("tokens");
    assert!(tokens.access_token.starts_with("simat_"));
    assert!(tokens.refresh_token.starts_with("simrt_"));
    assert_eq!(tokens.token_type, "bearer");
    assert_eq!(tokens.expires_in, 3600);
    assert_eq!(tokens.scope, "profile publish");

    let me: serde_json::Value = sim
        .api("/api/v1/me", &tokens.access_token)
        .await
        .json()
        .await
        .expect("me");
    assert_eq!(me["id"], "sim-demo");
    assert_eq!(me["username"], "demo");

    let stats = sim.handle.stats();
    assert_eq!((stats.authorizations, stats.code_exchanges), (1, 1));
    let issued = sim.handle.issued_tokens();
    assert!([&code, &tokens.access_token, &tokens.refresh_token]
        .iter()
        .all(|t| issued.contains(t)));
    assert_eq!(sim.handle.clients(), ["test-app"]);
}

#[tokio::test]
async fn login_hint_chooses_the_user() {
    let sim = spawn_sim();
    let tokens = sim.connect("Alice").await;
    let me: serde_json::Value = sim
        .api("/api/v1/me", &tokens.access_token)
        .await
        .json()
        .await
        .expect("me");
    assert_eq!(me["id"], "sim-alice");
    assert_eq!(me["name"], "Alice (sandbox)");
}

#[tokio::test]
async fn a_wrong_verifier_is_invalid_grant_and_spends_the_code() {
    let sim = spawn_sim();
    let (verifier, challenge) = pkce();
    let code = sim.code_for(&challenge, None).await;
    let wrong = format!("{verifier}-but-not-quite");
    let response = sim.exchange(&code, &wrong).await;
    assert_eq!(response.status(), 400);
    assert_eq!(oauth_error(response).await, "invalid_grant");
    // No retrying until the verifier is guessed.
    assert_eq!(
        oauth_error(sim.exchange(&code, &verifier).await).await,
        "invalid_grant"
    );
}

#[tokio::test]
async fn a_reused_code_is_invalid_grant_and_revokes_the_tokens_it_produced() {
    let sim = spawn_sim();
    let (verifier, challenge) = pkce();
    let code = sim.code_for(&challenge, None).await;
    let tokens: crate::support::Tokens = sim
        .exchange(&code, &verifier)
        .await
        .json()
        .await
        .expect("tokens");
    assert_eq!(
        sim.api("/api/v1/me", &tokens.access_token).await.status(),
        200
    );

    let replay = sim.exchange(&code, &verifier).await;
    assert_eq!(replay.status(), 400);
    assert_eq!(oauth_error(replay).await, "invalid_grant");
    assert_eq!(sim.handle.stats().code_reuse_rejections, 1);
    assert_eq!(
        sim.api("/api/v1/me", &tokens.access_token).await.status(),
        401,
        "RFC 6749 §4.1.2"
    );
    assert_eq!(
        oauth_error(sim.refresh(&tokens.refresh_token).await).await,
        "invalid_grant"
    );
}

#[tokio::test]
async fn a_different_redirect_uri_at_exchange_is_invalid_grant() {
    let sim = spawn_sim();
    let (verifier, challenge) = pkce();
    let code = sim.code_for(&challenge, None).await;
    let response = sim
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1:9999/elsewhere"),
            ("code_verifier", &verifier),
        ])
        .await;
    assert_eq!(oauth_error(response).await, "invalid_grant");
}

#[tokio::test]
async fn authorization_without_s256_pkce_is_refused_through_the_redirect() {
    let sim = spawn_sim();
    let (_, challenge) = pkce();
    for overrides in [
        vec![("code_challenge", "")],
        vec![("code_challenge_method", "plain")],
        vec![("code_challenge_method", "")],
    ] {
        let response = sim.authorize_with(&challenge, &overrides).await;
        assert_eq!(response.status(), 302, "{overrides:?}");
        let redirect = location(&response);
        assert_eq!(
            param(&redirect, "error").as_deref(),
            Some("invalid_request"),
            "{overrides:?}"
        );
        assert_eq!(param(&redirect, "state").as_deref(), Some("state-1"));
        assert_eq!(param(&redirect, "code"), None);
    }
    assert_eq!(sim.handle.stats().authorizations, 0);
}

#[tokio::test]
async fn unknown_scopes_and_response_types_are_reported_to_the_client() {
    let sim = spawn_sim();
    let (_, challenge) = pkce();
    let response = sim
        .authorize_with(&challenge, &[("scope", "profile admin")])
        .await;
    assert_eq!(
        param(&location(&response), "error").as_deref(),
        Some("invalid_scope")
    );
    let response = sim
        .authorize_with(&challenge, &[("response_type", "token")])
        .await;
    assert_eq!(
        param(&location(&response), "error").as_deref(),
        Some("unsupported_response_type")
    );
}

#[tokio::test]
async fn a_missing_client_or_bad_redirect_uri_shows_an_error_page_instead_of_redirecting() {
    let sim = spawn_sim();
    let (_, challenge) = pkce();
    for overrides in [
        vec![("client_id", "")],
        vec![("redirect_uri", "")],
        vec![("redirect_uri", "javascript:alert(1)")],
    ] {
        let response = sim.authorize_with(&challenge, &overrides).await;
        assert_eq!(response.status(), 400, "{overrides:?}");
        assert!(response.headers().get("location").is_none());
        assert!(response
            .text()
            .await
            .expect("page")
            .contains("Authorization error"));
    }
}

#[tokio::test]
async fn the_token_endpoint_requires_client_authentication() {
    let sim = spawn_sim();
    let (verifier, challenge) = pkce();
    let code = sim.code_for(&challenge, None).await;
    let response = sim
        .http
        .post(sim.url("/oauth/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", verifier.as_str()),
        ])
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), 401);
    assert!(response.headers().contains_key("www-authenticate"));
    assert_eq!(oauth_error(response).await, "invalid_client");
}

#[tokio::test]
async fn client_credentials_in_the_body_work_too_but_only_for_the_codes_own_client() {
    let sim = spawn_sim();
    let (verifier, challenge) = pkce();
    let code = sim.code_for(&challenge, None).await;
    let exchange = |client_id: &'static str| {
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", verifier.as_str()),
            ("client_id", client_id),
            ("client_secret", "whatever"),
        ];
        sim.http.post(sim.url("/oauth/token")).form(&form).send()
    };
    let other = exchange("another-app").await.expect("POST");
    assert_eq!(oauth_error(other).await, "invalid_grant");
    let own = exchange("test-app").await.expect("POST");
    assert_eq!(own.status(), 200);
}

#[tokio::test]
async fn unsupported_grant_types_are_named_as_such() {
    let sim = spawn_sim();
    let response = sim.token(&[("grant_type", "client_credentials")]).await;
    assert_eq!(oauth_error(response).await, "unsupported_grant_type");
    let response = sim.token(&[("grant_type", "refresh_token")]).await;
    assert_eq!(oauth_error(response).await, "invalid_request");
}
