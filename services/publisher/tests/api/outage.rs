//! A PostgreSQL restart while calls are in flight: the platforms' answers are kept and
//! recorded as they were once the database is back, not dropped and later mistaken for a
//! dead publisher's calls.

use std::time::Duration;

use chrono::Utc;
use db::domain::{AttemptOutcome, Platform, TargetStatus};
use platform_sim::KnobsUpdate;
use testkit::PrivatePostgres;

use crate::support::{eventually, world_on};

#[tokio::test(flavor = "multi_thread")]
async fn results_that_cannot_be_written_while_postgres_restarts_are_recorded_as_they_were() {
    let pg = tokio::task::spawn_blocking(PrivatePostgres::start)
        .await
        .unwrap();
    let mut world = world_on(&pg.url()).await;
    world.set("database.pool_size", "6");
    let accounts = world.seed_accounts(5);
    // Calls take 2.5 s: they are answered while the database is down.
    world
        .sim
        .update_knobs(KnobsUpdate {
            latency_ms: Some(2_500),
            ..KnobsUpdate::default()
        })
        .unwrap();
    world.set("publisher.publish_timeout_secs", "10");
    let items: Vec<_> = accounts
        .iter()
        .enumerate()
        .map(|(i, a)| (*a, format!("during the outage {i}")))
        .collect();
    let posts = world.schedule_many(Platform::Sandbox, &items, Utc::now());
    world.start_publisher().await;
    eventually(Duration::from_secs(10), "5 calls in flight", || async {
        posts.iter().all(|p| {
            let target = world.targets(*p)[0].id;
            world
                .attempts(target)
                .first()
                .is_some_and(|a| a.outcome == AttemptOutcome::InFlight)
        })
    })
    .await;

    let pg = tokio::task::spawn_blocking(move || {
        pg.stop();
        // Longer than the pool's connection timeout (5 s): a write cannot just wait it out.
        std::thread::sleep(Duration::from_secs(10));
        pg.resume();
        pg
    })
    .await
    .unwrap();
    eventually(
        Duration::from_secs(30),
        "all 5 targets published",
        || async { world.count_in(TargetStatus::Published) == 5 },
    )
    .await;

    let posts = world.sim.posts();
    assert_eq!(posts.len(), 5);
    assert!(
        posts.iter().all(|p| p.create_calls == 1),
        "each sent once: {posts:?}"
    );
    for post in &posts {
        let target: db::domain::PostTargetId =
            post.idempotency_key.as_deref().unwrap().parse().unwrap();
        let attempts = world.attempts(target);
        assert_eq!(
            attempts.len(),
            1,
            "the call's own result, no recovery: {attempts:?}"
        );
        assert_eq!(attempts[0].outcome, AttemptOutcome::Success);
        assert_eq!(attempts[0].http_status, Some(201));
        assert_eq!(
            attempts[0].response.as_ref().unwrap()["platform_post_id"],
            post.id.as_str()
        );
    }
    assert_eq!(world.events("post.published").len(), 5);
    drop(world);
    drop(pg);
}
