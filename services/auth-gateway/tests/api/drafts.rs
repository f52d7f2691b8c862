//! Saving, listing, editing and deleting drafts.

use db::{
    accounts::{Account, AccountConnectForm},
    domain::{AccountId, AccountKind, AccountStatus, OwnerId, Platform},
};
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};

use crate::{
    media::spawn_media_app,
    support::{spawn_app, token_for, TestApp},
};

/// An active account of `owner`, inserted directly.
pub fn account(app: &TestApp, owner: &str, platform: Platform) -> AccountId {
    let id = AccountId::new();
    let form = AccountConnectForm {
        id,
        owner_id: OwnerId(owner.into()),
        platform,
        platform_account_id: format!("{platform}-{id}"),
        account_kind: AccountKind::Profile,
        display_name: None,
        handle: None,
        avatar_url: None,
        profile_url: None,
        instance_url: None,
        scopes: vec![],
        access_token_enc: None,
        refresh_token_enc: None,
        token_key_id: None,
        token_expires_at: None,
        refresh_expires_at: None,
        status: AccountStatus::Active,
        last_error: None,
        followers_count: None,
        following_count: None,
        posts_count: None,
        refresh_attempts: 0,
        next_refresh_at: None,
    };
    Account::insert_batch(&mut app.db.conn(), &[form]).unwrap();
    id
}

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

fn draft_rows(app: &TestApp) -> i64 {
    use db::diesel::{dsl::count_star, QueryDsl, RunQueryDsl};
    db::schema::drafts::table
        .select(count_star())
        .first(&mut app.db.conn())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_draft_is_created_read_updated_and_deleted() {
    let app = spawn_media_app().await;
    let image = app.upload_png("alice").await["id"].clone();
    let x = account(&app, "alice", Platform::X);
    let created = json_of(
        app.post(
            "alice",
            "/v1/drafts",
            json!({
                "text": "Launch day",
                "variants": { "x": { "text": "Launch!", "media_ids": [image] }, "pinterest": { "board_id": "b1", "link": "https://example.com" } },
                "media_ids": [image],
                "account_ids": [x]
            }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["text"], "Launch day");
    assert_eq!(
        created["variants"]["x"],
        json!({ "text": "Launch!", "media_ids": [image] })
    );
    assert_eq!(created["variants"]["pinterest"]["board_id"], "b1");
    assert_eq!(created["media_ids"], json!([image]));
    assert_eq!(created["account_ids"], json!([x]));

    let read = json_of(
        app.get("alice", &format!("/v1/drafts/{id}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(read, created);

    // A partial change keeps what it does not name.
    let updated = json_of(
        patch(
            &app,
            "alice",
            &format!("/v1/drafts/{id}"),
            json!({ "text": "Launch week" }),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(updated["text"], "Launch week");
    assert_eq!(updated["variants"], created["variants"]);
    assert_eq!(updated["media_ids"], created["media_ids"]);
    assert!(updated["updated_at"].as_str() > created["updated_at"].as_str());
    // Clearing is explicit.
    let cleared = json_of(
        patch(
            &app,
            "alice",
            &format!("/v1/drafts/{id}"),
            json!({ "variants": {}, "media_ids": [] }),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(cleared["variants"], json!({}));
    assert_eq!(cleared["media_ids"], json!([]));
    assert_eq!(cleared["account_ids"], json!([x]));

    assert_eq!(
        app.delete("alice", &format!("/v1/drafts/{id}"))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.get("alice", &format!("/v1/drafts/{id}")).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.delete("alice", &format!("/v1/drafts/{id}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_draft_with_another_users_account_or_media_is_422_naming_them() {
    let app = spawn_media_app().await;
    let theirs = account(&app, "mallory", Platform::X);
    let mine = account(&app, "alice", Platform::Bluesky);
    let body = json_of(
        app.post(
            "alice",
            "/v1/drafts",
            json!({ "text": "hi", "account_ids": [mine, theirs] }),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(body["error"]["code"], "unknown_account");
    assert_eq!(body["error"]["details"]["account_ids"], json!([theirs]));
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains(&theirs.to_string()));

    let their_image = app.upload_png("mallory").await["id"].clone();
    let body = json_of(
        app.post(
            "alice",
            "/v1/drafts",
            json!({ "variants": { "bluesky": { "media_ids": [their_image] } } }),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(body["error"]["code"], "unknown_media");
    assert_eq!(body["error"]["details"]["media_ids"], json!([their_image]));
    assert_eq!(draft_rows(&app), 0, "a refusal creates nothing");

    // The same check guards edits, and leaves the draft as it was.
    let draft = json_of(
        app.post(
            "alice",
            "/v1/drafts",
            json!({ "text": "mine", "account_ids": [mine] }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let id = draft["id"].as_str().unwrap();
    let response = patch(
        &app,
        "alice",
        &format!("/v1/drafts/{id}"),
        json!({ "text": "changed", "account_ids": [theirs] }),
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let unchanged = json_of(
        app.get("alice", &format!("/v1/drafts/{id}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(unchanged, draft);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_variants_and_overlong_texts_are_refused_by_name() {
    let app = spawn_app().await;
    let body = json_of(
        app.post(
            "alice",
            "/v1/drafts",
            json!({ "text": "hi", "variants": { "myspace": { "text": "hi" } } }),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(body["error"]["code"], "unknown_platform");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("variants.myspace"));

    let body = json_of(
        app.post(
            "alice",
            "/v1/drafts",
            json!({ "variants": { "x": { "colour": "red" } } }),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(body["error"]["code"], "invalid_body");

    // Longer than the API's usual JSON limit, so this also shows drafts take larger bodies.
    let at_limit = "a".repeat(100_000);
    let response = app
        .post("alice", "/v1/drafts", json!({ "text": at_limit }))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body = json_of(
        app.post(
            "alice",
            "/v1/drafts",
            json!({ "text": "a".repeat(100_001) }),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(body["error"]["code"], "text_too_long");
    assert_eq!(draft_rows(&app), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn drafts_page_most_recently_edited_first_with_a_cursor() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for text in ["one", "two", "three"] {
        let draft = json_of(
            app.post("alice", "/v1/drafts", json!({ "text": text }))
                .await,
            StatusCode::CREATED,
        )
        .await;
        ids.push(draft["id"].as_str().unwrap().to_owned());
    }
    app.post("bob", "/v1/drafts", json!({ "text": "not alice's" }))
        .await;
    let texts = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["text"].as_str().unwrap().to_owned())
            .collect()
    };

    let first = json_of(app.get("alice", "/v1/drafts?limit=2").await, StatusCode::OK).await;
    assert_eq!(texts(&first), ["three", "two"]);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = json_of(
        app.get("alice", &format!("/v1/drafts?limit=2&cursor={cursor}"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(texts(&second), ["one"]);
    assert!(second["next_cursor"].is_null());

    // Editing moves a draft to the front.
    patch(
        &app,
        "alice",
        &format!("/v1/drafts/{}", ids[0]),
        json!({ "text": "one, edited" }),
    )
    .await;
    let all = json_of(app.get("alice", "/v1/drafts").await, StatusCode::OK).await;
    assert_eq!(texts(&all), ["one, edited", "three", "two"]);
    assert!(all["next_cursor"].is_null());

    let bad = app.get("alice", "/v1/drafts?cursor=garbage").await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread")]
async fn another_users_draft_answers_404_everywhere() {
    let app = spawn_app().await;
    let draft = json_of(
        app.post("alice", "/v1/drafts", json!({ "text": "private" }))
            .await,
        StatusCode::CREATED,
    )
    .await;
    let path = format!("/v1/drafts/{}", draft["id"].as_str().unwrap());
    for response in [
        app.get("mallory", &path).await,
        patch(&app, "mallory", &path, json!({ "text": "mine now" })).await,
        app.delete("mallory", &path).await,
        app.get("alice", "/v1/drafts/not-a-uuid").await,
    ] {
        let body = json_of(response, StatusCode::NOT_FOUND).await;
        assert_eq!(body["error"]["code"], "not_found");
    }
    let list = json_of(app.get("mallory", "/v1/drafts").await, StatusCode::OK).await;
    assert_eq!(list["items"], json!([]));
    let still = json_of(app.get("alice", &path).await, StatusCode::OK).await;
    assert_eq!(still["text"], "private");
}
