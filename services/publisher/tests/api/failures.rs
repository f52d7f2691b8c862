//! Every failure class ends in the right status, attempt log and events: the platform is a
//! wiremock server speaking the sandbox's (platform-sim's) posting API, or X's.

use std::time::Duration;

use chrono::Utc;
use db::domain::{AttemptOutcome, Platform, PostStatus, TargetStatus};
use serde_json::json;
use wiremock::{
    matchers::{method, path},
    Mock, MockServer, ResponseTemplate,
};

use crate::support::{against_x, eventually, world, World};

/// A world whose sandbox platform is `server`.
pub(crate) async fn against(server: &MockServer) -> World {
    let mut world = world().await;
    world.set("platforms.sandbox.api_base", &server.uri());
    world.set("platforms.sandbox.upload_base", &server.uri());
    world
}

/// `n` successful posts of `account` in the last 10 minutes (one a second, the oldest first),
/// as they count against a platform's publishing limit.
fn published_recently(world: &World, account: db::domain::AccountId, n: i32) {
    use db::diesel::{self, sql_types, RunQueryDsl};
    let earlier = world.schedule(&[account], "earlier", Utc::now());
    let earlier_target = world.targets(earlier)[0].id;
    diesel::sql_query(
        "INSERT INTO post_attempts (target_id, account_id, attempt_no, started_at, finished_at, outcome) \
         SELECT $1, $2, n, now() - interval '10 minutes' + n * interval '1 second', now(), 'success' \
         FROM generate_series(1, $3) AS n",
    )
    .bind::<sql_types::Uuid, _>(earlier_target.0)
    .bind::<sql_types::Uuid, _>(account.0)
    .bind::<sql_types::Integer, _>(n)
    .execute(&mut world.db.conn())
    .unwrap();
    diesel::sql_query("UPDATE post_targets SET status = 'published' WHERE id = $1")
        .bind::<sql_types::Uuid, _>(earlier_target.0)
        .execute(&mut world.db.conn())
        .unwrap();
}

pub(crate) fn created(id: &str) -> ResponseTemplate {
    ResponseTemplate::new(201).set_body_json(json!({
        "id": id, "text": "hello", "media_ids": [], "url": format!("http://sim.test/u/user0/posts/{id}"),
        "created_at": Utc::now(),
    }))
}

pub(crate) async fn settled(world: &World, post: db::domain::PostId) -> db::posts::PostTarget {
    eventually(Duration::from_secs(20), "the target to settle", || async {
        matches!(
            world.targets(post)[0].status,
            TargetStatus::Published | TargetStatus::Failed
        )
    })
    .await;
    world.targets(post)[0].clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_429_waits_for_the_reset_then_publishes() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/posts"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "1"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v1/posts"))
        .respond_with(created("p-1"))
        .mount(&server)
        .await;
    let mut world = against(&server).await;
    let account = world.account_with_token(Platform::Sandbox, "sim-user0", "token-0");
    let post = world.schedule(&[account], "hello", Utc::now());
    world.start_publisher().await;

    let target = settled(&world, post).await;
    assert_eq!(target.status, TargetStatus::Published);
    assert_eq!(target.platform_post_id.as_deref(), Some("p-1"));
    let attempts = world.attempts(target.id);
    let outcomes: Vec<_> = attempts.iter().map(|a| a.outcome).collect();
    assert_eq!(
        outcomes,
        [AttemptOutcome::RateLimited, AttemptOutcome::Success]
    );
    let statuses: Vec<_> = attempts.iter().map(|a| a.http_status).collect();
    assert_eq!(
        statuses,
        [Some(429), Some(201)],
        "each call's HTTP status is logged"
    );
    let waited = attempts[1].started_at - attempts[0].finished_at.unwrap();
    assert!(
        waited >= chrono::Duration::milliseconds(900),
        "waited {waited} for the reset"
    );
    assert_eq!(world.events("post.published").len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn server_errors_are_retried_with_backoff_then_fail_the_target_and_announce_it() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/posts"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let mut world = against(&server).await;
    let account = world.account_with_token(Platform::Sandbox, "sim-user0", "token-0");
    let post = world.schedule(&[account], "hello", Utc::now());
    world.start_publisher().await;

    let target = settled(&world, post).await;
    assert_eq!(target.status, TargetStatus::Failed);
    assert_eq!(target.error_code.as_deref(), Some("retries_exhausted"));
    let attempts = world.attempts(target.id);
    assert_eq!(attempts.len(), 3, "max_attempts = 3 in tests");
    assert!(attempts
        .iter()
        .all(|a| a.outcome == AttemptOutcome::Transient && a.http_status == Some(503)));
    assert_eq!(world.post(post).status, PostStatus::Failed);
    let failed = world.events("post.failed");
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["error_code"], "retries_exhausted");
    assert_eq!(failed[0]["account_id"], json!(account));
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rejected_post_fails_at_once_with_the_platforms_reason() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/posts"))
        .respond_with(ResponseTemplate::new(422).set_body_json(json!({
            "error": "text_too_long", "error_description": "text is longer than 5000 characters"
        })))
        .mount(&server)
        .await;
    let mut world = against(&server).await;
    let account = world.account_with_token(Platform::Sandbox, "sim-user0", "token-0");
    let post = world.schedule(&[account], "hello", Utc::now());
    world.start_publisher().await;

    let target = settled(&world, post).await;
    assert_eq!(target.status, TargetStatus::Failed);
    assert_eq!(target.error_code.as_deref(), Some("rejected"));
    assert!(
        target
            .last_error
            .as_deref()
            .unwrap()
            .contains("text is longer than 5000 characters"),
        "{:?}",
        target.last_error
    );
    let attempts = world.attempts(target.id);
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0].outcome, AttemptOutcome::Rejected);
    assert_eq!(attempts[0].error_code.as_deref(), Some("text_too_long"));
    assert!(world.events("token.expiring").is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tweet_accepted_but_unanswered_is_found_on_the_timeline_not_posted_twice() {
    const USER: &str = "2244994945";
    let server = MockServer::start().await;
    // X creates the tweet but the answer comes after the publish timeout (2 s in tests).
    Mock::given(method("POST"))
        .and(path("/2/tweets"))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(json!({"data": {"id": "1880000000000000001", "text": "launch day"}}))
                .set_delay(Duration::from_secs(4)),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/2/users/{USER}/tweets")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [{"id": "1880000000000000001", "text": "launch day", "created_at": Utc::now(),
                      "edit_history_tweet_ids": ["1880000000000000001"]}],
            "meta": {"result_count": 1, "newest_id": "1880000000000000001", "oldest_id": "1880000000000000001"}
        })))
        .mount(&server)
        .await;
    let mut world = against_x(&server).await;
    let account = world.account_with_token(Platform::X, USER, "x-token");
    let post = world.schedule(&[account], "launch day", Utc::now());
    world.start_publisher().await;

    let target = settled(&world, post).await;
    assert_eq!(target.status, TargetStatus::Published);
    assert_eq!(
        target.platform_post_id.as_deref(),
        Some("1880000000000000001")
    );
    let creates = server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.method.as_str() == "POST" && r.url.path() == "/2/tweets")
        .count();
    assert_eq!(creates, 1, "the tweet was never sent twice");
    let attempts = world.attempts(target.id);
    let outcomes: Vec<_> = attempts.iter().map(|a| a.outcome).collect();
    assert_eq!(outcomes, [AttemptOutcome::Unknown, AttemptOutcome::Success]);
    assert_eq!(
        attempts[0].http_status, None,
        "no answer came, so no status"
    );
    assert_eq!(attempts[1].response.as_ref().unwrap()["reconciled"], true);
    assert_eq!(world.events("post.published").len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_account_at_its_platform_publishing_limit_waits_without_calling_the_platform() {
    const USER: &str = "2244994945";
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/2/tweets"))
        .respond_with(
            ResponseTemplate::new(201).set_body_json(json!({"data": {"id": "1", "text": "x"}})),
        )
        .mount(&server)
        .await;
    let mut world = against_x(&server).await;
    let account = world.account_with_token(Platform::X, USER, "x-token");
    // 100 posts in the last 15 minutes: X's per-user limit for POST /2/tweets, used up.
    published_recently(&world, account, 100);

    let post = world.schedule(&[account], "one too many", Utc::now());
    world.start_publisher().await;
    eventually(Duration::from_secs(10), "the target deferred", || async {
        world.targets(post)[0].error_code.as_deref() == Some("publish_limit")
    })
    .await;
    let target = world.targets(post)[0].clone();
    assert_eq!(target.status, TargetStatus::Scheduled);
    assert!(
        target
            .last_error
            .as_deref()
            .unwrap()
            .contains("100 posts per 15 minutes"),
        "{:?}",
        target.last_error
    );
    // The oldest counted attempt (10 minutes ago) leaves the 15-minute window in ~5 minutes.
    let wait = target.next_attempt_at - Utc::now();
    assert!(
        wait > chrono::Duration::minutes(4) && wait < chrono::Duration::minutes(6),
        "waits {wait}"
    );
    assert!(world.attempts(target.id).is_empty(), "no call was made");
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_app_wide_limit_holds_back_every_account_without_calling_the_platform() {
    let server = MockServer::start().await;
    let reset = Utc::now().timestamp() + 3600;
    Mock::given(method("POST"))
        .and(path("/2/tweets"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("x-app-limit-24hour-limit", "1667")
                .insert_header("x-app-limit-24hour-remaining", "0")
                .insert_header("x-app-limit-24hour-reset", reset.to_string().as_str())
                .set_body_json(json!({"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank", "status": 429})),
        )
        .mount(&server)
        .await;
    let mut world = against_x(&server).await;
    let first_account = world.account_with_token(Platform::X, "1001", "x-token-1");
    let other_account = world.account_with_token(Platform::X, "1002", "x-token-2");
    let first = world.schedule(&[first_account], "first", Utc::now());
    // Due a moment later, after the first call learned that the app's cap is used up.
    let other = world.schedule(
        &[other_account],
        "other",
        Utc::now() + chrono::Duration::seconds(2),
    );
    world.start_publisher().await;

    eventually(Duration::from_secs(10), "both targets deferred", || async {
        [first, other]
            .iter()
            .all(|p| world.targets(*p)[0].error_code.as_deref() == Some("app_rate_limited"))
    })
    .await;
    for post in [first, other] {
        let target = world.targets(post)[0].clone();
        assert_eq!(target.status, TargetStatus::Scheduled);
        let wait = target.next_attempt_at - Utc::now();
        assert!(
            wait > chrono::Duration::minutes(59) && wait <= chrono::Duration::minutes(60),
            "waits {wait} for the app cap's reset"
        );
    }
    let first_attempts = world.attempts(world.targets(first)[0].id);
    assert_eq!(first_attempts.len(), 1);
    assert_eq!(first_attempts[0].outcome, AttemptOutcome::RateLimited);
    assert_eq!(
        first_attempts[0].error_code.as_deref(),
        Some("app_rate_limited")
    );
    let other_target = world.targets(other)[0].clone();
    assert!(
        world.attempts(other_target.id).is_empty(),
        "the other account made no call"
    );
    assert!(
        other_target
            .last_error
            .as_deref()
            .unwrap()
            .contains("all its accounts"),
        "{:?}",
        other_target.last_error
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
    assert!(
        world.events("post.failed").is_empty(),
        "waiting is not failing"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_posts_of_an_account_with_one_slot_left_publish_exactly_one() {
    const USER: &str = "2244994945";
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/2/tweets"))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(json!({"data": {"id": "1", "text": "x"}}))
                .set_delay(Duration::from_millis(200)),
        )
        .mount(&server)
        .await;
    let mut world = against_x(&server).await;
    world.set("publisher.per_account_concurrency", "4");
    let account = world.account_with_token(Platform::X, USER, "x-token");
    // 99 of X's 100 posts per 15 minutes used: one slot left.
    published_recently(&world, account, 99);

    // Four posts due at once, published side by side (4 calls per account allowed).
    let now = Utc::now();
    let posts: Vec<_> = (0..4)
        .map(|i| world.schedule(&[account], &format!("post {i}"), now))
        .collect();
    world.start_publisher().await;
    eventually(
        Duration::from_secs(10),
        "every target settled or deferred",
        || async {
            posts.iter().all(|p| {
                let target = &world.targets(*p)[0];
                target.status == TargetStatus::Published
                    || target.error_code.as_deref() == Some("publish_limit")
            })
        },
    )
    .await;

    let statuses: Vec<_> = posts.iter().map(|p| world.targets(*p)[0].status).collect();
    let published = statuses
        .iter()
        .filter(|s| **s == TargetStatus::Published)
        .count();
    assert_eq!(
        published, 1,
        "exactly the one free slot was used: {statuses:?}"
    );
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        1,
        "one call, not one per concurrent publish"
    );
}
