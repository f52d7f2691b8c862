//! A thread with a first comment to two sandbox accounts through the running gateway,
//! publisher and RabbitMQ against platform-sim: part two fails on both (a refusal injected by
//! the sim), the chain stops there, and `retry` continues from part two without repeating the
//! post, so every part exists exactly once per account, each replying to the previous one.
//! Then parts to a Facebook Page (no replies there) are a 422 that creates nothing.
#![expect(clippy::unwrap_used, reason = "an end-to-end test fails by panicking")]

use std::{net::TcpListener, time::Duration};

use e2e_tests::Gateway;
use events::CancellationToken;
use platform_sim::{PostFailure, SimOptions};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thread_failing_on_part_two_is_finished_by_retry_each_part_once_and_facebook_refuses_parts(
) {
    let test_db = testkit::TestDb::new();
    let (sim, server) = platform_sim::start(
        TcpListener::bind("127.0.0.1:0").unwrap(),
        SimOptions::default(),
    )
    .unwrap();
    tokio::spawn(server);
    let prefix = testkit::unique_name("e2e-threads");
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

    // Part two is refused once per account (422: the chain stops, the targets fail).
    sim.fail_posts(PostFailure {
        text_contains: "[two]".into(),
        times: 2,
    });
    let (status, created) = api
        .post(
            "/v1/posts",
            json!({
                "text": "Thread 1/3",
                "parts": [{"text": "Thread 2/3 [two]"}, {"text": "Thread 3/3"}],
                "first_comment": "The first comment",
                "account_ids": [carol, dave],
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();

    let failed = api
        .until_status(&id, "failed", Duration::from_secs(20))
        .await;
    assert_eq!(sim.injected_post_failures(), 2);
    for target in failed["targets"].as_array().unwrap() {
        let message = target["error"]["message"].as_str().unwrap();
        assert!(message.starts_with("part 2 of 3"), "{message}");
        let parts = target["parts"].as_array().unwrap();
        let statuses: Vec<&str> = parts
            .iter()
            .map(|p| p["status"].as_str().unwrap())
            .collect();
        assert_eq!(
            statuses,
            ["published", "failed", "pending", "pending"],
            "{failed}"
        );
    }
    let mut texts: Vec<String> = sim.posts().into_iter().map(|p| p.text).collect();
    texts.sort();
    assert_eq!(
        texts,
        ["Thread 1/3", "Thread 1/3"],
        "only the first posts went out"
    );

    let (status, retried) = api.post(&format!("/v1/posts/{id}/retry"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{retried}");
    let published = api
        .until_status(&id, "published", Duration::from_secs(20))
        .await;

    // Exactly the four posts per account, each created by one call.
    let posts = sim.posts();
    let mut texts: Vec<&str> = posts.iter().map(|p| p.text.as_str()).collect();
    texts.sort_unstable();
    assert_eq!(
        texts,
        [
            "The first comment",
            "The first comment",
            "Thread 1/3",
            "Thread 1/3",
            "Thread 2/3 [two]",
            "Thread 2/3 [two]",
            "Thread 3/3",
            "Thread 3/3",
        ]
    );
    assert!(posts.iter().all(|p| p.create_calls == 1), "{posts:?}");
    for target in published["targets"].as_array().unwrap() {
        assert_eq!(target["status"], "published");
        let parts = target["parts"].as_array().unwrap();
        let ids: Vec<String> = parts
            .iter()
            .map(|p| {
                assert_eq!(p["status"], "published", "{published}");
                p["platform_post_id"].as_str().unwrap().to_owned()
            })
            .collect();
        assert_eq!(target["platform_post_id"].as_str().unwrap(), ids[0]);
        // Each part answers the previous one, and the first comment the last part.
        assert_eq!(sim.in_reply_to(&ids[0]), None);
        for pair in ids.windows(2) {
            assert_eq!(sim.in_reply_to(&pair[1]).as_deref(), Some(pair[0].as_str()));
        }
        let texts: Vec<String> = ids
            .iter()
            .map(|id| posts.iter().find(|p| &p.id == id).unwrap().text.clone())
            .collect();
        assert_eq!(
            texts,
            [
                "Thread 1/3",
                "Thread 2/3 [two]",
                "Thread 3/3",
                "The first comment"
            ]
        );
        // Part two: one refused attempt, then one success; the post itself was not repeated.
        let log = target["attempt_log"].as_array().unwrap();
        let outcomes: Vec<&str> = log.iter().map(|a| a["outcome"].as_str().unwrap()).collect();
        assert_eq!(
            outcomes,
            ["success", "rejected", "success", "success", "success"],
            "{published}"
        );
        let parts: Vec<i64> = log.iter().map(|a| a["part"].as_i64().unwrap()).collect();
        assert_eq!(parts, [0, 1, 1, 2, 3], "{published}");
    }

    // A Facebook Page cannot thread: parts to it are refused (422) and nothing is created.
    let facebook = facebook_account(&test_db, "alice");
    let before = sim.posts().len();
    let (status, refused) = api
        .post(
            "/v1/posts",
            json!({"text": "1/2", "parts": [{"text": "2/2"}], "account_ids": [carol, facebook]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    let message = refused["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("facebook") && message.contains(&facebook),
        "{message}"
    );
    let listed = api.get("/v1/posts").await;
    assert_eq!(
        listed["items"].as_array().unwrap().len(),
        1,
        "nothing created"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(sim.posts().len(), before);
    shutdown.cancel();
    let _ = std::fs::remove_dir_all(media_dir);
}

/// A Facebook Page of `owner`, inserted directly (its OAuth server is not part of this test).
fn facebook_account(db: &testkit::TestDb, owner: &str) -> String {
    use db::{
        accounts::{Account, AccountConnectForm},
        domain::{AccountId, AccountKind, AccountStatus, OwnerId, Platform},
    };
    let id = AccountId::new();
    let form = AccountConnectForm {
        id,
        owner_id: OwnerId(owner.into()),
        platform: Platform::Facebook,
        platform_account_id: format!("page-{id}"),
        account_kind: AccountKind::Page,
        display_name: Some("A Page".into()),
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
    Account::insert_batch(&mut db.conn(), &[form]).unwrap();
    id.to_string()
}
