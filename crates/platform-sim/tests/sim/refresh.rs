//! Rotating, single-use refresh tokens.

use crate::support::{oauth_error, spawn_sim, Tokens};

#[tokio::test]
async fn a_refresh_rotates_the_pair_and_the_old_refresh_token_is_refused_and_counted() {
    let sim = spawn_sim();
    let first = sim.connect("alice").await;

    let response = sim.refresh(&first.refresh_token).await;
    assert_eq!(response.status(), 200);
    let second: Tokens = response.json().await.expect("tokens");
    assert_ne!(second.access_token, first.access_token);
    assert_ne!(second.refresh_token, first.refresh_token);
    assert_eq!(second.scope, "profile publish");
    assert_eq!(
        sim.api("/api/v1/me", &second.access_token).await.status(),
        200
    );

    let reuse = sim.refresh(&first.refresh_token).await;
    assert_eq!(reuse.status(), 400);
    assert_eq!(oauth_error(reuse).await, "invalid_grant");

    let stats = sim.handle.stats();
    assert_eq!(stats.refreshes, 1);
    assert_eq!(stats.refresh_reuse_rejections, 1);
    assert_eq!(
        sim.handle.refresh_count(&first.refresh_token),
        2,
        "presented twice"
    );
    assert_eq!(sim.handle.refresh_count(&second.refresh_token), 0);

    // The reuse did not break the account: its current refresh token still works.
    let third = sim.refresh(&second.refresh_token).await;
    assert_eq!(third.status(), 200);
    assert_eq!(sim.handle.refresh_count(&second.refresh_token), 1);
}

#[tokio::test]
async fn concurrent_refreshes_with_one_token_succeed_exactly_once() {
    let sim = spawn_sim();
    let tokens = sim.connect("bob").await;
    let attempts = refresh_concurrently(&sim, &tokens.refresh_token, 8).await;
    assert_eq!(
        attempts.iter().filter(|s| **s == 200).count(),
        1,
        "{attempts:?}"
    );
    assert_eq!(attempts.iter().filter(|s| **s == 400).count(), 7);
    assert_eq!(sim.handle.stats().refresh_reuse_rejections, 7);
}

async fn refresh_concurrently(
    sim: &crate::support::TestSim,
    refresh_token: &str,
    n: usize,
) -> Vec<u16> {
    let mut tasks = Vec::new();
    for _ in 0..n {
        let request = sim
            .http
            .post(sim.url("/oauth/token"))
            .basic_auth(
                crate::support::CLIENT_ID,
                Some(crate::support::CLIENT_SECRET),
            )
            .form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token),
            ]);
        tasks.push(tokio::spawn(async move {
            request.send().await.expect("POST").status().as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.expect("task"));
    }
    statuses
}

#[tokio::test]
async fn an_expired_access_token_is_refused_and_a_refresh_recovers() {
    let sim = spawn_sim();
    let tokens = sim.connect("carol").await;
    sim.handle.expire_access_tokens();
    let response = sim.api("/api/v1/me", &tokens.access_token).await;
    assert_eq!(response.status(), 401);
    assert_eq!(oauth_error(response).await, "invalid_token");
    let fresh: Tokens = sim
        .refresh(&tokens.refresh_token)
        .await
        .json()
        .await
        .expect("tokens");
    assert_eq!(
        sim.api("/api/v1/me", &fresh.access_token).await.status(),
        200
    );
}

#[tokio::test]
async fn a_refresh_token_is_bound_to_its_client() {
    let sim = spawn_sim();
    let tokens = sim.connect("dave").await;
    let response = sim
        .http
        .post(sim.url("/oauth/token"))
        .basic_auth("another-app", Some("secret"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", tokens.refresh_token.as_str()),
        ])
        .send()
        .await
        .expect("POST");
    assert_eq!(oauth_error(response).await, "invalid_grant");
    assert_eq!(
        sim.refresh(&tokens.refresh_token).await.status(),
        200,
        "not spent by the stranger"
    );
}
