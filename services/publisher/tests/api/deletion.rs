//! Deleting published posts from their platforms, and accounts whose posts are held while
//! they are paused. Requests are written as auth-gateway writes them (the same `db` functions
//! and events); the publisher does the rest against platform-sim or a wiremock platform.

use std::time::Duration;

use chrono::Utc;
use db::{
    accounts::Account,
    deletions::PostDeletion,
    diesel::RunQueryDsl,
    domain::{
        AccountId, AttemptKind, AttemptOutcome, DeletionStatus, OwnerId, Platform, PostId,
        PostStatus, TargetStatus,
    },
    posts::Post,
    Connection,
};
use platform_sim::KnobsUpdate;
use wiremock::MockServer;

use crate::support::{eventually, world, World};

/// What `DELETE /v1/posts/{id}` writes for a published post: the requests and
/// `post.delete_requested`, in one transaction. Answers the targets requested.
fn request_deletion(world: &World, post: PostId) -> Vec<db::domain::PostTargetId> {
    let mut conn = world.db.conn();
    conn.transaction(|conn| {
        Post::lock_many(conn, &[post])?;
        let requested = PostDeletion::request(conn, post)?;
        Post::refresh_status(conn, &[post])?;
        if !requested.is_empty() {
            events::Outbox::new("auth-gateway")
                .write(
                    conn,
                    events::PostDeleteRequested {
                        post_id: post,
                        owner_id: OwnerId("owner".into()),
                        target_ids: requested.clone(),
                    },
                )
                .unwrap();
        }
        Ok::<_, db::diesel::result::Error>(requested)
    })
    .unwrap()
}

async fn published(world: &World, post: PostId) {
    eventually(Duration::from_secs(15), "the post published", || async {
        world.post(post).status == PostStatus::Published
    })
    .await;
}

fn deletions(world: &World, post: PostId) -> Vec<PostDeletion> {
    PostDeletion::of_posts(&mut world.db.conn(), &[post]).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deleted_post_leaves_the_platform_once_and_a_repeated_request_calls_nothing() {
    let mut world = world().await;
    let accounts = world.seed_accounts(1);
    let post = world.schedule(&accounts, "Here today", Utc::now());
    world.start_publisher().await;
    published(&world, post).await;
    let platform_id = world.targets(post)[0].platform_post_id.clone().unwrap();
    assert!(world.sim.deleted_posts().is_empty());

    assert_eq!(request_deletion(&world, post).len(), 1);
    assert_eq!(world.post(post).status, PostStatus::Deleting);
    eventually(Duration::from_secs(15), "the post deleted", || async {
        world.post(post).status == PostStatus::Deleted
    })
    .await;
    assert_eq!(world.sim.deleted_posts(), vec![platform_id]);
    assert_eq!(world.sim.delete_calls(), 1);
    let target = &world.targets(post)[0];
    assert_eq!(target.status, TargetStatus::Deleted);
    let attempts = world.attempts(target.id);
    let deletes: Vec<_> = attempts
        .iter()
        .filter(|a| a.kind == AttemptKind::Delete)
        .collect();
    assert_eq!(deletes.len(), 1, "{attempts:?}");
    assert_eq!(deletes[0].outcome, AttemptOutcome::Success);
    assert_eq!(
        deletes[0].attempt_no, 2,
        "it continues the target's numbering"
    );
    let announced = world.events("post.deleted");
    assert_eq!(announced.len(), 1);
    assert_eq!(announced[0]["targets"][0]["outcome"], "deleted");
    assert_eq!(announced[0]["post_id"], serde_json::json!(post));

    // Asking again requests nothing, so no second call reaches the platform.
    assert!(request_deletion(&world, post).is_empty());
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(world.sim.delete_calls(), 1);
    assert_eq!(world.events("post.deleted").len(), 1);
    assert_eq!(world.events("post.delete_requested").len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_delete_that_fails_transiently_is_retried_until_the_post_is_gone() {
    let mut world = world().await;
    let accounts = world.seed_accounts(1);
    let post = world.schedule(&accounts, "Flaky platform", Utc::now());
    world.start_publisher().await;
    published(&world, post).await;
    world
        .sim
        .update_knobs(KnobsUpdate {
            error_rate: Some(1.0),
            ..KnobsUpdate::default()
        })
        .unwrap();
    request_deletion(&world, post);
    let target = world.targets(post)[0].id;
    eventually(
        Duration::from_secs(10),
        "a delete refused with 503",
        || async {
            world
                .attempts(target)
                .iter()
                .any(|a| a.kind == AttemptKind::Delete && a.outcome == AttemptOutcome::Transient)
        },
    )
    .await;
    let waiting = &deletions(&world, post)[0];
    assert_eq!(waiting.error_code.as_deref(), Some("transient"));
    assert_eq!(world.targets(post)[0].status, TargetStatus::Deleting);
    world
        .sim
        .update_knobs(KnobsUpdate {
            error_rate: Some(0.0),
            ..KnobsUpdate::default()
        })
        .unwrap();
    eventually(Duration::from_secs(15), "the post deleted", || async {
        world.post(post).status == PostStatus::Deleted
    })
    .await;
    let deletion = &deletions(&world, post)[0];
    assert_eq!(deletion.status, DeletionStatus::Deleted);
    assert!(deletion.attempts >= 2, "{deletion:?}");
    assert_eq!(world.sim.deleted_posts().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_platform_that_cannot_delete_ends_unsupported_naming_it_without_a_call() {
    let instagram = MockServer::start().await;
    let mut world = world().await;
    world.set("platforms.instagram.client_id", "ig-client");
    world.set("platforms.instagram.client_secret", "ig-secret");
    world.set("platforms.instagram.api_base", &instagram.uri());
    let account = world.account_with_token(Platform::Instagram, "17841400000000001", "ig-token");
    // Published long ago, as the publisher leaves it.
    let post = world.schedule(
        &[account],
        "On Instagram",
        Utc::now() + chrono::Duration::days(1),
    );
    db::diesel::sql_query(
        "UPDATE post_targets SET status = 'published', platform_post_id = '17900000000000001', \
         published_at = now()",
    )
    .execute(&mut world.db.conn())
    .unwrap();
    world.start_publisher().await;
    request_deletion(&world, post);

    eventually(Duration::from_secs(15), "the deletion settled", || async {
        !matches!(
            deletions(&world, post)[0].status,
            DeletionStatus::Pending | DeletionStatus::Deleting
        )
    })
    .await;
    let deletion = &deletions(&world, post)[0];
    assert_eq!(deletion.status, DeletionStatus::Unsupported);
    let message = deletion.last_error.clone().unwrap();
    assert!(
        message.starts_with("Instagram does not let apps delete posts"),
        "{message}"
    );
    let target = &world.targets(post)[0];
    assert_eq!(target.status, TargetStatus::Published, "still live");
    assert_eq!(world.post(post).status, PostStatus::Published);
    assert!(
        instagram.received_requests().await.unwrap().is_empty(),
        "no call to Instagram"
    );
    let announced = world.events("post.deleted");
    assert_eq!(announced.len(), 1);
    assert_eq!(announced[0]["targets"][0]["outcome"], "unsupported");
    assert_eq!(announced[0]["targets"][0]["platform"], "instagram");
    // A second request leaves a known-unsupported target alone.
    assert!(request_deletion(&world, post).is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_paused_accounts_post_waits_past_its_due_time_and_goes_out_on_resume() {
    let mut world = world().await;
    let accounts = world.seed_accounts(2);
    let (paused, active) = (accounts[0], accounts[1]);
    set_paused(&world, paused, true);
    let held = world.schedule(&[paused], "Held back", Utc::now());
    let other = world.schedule(&[active], "Goes out", Utc::now());
    world.start_publisher().await;

    published(&world, other).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(world.post(held).status, PostStatus::Scheduled);
    let target = &world.targets(held)[0];
    assert_eq!(target.status, TargetStatus::Scheduled, "held, not failed");
    assert!(world.attempts(target.id).is_empty(), "never claimed");
    assert_eq!(world.sim.posts().len(), 1);

    set_paused(&world, paused, false);
    eventually(
        Duration::from_secs(5),
        "the held post published",
        || async { world.post(held).status == PostStatus::Published },
    )
    .await;
    assert_eq!(world.sim.posts().len(), 2);
}

/// What `POST /v1/accounts/{id}/pause` and `/resume` write.
fn set_paused(world: &World, account: AccountId, paused: bool) {
    let mut conn = world.db.conn();
    let owner = OwnerId("owner".into());
    let changed = Account::set_paused(&mut conn, account, &owner, paused, Utc::now())
        .unwrap()
        .unwrap();
    assert_eq!(changed.paused_at.is_some(), paused);
    assert!(
        Account::set_paused(&mut conn, account, &owner, paused, Utc::now())
            .unwrap()
            .is_none(),
        "a second call changes nothing"
    );
    if !paused {
        events::Outbox::new("auth-gateway")
            .write(
                &mut conn,
                events::AccountResumed {
                    account_id: account,
                    owner_id: owner,
                    platform: Platform::Sandbox,
                    resumed_at: Utc::now(),
                },
            )
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_threads_replies_are_deleted_last_first_then_the_post() {
    let mut world = world().await;
    let accounts = world.seed_accounts(1);
    let post = world.schedule(&accounts, "1/3", Utc::now());
    world.start_publisher().await;
    published(&world, post).await;
    let target = world.targets(post)[0].clone();
    // The thread's two replies, as the publisher records them (post_target_parts).
    let replies: Vec<String> = ["2/3", "3/3"]
        .iter()
        .map(|text| world.sim.publish_as("user0", text, text).unwrap())
        .collect();
    for (position, id) in replies.iter().enumerate() {
        db::diesel::sql_query(
            "INSERT INTO post_target_parts (target_id, position, platform_post_id) VALUES ($1, $2, $3)",
        )
        .bind::<db::diesel::sql_types::Uuid, _>(target.id.0)
        .bind::<db::diesel::sql_types::Integer, _>(i32::try_from(position).unwrap() + 1)
        .bind::<db::diesel::sql_types::Text, _>(id)
        .execute(&mut world.db.conn())
        .unwrap();
    }

    request_deletion(&world, post);
    eventually(Duration::from_secs(15), "the thread deleted", || async {
        world.post(post).status == PostStatus::Deleted
    })
    .await;
    let mut gone = world.sim.deleted_posts();
    gone.sort();
    let mut expected = vec![target.platform_post_id.clone().unwrap()];
    expected.extend(replies);
    expected.sort();
    assert_eq!(gone, expected);
    let deletes: Vec<_> = world
        .attempts(target.id)
        .into_iter()
        .filter(|a| a.kind == AttemptKind::Delete)
        .collect();
    assert_eq!(deletes.len(), 3);
    assert!(deletes.iter().all(|a| a.outcome == AttemptOutcome::Success));
    assert_eq!(deletes_in_order(&world, target.id), vec![2, 1, 0]);
    assert_eq!(deletions(&world, post)[0].attempts, 1, "one try");
}

/// The thread positions the target's delete attempts were for, in the order they were made.
fn deletes_in_order(world: &World, target: db::domain::PostTargetId) -> Vec<i32> {
    use db::diesel;
    #[derive(diesel::QueryableByName)]
    struct Part {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        part: i32,
    }
    db::diesel::sql_query(
        "SELECT part FROM post_attempts WHERE target_id = $1 AND kind = 'delete' ORDER BY attempt_no",
    )
    .bind::<db::diesel::sql_types::Uuid, _>(target.0)
    .load::<Part>(&mut world.db.conn())
    .unwrap()
    .into_iter()
    .map(|p| p.part)
    .collect()
}
