//! An expired or refused token makes a post wait for a fresh one, never fail for good: only an
//! account that token-refresher marked `needs_reauth` fails its targets. token-refresher is not
//! running here; the tests do what it would (store a token, announce `token.refreshed`), or
//! nothing, as in an outage.

use std::time::Duration;

use chrono::Utc;
use db::domain::{AttemptOutcome, Platform, TargetStatus};
use serde_json::json;
use wiremock::{
    matchers::{header, method, path},
    Mock, MockServer, ResponseTemplate,
};

use crate::{
    failures::{against, created, settled},
    support::{eventually, world, World},
};

const WAITING: &str = "awaiting_token_refresh";

async fn waiting_for_a_token(world: &World, post: db::domain::PostId) {
    eventually(
        Duration::from_secs(10),
        "the target to wait for a fresh token",
        || async { world.targets(post)[0].error_code.as_deref() == Some(WAITING) },
    )
    .await;
}

/// A sandbox server that refuses `token-0` (401) and accepts `token-1`.
async fn refusing_the_first_token() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/posts"))
        .and(header("authorization", "Bearer token-0"))
        .respond_with(ResponseTemplate::new(401).set_body_json(
            json!({"error": "invalid_token", "error_description": "The access token expired"}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v1/posts"))
        .and(header("authorization", "Bearer token-1"))
        .respond_with(created("p-1"))
        .mount(&server)
        .await;
    server
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_token_with_no_refresher_running_makes_posts_wait_and_asks_once_per_account() {
    let mut world = world().await;
    let account = world.seed_accounts(1)[0];
    world.token_expires(account, Utc::now() - chrono::Duration::minutes(1));
    let posts: Vec<_> = (0..3)
        .map(|i| world.schedule(&[account], &format!("post {i}"), Utc::now()))
        .collect();
    world.start_publisher().await;

    for post in &posts {
        waiting_for_a_token(&world, *post).await;
    }
    // Long enough for a retry loop or a failure to show.
    tokio::time::sleep(Duration::from_secs(2)).await;
    for post in &posts {
        let target = world.targets(*post)[0].clone();
        assert_eq!(
            target.status,
            TargetStatus::Scheduled,
            "waiting, not failed"
        );
        assert!(
            world.attempts(target.id).is_empty(),
            "no call with an expired token"
        );
        let wait = target.next_attempt_at - Utc::now();
        assert!(
            wait > chrono::Duration::seconds(50) && wait <= chrono::Duration::seconds(60),
            "waits at most token_wait_secs (60): {wait}"
        );
    }
    assert!(world.sim.posts().is_empty());
    let expiring = world.events("token.expiring");
    assert_eq!(
        expiring.len(),
        1,
        "one urgent refresh for the account: {expiring:?}"
    );
    assert_eq!(expiring[0]["urgent"], true);
    assert_eq!(expiring[0]["account_id"], json!(account));
    assert!(world.events("post.failed").is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_refreshed_event_publishes_the_waiting_posts_at_once() {
    let mut world = world().await;
    let account = world.seed_accounts(1)[0];
    world.token_expires(account, Utc::now() - chrono::Duration::minutes(1));
    let post = world.schedule(&[account], "after the refresh", Utc::now());
    world.start_publisher().await;
    waiting_for_a_token(&world, post).await;

    // The sim's grant is still good: the refresher would have stored a token like it.
    let grant = world
        .sim
        .mint_grant("user0", crate::support::CLIENT_ID, &["profile", "publish"])
        .unwrap();
    let refreshed_at = Utc::now();
    world.refreshed(account, Platform::Sandbox, &grant.access_token);

    let target = settled(&world, post).await;
    assert_eq!(target.status, TargetStatus::Published);
    let after = target.published_at.unwrap() - refreshed_at;
    assert!(
        after < chrono::Duration::seconds(10),
        "published {after} after the refresh, not at the end of the 60 s wait"
    );
    let attempts = world.attempts(target.id);
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0].outcome, AttemptOutcome::Success);
    assert_eq!(world.sim.posts().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_token_whose_refresh_never_comes_is_tried_anyway_after_the_wait() {
    let mut world = world().await;
    world.set("publisher.token_wait_secs", "1");
    let account = world.seed_accounts(1)[0];
    world.token_expires(account, Utc::now() - chrono::Duration::minutes(1));
    let post = world.schedule(&[account], "tried anyway", Utc::now());
    world.start_publisher().await;

    // The platform still takes the token (its expiry was only what the database knew).
    let target = settled(&world, post).await;
    assert_eq!(target.status, TargetStatus::Published);
    let attempts = world.attempts(target.id);
    assert_eq!(attempts.len(), 1);
    assert!(
        attempts[0].started_at - target.due_at >= chrono::Duration::milliseconds(900),
        "called only after the wait"
    );
    assert_eq!(world.events("token.expiring").len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_token_asks_for_one_urgent_refresh_and_its_posts_wait_instead_of_failing() {
    let server = refusing_the_first_token().await;
    let mut world = against(&server).await;
    let account = world.account_with_token(Platform::Sandbox, "sim-user0", "token-0");
    let posts: Vec<_> = (0..3)
        .map(|i| world.schedule(&[account], &format!("post {i}"), Utc::now()))
        .collect();
    world.start_publisher().await;

    for post in &posts {
        waiting_for_a_token(&world, *post).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    for post in &posts {
        let target = world.targets(*post)[0].clone();
        assert_eq!(target.status, TargetStatus::Scheduled);
        let attempts = world.attempts(target.id);
        assert_eq!(attempts.len(), 1, "one call, then waiting: {attempts:?}");
        assert_eq!(attempts[0].outcome, AttemptOutcome::NeedsReauth);
        assert_eq!(attempts[0].http_status, Some(401));
    }
    let expiring = world.events("token.expiring");
    assert_eq!(
        expiring.len(),
        1,
        "one urgent refresh per account: {expiring:?}"
    );
    assert_eq!(expiring[0]["urgent"], true);
    assert_eq!(expiring[0]["reason"], "unauthorized");
    assert!(world.events("post.failed").is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_401_then_a_successful_refresh_publishes_on_the_retry() {
    let server = refusing_the_first_token().await;
    let mut world = against(&server).await;
    let account = world.account_with_token(Platform::Sandbox, "sim-user0", "token-0");
    let post = world.schedule(&[account], "hello", Utc::now());
    world.start_publisher().await;
    waiting_for_a_token(&world, post).await;

    world.refreshed(account, Platform::Sandbox, "token-1");
    let target = settled(&world, post).await;
    assert_eq!(target.status, TargetStatus::Published);
    assert_eq!(target.platform_post_id.as_deref(), Some("p-1"));
    let attempts = world.attempts(target.id);
    let outcomes: Vec<_> = attempts
        .iter()
        .map(|a| (a.outcome, a.http_status))
        .collect();
    assert_eq!(
        outcomes,
        [
            (AttemptOutcome::NeedsReauth, Some(401)),
            (AttemptOutcome::Success, Some(201))
        ]
    );
    assert_eq!(world.events("post.published").len(), 1);
    assert!(world.events("post.failed").is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_refused_again_after_a_refresh_fails_and_says_reconnect() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/posts"))
        .respond_with(ResponseTemplate::new(401).set_body_json(
            json!({"error": "invalid_token", "error_description": "The access token was revoked"}),
        ))
        .mount(&server)
        .await;
    let mut world = against(&server).await;
    let account = world.account_with_token(Platform::Sandbox, "sim-user0", "token-0");
    let post = world.schedule(&[account], "hello", Utc::now());
    world.start_publisher().await;
    waiting_for_a_token(&world, post).await;

    world.refreshed(account, Platform::Sandbox, "token-1");
    let target = settled(&world, post).await;
    assert_eq!(target.status, TargetStatus::Failed);
    assert_eq!(target.error_code.as_deref(), Some("needs_reauth"));
    assert!(
        target
            .last_error
            .as_deref()
            .unwrap()
            .contains("reconnect your sandbox account"),
        "{:?}",
        target.last_error
    );
    assert_eq!(world.attempts(target.id).len(), 2, "the one retry, no loop");
    assert_eq!(world.events("token.expiring").len(), 1);
    assert_eq!(world.events("post.failed")[0]["error_code"], "needs_reauth");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_account_the_refresher_marks_needs_reauth_fails_its_waiting_posts_with_the_reconnect_message(
) {
    let mut world = world().await;
    let account = world.seed_accounts(1)[0];
    world.token_expires(account, Utc::now() - chrono::Duration::minutes(1));
    let post = world.schedule(&[account], "never published", Utc::now());
    world.start_publisher().await;
    waiting_for_a_token(&world, post).await;

    let refused_at = Utc::now();
    world.refresh_refused(account, Platform::Sandbox);
    let target = settled(&world, post).await;
    assert_eq!(target.status, TargetStatus::Failed);
    assert_eq!(target.error_code.as_deref(), Some("needs_reauth"));
    assert!(
        target
            .last_error
            .as_deref()
            .unwrap()
            .contains("reconnect your sandbox account"),
        "{:?}",
        target.last_error
    );
    assert!(
        target.updated_at - refused_at < chrono::Duration::seconds(10),
        "failed when the refresher gave up, not at the end of the wait"
    );
    assert!(world.attempts(target.id).is_empty());
    assert!(world.sim.posts().is_empty());
    let failed = world.events("post.failed");
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["error_code"], "needs_reauth");
}
