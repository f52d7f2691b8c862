//! Reading, syncing and disconnecting accounts.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::spawn_app;

#[tokio::test(flavor = "multi_thread")]
async fn another_users_account_answers_404_everywhere() {
    let app = spawn_app().await;
    let id = app.connect_sandbox("alice", "alice").await;
    assert_eq!(
        app.get("mallory", &format!("/v1/accounts/{id}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.post("mallory", &format!("/v1/accounts/{id}/sync"), json!({}))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.post("mallory", &format!("/v1/accounts/{id}/refresh"), json!({}))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.delete("mallory", &format!("/v1/accounts/{id}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let list: Value = app
        .get("mallory", "/v1/accounts")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 0);
    let missing = app.get("alice", "/v1/accounts/not-a-uuid").await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let body: Value = missing.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_account_list_pages_with_a_cursor() {
    let app = spawn_app().await;
    for login in ["a1", "a2", "a3"] {
        app.connect_sandbox("alice", login).await;
    }
    let first: Value = app
        .get("alice", "/v1/accounts?limit=2")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second: Value = app
        .get("alice", &format!("/v1/accounts?limit=2&cursor={cursor}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(second["items"].as_array().unwrap().len(), 1);
    assert!(second["next_cursor"].is_null());
    let bad = app.get("alice", "/v1/accounts?cursor=garbage").await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread")]
async fn disconnecting_marks_the_account_and_is_idempotent() {
    let app = spawn_app().await;
    let id = app.connect_sandbox("alice", "alice").await;
    let response = app.delete("alice", &format!("/v1/accounts/{id}")).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "disconnecting");
    let again = app.delete("alice", &format!("/v1/accounts/{id}")).await;
    assert_eq!(again.status(), StatusCode::ACCEPTED, "asking twice is fine");
    let sync = app
        .post("alice", &format!("/v1/accounts/{id}/sync"), json!({}))
        .await;
    assert_eq!(
        sync.status(),
        StatusCode::CONFLICT,
        "no sync of an account being disconnected"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sync_and_refresh_requests_are_accepted_for_ones_own_account() {
    let app = spawn_app().await;
    let id = app.connect_sandbox("alice", "alice").await;
    let sync = app
        .post("alice", &format!("/v1/accounts/{id}/sync"), json!({}))
        .await;
    assert_eq!(sync.status(), StatusCode::ACCEPTED);
    let refresh = app
        .post("alice", &format!("/v1/accounts/{id}/refresh"), json!({}))
        .await;
    assert_eq!(refresh.status(), StatusCode::ACCEPTED);
    let types: Vec<String> = {
        use db::diesel::{QueryDsl, RunQueryDsl};
        db::schema::outbox::table
            .select(db::schema::outbox::event_type)
            .load(&mut app.db.conn())
            .unwrap()
    };
    assert!(types.contains(&"account.sync_requested".to_owned()));
    assert!(types.contains(&"token.expiring".to_owned()));
}

#[tokio::test(flavor = "multi_thread")]
async fn openapi_describes_every_endpoint() {
    let app = spawn_app().await;
    let doc: Value = app
        .http
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let paths = doc["paths"].as_object().unwrap();
    for path in [
        "/v1/platforms",
        "/v1/connections/{platform}",
        "/v1/oauth/{platform}/callback",
        "/v1/accounts",
        "/v1/accounts/{id}",
        "/v1/accounts/{id}/sync",
        "/v1/accounts/{id}/refresh",
    ] {
        assert!(paths.contains_key(path), "openapi.json lacks {path}");
    }
    assert!(paths["/v1/accounts/{id}"].get("delete").is_some());
    assert!(doc["components"]["schemas"]["AccountView"]["properties"]
        .get("access_token")
        .is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_malformed_json_body_is_a_400_in_the_error_shape() {
    let app = spawn_app().await;
    let response = app
        .http
        .post(app.url("/v1/connections/sandbox"))
        .bearer_auth(crate::support::token_for("alice"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_body");
}
