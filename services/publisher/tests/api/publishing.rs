//! Due posts go out once, on time, and are recorded and announced.

use std::time::Duration;

use chrono::Utc;
use db::domain::{AccountId, AttemptOutcome, Platform, PostStatus, TargetStatus};

use serde_json::json;
use wiremock::{
    matchers::{method, path},
    Mock, MockServer, Request, Respond, ResponseTemplate,
};

use crate::support::{against_x, eventually, world, World};

#[tokio::test(flavor = "multi_thread")]
async fn a_due_post_to_two_accounts_is_published_once_recorded_and_announced() {
    let mut world = world().await;
    let accounts = world.seed_accounts(2);
    let post = world.schedule(&accounts, "Hello from Postbridge", Utc::now());
    world.start_publisher().await;

    eventually(
        Duration::from_secs(15),
        "both targets published",
        || async {
            world
                .targets(post)
                .iter()
                .all(|t| t.status == TargetStatus::Published)
        },
    )
    .await;
    assert_eq!(world.post(post).status, PostStatus::Published);
    let sim_posts = world.sim.posts();
    assert_eq!(sim_posts.len(), 2, "one post per account on the platform");
    for target in world.targets(post) {
        let attempts = world.attempts(target.id);
        assert_eq!(attempts.len(), 1);
        assert_eq!(attempts[0].outcome, AttemptOutcome::Success);
        assert!(attempts[0].finished_at.is_some());
        let id = target.platform_post_id.clone().unwrap();
        assert!(
            sim_posts.iter().any(|p| p.id == id),
            "the stored id is the platform's"
        );
        assert!(target.url.is_some());
        assert!(target.published_at.unwrap() >= target.due_at);
    }
    let announced = world.events("post.published");
    assert_eq!(announced.len(), 2);
    assert!(announced
        .iter()
        .all(|e| e["post_id"] == serde_json::json!(post)));
    assert!(world.events("post.failed").is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_scheduled_post_goes_out_after_its_due_time_not_before() {
    let mut world = world().await;
    let accounts = world.seed_accounts(1);
    let due = Utc::now() + chrono::Duration::seconds(3);
    let post = world.schedule(&accounts, "later", due);
    world.start_publisher().await;

    tokio::time::sleep(Duration::from_millis(2000)).await;
    assert_eq!(world.sim.posts().len(), 0, "nothing before the due time");
    eventually(Duration::from_secs(10), "the post published", || async {
        world.targets(post)[0].status == TargetStatus::Published
    })
    .await;
    let target = &world.targets(post)[0];
    let published = target.published_at.unwrap();
    assert!(published >= due, "published at {published}, due {due}");
    assert!(
        published - due < chrono::Duration::seconds(1),
        "within a second of its due time: {}ms late",
        (published - due).num_milliseconds()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_canceled_target_is_never_published() {
    let mut world = world().await;
    let accounts = world.seed_accounts(2);
    let canceled = world.schedule(
        &accounts[..1],
        "canceled",
        Utc::now() + chrono::Duration::seconds(1),
    );
    let kept = world.schedule(
        &accounts[1..],
        "kept",
        Utc::now() + chrono::Duration::seconds(1),
    );
    db::posts::PostTarget::cancel_scheduled(&mut world.db.conn(), canceled).unwrap();
    world.start_publisher().await;

    eventually(
        Duration::from_secs(10),
        "the other post published",
        || async { world.targets(kept)[0].status == TargetStatus::Published },
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(world.targets(canceled)[0].status, TargetStatus::Canceled);
    assert!(world.attempts(world.targets(canceled)[0].id).is_empty());
    let texts: Vec<String> = world.sim.posts().into_iter().map(|p| p.text).collect();
    assert_eq!(texts, ["kept"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn two_publishers_share_a_burst_and_publish_each_post_exactly_once() {
    let mut world = world().await;
    let accounts = world.seed_accounts(10);
    let items: Vec<_> = (0..200)
        .map(|i| (accounts[i % accounts.len()], format!("burst {i}")))
        .collect();
    world.schedule_many(db::domain::Platform::Sandbox, &items, Utc::now());
    world.start_publisher().await;
    world.start_publisher().await;

    eventually(Duration::from_secs(60), "200 targets published", || async {
        world.count_in(TargetStatus::Published) == 200
    })
    .await;
    let posts = world.sim.posts();
    assert_eq!(posts.len(), 200, "exactly once on the platform");
    let mut keys: Vec<_> = posts.iter().map(|p| p.idempotency_key.clone()).collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 200, "one platform post per target");
    // The sim collapses repeats of a key into one post: count the calls themselves.
    let repeated: Vec<_> = posts.iter().filter(|p| p.create_calls != 1).collect();
    assert!(repeated.is_empty(), "create calls repeated: {repeated:?}");
    assert_eq!(world.sim.stats().posts_deduplicated, 0);
    assert_eq!(world.events("post.published").len(), 200);
}

/// X answers each create with a new tweet id (X has no idempotency key: a repeat would be a
/// second tweet).
struct NewTweet;

impl Respond for NewTweet {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap_or_default();
        let id = format!("{}", 1_880_000_000_000_000_000u64 + tweet_number(&body));
        ResponseTemplate::new(201)
            .set_body_json(json!({"data": {"id": id, "text": body["text"]}}))
            .set_delay(Duration::from_millis(20))
    }
}

/// A tweet id derived from the text ("burst 17" → 17), so each distinct post has its own.
fn tweet_number(body: &serde_json::Value) -> u64 {
    body["text"]
        .as_str()
        .and_then(|t| t.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread")]
async fn two_publishers_share_a_burst_on_a_platform_without_idempotency_keys_and_send_each_post_once(
) {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/2/tweets"))
        .respond_with(NewTweet)
        .mount(&server)
        .await;
    let mut world = against_x(&server).await;
    // 20 posts per account: under X's 100 per 15 minutes.
    let accounts: Vec<_> = (0..10)
        .map(|i| world.account_with_token(Platform::X, &format!("10{i}"), &format!("x-token-{i}")))
        .collect();
    let items: Vec<_> = (0..200)
        .map(|i| (accounts[i % accounts.len()], format!("burst {i}")))
        .collect();
    world.schedule_many(Platform::X, &items, Utc::now());
    world.start_publisher().await;
    world.start_publisher().await;

    eventually(Duration::from_secs(60), "200 targets published", || async {
        world.count_in(TargetStatus::Published) == 200
    })
    .await;
    let requests = server.received_requests().await.unwrap();
    let mut texts: Vec<String> = requests
        .iter()
        .filter(|r| r.method.as_str() == "POST" && r.url.path() == "/2/tweets")
        .map(|r| {
            let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
            body["text"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(
        texts.len(),
        200,
        "one create call per target, none repeated"
    );
    texts.sort();
    texts.dedup();
    assert_eq!(texts.len(), 200, "every post sent once");
    assert_eq!(world.events("post.published").len(), 200);
}

/// Makes `account` the deployment's env account (the row account-registry keeps for
/// `[env_account]`): owned by the reserved owner, never refreshed.
fn make_env_account(world: &World, account: AccountId) {
    use db::diesel::{self, sql_types, RunQueryDsl};
    diesel::sql_query(
        "UPDATE social_accounts SET owner_id = 'postbridge:env', next_refresh_at = NULL \
         WHERE id = $1",
    )
    .bind::<sql_types::Uuid, _>(account.0)
    .execute(&mut world.db.conn())
    .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_post_to_the_env_account_fails_at_publish_time_once_the_deployment_disallows_it() {
    // Accepted while the gateway allowed it; the operator has since switched it off.
    let mut world = world().await;
    let accounts = world.seed_accounts(2);
    make_env_account(&world, accounts[1]);
    let post = world.schedule(&accounts, "to both", Utc::now());
    world.start_publisher().await;

    eventually(Duration::from_secs(15), "both targets settled", || async {
        world
            .targets(post)
            .iter()
            .all(|t| matches!(t.status, TargetStatus::Published | TargetStatus::Failed))
    })
    .await;
    let targets = world.targets(post);
    let env = targets
        .iter()
        .find(|t| t.account_id == accounts[1])
        .unwrap();
    assert_eq!(env.status, TargetStatus::Failed);
    assert_eq!(
        env.error_code.as_deref(),
        Some("env_account_publishing_disabled")
    );
    assert!(world.attempts(env.id).is_empty(), "no platform call");
    assert_eq!(
        world.sim.posts().len(),
        1,
        "only the user's own account's post"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_post_to_the_env_account_is_published_when_the_deployment_allows_it() {
    let mut world = world().await;
    let accounts = world.seed_accounts(1);
    make_env_account(&world, accounts[0]);
    let post = world.schedule(&accounts, "to the page", Utc::now());
    world.set("env_account.allow_publishing", "true");
    world.start_publisher().await;

    eventually(Duration::from_secs(15), "published", || async {
        world.targets(post)[0].status == TargetStatus::Published
    })
    .await;
    assert_eq!(world.sim.posts().len(), 1);
}
