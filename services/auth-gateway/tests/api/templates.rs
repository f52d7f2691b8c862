//! Templates: saving, listing, editing and deleting them, and drafts made from them.

use db::domain::Platform;
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};

use crate::{
    drafts::account,
    support::{spawn_app, token_for, TestApp},
};

async fn patch(app: &TestApp, user: &str, path: &str, body: Value) -> Response {
    app.http
        .patch(app.url(path))
        .bearer_auth(token_for(user))
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn json_of(response: Response, status: StatusCode) -> Value {
    assert_eq!(response.status(), status);
    response.json().await.unwrap()
}

async fn create(app: &TestApp, user: &str, body: Value) -> Value {
    json_of(
        app.post(user, "/v1/templates", body).await,
        StatusCode::CREATED,
    )
    .await
}

fn template_rows(app: &TestApp) -> i64 {
    use db::diesel::{dsl::count_star, QueryDsl, RunQueryDsl};
    db::schema::templates::table
        .select(count_star())
        .first(&mut app.db.conn())
        .unwrap()
}

fn draft_rows(app: &TestApp) -> i64 {
    use db::diesel::{dsl::count_star, QueryDsl, RunQueryDsl};
    db::schema::drafts::table
        .select(count_star())
        .first(&mut app.db.conn())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_template_is_created_read_listed_changed_and_deleted() {
    let app = spawn_app().await;
    let created = create(
        &app,
        "alice",
        json!({
            "name": "Launch",
            "text": "We launched {product}! {{braces}}",
            "variants": { "x": { "text": "{product} is out: {link}" } }
        }),
    )
    .await;
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["name"], "Launch");
    assert_eq!(
        created["variants"],
        json!({ "x": { "text": "{product} is out: {link}" } })
    );
    assert_eq!(created["placeholders"], json!(["link", "product"]));

    let got = json_of(
        app.get("alice", &format!("/v1/templates/{id}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(got, created);

    let changed = json_of(
        patch(
            &app,
            "alice",
            &format!("/v1/templates/{id}"),
            json!({ "text": "Hello {who}", "variants": {} }),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(changed["name"], "Launch", "fields left out stay");
    assert_eq!(changed["text"], "Hello {who}");
    assert_eq!(changed["placeholders"], json!(["who"]));

    // Two more; pages of two, most recently edited first.
    create(&app, "alice", json!({ "name": "Second" })).await;
    create(&app, "alice", json!({ "name": "Third" })).await;
    let first = json_of(
        app.get("alice", "/v1/templates?limit=2").await,
        StatusCode::OK,
    )
    .await;
    let names: Vec<&str> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Third", "Second"]);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = json_of(
        app.get("alice", &format!("/v1/templates?limit=2&cursor={cursor}"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(second["items"][0]["name"], "Launch");
    assert!(second["next_cursor"].is_null());

    // A name is one user's once.
    let taken = json_of(
        app.post("alice", "/v1/templates", json!({ "name": "Launch" }))
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(taken["error"]["code"], "template_name_taken");
    assert_eq!(
        app.post("bob", "/v1/templates", json!({ "name": "Launch" }))
            .await
            .status(),
        StatusCode::CREATED,
        "another user may use the same name"
    );

    assert_eq!(
        app.delete("alice", &format!("/v1/templates/{id}"))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.get("alice", &format!("/v1/templates/{id}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.delete("alice", &format!("/v1/templates/{id}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn another_users_template_answers_404_everywhere() {
    let app = spawn_app().await;
    let created = create(&app, "alice", json!({ "name": "Mine", "text": "{a}" })).await;
    let id = created["id"].as_str().unwrap();
    let path = format!("/v1/templates/{id}");
    assert_eq!(
        app.get("mallory", &path).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        patch(&app, "mallory", &path, json!({ "text": "pwned" }))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.post(
            "mallory",
            &format!("{path}/drafts"),
            json!({ "values": { "a": "x" } })
        )
        .await
        .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.delete("mallory", &path).await.status(),
        StatusCode::NOT_FOUND
    );
    let list = json_of(app.get("mallory", "/v1/templates").await, StatusCode::OK).await;
    assert_eq!(list["items"], json!([]));
    let mine = json_of(app.get("alice", &path).await, StatusCode::OK).await;
    assert_eq!(mine["text"], "{a}", "unchanged by the other user");
    assert_eq!(
        app.get("alice", "/v1/templates/not-a-uuid").await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_draft_from_a_template_has_every_text_filled() {
    let app = spawn_app().await;
    let x_account = account(&app, "alice", Platform::X);
    let template = create(
        &app,
        "alice",
        json!({
            "name": "Idea",
            "text": "{idea}: {point1}, {point2} {{#tag}}",
            "variants": {
                "x": { "text": "{idea} in short" },
                "linkedin": { "text": "Thoughts on {idea}. First, {point1}." }
            }
        }),
    )
    .await;
    let id = template["id"].as_str().unwrap();
    let draft = json_of(
        app.post(
            "alice",
            &format!("/v1/templates/{id}/drafts"),
            json!({
                "values": { "idea": "Tea", "point1": "hot", "point2": "{not} a placeholder", "unused": "ignored" },
                "account_ids": [x_account]
            }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(draft["text"], "Tea: hot, {not} a placeholder {#tag}");
    assert_eq!(
        draft["variants"],
        json!({
            "x": { "text": "Tea in short" },
            "linkedin": { "text": "Thoughts on Tea. First, hot." }
        })
    );
    assert_eq!(draft["account_ids"], json!([x_account]));
    assert_eq!(
        draft["template_id"], template["id"],
        "the draft remembers its template"
    );
    let stored = json_of(
        app.get(
            "alice",
            &format!("/v1/drafts/{}", draft["id"].as_str().unwrap()),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(stored, draft, "a draft like any other");
    // Deleting the template leaves the draft, which forgets it.
    assert_eq!(
        app.delete("alice", &format!("/v1/templates/{id}"))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    let kept = json_of(
        app.get(
            "alice",
            &format!("/v1/drafts/{}", draft["id"].as_str().unwrap()),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(kept["text"], draft["text"]);
    assert!(kept["template_id"].is_null(), "{kept}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_template_with_missing_placeholders_is_a_422_naming_each_and_makes_no_draft() {
    let app = spawn_app().await;
    let template = create(
        &app,
        "alice",
        json!({ "name": "Idea", "text": "{idea} {point1}", "variants": { "x": { "text": "{idea} {hashtag}" } } }),
    )
    .await;
    let id = template["id"].as_str().unwrap();
    let refused = json_of(
        app.post(
            "alice",
            &format!("/v1/templates/{id}/drafts"),
            json!({ "values": { "idea": "Tea" } }),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(refused["error"]["code"], "missing_values");
    assert_eq!(
        refused["error"]["details"]["missing"],
        json!(["hashtag", "point1"])
    );
    let message = refused["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("`point1`") && message.contains("`hashtag`"),
        "{message}"
    );
    assert_eq!(draft_rows(&app), 0, "a refusal changes nothing");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_malformed_template_is_refused_with_the_position_and_not_stored() {
    let app = spawn_app().await;
    let refused = json_of(
        app.post(
            "alice",
            "/v1/templates",
            json!({ "name": "Bad", "text": "Hello {Name}" }),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(refused["error"]["code"], "invalid_template");
    assert_eq!(refused["error"]["details"]["field"], "text");
    assert_eq!(refused["error"]["details"]["position"], 7);
    let refused = json_of(
        app.post(
            "alice",
            "/v1/templates",
            json!({ "name": "Bad", "variants": { "bluesky": { "text": "a } b" } } }),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        refused["error"]["details"]["field"],
        "variants.bluesky.text"
    );
    assert_eq!(refused["error"]["details"]["position"], 2);
    let unknown = json_of(
        app.post(
            "alice",
            "/v1/templates",
            json!({ "name": "Bad", "variants": { "myspace": { "text": "x" } } }),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(unknown["error"]["code"], "unknown_platform");
    let created = create(&app, "alice", json!({ "name": "Good", "text": "{a}" })).await;
    let id = created["id"].as_str().unwrap();
    let refused = json_of(
        patch(
            &app,
            "alice",
            &format!("/v1/templates/{id}"),
            json!({ "text": "{a" }),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(refused["error"]["details"]["position"], 0);
    assert_eq!(template_rows(&app), 1);
    let kept = json_of(
        app.get("alice", &format!("/v1/templates/{id}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(kept["text"], "{a}");
}
