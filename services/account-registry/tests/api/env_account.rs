//! The env account: stored from `[env_account]` with the Page's name and picture from the
//! Graph API, its token sealed; retired when no token is configured any more.

use std::time::Duration;

use account_registry::{configuration, startup::Application};
use db::{
    accounts::{Account, AccountConnectForm},
    domain::{AccountId, AccountKind, AccountStatus, Platform},
    env_accounts::{env_owner, ENV_OWNER},
};
use events::CancellationToken;
use secrecy::ExposeSecret;
use testkit::TestDb;
use wiremock::{
    matchers::{method, path, query_param},
    Mock, MockServer, ResponseTemplate,
};

const PAGE_TOKEN: &str = "EAAB-env-page-token-not-for-logs";
const PAGE_ID: &str = "1234567890";

fn loaded(db: &TestDb) -> service_kit::config::Loaded {
    service_kit::testing::loaded_for_tests(
        db.url(),
        &testkit::amqp_url(),
        &testkit::unique_name("account-registry-env"),
    )
}

async fn wait_for<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    for _ in 0..200 {
        if let Some(found) = check() {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_configured_page_token_becomes_an_env_account_with_the_graph_api_name_and_picture() {
    let graph = MockServer::start().await;
    // The Page node as the Graph API reference shows it for `?fields=name,picture`
    // (https://developers.facebook.com/docs/graph-api/reference/page/), with the id and the
    // follower count our profile call also asks for.
    Mock::given(method("GET"))
        .and(path(format!("/{PAGE_ID}")))
        .and(query_param("access_token", PAGE_TOKEN))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "name": "Postbridge Demo Page",
            "picture": {
                "data": {
                    "height": 50,
                    "is_silhouette": false,
                    "url": "https://scontent.xx.fbcdn.net/v/t1.0-1/p50x50/demo.png",
                    "width": 50
                }
            },
            "followers_count": 321,
            "id": PAGE_ID
        })))
        .mount(&graph)
        .await;
    let db = TestDb::new();
    let mut loaded = loaded(&db);
    loaded.set("platforms.facebook.api_base", &graph.uri());
    loaded.set("env_account.facebook_page_token", PAGE_TOKEN);
    loaded.set("env_account.facebook_page_id", PAGE_ID);
    let settings = configuration::from(&loaded).unwrap();
    assert!(
        !format!("{settings:?}").contains(PAGE_TOKEN),
        "the token is redacted from the settings' Debug output"
    );
    let vault = service_kit::tokens::vault_from(&settings.vault).unwrap();
    let shutdown = CancellationToken::new();
    let app = Application::build(settings, shutdown.clone())
        .await
        .unwrap();
    tokio::spawn(app.run_until_stopped());

    let account = wait_for("the env account", || {
        Account::live_env_accounts(&mut db.conn())
            .unwrap()
            .into_iter()
            .find(|a| a.last_synced_at.is_some())
    })
    .await;
    shutdown.cancel();
    assert_eq!(account.owner_id.as_str(), ENV_OWNER);
    assert_eq!(account.platform, Platform::Facebook);
    assert_eq!(account.platform_account_id, PAGE_ID);
    assert_eq!(account.account_kind, AccountKind::Page);
    assert_eq!(
        account.display_name.as_deref(),
        Some("Postbridge Demo Page")
    );
    assert_eq!(
        account.avatar_url.as_deref(),
        Some("https://scontent.xx.fbcdn.net/v/t1.0-1/p50x50/demo.png")
    );
    assert_eq!(account.followers_count, Some(321));
    assert_eq!(account.status, AccountStatus::Active);
    assert!(
        account.next_refresh_at.is_none() && account.token_expires_at.is_none(),
        "a Page token is never scheduled for a refresh"
    );
    // Sealed like any other token: bound to the row, opened by the vault.
    let sealed = account.access_token_enc.clone().unwrap();
    assert!(!String::from_utf8_lossy(&sealed).contains(PAGE_TOKEN));
    let opened = service_kit::tokens::access_token(&vault, &account)
        .unwrap()
        .unwrap();
    assert_eq!(opened.expose_secret(), PAGE_TOKEN);
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_configured_token_a_stored_env_account_is_retired() {
    let db = TestDb::new();
    let stored = Account::insert(
        &mut db.conn(),
        &AccountConnectForm {
            id: AccountId::new(),
            owner_id: env_owner(),
            platform: Platform::Facebook,
            platform_account_id: PAGE_ID.into(),
            account_kind: AccountKind::Page,
            display_name: Some("Old Page".into()),
            handle: None,
            avatar_url: None,
            profile_url: None,
            instance_url: None,
            scopes: Vec::new(),
            access_token_enc: Some(vec![1, 2, 3]),
            refresh_token_enc: None,
            token_key_id: Some("dev".into()),
            token_expires_at: None,
            refresh_expires_at: None,
            status: AccountStatus::Active,
            last_error: None,
            followers_count: None,
            following_count: None,
            posts_count: None,
            refresh_attempts: 0,
            next_refresh_at: None,
        },
    )
    .unwrap();
    let settings = configuration::from(&loaded(&db)).unwrap();
    let shutdown = CancellationToken::new();
    let app = Application::build(settings, shutdown.clone())
        .await
        .unwrap();
    tokio::spawn(app.run_until_stopped());

    let retired = wait_for("the env account to be retired", || {
        Account::find(&mut db.conn(), stored.id)
            .unwrap()
            .filter(|a| a.status == AccountStatus::Disconnected)
    })
    .await;
    shutdown.cancel();
    assert!(retired.access_token_enc.is_none(), "its token is wiped");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_page_token_refused_at_a_periodic_sync_tells_users_the_deployment_must_act() {
    let graph = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/{PAGE_ID}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "name": "Postbridge Demo Page",
            "picture": { "data": { "url": "https://scontent.xx.fbcdn.net/demo.png" } },
            "id": PAGE_ID
        })))
        .up_to_n_times(1)
        .mount(&graph)
        .await;
    // Graph's answer to an invalidated token (error 190, OAuthException).
    Mock::given(method("GET"))
        .and(path(format!("/{PAGE_ID}")))
        .respond_with(ResponseTemplate::new(400).set_body_json(serde_json::json!({
            "error": {
                "message": "Error validating access token: The session has been invalidated.",
                "type": "OAuthException",
                "code": 190,
                "fbtrace_id": "A1b2C3"
            }
        })))
        .mount(&graph)
        .await;
    let db = TestDb::new();
    let mut loaded = loaded(&db);
    loaded.set("platforms.facebook.api_base", &graph.uri());
    loaded.set("env_account.facebook_page_token", PAGE_TOKEN);
    loaded.set("env_account.facebook_page_id", PAGE_ID);
    loaded.set("account_registry.sync_interval_secs", "1");
    loaded.set("account_registry.sync_check_secs", "1");
    let shutdown = CancellationToken::new();
    let app = Application::build(configuration::from(&loaded).unwrap(), shutdown.clone())
        .await
        .unwrap();
    tokio::spawn(app.run_until_stopped());

    let account = wait_for("the refused sync recorded", || {
        Account::live_env_accounts(&mut db.conn())
            .unwrap()
            .into_iter()
            .find(|a| a.last_error.is_some())
    })
    .await;
    shutdown.cancel();
    let error = account.last_error.unwrap();
    assert!(error.contains("operators must configure"), "{error}");
    assert!(!error.contains(PAGE_TOKEN), "{error}");
    assert_eq!(
        account.display_name.as_deref(),
        Some("Postbridge Demo Page"),
        "the last good profile stays"
    );
}
