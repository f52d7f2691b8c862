//! Threads: a target with follow-ups publishes its post, then each part replying to the
//! previous one, then its first comment, each exactly once, continuing where a dead
//! publisher (or a failure) stopped.

use std::time::Duration;

use chrono::Utc;
use db::{
    diesel::{self, sql_types, RunQueryDsl},
    domain::{AttemptOutcome, PartKind, PostId, TargetStatus},
    post_parts::{self, PostPart, TargetPart},
};
use serde_json::json;

use crate::support::{eventually, world, World};

/// Adds `parts` and a first comment to `post`, as the gateway stores them.
fn with_parts(world: &World, post: PostId, parts: &[&str], comment: Option<&str>) {
    let rows: Vec<PostPart> = parts
        .iter()
        .map(|text| (PartKind::Part, *text))
        .chain(comment.map(|text| (PartKind::FirstComment, text)))
        .zip(1..)
        .map(|((kind, text), position)| PostPart {
            post_id: post,
            position,
            kind,
            text: text.to_owned(),
            media_ids: vec![],
        })
        .collect();
    PostPart::insert_for_post(&mut world.db.conn(), &rows).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_thread_goes_out_in_order_each_part_replying_to_the_previous_then_its_comment() {
    let mut world = world().await;
    let accounts = world.seed_accounts(1);
    let post = world.schedule(&accounts, "1/3", Utc::now());
    with_parts(&world, post, &["2/3", "3/3"], Some("a comment"));
    world.start_publisher().await;
    eventually(Duration::from_secs(15), "the thread published", || async {
        world.targets(post)[0].status == TargetStatus::Published
    })
    .await;

    let target = world.targets(post)[0].clone();
    let parts = TargetPart::of_targets(&mut world.db.conn(), &[target.id]).unwrap();
    let ids: Vec<&str> = parts.iter().map(|p| p.platform_post_id.as_str()).collect();
    assert_eq!(ids.len(), 4);
    assert_eq!(target.platform_post_id.as_deref(), Some(ids[0]));
    let posts = world.sim.posts();
    let texts: Vec<&str> = ids
        .iter()
        .map(|id| posts.iter().find(|p| p.id == *id).unwrap().text.as_str())
        .collect();
    assert_eq!(texts, ["1/3", "2/3", "3/3", "a comment"]);
    assert_eq!(world.sim.in_reply_to(ids[0]), None);
    for pair in ids.windows(2) {
        assert_eq!(world.sim.in_reply_to(pair[1]).as_deref(), Some(pair[0]));
    }
    // One key per position: the target's id, then `{target}:{n}`.
    let keys: Vec<String> = ids
        .iter()
        .map(|id| {
            let post = posts.iter().find(|p| p.id == *id).unwrap();
            post.idempotency_key.clone().unwrap()
        })
        .collect();
    let t = target.id.to_string();
    assert_eq!(
        keys,
        [
            t.clone(),
            format!("{t}:1"),
            format!("{t}:2"),
            format!("{t}:3")
        ]
    );
    assert_eq!(
        world.events("post.published").len(),
        1,
        "one event per target"
    );
    let attempts = world.attempts(target.id);
    assert_eq!(attempts.len(), 4);
    assert!(attempts
        .iter()
        .all(|a| a.outcome == AttemptOutcome::Success));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_part_left_in_flight_by_a_dead_publisher_is_settled_without_a_second_post_and_the_chain_goes_on(
) {
    let mut world = world().await;
    let accounts = world.seed_accounts(1);
    let post = world.schedule(&accounts, "first", Utc::now());
    with_parts(&world, post, &["second", "third"], None);
    let target = world.targets(post)[0].clone();
    let key = target.id.to_string();
    // What a publisher that died while publishing part two leaves: the post recorded, the
    // target claimed under a lease that ran out, part two's attempt in flight, and part two
    // already accepted by the platform.
    let root = world.sim.publish_as("user0", "first", &key).unwrap();
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
    let row = TargetPart {
        target_id: target.id,
        position: 0,
        platform_post_id: root.clone(),
        url: None,
        published_at: Utc::now(),
    };
    assert!(TargetPart::record(&mut world.db.conn(), &row, claim, None).unwrap());
    post_parts::start_attempt(&mut world.db.conn(), target.id, target.account_id, claim, 1)
        .unwrap()
        .unwrap();
    let second = world
        .sim
        .publish_as("user0", "second", &format!("{key}:1"))
        .unwrap();

    world.start_publisher().await;
    eventually(Duration::from_secs(15), "the thread settled", || async {
        world.targets(post)[0].status == TargetStatus::Published
    })
    .await;

    let posts = world.sim.posts();
    let mut texts: Vec<&str> = posts.iter().map(|p| p.text.as_str()).collect();
    texts.sort_unstable();
    assert_eq!(texts, ["first", "second", "third"], "no part twice");
    let parts = TargetPart::of_targets(&mut world.db.conn(), &[target.id]).unwrap();
    let ids: Vec<&str> = parts.iter().map(|p| p.platform_post_id.as_str()).collect();
    assert_eq!(ids[..2], [root.as_str(), second.as_str()]);
    let attempts = world.attempts(target.id);
    assert_eq!(attempts[0].outcome, AttemptOutcome::Unknown);
    assert_eq!(attempts[0].error_code.as_deref(), Some("publisher_stopped"));
    assert!(attempts[1..]
        .iter()
        .all(|a| a.outcome == AttemptOutcome::Success));
    assert_eq!(
        attempts.len(),
        3,
        "part two settled, part three published: {attempts:#?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_part_stops_the_chain_and_fails_the_target_naming_the_part() {
    let mut world = world().await;
    let accounts = world.seed_accounts(1);
    world.sim.fail_posts(platform_sim::PostFailure {
        text_contains: "[refuse]".into(),
        times: 1,
    });
    let post = world.schedule(&accounts, "one", Utc::now());
    with_parts(&world, post, &["two [refuse]", "three"], None);
    world.start_publisher().await;
    eventually(Duration::from_secs(15), "the target failed", || async {
        world.targets(post)[0].status == TargetStatus::Failed
    })
    .await;

    let target = world.targets(post)[0].clone();
    let error = target.last_error.unwrap();
    assert!(error.starts_with("part 2 of 3: "), "{error}");
    let texts: Vec<String> = world.sim.posts().into_iter().map(|p| p.text).collect();
    assert_eq!(texts, ["one"], "the chain stopped at part two");
    let parts = TargetPart::of_targets(&mut world.db.conn(), &[target.id]).unwrap();
    assert_eq!(parts.len(), 1, "the post itself is recorded as existing");
    assert_eq!(world.events("post.failed").len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_x_part_accepted_but_unanswered_is_found_on_the_timeline_not_posted_twice() {
    use wiremock::{
        matchers::{body_partial_json, method, path},
        Mock, MockServer, ResponseTemplate,
    };
    const USER: &str = "2244994945";
    const ROOT: &str = "1880000000000000001";
    const PART: &str = "1880000000000000002";
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/2/tweets"))
        .and(body_partial_json(json!({"text": "one"})))
        .respond_with(
            ResponseTemplate::new(201).set_body_json(json!({"data": {"id": ROOT, "text": "one"}})),
        )
        .mount(&server)
        .await;
    // X creates part two, but its answer comes after the publish timeout (2 s in tests).
    Mock::given(method("POST"))
        .and(path("/2/tweets"))
        .and(body_partial_json(
            json!({"text": "two", "reply": {"in_reply_to_tweet_id": ROOT}}),
        ))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(json!({"data": {"id": PART, "text": "two"}}))
                .set_delay(Duration::from_secs(4)),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/2/users/{USER}/tweets")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [
                {"id": PART, "text": "two", "created_at": Utc::now(), "edit_history_tweet_ids": [PART]},
                {"id": ROOT, "text": "one", "created_at": Utc::now(), "edit_history_tweet_ids": [ROOT]}
            ],
            "meta": {"result_count": 2, "newest_id": PART, "oldest_id": ROOT}
        })))
        .mount(&server)
        .await;
    let mut world = crate::support::against_x(&server).await;
    let account = world.account_with_token(db::domain::Platform::X, USER, "x-token");
    let post = world.schedule(&[account], "one", Utc::now());
    with_parts(&world, post, &["two"], None);
    world.start_publisher().await;
    eventually(Duration::from_secs(20), "the thread published", || async {
        world.targets(post)[0].status == TargetStatus::Published
    })
    .await;

    let creates: Vec<serde_json::Value> = server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.method.as_str() == "POST" && r.url.path() == "/2/tweets")
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    let texts: Vec<&str> = creates
        .iter()
        .map(|b| b["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["one", "two"], "part two was never sent twice");
    let target = world.targets(post)[0].clone();
    assert_eq!(target.platform_post_id.as_deref(), Some(ROOT));
    let parts = TargetPart::of_targets(&mut world.db.conn(), &[target.id]).unwrap();
    let ids: Vec<&str> = parts.iter().map(|p| p.platform_post_id.as_str()).collect();
    assert_eq!(ids, [ROOT, PART]);
    let outcomes: Vec<_> = world
        .attempts(target.id)
        .iter()
        .map(|a| a.outcome)
        .collect();
    assert_eq!(
        outcomes,
        [
            AttemptOutcome::Success,
            AttemptOutcome::Unknown,
            AttemptOutcome::Success
        ]
    );
    assert_eq!(
        world.attempts(target.id)[2].response.as_ref().unwrap()["reconciled"],
        true
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_part_published_by_a_publisher_that_had_lost_the_target_is_recorded_not_sent_again() {
    let mut world = world().await;
    let accounts = world.seed_accounts(1);
    let post = world.schedule(&accounts, "first", Utc::now());
    with_parts(&world, post, &["second", "third"], None);
    let target = world.targets(post)[0].clone();
    let key = target.id.to_string();
    // The old publisher published part two and logged the success on its attempt, but had
    // lost the target by then: no row for part two, the target still `publishing`.
    let root = world.sim.publish_as("user0", "first", &key).unwrap();
    let second = world
        .sim
        .publish_as("user0", "second", &format!("{key}:1"))
        .unwrap();
    let claim = uuid::Uuid::new_v4();
    diesel::sql_query(
        "UPDATE post_targets SET status = 'publishing', lease_until = $1, claim_id = $3 WHERE id = $2",
    )
    .bind::<sql_types::Timestamptz, _>(Utc::now() - chrono::Duration::seconds(5))
    .bind::<sql_types::Uuid, _>(target.id.0)
    .bind::<sql_types::Uuid, _>(claim)
    .execute(&mut world.db.conn())
    .unwrap();
    let row = TargetPart {
        target_id: target.id,
        position: 0,
        platform_post_id: root.clone(),
        url: None,
        published_at: Utc::now(),
    };
    assert!(TargetPart::record(&mut world.db.conn(), &row, claim, None).unwrap());
    let attempt =
        post_parts::start_attempt(&mut world.db.conn(), target.id, target.account_id, claim, 1)
            .unwrap()
            .unwrap();
    let answered = db::posts::AttemptResult {
        finished_at: Some(Utc::now()),
        http_status: Some(201),
        outcome: AttemptOutcome::Success,
        error_code: None,
        error_message: None,
        response: Some(json!({"platform_post_id": second, "url": null})),
    };
    db::posts::PostAttempt::finish(&mut world.db.conn(), attempt.id, &answered).unwrap();

    world.start_publisher().await;
    eventually(Duration::from_secs(15), "the thread settled", || async {
        world.targets(post)[0].status == TargetStatus::Published
    })
    .await;

    let posts = world.sim.posts();
    let part_two = posts.iter().find(|p| p.id == second).unwrap();
    assert_eq!(part_two.create_calls, 1, "part two was not sent again");
    let mut texts: Vec<&str> = posts.iter().map(|p| p.text.as_str()).collect();
    texts.sort_unstable();
    assert_eq!(texts, ["first", "second", "third"]);
    let parts = TargetPart::of_targets(&mut world.db.conn(), &[target.id]).unwrap();
    let ids: Vec<&str> = parts.iter().map(|p| p.platform_post_id.as_str()).collect();
    assert_eq!(ids[..2], [root.as_str(), second.as_str()]);
    assert_eq!(ids.len(), 3);
}
