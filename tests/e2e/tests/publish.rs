//! Publishing through the running gateway, publisher and RabbitMQ against platform-sim: a post
//! now to two accounts, one scheduled a few seconds ahead, one canceled before it is due.

use std::{net::TcpListener, time::Duration};

use chrono::Utc;
use e2e_tests::Gateway;
use events::CancellationToken;
use platform_sim::SimOptions;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn posts_go_out_now_on_time_or_not_at_all_when_canceled_across_the_services() {
    let test_db = testkit::TestDb::new();
    let (sim, server) = platform_sim::start(
        TcpListener::bind("127.0.0.1:0").unwrap(),
        SimOptions::default(),
    )
    .unwrap();
    tokio::spawn(server);
    let prefix = testkit::unique_name("e2e-publish");
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
    let dave = api.connect("dave").await;

    // Now, to both accounts.
    let (status, now) = api
        .post(
            "/v1/posts",
            json!({"text": "Hello, both of you", "account_ids": [carol, dave]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{now}");
    // A few seconds ahead.
    let due = Utc::now() + chrono::Duration::seconds(4);
    let (status, later) = api
        .post(
            "/v1/posts",
            json!({"text": "See you later", "account_ids": [carol], "scheduled_at": due}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{later}");
    // Canceled before it is due.
    let (_, doomed) = api
        .post(
            "/v1/posts",
            json!({"text": "Never mind", "account_ids": [dave], "scheduled_at": Utc::now() + chrono::Duration::seconds(3)}),
        )
        .await;
    let doomed_id = doomed["id"].as_str().unwrap();
    let (status, canceled) = api
        .post(&format!("/v1/posts/{doomed_id}/cancel"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{canceled}");

    let now = api
        .until_status(
            now["id"].as_str().unwrap(),
            "published",
            Duration::from_secs(15),
        )
        .await;
    for target in now["targets"].as_array().unwrap() {
        assert_eq!(target["status"], "published");
        assert!(target["platform_post_id"].is_string());
        assert_eq!(target["attempt_log"][0]["outcome"], "success");
    }
    let early = api
        .get(&format!("/v1/posts/{}", later["id"].as_str().unwrap()))
        .await;
    assert_eq!(early["status"], "scheduled", "not before its due time");

    let later = api
        .until_status(
            later["id"].as_str().unwrap(),
            "published",
            Duration::from_secs(15),
        )
        .await;
    let published_at: chrono::DateTime<Utc> = later["targets"][0]["published_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(published_at >= due, "published {published_at}, due {due}");

    tokio::time::sleep(Duration::from_secs(2)).await;
    let doomed = api.get(&format!("/v1/posts/{doomed_id}")).await;
    assert_eq!(doomed["status"], "canceled");
    let mut texts: Vec<String> = sim.posts().into_iter().map(|p| p.text).collect();
    texts.sort();
    assert_eq!(
        texts,
        ["Hello, both of you", "Hello, both of you", "See you later"]
    );

    let listed = api.get("/v1/posts?status=published").await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 2);
    shutdown.cancel();
    let _ = std::fs::remove_dir_all(media_dir);
}
