//! Threads (`parts`) and first comments: checked per platform, stored with the post, shown
//! per target.

use db::domain::Platform;
use reqwest::StatusCode;
use serde_json::json;

use crate::{
    posts::{account, count, create, image},
    support::spawn_app,
};

#[tokio::test]
async fn parts_to_a_platform_without_threads_are_a_422_naming_the_account_that_creates_nothing() {
    let app = spawn_app().await;
    let sandbox = account(&app, "alice", Platform::Sandbox);
    let facebook = account(&app, "alice", Platform::Facebook);
    let (status, body) = create(
        &app,
        "alice",
        json!({"text": "1/2", "account_ids": [sandbox, facebook], "parts": [{"text": "2/2"}]}),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("facebook"), "{message}");
    assert!(message.contains(&facebook.to_string()), "{message}");
    let targets = body["error"]["details"]["targets"].as_array().unwrap();
    assert_eq!(targets.len(), 1, "only facebook is refused: {body}");
    assert_eq!(targets[0]["problems"][0]["code"], "threads_unsupported");
    assert_eq!(count(&app, "SELECT count(*) AS n FROM posts"), 0);
    assert_eq!(count(&app, "SELECT count(*) AS n FROM post_parts"), 0);
}

#[tokio::test]
async fn a_first_comment_to_a_platform_without_comments_is_a_422() {
    let app = spawn_app().await;
    let pinterest = account(&app, "alice", Platform::Pinterest);
    let picture = image(&app, "alice");
    let (status, body) = create(
        &app,
        "alice",
        json!({"text": "a pin", "account_ids": [pinterest], "first_comment": "hi", "media_ids": [picture],
               "variants": {"pinterest": {"board_id": "1"}}}),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let problems = body["error"]["details"]["targets"][0]["problems"]
        .as_array()
        .unwrap();
    assert!(
        problems
            .iter()
            .any(|p| p["code"] == "first_comment_unsupported"),
        "{body}"
    );
}

#[tokio::test]
async fn each_part_is_checked_as_a_post_of_every_platform_and_named_in_the_refusal() {
    let app = spawn_app().await;
    let x = account(&app, "alice", Platform::X);
    let (status, body) = create(
        &app,
        "alice",
        json!({"text": "short", "account_ids": [x],
               "parts": [{"text": "fine"}, {"text": "y".repeat(281)}]}),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let problem = &body["error"]["details"]["targets"][0]["problems"][0];
    assert_eq!(problem["code"], "text_too_long", "{body}");
    assert!(
        problem["message"].as_str().unwrap().starts_with("parts[1]"),
        "{body}"
    );
}

#[tokio::test]
async fn a_thread_is_stored_with_its_parts_and_each_target_shows_its_positions() {
    let app = spawn_app().await;
    let sandbox = account(&app, "alice", Platform::Sandbox);
    let x = account(&app, "alice", Platform::X);
    let (status, body) = create(
        &app,
        "alice",
        json!({"text": "1/3", "account_ids": [sandbox, x],
               "parts": [{"text": "2/3"}, {"text": "3/3"}], "first_comment": "comments here"}),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(count(&app, "SELECT count(*) AS n FROM post_parts"), 3);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM post_targets WHERE follow_ups = 3"
        ),
        2
    );
    let id = body["id"].as_str().unwrap();
    let view: serde_json::Value = app
        .get("alice", &format!("/v1/posts/{id}"))
        .await
        .json()
        .await
        .unwrap();
    for target in view["targets"].as_array().unwrap() {
        let parts = target["parts"].as_array().unwrap();
        let kinds: Vec<&str> = parts.iter().map(|p| p["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["post", "part", "part", "first_comment"], "{view}");
        let positions: Vec<i64> = parts
            .iter()
            .map(|p| p["position"].as_i64().unwrap())
            .collect();
        assert_eq!(positions, [0, 1, 2, 3]);
        assert!(parts.iter().all(|p| p["status"] == "pending"), "{view}");
    }
}

#[tokio::test]
async fn a_single_post_has_no_parts_in_its_view() {
    let app = spawn_app().await;
    let sandbox = account(&app, "alice", Platform::Sandbox);
    let (status, body) = create(
        &app,
        "alice",
        json!({"text": "alone", "account_ids": [sandbox]}),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(body["targets"][0].get("parts").is_none(), "{body}");
    assert_eq!(count(&app, "SELECT count(*) AS n FROM post_parts"), 0);
}
