//! Nothing is lost or doubled when a publisher dies: leases run out, in-flight attempts are
//! found, and the platform's own deduplication (or a lookup) settles what happened.

use std::time::Duration;

use chrono::Utc;
use db::{
    diesel::{self, sql_types, RunQueryDsl},
    domain::{AttemptOutcome, Platform, TargetStatus},
};
use platform_sim::KnobsUpdate;

use crate::support::{eventually, world};

#[tokio::test(flavor = "multi_thread")]
async fn a_publisher_killed_mid_burst_and_restarted_publishes_every_post_exactly_once() {
    let mut world = world().await;
    let accounts = world.seed_accounts(20);
    // Slow platform calls, so the kill lands while many are in flight.
    world
        .sim
        .update_knobs(KnobsUpdate {
            latency_ms: Some(150),
            ..KnobsUpdate::default()
        })
        .unwrap();
    let items: Vec<_> = (0..300)
        .map(|i| (accounts[i % accounts.len()], format!("burst {i}")))
        .collect();
    world.schedule_many(Platform::Sandbox, &items, Utc::now());

    let mut env = world.binary_env();
    env.push(("POSTBRIDGE__PUBLISHER__LEASE_SECS".into(), "2".into()));
    env.push(("POSTBRIDGE__PUBLISHER__CONCURRENCY".into(), "16".into()));
    let mut doomed = std::process::Command::new(env!("CARGO_BIN_EXE_publisher"))
        .envs(env)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    eventually(
        Duration::from_secs(60),
        "the first publisher to be mid-burst",
        || async { world.sim.posts().len() >= 40 },
    )
    .await;
    doomed.kill().unwrap();
    doomed.wait().unwrap();
    let before_restart = world.sim.posts().len();
    assert!(
        before_restart < 300,
        "killed mid-burst ({before_restart} published)"
    );
    assert!(
        world.count_in(TargetStatus::Publishing) > 0,
        "the kill left claimed targets behind"
    );

    world.set("publisher.lease_secs", "2");
    world.start_publisher().await;
    eventually(
        Duration::from_secs(90),
        "all 300 targets published",
        || async { world.count_in(TargetStatus::Published) == 300 },
    )
    .await;
    let posts = world.sim.posts();
    let mut keys: Vec<_> = posts.iter().map(|p| p.idempotency_key.clone()).collect();
    keys.sort();
    keys.dedup();
    assert_eq!(posts.len(), 300, "platform-sim holds each post once");
    assert_eq!(keys.len(), 300);
    assert_repeats_only_calls_cut_off_by_the_kill(&world, &posts);
    for status in [
        TargetStatus::Publishing,
        TargetStatus::Unknown,
        TargetStatus::Failed,
        TargetStatus::Scheduled,
    ] {
        assert_eq!(world.count_in(status), 0, "no target left {status}");
    }
    assert_eq!(world.events("post.published").len(), 300);
}

/// platform-sim collapses a repeated Idempotency-Key into one post, so counting posts cannot
/// see a target sent twice. Count the create calls: a post may have been sent again only if a
/// call of it was cut off by the kill (recorded as `publisher_stopped`), and once per such call.
fn assert_repeats_only_calls_cut_off_by_the_kill(
    world: &crate::support::World,
    posts: &[platform_sim::SimPost],
) {
    let mut repeats = 0;
    for post in posts.iter().filter(|p| p.create_calls > 1) {
        let target: db::domain::PostTargetId =
            post.idempotency_key.as_deref().unwrap().parse().unwrap();
        let attempts = world.attempts(target);
        let cut_off = attempts
            .iter()
            .filter(|a| a.error_code.as_deref() == Some("publisher_stopped"))
            .count();
        assert_eq!(
            post.create_calls as usize,
            1 + cut_off,
            "post {} was sent {} times with {cut_off} calls cut off: {attempts:#?}",
            post.id,
            post.create_calls
        );
        repeats += cut_off;
    }
    assert_eq!(world.sim.stats().posts_deduplicated as usize, repeats);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_publish_that_outlasts_the_lease_keeps_its_target_and_calls_the_platform_once() {
    let mut world = world().await;
    let accounts = world.seed_accounts(1);
    // Each call takes 5 s, the lease 2 s: only the heartbeat keeps the target.
    world
        .sim
        .update_knobs(KnobsUpdate {
            latency_ms: Some(5_000),
            ..KnobsUpdate::default()
        })
        .unwrap();
    world.set("publisher.lease_secs", "2");
    world.set("publisher.publish_timeout_secs", "15");
    let post = world.schedule(&accounts, "a slow upload", Utc::now());
    world.start_publisher().await;
    world.start_publisher().await;

    eventually(Duration::from_secs(20), "the target published", || async {
        world.targets(post)[0].status == TargetStatus::Published
    })
    .await;
    let posts = world.sim.posts();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].create_calls, 1, "no second publisher called too");
    assert_eq!(world.sim.stats().posts_deduplicated, 0);
    let attempts = world.attempts(world.targets(post)[0].id);
    assert_eq!(attempts.len(), 1, "{attempts:?}");
    assert_eq!(attempts[0].outcome, AttemptOutcome::Success);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_publishers_targets_are_published_by_another_within_30_seconds() {
    let mut world = world().await;
    let accounts = world.seed_accounts(10);
    world
        .sim
        .update_knobs(KnobsUpdate {
            latency_ms: Some(1_000),
            ..KnobsUpdate::default()
        })
        .unwrap();
    let items: Vec<_> = (0..100)
        .map(|i| (accounts[i % accounts.len()], format!("burst {i}")))
        .collect();
    world.schedule_many(Platform::Sandbox, &items, Utc::now());

    // The default lease (config/default.toml), as in production.
    let mut doomed = std::process::Command::new(env!("CARGO_BIN_EXE_publisher"))
        .envs(world.binary_env())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    eventually(
        Duration::from_secs(60),
        "the first publisher to be mid-burst",
        || async { world.sim.posts().len() >= 10 },
    )
    .await;
    doomed.kill().unwrap();
    doomed.wait().unwrap();
    let killed_at = std::time::Instant::now();
    assert!(
        world.count_in(TargetStatus::Publishing) > 0,
        "the kill left claimed targets behind"
    );

    world.start_publisher().await;
    eventually(
        Duration::from_secs(45),
        "all 100 targets published",
        || async { world.count_in(TargetStatus::Published) == 100 },
    )
    .await;
    let took = killed_at.elapsed();
    assert!(took <= Duration::from_secs(30), "taken over after {took:?}");
    let posts = world.sim.posts();
    assert_eq!(posts.len(), 100);
    assert_repeats_only_calls_cut_off_by_the_kill(&world, &posts);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_attempt_left_in_flight_by_a_dead_publisher_is_settled_without_a_second_post() {
    let mut world = world().await;
    let accounts = world.seed_accounts(1);
    let post = world.schedule(&accounts, "in flight when the publisher died", Utc::now());
    let target = world.targets(post)[0].clone();
    // What a publisher that died mid-call leaves: the target claimed under a lease that has
    // run out, an attempt in flight, and the post already accepted by the platform.
    let lease = Utc::now() - chrono::Duration::seconds(5);
    let claim = uuid::Uuid::new_v4();
    diesel::sql_query(
        "UPDATE post_targets SET status = 'publishing', lease_until = $1, claim_id = $3 WHERE id = $2",
    )
    .bind::<sql_types::Timestamptz, _>(lease)
    .bind::<sql_types::Uuid, _>(target.id.0)
    .bind::<sql_types::Uuid, _>(claim)
    .execute(&mut world.db.conn())
    .unwrap();
    db::posts::PostAttempt::start(&mut world.db.conn(), target.id, target.account_id, claim)
        .unwrap()
        .unwrap();
    let first = world
        .sim
        .publish_as("user0", &target.text, &target.id.to_string())
        .unwrap();

    world.start_publisher().await;
    eventually(Duration::from_secs(15), "the target settled", || async {
        world.targets(post)[0].status == TargetStatus::Published
    })
    .await;
    assert_eq!(world.sim.posts().len(), 1, "no second post");
    assert_eq!(
        world.targets(post)[0].platform_post_id.as_deref(),
        Some(first.as_str())
    );
    let attempts = world.attempts(target.id);
    assert_eq!(attempts.len(), 2);
    assert_eq!(attempts[0].outcome, AttemptOutcome::Unknown);
    assert_eq!(attempts[0].error_code.as_deref(), Some("publisher_stopped"));
    assert_eq!(attempts[1].outcome, AttemptOutcome::Success);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_accepted_post_whose_answer_never_came_is_not_posted_twice() {
    let mut world = world().await;
    let accounts = world.seed_accounts(1);
    // The sim creates the post, then stalls the answer past the publish timeout (2 s).
    world
        .sim
        .update_knobs(KnobsUpdate {
            accept_then_stall_rate: Some(1.0),
            stall_ms: Some(4_000),
            ..KnobsUpdate::default()
        })
        .unwrap();
    let post = world.schedule(&accounts, "accepted, unanswered", Utc::now());
    world.start_publisher().await;
    eventually(
        Duration::from_secs(10),
        "the first call to time out",
        || async {
            world
                .attempts(world.targets(post)[0].id)
                .first()
                .is_some_and(|a| a.outcome == AttemptOutcome::Unknown)
        },
    )
    .await;
    world
        .sim
        .update_knobs(KnobsUpdate {
            accept_then_stall_rate: Some(0.0),
            ..KnobsUpdate::default()
        })
        .unwrap();
    eventually(
        Duration::from_secs(15),
        "the target reconciled as published",
        || async { world.targets(post)[0].status == TargetStatus::Published },
    )
    .await;
    assert_eq!(world.sim.posts().len(), 1, "one post on the platform");
    let attempts = world.attempts(world.targets(post)[0].id);
    assert_eq!(attempts[0].outcome, AttemptOutcome::Unknown);
    assert_eq!(attempts.last().unwrap().outcome, AttemptOutcome::Success);
}
