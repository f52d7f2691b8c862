//! Accepting, reading, editing, canceling and retrying posts.

use chrono::{Duration, Utc};
use db::{
    accounts::{Account, AccountConnectForm},
    diesel::{self, sql_types, RunQueryDsl},
    domain::{AccountId, AccountKind, AccountStatus, MediaId, OwnerId, Platform},
};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::{spawn_app, token_for, TestApp};

/// An account of `platform` owned by `owner`, inserted directly (connecting it would need
/// that platform's OAuth server).
pub(crate) fn account(app: &TestApp, owner: &str, platform: Platform) -> AccountId {
    let id = AccountId::new();
    let form = AccountConnectForm {
        id,
        owner_id: OwnerId(owner.into()),
        platform,
        platform_account_id: format!("{platform}-{id}"),
        account_kind: AccountKind::Profile,
        display_name: Some(format!("{owner} on {platform}")),
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

/// An uploaded image row of `owner` (the bytes are not needed to accept a post).
pub(crate) fn image(app: &TestApp, owner: &str) -> MediaId {
    let id = MediaId::new();
    diesel::sql_query(
        "INSERT INTO media (id, owner_id, mime_type, size_bytes, sha256, storage_key) \
         VALUES ($1, $2, 'image/jpeg', 1000, '\\x00', 'test/key')",
    )
    .bind::<sql_types::Uuid, _>(id.0)
    .bind::<sql_types::Text, _>(owner)
    .execute(&mut app.db.conn())
    .unwrap();
    id
}

pub(crate) fn count(app: &TestApp, sql: &str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = sql_types::BigInt)]
        n: i64,
    }
    diesel::sql_query(sql)
        .get_result::<N>(&mut app.db.conn())
        .unwrap()
        .n
}

fn rows(app: &TestApp) -> (i64, i64, i64) {
    (
        count(app, "SELECT count(*) AS n FROM posts"),
        count(app, "SELECT count(*) AS n FROM post_targets"),
        count(
            app,
            "SELECT count(*) AS n FROM outbox WHERE event_type = 'post.scheduled'",
        ),
    )
}

pub(crate) async fn create(
    app: &TestApp,
    user: &str,
    body: Value,
    key: Option<&str>,
) -> (StatusCode, Value) {
    let mut request = app
        .http
        .post(app.url("/v1/posts"))
        .bearer_auth(token_for(user))
        .json(&body);
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn patch(app: &TestApp, user: &str, path: &str, body: Value) -> (StatusCode, Value) {
    let response = app
        .http
        .patch(app.url(path))
        .bearer_auth(token_for(user))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_post_to_two_accounts_writes_the_post_its_targets_and_one_event() {
    let app = spawn_app().await;
    let a = account(&app, "alice", Platform::Sandbox);
    let b = account(&app, "alice", Platform::Linkedin);
    let (status, post) = create(
        &app,
        "alice",
        json!({"text": "Hello from Postbridge", "account_ids": [a, b]}),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{post}");
    assert_eq!(post["status"], "scheduled");
    let targets = post["targets"].as_array().unwrap();
    assert_eq!(targets.len(), 2);
    assert!(targets.iter().all(|t| t["status"] == "scheduled"));
    let platform_of = |id: AccountId| {
        targets
            .iter()
            .find(|t| t["account_id"] == json!(id))
            .unwrap()["platform"]
            .clone()
    };
    assert_eq!(platform_of(a), "sandbox");
    assert_eq!(platform_of(b), "linkedin");
    assert_eq!(rows(&app), (1, 2, 1));

    let got: Value = app
        .get(
            "alice",
            &format!("/v1/posts/{}", post["id"].as_str().unwrap()),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(got["targets"][0]["attempt_log"], json!([]));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_text_too_long_for_x_but_fine_for_linkedin_is_a_422_naming_x_that_creates_nothing() {
    let app = spawn_app().await;
    let x = account(&app, "alice", Platform::X);
    let linkedin = account(&app, "alice", Platform::Linkedin);
    let (status, body) = create(
        &app,
        "alice",
        json!({"text": "a".repeat(281), "account_ids": [x, linkedin]}),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "invalid_post");
    let failing = body["error"]["details"]["targets"].as_array().unwrap();
    assert_eq!(failing.len(), 1, "only X fails: {body}");
    assert_eq!(failing[0]["account_id"], json!(x));
    assert_eq!(failing[0]["platform"], "x");
    assert_eq!(failing[0]["problems"][0]["code"], "text_too_long");
    assert_eq!(rows(&app), (0, 0, 0));

    // A shorter X variant fixes it.
    let (status, body) = create(
        &app,
        "alice",
        json!({"text": "a".repeat(281), "account_ids": [x, linkedin], "variants": {"x": {"text": "short"}}}),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let text_of = |id: AccountId| {
        body["targets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["account_id"] == json!(id))
            .unwrap()["text"]
            .clone()
    };
    assert_eq!(text_of(x), "short");
    assert_eq!(text_of(linkedin), "a".repeat(281));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_mastodon_post_is_checked_against_its_own_instances_limits() {
    const INSTANCE: &str = "https://big.example";
    let app = spawn_app().await;
    let mastodon = account(&app, "alice", Platform::Mastodon);
    diesel::sql_query("UPDATE social_accounts SET instance_url = $1 WHERE id = $2")
        .bind::<sql_types::Text, _>(INSTANCE)
        .bind::<sql_types::Uuid, _>(mastodon.0)
        .execute(&mut app.db.conn())
        .unwrap();
    // What registering the instance read from its GET /api/v2/instance.
    diesel::sql_query(
        "INSERT INTO mastodon_apps (instance, client_id, client_secret_enc, key_id, redirect_uri, \
         scopes, max_characters, max_media_attachments, characters_reserved_per_url) \
         VALUES ($1, 'client', '\\x00', 'k1', 'http://127.0.0.1/cb', 'read write', 1000, 6, 30)",
    )
    .bind::<sql_types::Text, _>(INSTANCE)
    .execute(&mut app.db.conn())
    .unwrap();

    // 600 characters and 5 images: too much for Mastodon's defaults (500, 4), fine here.
    let images: Vec<MediaId> = (0..5).map(|_| image(&app, "alice")).collect();
    let (status, body) = create(
        &app,
        "alice",
        json!({"text": "a".repeat(600), "account_ids": [mastodon], "media_ids": images}),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    // Links count as this instance's 30, so 970 + 1 + 30 = 1001 is over its 1000.
    let link = format!("https://example.com/{}", "p".repeat(100));
    let (status, body) = create(
        &app,
        "alice",
        json!({"text": format!("{} {link}", "a".repeat(970)), "account_ids": [mastodon]}),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let problem = &body["error"]["details"]["targets"][0]["problems"][0];
    assert_eq!(problem["code"], "text_too_long");
    assert!(
        problem["message"]
            .as_str()
            .unwrap()
            .contains("allows 1000 characters (links count as 30"),
        "{problem}"
    );
    assert_eq!(rows(&app).0, 1, "the refusal created nothing");
}

#[tokio::test(flavor = "multi_thread")]
async fn instagram_without_media_is_refused_and_with_an_image_accepted() {
    let app = spawn_app().await;
    let ig = account(&app, "alice", Platform::Instagram);
    let (status, body) = create(
        &app,
        "alice",
        json!({"text": "caption", "account_ids": [ig]}),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        body["error"]["details"]["targets"][0]["problems"][0]["code"],
        "media_required"
    );
    assert_eq!(rows(&app), (0, 0, 0));

    let picture = image(&app, "alice");
    let (status, body) = create(
        &app,
        "alice",
        json!({"text": "caption", "account_ids": [ig], "media_ids": [picture]}),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_or_another_users_account_or_media_is_a_422_that_creates_nothing() {
    let app = spawn_app().await;
    let mine = account(&app, "alice", Platform::Sandbox);
    let theirs = account(&app, "bob", Platform::Sandbox);
    let (status, body) = create(
        &app,
        "alice",
        json!({"text": "hi", "account_ids": [mine, theirs, AccountId::new()]}),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let failing = body["error"]["details"]["targets"].as_array().unwrap();
    assert_eq!(failing.len(), 2);
    assert!(failing
        .iter()
        .all(|f| f["problems"][0]["code"] == "unknown_account"));

    let bobs_picture = image(&app, "bob");
    let (status, body) = create(
        &app,
        "alice",
        json!({"text": "hi", "account_ids": [mine], "media_ids": [bobs_picture]}),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        body["error"]["details"]["targets"][0]["problems"][0]["code"],
        "unknown_media"
    );

    let (status, body) = create(
        &app,
        "alice",
        json!({"text": "hi", "account_ids": []}),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "no_accounts");
    assert_eq!(rows(&app), (0, 0, 0));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_past_scheduled_at_is_a_422_and_a_malformed_body_a_400() {
    let app = spawn_app().await;
    let a = account(&app, "alice", Platform::Sandbox);
    let past = Utc::now() - Duration::hours(1);
    let (status, body) = create(
        &app,
        "alice",
        json!({"text": "hi", "account_ids": [a], "scheduled_at": past}),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "scheduled_in_past");

    let (status, body) = create(
        &app,
        "alice",
        json!({"text": "hi", "acount_ids": [a]}),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = create(
        &app,
        "alice",
        json!({"text": "hi", "account_ids": [a], "variants": {"myspace": {"text": "x"}}}),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("variants.myspace"));
    assert_eq!(rows(&app), (0, 0, 0));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_idempotency_key_twice_creates_one_post_and_another_body_is_a_409() {
    let app = spawn_app().await;
    let a = account(&app, "alice", Platform::Sandbox);
    let body = json!({"text": "once", "account_ids": [a]});
    let (first, one) = create(&app, "alice", body.clone(), Some("order-42")).await;
    let (second, two) = create(&app, "alice", body, Some("order-42")).await;
    assert_eq!(first, StatusCode::CREATED);
    assert_eq!(second, StatusCode::OK);
    assert_eq!(one["id"], two["id"]);
    assert_eq!(rows(&app), (1, 1, 1));

    let (status, conflict) = create(
        &app,
        "alice",
        json!({"text": "twice", "account_ids": [a]}),
        Some("order-42"),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{conflict}");
    assert_eq!(conflict["error"]["code"], "idempotency_key_reused");
    // Keys are per user: bob's "order-42" is his own.
    let bobs = account(&app, "bob", Platform::Sandbox);
    let (status, _) = create(
        &app,
        "bob",
        json!({"text": "once", "account_ids": [bobs]}),
        Some("order-42"),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(rows(&app), (2, 2, 2));
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_requests_with_one_key_create_one_post() {
    let app = spawn_app().await;
    let a = account(&app, "alice", Platform::Sandbox);
    let body = json!({"text": "race", "account_ids": [a]});
    let results = futures_util::future::join_all(
        (0..8).map(|_| create(&app, "alice", body.clone(), Some("race-key"))),
    )
    .await;
    let ids: std::collections::HashSet<String> = results
        .iter()
        .map(|(status, post)| {
            assert!(status.is_success(), "{status} {post}");
            post["id"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(ids.len(), 1);
    assert_eq!(rows(&app), (1, 1, 1));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_scheduled_post_can_be_rescheduled_edited_and_canceled_once() {
    let app = spawn_app().await;
    let a = account(&app, "alice", Platform::X);
    let at = Utc::now() + Duration::hours(2);
    let (_, post) = create(
        &app,
        "alice",
        json!({"text": "later", "account_ids": [a], "scheduled_at": at}),
        None,
    )
    .await;
    let id = post["id"].as_str().unwrap().to_owned();

    let later = Utc::now() + Duration::hours(3);
    let (status, edited) = patch(
        &app,
        "alice",
        &format!("/v1/posts/{id}"),
        json!({"text": "later, edited", "scheduled_at": later}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    assert_eq!(edited["targets"][0]["text"], "later, edited");
    assert_eq!(
        edited["targets"][0]["due_at"].as_str().unwrap()[..16],
        later.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)[..16]
    );
    let (status, refused) = patch(
        &app,
        "alice",
        &format!("/v1/posts/{id}"),
        json!({"text": "x".repeat(300)}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");

    let canceled = app
        .post("alice", &format!("/v1/posts/{id}/cancel"), json!({}))
        .await;
    assert_eq!(canceled.status(), StatusCode::OK);
    let canceled: Value = canceled.json().await.unwrap();
    assert_eq!(canceled["status"], "canceled");
    assert_eq!(canceled["targets"][0]["status"], "canceled");
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM outbox WHERE event_type = 'post.canceled'"
        ),
        1
    );
    let again = app
        .post("alice", &format!("/v1/posts/{id}/cancel"), json!({}))
        .await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    let (status, _) = patch(
        &app,
        "alice",
        &format!("/v1/posts/{id}"),
        json!({"text": "too late"}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_post_being_published_cannot_change_and_retry_touches_failed_targets_only() {
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
    // What a publisher would leave behind: one published, one failed.
    diesel::sql_query(
        "UPDATE post_targets SET status = CASE WHEN account_id = $1 THEN 'published' ELSE 'failed' END, \
         last_error = CASE WHEN account_id = $1 THEN NULL ELSE 'HTTP 503' END",
    )
    .bind::<sql_types::Uuid, _>(a.0)
    .execute(&mut app.db.conn())
    .unwrap();
    let (status, _) = patch(
        &app,
        "alice",
        &format!("/v1/posts/{id}"),
        json!({"text": "edit"}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);

    let retried = app
        .post("alice", &format!("/v1/posts/{id}/retry"), json!({}))
        .await;
    assert_eq!(retried.status(), StatusCode::OK);
    let retried: Value = retried.json().await.unwrap();
    let by_account = |acc: AccountId| {
        retried["targets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["account_id"] == json!(acc))
            .unwrap()["status"]
            .clone()
    };
    assert_eq!(by_account(a), "published");
    assert_eq!(by_account(b), "scheduled");
    assert_eq!(retried["status"], "publishing");
    let nothing = app
        .post("alice", &format!("/v1/posts/{id}/retry"), json!({}))
        .await;
    assert_eq!(nothing.status(), StatusCode::CONFLICT);
}

#[tokio::test(flavor = "multi_thread")]
async fn posts_are_listed_newest_first_filtered_and_paged_and_private() {
    let app = spawn_app().await;
    let a = account(&app, "alice", Platform::Sandbox);
    let b = account(&app, "alice", Platform::Linkedin);
    for i in 0..3 {
        create(
            &app,
            "alice",
            json!({"text": format!("a{i}"), "account_ids": [a]}),
            None,
        )
        .await;
    }
    let (_, on_b) = create(
        &app,
        "alice",
        json!({"text": "b", "account_ids": [b]}),
        None,
    )
    .await;

    let page: Value = app
        .get("alice", "/v1/posts?limit=2")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    assert_eq!(page["items"][0]["text"], "b");
    let cursor = page["next_cursor"].as_str().unwrap();
    let rest: Value = app
        .get("alice", &format!("/v1/posts?limit=2&cursor={cursor}"))
        .await
        .json()
        .await
        .unwrap();
    let texts: Vec<&str> = rest["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["a1", "a0"]);
    assert!(rest["next_cursor"].is_null());

    let only_b: Value = app
        .get("alice", &format!("/v1/posts?account_id={b}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(only_b["items"].as_array().unwrap().len(), 1);
    let canceled: Value = app
        .get("alice", "/v1/posts?status=canceled")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(canceled["items"], json!([]));
    assert_eq!(
        app.get("alice", "/v1/posts?status=nope").await.status(),
        StatusCode::BAD_REQUEST
    );

    let id = on_b["id"].as_str().unwrap();
    assert_eq!(
        app.get("mallory", &format!("/v1/posts/{id}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.post("mallory", &format!("/v1/posts/{id}/cancel"), json!({}))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let theirs: Value = app.get("mallory", "/v1/posts").await.json().await.unwrap();
    assert_eq!(theirs["items"], json!([]));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_post_from_a_draft_takes_its_content_and_the_request_overrides_it() {
    let app = spawn_app().await;
    let a = account(&app, "alice", Platform::Sandbox);
    let x = account(&app, "alice", Platform::X);
    let draft = app
        .post(
            "alice",
            "/v1/drafts",
            json!({"text": "from the draft", "account_ids": [a, x], "variants": {"x": {"text": "draft, for X"}}}),
        )
        .await;
    assert_eq!(draft.status(), StatusCode::CREATED);
    let draft: Value = draft.json().await.unwrap();
    let (status, post) = create(&app, "alice", json!({"draft_id": draft["id"]}), None).await;
    assert_eq!(status, StatusCode::CREATED, "{post}");
    let text_of = |id: AccountId| {
        post["targets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["account_id"] == json!(id))
            .unwrap()["text"]
            .clone()
    };
    assert_eq!(text_of(a), "from the draft");
    assert_eq!(text_of(x), "draft, for X");

    let (status, post) = create(
        &app,
        "alice",
        json!({"draft_id": draft["id"], "account_ids": [a], "text": "overridden"}),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{post}");
    assert_eq!(post["targets"].as_array().unwrap().len(), 1);
    assert_eq!(post["targets"][0]["text"], "overridden");

    let (status, body) = create(&app, "mallory", json!({"draft_id": draft["id"]}), None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "unknown_draft");
}
