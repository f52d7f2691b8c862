//! The set-based grouped writes: a batch of attempt starts and of outcomes is a few statements,
//! and still answers job by job, fenced by each job's claim.

use chrono::Utc;
use db::{
    diesel::{self, sql_types, RunQueryDsl},
    domain::{AttemptOutcome, PostStatus, TargetStatus},
    posts::{AttemptResult, PostTarget},
};
use platform_adapters::Published;
use publisher::{
    group_commit::GroupCommit,
    record::{Decision, Outcome, RecordOutcomes, StartAttempt, StartAttempts, Started},
};
use uuid::Uuid;

use crate::support::world;

/// Four claimed targets (one post each); the last one's claim is then taken by another
/// publisher, so this one's writes to it are stale.
async fn claimed_four(
    world: &crate::support::World,
) -> (Vec<PostTarget>, Uuid, Vec<db::domain::PostId>) {
    let accounts = world.seed_accounts(4);
    let due = Utc::now() - chrono::Duration::seconds(1);
    let posts: Vec<_> = accounts
        .iter()
        .map(|a| world.schedule(std::slice::from_ref(a), "batch", due))
        .collect();
    let claim = Uuid::new_v4();
    let mut conn = world.db.conn();
    let now = Utc::now();
    let claimed = PostTarget::claim_due(
        &mut conn,
        now,
        now + chrono::Duration::seconds(30),
        claim,
        10,
    )
    .unwrap();
    assert_eq!(claimed.len(), 4);
    let mut targets: Vec<PostTarget> = claimed.into_iter().map(|c| c.target).collect();
    targets.sort_by_key(|t| t.post_id);
    let mut posts = posts;
    posts.sort();
    diesel::sql_query("UPDATE post_targets SET claim_id = $1 WHERE id = $2")
        .bind::<sql_types::Uuid, _>(Uuid::new_v4())
        .bind::<sql_types::Uuid, _>(targets[3].id)
        .execute(&mut conn)
        .unwrap();
    (targets, claim, posts)
}

#[tokio::test]
async fn a_batch_of_starts_answers_each_job_and_a_stale_claim_starts_nothing() {
    let world = world().await;
    let (targets, claim, _) = claimed_four(&world).await;
    let starts = GroupCommit::start(world.db.db(), StartAttempts, 1, 64);
    let start = |i: usize| StartAttempt {
        target: targets[i].id,
        account: targets[i].account_id,
        claim,
        limit: None,
    };

    // Submitted together on one committer, so they are one batch.
    let (a, b, c, d) = tokio::join!(
        starts.submit(start(0)),
        starts.submit(start(1)),
        starts.submit(start(2)),
        starts.submit(start(3))
    );

    for (i, started) in [a, b, c].into_iter().enumerate() {
        let Started::Attempt(attempt) = started.unwrap() else {
            panic!("target {i} is held: its attempt starts");
        };
        assert_eq!(
            attempt.target_id, targets[i].id,
            "each job gets its own attempt"
        );
        assert_eq!(attempt.attempt_no, 1);
        assert_eq!(attempt.outcome, AttemptOutcome::InFlight);
        assert_eq!(attempt.account_id, Some(targets[i].account_id));
        assert_eq!(
            world.attempts(targets[i].id).len(),
            1,
            "committed in flight"
        );
    }
    assert!(
        matches!(d.unwrap(), Started::LeaseLost),
        "the stale claim's job says it lost the target"
    );
    assert!(
        world.attempts(targets[3].id).is_empty(),
        "and starts nothing"
    );
    assert_eq!(
        world.targets(targets[3].post_id)[0].attempts,
        0,
        "nor counts an attempt on the target it lost"
    );
}

#[tokio::test]
async fn a_batch_of_outcomes_writes_only_the_held_targets_and_their_events() {
    let world = world().await;
    let (targets, claim, posts) = claimed_four(&world).await;
    let starts = GroupCommit::start(world.db.db(), StartAttempts, 1, 64);
    let mut attempts = Vec::new();
    for target in &targets[..3] {
        let started = starts
            .submit(StartAttempt {
                target: target.id,
                account: target.account_id,
                claim,
                limit: None,
            })
            .await
            .unwrap();
        let Started::Attempt(attempt) = started else {
            panic!("held");
        };
        attempts.push(attempt);
    }
    let outcomes = GroupCommit::start(
        world.db.db(),
        RecordOutcomes {
            first_metrics_read: Some(chrono::Duration::hours(1)),
        },
        1,
        64,
    );
    let success = |i: usize| AttemptResult {
        finished_at: Some(Utc::now()),
        http_status: Some(201),
        outcome: AttemptOutcome::Success,
        error_code: None,
        error_message: None,
        response: Some(serde_json::json!({ "platform_post_id": format!("p{i}") })),
    };
    let published = |i: usize| {
        Decision::Published(Published {
            platform_post_id: format!("p{i}"),
            url: Some(format!("https://sim/p{i}")),
        })
    };
    let outcome = |i: usize, decision: Decision| Outcome {
        target: targets[i].clone(),
        claim,
        attempt: attempts.get(i).map(|a| (a.clone(), success(i))),
        decision,
        refresh: None,
    };
    let failed = Decision::Failed {
        code: "rejected",
        message: "too long".into(),
    };
    let wait = Decision::Wait {
        status: TargetStatus::Scheduled,
        at: Utc::now() + chrono::Duration::minutes(5),
        code: "rate_limited",
        message: "later".into(),
    };

    let (a, b, c, d) = tokio::join!(
        outcomes.submit(outcome(0, published(0))),
        outcomes.submit(outcome(1, failed)),
        outcomes.submit(outcome(2, wait)),
        outcomes.submit(outcome(3, published(3)))
    );

    let a = a.unwrap().expect("held: stored");
    assert_eq!(a.status, TargetStatus::Published);
    assert_eq!(a.platform_post_id.as_deref(), Some("p0"));
    assert_eq!(a.url.as_deref(), Some("https://sim/p0"));
    assert!(a.published_at.is_some() && a.claim_id.is_none() && a.lease_until.is_none());
    let b = b.unwrap().expect("held: stored");
    assert_eq!(
        (b.status, b.error_code.as_deref(), b.last_error.as_deref()),
        (TargetStatus::Failed, Some("rejected"), Some("too long"))
    );
    let c = c.unwrap().expect("held: stored");
    assert_eq!(
        (c.status, c.error_code.as_deref()),
        (TargetStatus::Scheduled, Some("rate_limited"))
    );
    assert!(c.next_attempt_at > Utc::now() + chrono::Duration::minutes(4));
    assert!(
        d.unwrap().is_none(),
        "the stale claim's job says it lost the target"
    );

    let lost = &world.targets(targets[3].post_id)[0];
    assert_eq!(
        lost.status,
        TargetStatus::Publishing,
        "the lost target is left alone"
    );
    assert!(lost.platform_post_id.is_none());
    for (i, target) in targets[..3].iter().enumerate() {
        let attempt = &world.attempts(target.id)[0];
        assert_eq!(
            attempt.outcome,
            AttemptOutcome::Success,
            "attempt {i}'s result stored"
        );
        assert_eq!(attempt.http_status, Some(201));
        assert_eq!(
            attempt.response.as_ref().unwrap()["platform_post_id"],
            format!("p{i}")
        );
    }
    let published_events = world.events("post.published");
    assert_eq!(
        published_events.len(),
        1,
        "one post.published, none for the lost target"
    );
    assert_eq!(published_events[0]["target_id"], targets[0].id.to_string());
    assert_eq!(world.events("post.failed").len(), 1);
    assert_eq!(
        [posts[0], posts[1], posts[2]].map(|p| world.post(p).status),
        [
            PostStatus::Published,
            PostStatus::Failed,
            PostStatus::Scheduled
        ],
        "each post's status derived in the same transaction"
    );
}
