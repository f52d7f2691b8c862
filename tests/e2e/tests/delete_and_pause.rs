//! Deleting and pausing through the running gateway, publisher and RabbitMQ against
//! platform-sim: a published post deleted from the platform once however often it is asked, a
//! scheduled post canceled by a delete, and a paused account's post held past its due time
//! until the account is resumed.

use std::{net::TcpListener, time::Duration};

use chrono::Utc;
use e2e_tests::Gateway;
use events::CancellationToken;
use platform_sim::SimOptions;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn posts_are_deleted_from_the_platform_once_and_paused_accounts_hold_theirs_across_the_services(
) {
    let test_db = testkit::TestDb::new();
    let (sim, server) = platform_sim::start(
        TcpListener::bind("127.0.0.1:0").unwrap(),
        SimOptions::default(),
    )
    .unwrap();
    tokio::spawn(server);
    let prefix = testkit::unique_name("e2e-delete");
    let mut loaded =
        service_kit::testing::loaded_for_tests(test_db.url(), &testkit::amqp_url(), &prefix);
    let media_dir = std::env::temp_dir().join(&prefix);
    for (key, value) in e2e_tests::sandbox_settings(&sim.base_url(), &media_dir) {
        loaded.set(key, &value);
    }
    let shutdown = CancellationToken::new();
    let gateway = auth_gateway::startup::Application::build(
        auth_gateway::configuration::from(&loaded).unwrap(),
        shutdown.clone(),
    )
    .await
    .unwrap();
    let publisher = publisher::startup::Application::build(
        publisher::configuration::from(&loaded).unwrap(),
        shutdown.clone(),
    )
    .await
    .unwrap();
    let api = Gateway::new(gateway.port(), "alice");
    tokio::spawn(gateway.run_until_stopped());
    tokio::spawn(publisher.run_until_stopped());
    let carol = api.connect("carol").await;

    // Published, then deleted: gone from the platform, with one delete call however often
    // the user asks.
    let (status, post) = api
        .call(
            Method::POST,
            "/v1/posts",
            Some(json!({"text": "Here today", "account_ids": [carol]})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{post}");
    let id = post["id"].as_str().unwrap().to_owned();
    let published = api
        .until_status(&id, "published", Duration::from_secs(15))
        .await;
    let platform_id = published["targets"][0]["platform_post_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, deleting) = api
        .call(Method::DELETE, &format!("/v1/posts/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{deleting}");
    let deleted = api
        .until_status(&id, "deleted", Duration::from_secs(15))
        .await;
    let target = &deleted["targets"][0];
    assert_eq!(target["status"], "deleted");
    assert_eq!(target["deletion"]["status"], "deleted");
    let log = target["attempt_log"].as_array().unwrap();
    assert_eq!(log.len(), 2, "{log:?}");
    assert_eq!(log[1]["kind"], "delete");
    assert_eq!(log[1]["outcome"], "success");
    assert_eq!(sim.deleted_posts(), vec![platform_id]);
    let (status, again) = api
        .call(Method::DELETE, &format!("/v1/posts/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["status"], "deleted");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(sim.delete_calls(), 1, "never a second platform call");

    // Scheduled, then deleted: canceled, nothing reaches the platform.
    let at = Utc::now() + chrono::Duration::hours(1);
    let (_, later) = api
        .call(
            Method::POST,
            "/v1/posts",
            Some(json!({"text": "Never mind", "account_ids": [carol], "scheduled_at": at})),
        )
        .await;
    let (status, canceled) = api
        .call(
            Method::DELETE,
            &format!("/v1/posts/{}", later["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(canceled["status"], "canceled");

    // Paused: the post waits past its due time; resumed: it goes out at once.
    let (status, account) = api
        .call(
            Method::POST,
            &format!("/v1/accounts/{carol}/pause"),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(account["paused"], true);
    let (_, held) = api
        .call(
            Method::POST,
            "/v1/posts",
            Some(json!({"text": "Held back", "account_ids": [carol]})),
        )
        .await;
    let held_id = held["id"].as_str().unwrap().to_owned();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (_, waiting) = api
        .call(Method::GET, &format!("/v1/posts/{held_id}"), None)
        .await;
    assert_eq!(waiting["status"], "scheduled");
    assert_eq!(waiting["targets"][0]["attempts"], 0);
    assert_eq!(
        sim.posts().len(),
        1,
        "only the first post ever reached the platform"
    );
    let (status, _) = api
        .call(
            Method::POST,
            &format!("/v1/accounts/{carol}/resume"),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    api.until_status(&held_id, "published", Duration::from_secs(15))
        .await;
    assert_eq!(sim.posts().len(), 2);

    shutdown.cancel();
    let _ = std::fs::remove_dir_all(media_dir);
}
