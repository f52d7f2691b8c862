//! Token revocation (RFC 7009).

use crate::support::{oauth_error, spawn_sim};

#[tokio::test]
async fn revoking_the_refresh_token_ends_the_whole_grant() {
    let sim = spawn_sim();
    let tokens = sim.connect("alice").await;
    assert_eq!(
        sim.api("/api/v1/me", &tokens.access_token).await.status(),
        200
    );

    let response = sim.revoke(&tokens.refresh_token).await;
    assert_eq!(response.status(), 200);

    let me = sim.api("/api/v1/me", &tokens.access_token).await;
    assert_eq!(me.status(), 401);
    assert_eq!(oauth_error(me).await, "invalid_token");
    assert_eq!(
        oauth_error(sim.refresh(&tokens.refresh_token).await).await,
        "invalid_grant"
    );
    assert_eq!(
        sim.handle.revoked_tokens(),
        vec![tokens.refresh_token.clone()]
    );
    assert_eq!(sim.handle.stats().revocations, 1);
    assert!(!sim.handle.is_token_active(&tokens.access_token));
}

#[tokio::test]
async fn revoking_an_access_token_ends_only_that_token() {
    let sim = spawn_sim();
    let tokens = sim.connect("bob").await;
    assert_eq!(sim.revoke(&tokens.access_token).await.status(), 200);
    assert_eq!(
        sim.api("/api/v1/me", &tokens.access_token).await.status(),
        401
    );
    assert_eq!(sim.refresh(&tokens.refresh_token).await.status(), 200);
}

#[tokio::test]
async fn unknown_tokens_are_acknowledged_without_effect() {
    let sim = spawn_sim();
    assert_eq!(sim.revoke("simrt_never-issued").await.status(), 200);
    assert!(sim.handle.revoked_tokens().is_empty());
}

#[tokio::test]
async fn another_client_cannot_revoke_a_token() {
    let sim = spawn_sim();
    let tokens = sim.connect("carol").await;
    let response = sim
        .http
        .post(sim.url("/oauth/revoke"))
        .basic_auth("another-app", Some("secret"))
        .form(&[("token", tokens.refresh_token.as_str())])
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), 200, "the same answer, revealing nothing");
    assert_eq!(
        sim.api("/api/v1/me", &tokens.access_token).await.status(),
        200
    );
}

#[tokio::test]
async fn revocation_requires_client_authentication() {
    let sim = spawn_sim();
    let response = sim
        .http
        .post(sim.url("/oauth/revoke"))
        .form(&[("token", "x")])
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), 401);
}
