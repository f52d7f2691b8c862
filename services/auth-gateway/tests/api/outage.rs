//! What the frontend sees while PostgreSQL is down: 503 `unavailable` with `Retry-After`,
//! never an opaque 500, and normal answers once it is back.

use std::time::Duration;

use reqwest::{Response, StatusCode};
use serde_json::{json, Value};
use testkit::{eventually, PrivatePostgres, TestDb};

use crate::support::{spawn_app_on, token_for, TestApp};

async fn post_once(app: &TestApp, body: &Value, key: &str) -> Response {
    app.http
        .post(app.url("/v1/posts"))
        .bearer_auth(token_for("alice"))
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn assert_unavailable(response: Response, what: &str) {
    assert_eq!(
        response.status(),
        StatusCode::SERVICE_UNAVAILABLE,
        "{what} while PostgreSQL is down"
    );
    let retry_after: u64 = response
        .headers()
        .get("retry-after")
        .unwrap_or_else(|| panic!("{what}: a 503 says when to retry"))
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after >= 1, "{what}: Retry-After {retry_after}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unavailable", "{what}: {body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn while_postgres_is_down_posts_and_accounts_answer_503_unavailable_with_retry_after_then_work_again(
) {
    let pg = tokio::task::spawn_blocking(PrivatePostgres::start)
        .await
        .unwrap();
    let url = pg.url();
    let db = tokio::task::spawn_blocking(move || TestDb::on(&url))
        .await
        .unwrap();
    let app = spawn_app_on(db, &[("database.connection_timeout_secs", "1".to_owned())]).await;
    let account = app.connect_sandbox("alice", "alice").await;
    let body = json!({ "text": "hello while the database restarts", "account_ids": [account] });

    let pg = tokio::task::spawn_blocking(move || {
        pg.stop();
        pg
    })
    .await
    .unwrap();

    assert_unavailable(app.get("alice", "/v1/accounts").await, "GET /v1/accounts").await;
    assert_unavailable(post_once(&app, &body, "outage-1").await, "POST /v1/posts").await;

    let _pg = tokio::task::spawn_blocking(move || {
        pg.resume();
        pg
    })
    .await
    .unwrap();
    eventually(
        Duration::from_secs(20),
        "GET /v1/accounts to work again",
        || async {
            (app.get("alice", "/v1/accounts").await.status() == StatusCode::OK).then_some(())
        },
    )
    .await;
    // The same request again, with the same key: the safe retry the 503 invites.
    let retried = post_once(&app, &body, "outage-1").await;
    assert_eq!(
        retried.status(),
        StatusCode::CREATED,
        "the retry is accepted"
    );
    let again = post_once(&app, &body, "outage-1").await;
    assert_eq!(again.status(), StatusCode::OK, "and only once");
}
