//! The env account (the deployment's Facebook Page, a row of the reserved owner that
//! account-registry keeps): who sees it, that it is read-only, and when posts may go to it.

use db::{
    accounts::Account,
    domain::{AccountId, Platform},
    env_accounts::ENV_OWNER,
};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::{
    drafts::account,
    support::{spawn_app, spawn_app_with, token_for, TestApp},
};

/// The env account as account-registry stores it (name and picture from the Graph API).
fn env_account(app: &TestApp) -> AccountId {
    let id = account(app, ENV_OWNER, Platform::Facebook);
    let conn = &mut app.db.conn();
    let stored = Account::find(conn, id).unwrap().unwrap();
    Account::record_sync(
        conn,
        stored.id,
        &db::accounts::AccountSyncForm {
            display_name: Some("Postbridge Demo Page".into()),
            handle: None,
            avatar_url: Some("https://scontent.xx.fbcdn.net/demo.png".into()),
            profile_url: None,
            followers_count: Some(321),
            following_count: None,
            posts_count: None,
            health_score: 100,
            last_synced_at: chrono::Utc::now(),
            last_error: Some(None),
            status: None,
        },
    )
    .unwrap();
    id
}

async fn ids_listed(app: &TestApp, user: &str) -> Vec<String> {
    let list: Value = app.get(user, "/v1/accounts").await.json().await.unwrap();
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn users_without_a_facebook_account_see_the_env_account_read_only() {
    let app = spawn_app().await;
    let env = env_account(&app);
    let own = app.connect_sandbox("alice", "alice").await;

    let list: Value = app.get("alice", "/v1/accounts").await.json().await.unwrap();
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{list}");
    let shown = items.iter().find(|a| a["id"] == env.to_string()).unwrap();
    assert_eq!(shown["source"], "env");
    assert_eq!(shown["platform"], "facebook");
    assert_eq!(shown["display_name"], "Postbridge Demo Page");
    assert_eq!(
        shown["avatar_url"],
        "https://scontent.xx.fbcdn.net/demo.png"
    );
    let mine = items.iter().find(|a| a["id"] == own.to_string()).unwrap();
    assert_eq!(mine["source"], "oauth");
    for key in [
        "access_token",
        "access_token_enc",
        "token_key_id",
        "owner_id",
    ] {
        assert!(shown.get(key).is_none(), "{key} in {shown}");
    }
    let one: Value = app
        .get("alice", &format!("/v1/accounts/{env}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(&one, shown);

    for response in [
        app.delete("alice", &format!("/v1/accounts/{env}")).await,
        app.post("alice", &format!("/v1/accounts/{env}/sync"), json!({}))
            .await,
        app.post("alice", &format!("/v1/accounts/{env}/refresh"), json!({}))
            .await,
        app.post("alice", &format!("/v1/accounts/{env}/pause"), json!({}))
            .await,
        app.post("alice", &format!("/v1/accounts/{env}/resume"), json!({}))
            .await,
    ] {
        assert_eq!(response.status(), StatusCode::CONFLICT);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "env_account_read_only", "{body}");
    }
    let stored = Account::find(&mut app.db.conn(), env).unwrap().unwrap();
    assert_eq!(stored.status.as_str(), "active", "nothing changed");
    assert_eq!(stored.paused_at, None, "not paused");
    assert_eq!(app.outbox_rows(), 1, "only the sandbox connection's event");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_user_with_their_own_facebook_account_no_longer_sees_the_env_account() {
    let app = spawn_app().await;
    let env = env_account(&app);
    assert_eq!(ids_listed(&app, "bob").await, vec![env.to_string()]);
    let own = account(&app, "bob", Platform::Facebook);
    assert_eq!(ids_listed(&app, "bob").await, vec![own.to_string()]);
    for response in [
        app.get("bob", &format!("/v1/accounts/{env}")).await,
        app.delete("bob", &format!("/v1/accounts/{env}")).await,
    ] {
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
    }
    let refused: Value = app
        .post(
            "bob",
            "/v1/posts",
            json!({ "text": "hello", "account_ids": [env] }),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        refused["error"]["details"]["targets"][0]["problems"][0]["code"],
        "unknown_account"
    );
    assert_eq!(
        ids_listed(&app, "carol").await,
        vec![env.to_string()],
        "others still see it"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn publishing_to_the_env_account_is_refused_unless_the_deployment_allows_it() {
    let app = spawn_app().await;
    let env = env_account(&app);
    let response = app
        .post(
            "alice",
            "/v1/posts",
            json!({ "text": "hello from the Page", "account_ids": [env] }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "env_account_publishing_disabled");
    assert_eq!(body["error"]["details"]["account_ids"], json!([env]));
    assert_eq!(app.outbox_rows(), 0, "a refusal changes nothing");

    let allowed = spawn_app_with(&[("env_account.allow_publishing", "true".into())]).await;
    let env = env_account(&allowed);
    let response = allowed
        .post(
            "alice",
            "/v1/posts",
            json!({ "text": "hello from the Page", "account_ids": [env] }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let post: Value = response.json().await.unwrap();
    assert_eq!(post["targets"][0]["account_id"], env.to_string());
    assert_eq!(post["targets"][0]["platform"], "facebook");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_for_the_env_accounts_owner_is_refused() {
    let app = spawn_app().await;
    env_account(&app);
    let response = app
        .http
        .get(app.url("/v1/accounts"))
        .bearer_auth(token_for(ENV_OWNER))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}
