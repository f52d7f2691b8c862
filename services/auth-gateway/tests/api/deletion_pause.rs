//! `DELETE /v1/posts/{id}` and `POST /v1/accounts/{id}/pause|resume` at the HTTP level: what
//! is written and answered. The publisher's side (the platform calls) is tested in the
//! publisher and end to end.

use chrono::{Duration, Utc};
use db::{
    diesel::{self, sql_types, RunQueryDsl},
    domain::Platform,
};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::{
    posts::{account, count, create},
    support::spawn_app,
};

fn events(app: &crate::support::TestApp, event_type: &str) -> i64 {
    count(
        app,
        &format!("SELECT count(*) AS n FROM outbox WHERE event_type = '{event_type}'"),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn deleting_a_scheduled_post_cancels_it_and_asking_again_answers_the_same() {
    let app = spawn_app().await;
    let a = account(&app, "alice", Platform::Sandbox);
    let at = Utc::now() + Duration::hours(2);
    let (_, post) = create(
        &app,
        "alice",
        json!({"text": "later", "account_ids": [a], "scheduled_at": at}),
        None,
    )
    .await;
    let path = format!("/v1/posts/{}", post["id"].as_str().unwrap());

    let first = app.delete("alice", &path).await;
    assert_eq!(first.status(), StatusCode::OK);
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["status"], "canceled");
    assert_eq!(first["targets"][0]["status"], "canceled");
    assert!(
        first["targets"][0].get("deletion").is_none(),
        "nothing to delete"
    );
    assert_eq!(events(&app, "post.canceled"), 1);
    assert_eq!(events(&app, "post.delete_requested"), 0);

    let again = app.delete("alice", &path).await;
    assert_eq!(again.status(), StatusCode::OK);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["status"], first["status"]);
    assert_eq!(again["targets"], first["targets"]);
    assert_eq!(events(&app, "post.canceled"), 1, "no second event");

    assert_eq!(
        app.delete("bob", &path).await.status(),
        StatusCode::NOT_FOUND,
        "another user's post"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn deleting_a_published_post_requests_each_target_once_and_answers_202_until_done() {
    let app = spawn_app().await;
    let a = account(&app, "alice", Platform::Sandbox);
    let b = account(&app, "alice", Platform::Sandbox);
    let (_, post) = create(
        &app,
        "alice",
        json!({"text": "now", "account_ids": [a, b]}),
        None,
    )
    .await;
    let id = post["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/posts/{id}");
    // A publisher is still on `b`: nothing may change.
    diesel::sql_query(
        "UPDATE post_targets SET status = CASE WHEN account_id = $1 THEN 'published' ELSE 'publishing' END, \
         platform_post_id = '7'",
    )
    .bind::<sql_types::Uuid, _>(a.0)
    .execute(&mut app.db.conn())
    .unwrap();
    let busy = app.delete("alice", &path).await;
    assert_eq!(busy.status(), StatusCode::CONFLICT);
    let busy: Value = busy.json().await.unwrap();
    assert_eq!(busy["error"]["code"], "publishing_in_progress");
    assert_eq!(count(&app, "SELECT count(*) AS n FROM post_deletions"), 0);

    diesel::sql_query("UPDATE post_targets SET status = 'published'")
        .execute(&mut app.db.conn())
        .unwrap();
    let accepted = app.delete("alice", &path).await;
    assert_eq!(accepted.status(), StatusCode::ACCEPTED);
    let accepted: Value = accepted.json().await.unwrap();
    assert_eq!(accepted["status"], "deleting");
    for target in accepted["targets"].as_array().unwrap() {
        assert_eq!(target["status"], "deleting");
        assert_eq!(target["deletion"]["status"], "pending");
    }
    assert_eq!(events(&app, "post.delete_requested"), 1);

    let again = app.delete("alice", &path).await;
    assert_eq!(again.status(), StatusCode::ACCEPTED, "still under way");
    assert_eq!(
        events(&app, "post.delete_requested"),
        1,
        "nothing requested twice"
    );
    assert_eq!(count(&app, "SELECT count(*) AS n FROM post_deletions"), 2);

    // What the publisher leaves once both are gone.
    diesel::sql_query("UPDATE post_deletions SET status = 'deleted', deleted_at = now()")
        .execute(&mut app.db.conn())
        .unwrap();
    diesel::sql_query("UPDATE post_targets SET status = 'deleted'")
        .execute(&mut app.db.conn())
        .unwrap();
    diesel::sql_query("UPDATE posts SET status = 'deleted'")
        .execute(&mut app.db.conn())
        .unwrap();
    let done = app.delete("alice", &path).await;
    assert_eq!(done.status(), StatusCode::OK);
    let done: Value = done.json().await.unwrap();
    assert_eq!(done["status"], "deleted");
    assert_eq!(done["targets"][0]["deletion"]["status"], "deleted");
    assert_eq!(events(&app, "post.delete_requested"), 1);
    let shown: Value = app.get("alice", &path).await.json().await.unwrap();
    assert_eq!(shown["targets"][1]["deletion"]["status"], "deleted");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_post_asked_to_be_deleted_is_not_retried_so_its_failed_targets_stay_off_the_platform() {
    let app = spawn_app().await;
    let a = account(&app, "alice", Platform::Sandbox);
    let b = account(&app, "alice", Platform::Sandbox);
    let (_, post) = create(
        &app,
        "alice",
        json!({"text": "now", "account_ids": [a, b]}),
        None,
    )
    .await;
    let id = post["id"].as_str().unwrap().to_owned();
    diesel::sql_query(
        "UPDATE post_targets SET status = CASE WHEN account_id = $1 THEN 'published' ELSE 'failed' END, \
         platform_post_id = CASE WHEN account_id = $1 THEN '7' END",
    )
    .bind::<sql_types::Uuid, _>(a.0)
    .execute(&mut app.db.conn())
    .unwrap();
    let deleting = app.delete("alice", &format!("/v1/posts/{id}")).await;
    assert_eq!(deleting.status(), StatusCode::ACCEPTED);

    let retry = app
        .post("alice", &format!("/v1/posts/{id}/retry"), json!({}))
        .await;
    assert_eq!(retry.status(), StatusCode::CONFLICT);
    let retry: Value = retry.json().await.unwrap();
    assert_eq!(retry["error"]["code"], "post_deleted");
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM post_targets WHERE status = 'failed'"
        ),
        1,
        "the failed target stays failed"
    );
    assert_eq!(events(&app, "post.scheduled"), 1, "only the creation's");
}

#[tokio::test(flavor = "multi_thread")]
async fn pausing_and_resuming_is_idempotent_shown_on_the_account_and_private() {
    let app = spawn_app().await;
    let a = account(&app, "alice", Platform::Sandbox);
    let pause = format!("/v1/accounts/{a}/pause");
    let resume = format!("/v1/accounts/{a}/resume");

    let paused = app.post("alice", &pause, json!({})).await;
    assert_eq!(paused.status(), StatusCode::OK);
    let paused: Value = paused.json().await.unwrap();
    assert_eq!(paused["paused"], true);
    assert!(paused["paused_at"].is_string());
    let again: Value = app
        .post("alice", &pause, json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["paused_at"], paused["paused_at"], "unchanged");
    assert_eq!(events(&app, "account.paused"), 1);
    let shown: Value = app
        .get("alice", &format!("/v1/accounts/{a}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(shown["paused"], true);

    // A paused account still accepts posts.
    let (status, _) = create(
        &app,
        "alice",
        json!({"text": "held", "account_ids": [a]}),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);

    for path in [&pause, &resume] {
        assert_eq!(
            app.post("bob", path, json!({})).await.status(),
            StatusCode::NOT_FOUND,
            "another user's account"
        );
    }
    assert_eq!(events(&app, "account.resumed"), 0);

    let resumed: Value = app
        .post("alice", &resume, json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(resumed["paused"], false);
    assert!(resumed["paused_at"].is_null());
    app.post("alice", &resume, json!({})).await;
    assert_eq!(events(&app, "account.resumed"), 1);
}
