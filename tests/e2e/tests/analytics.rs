//! Post analytics through the running gateway, publisher, account-registry and RabbitMQ
//! against platform-sim: engagement read on a (short) schedule after publishing and on demand,
//! growing between reads, batched per account with one `post.metrics_updated` per batch; the
//! account series after syncs; the API's owner scoping and refusals.
#![expect(clippy::unwrap_used, reason = "an end-to-end test fails by panicking")]

use std::{net::TcpListener, time::Duration};

use db::diesel::{
    self, sql_query, sql_types, Connection, PgConnection, QueryableByName, RunQueryDsl,
};
use e2e_tests::Gateway;
use events::CancellationToken;
use platform_sim::SimOptions;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// Each target's series of `impressions` in the post's metrics view.
fn impressions(view: &Value) -> Vec<Vec<i64>> {
    view["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            t["series"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["figures"]["impressions"].as_i64().unwrap())
                .collect()
        })
        .collect()
}

#[derive(QueryableByName)]
struct Emitted {
    #[diesel(sql_type = sql_types::Jsonb)]
    envelope: Value,
}

/// The `post.metrics_updated` events written so far, oldest first.
fn metrics_events(db_url: &str) -> Vec<Value> {
    let mut conn = PgConnection::establish(db_url).unwrap();
    sql_query("SELECT envelope FROM outbox WHERE event_type = 'post.metrics_updated' ORDER BY seq")
        .load::<Emitted>(&mut conn)
        .unwrap()
        .into_iter()
        .map(|e| e.envelope)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn engagement_is_read_on_schedule_and_on_demand_grows_and_is_batched_per_account() {
    let test_db = testkit::TestDb::new();
    let (sim, server) = platform_sim::start(
        TcpListener::bind("127.0.0.1:0").unwrap(),
        SimOptions::default(),
    )
    .unwrap();
    tokio::spawn(server);
    let prefix = testkit::unique_name("e2e-analytics");
    let mut loaded =
        service_kit::testing::loaded_for_tests(test_db.url(), &testkit::amqp_url(), &prefix);
    let base = sim.base_url();
    let media_dir = std::env::temp_dir().join(&prefix);
    for (key, value) in e2e_tests::sandbox_settings(&base, &media_dir) {
        loaded.set(key, &value);
    }
    for (key, value) in [
        // A short schedule: reads 4 s and 9 s after publishing (less the 2 s batch window), then
        // only on demand.
        ("publisher.metrics.schedule", "4s,9s"),
        ("publisher.metrics.interval_ms", "200"),
        ("publisher.metrics.busy_backoff_ms", "50"),
        ("publisher.metrics.batch_window_ms", "2000"),
    ] {
        loaded.set(key, value);
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
    let registry = account_registry::startup::Application::build(
        account_registry::configuration::from(&loaded).unwrap(),
        shutdown.clone(),
    )
    .await
    .unwrap();
    let alice = Gateway::new(gateway.port(), "alice");
    let bob = Gateway::new(gateway.port(), "bob");
    tokio::spawn(gateway.run_until_stopped());
    tokio::spawn(publisher.run_until_stopped());
    tokio::spawn(registry.run_until_stopped());

    let carol = alice.connect("carol").await;
    let dave = alice.connect("dave").await;
    let erin = bob.connect("erin").await;

    // Two posts due at the same instant: carol gets both, dave one. Carol is paused until
    // both are due, so one dispatcher pass (woken by `account.resumed`) publishes her two
    // targets together and their reads fall due together. Without the pause, a loaded machine
    // could take longer than the lead time to accept the second post, publish it a second
    // after the first, and so put its reads outside the batch window.
    let (status, paused) = alice
        .call(Method::POST, &format!("/v1/accounts/{carol}/pause"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{paused}");
    let due = chrono::Utc::now() + chrono::Duration::seconds(1);
    let mut posts = Vec::new();
    for accounts in [json!([carol, dave]), json!([carol])] {
        let (status, post) = alice
            .call(
                Method::POST,
                "/v1/posts",
                Some(json!({"text": "Engage!", "account_ids": accounts, "scheduled_at": due})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{post}");
        posts.push(post["id"].as_str().unwrap().to_owned());
    }
    let (first, second) = (&posts[0], &posts[1]);
    let until_due = (due - chrono::Utc::now()).to_std().unwrap_or_default();
    tokio::time::sleep(until_due + Duration::from_millis(200)).await;
    let (status, resumed) = alice
        .call(Method::POST, &format!("/v1/accounts/{carol}/resume"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{resumed}");

    // Nothing is read before the first scheduled read.
    let (status, view) = alice
        .call(Method::GET, &format!("/v1/posts/{first}/metrics"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert!(impressions(&view).iter().all(Vec::is_empty), "{view}");

    // The schedule: one read at ~2 s, a second at ~7 s, then none; figures grow.
    let view = testkit::eventually(Duration::from_secs(30), "two scheduled reads", || async {
        let (_, view) = alice
            .call(Method::GET, &format!("/v1/posts/{first}/metrics"), None)
            .await;
        impressions(&view)
            .iter()
            .all(|s| s.len() >= 2)
            .then_some(view)
    })
    .await;
    for target in view["targets"].as_array().unwrap() {
        assert_eq!(target["series"].as_array().unwrap().len(), 2, "{target}");
        assert!(
            target["next_read_at"].is_null(),
            "the schedule ended: {target}"
        );
        assert_eq!(target["latest"], target["series"][1]);
        let figures = &target["latest"]["figures"];
        assert!(
            figures["views"].is_null(),
            "a figure the sandbox does not give is null: {figures}"
        );
        assert!(figures["likes"].as_i64().unwrap() >= 1, "{figures}");
    }
    for series in impressions(&view) {
        assert!(
            series[1] > series[0],
            "engagement grew between reads: {series:?}"
        );
    }
    let (first_read, second_read) = {
        let t = &view["targets"][0];
        let at = |i: usize| {
            chrono::DateTime::parse_from_rfc3339(t["series"][i]["fetched_at"].as_str().unwrap())
                .unwrap()
        };
        let published =
            chrono::DateTime::parse_from_rfc3339(t["published_at"].as_str().unwrap()).unwrap();
        (
            (at(0) - published).num_milliseconds(),
            (at(1) - published).num_milliseconds(),
        )
    };
    assert!(
        (1_000..6_000).contains(&first_read) && (5_000..12_000).contains(&second_read),
        "read near 4 s and 9 s after publishing, up to the 2 s batch window early: {first_read} ms, {second_read} ms"
    );

    // Batched: carol's two targets were read in one request, with one event for both.
    let events = metrics_events(test_db.url());
    let carols: Vec<&Value> = events
        .iter()
        .filter(|e| e["data"]["account_id"] == carol.as_str())
        .collect();
    assert!(
        carols
            .iter()
            .all(|e| e["data"]["targets"].as_array().unwrap().len() == 2),
        "one event per batch read, carrying both of carol's targets: {carols:?}"
    );
    assert_eq!(carols.len(), 2, "one per scheduled round: {carols:?}");
    assert!(
        !events.iter().any(|e| e.to_string().contains("simat_")),
        "no token in an event"
    );
    let stats: Value = reqwest::get(format!("{base}/_sim/stats"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        stats["metrics_posts_read"], 6,
        "3 targets, 2 rounds: {stats}"
    );
    assert_eq!(
        stats["metrics_reads"], 4,
        "one request per account and round: {stats}"
    );

    // On demand: a third read, grown again; the owner only. A target read in the last 10 s is
    // not read again on demand, so wait that long after the second read.
    tokio::time::sleep(Duration::from_millis(10_500)).await;
    let (status, refused) = bob
        .call(
            Method::POST,
            &format!("/v1/posts/{first}/metrics/refresh"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{refused}");
    let (status, refreshed) = alice
        .call(
            Method::POST,
            &format!("/v1/posts/{first}/metrics/refresh"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{refreshed}");
    assert_eq!(
        refreshed["target_ids"].as_array().unwrap().len(),
        2,
        "{refreshed}"
    );
    let view = testkit::eventually(Duration::from_secs(15), "an on-demand read", || async {
        let (_, view) = alice
            .call(Method::GET, &format!("/v1/posts/{first}/metrics"), None)
            .await;
        impressions(&view)
            .iter()
            .all(|s| s.len() == 3)
            .then_some(view)
    })
    .await;
    for series in impressions(&view) {
        assert!(series[2] > series[1], "grew again: {series:?}");
    }
    let (_, again) = alice
        .call(
            Method::POST,
            &format!("/v1/posts/{first}/metrics/refresh"),
            None,
        )
        .await;
    assert_eq!(
        again["target_ids"],
        json!([]),
        "read a moment ago: not read again yet"
    );

    // The overview: totals and top posts per platform and account.
    let (status, overview) = alice
        .call(Method::GET, "/v1/analytics?platform=sandbox", None)
        .await;
    assert_eq!(status, StatusCode::OK, "{overview}");
    let sandbox = &overview["platforms"][0];
    assert_eq!(sandbox["platform"], "sandbox");
    assert_eq!(sandbox["posts"], 3, "{overview}");
    assert!(
        sandbox["totals"]["views"].is_null(),
        "no post has views: {overview}"
    );
    let accounts = sandbox["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), 2);
    let carols = accounts
        .iter()
        .find(|a| a["account_id"] == carol.as_str())
        .unwrap();
    assert_eq!(carols["posts"], 2);
    assert_eq!(carols["top_posts"].as_array().unwrap().len(), 2);
    let tops: Vec<i64> = sandbox["top_posts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["interactions"].as_i64().unwrap())
        .collect();
    assert!(
        tops.windows(2).all(|w| w[0] >= w[1]),
        "best first: {tops:?}"
    );
    assert!(
        sandbox["top_posts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["post_id"] == second.as_str()),
        "{overview}"
    );
    let (_, theirs) = bob.call(Method::GET, "/v1/analytics", None).await;
    assert_eq!(
        theirs["platforms"],
        json!([]),
        "bob sees none of alice's posts: {theirs}"
    );
    let (status, _) = bob
        .call(Method::GET, &format!("/v1/posts/{first}/metrics"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The account series: one sample per sync.
    let (_, before) = alice
        .call(Method::GET, &format!("/v1/accounts/{carol}/metrics"), None)
        .await;
    let synced = before["series"].as_array().unwrap().len();
    assert!(synced >= 1, "the first sync after connecting: {before}");
    let (status, _) = alice
        .call(Method::POST, &format!("/v1/accounts/{carol}/sync"), None)
        .await;
    assert!(status.is_success(), "{status}");
    let after = testkit::eventually(Duration::from_secs(15), "a sample of the sync", || async {
        let (_, view) = alice
            .call(Method::GET, &format!("/v1/accounts/{carol}/metrics"), None)
            .await;
        (view["series"].as_array().unwrap().len() > synced).then_some(view)
    })
    .await;
    let latest = after["series"].as_array().unwrap().last().unwrap();
    assert!(latest["followers"].is_i64(), "{latest}");
    let (status, _) = bob
        .call(Method::GET, &format!("/v1/accounts/{carol}/metrics"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "another user's account");
    let (_, empty) = alice
        .call(
            Method::GET,
            &format!(
                "/v1/accounts/{carol}/metrics?from=2001-01-01T00:00:00Z&to=2002-01-01T00:00:00Z"
            ),
            None,
        )
        .await;
    assert_eq!(empty["series"], json!([]));
    let (status, _) = bob
        .call(Method::GET, &format!("/v1/accounts/{erin}/metrics"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "bob's own account");

    // Refusals: clear 400s.
    for (path, code) in [
        (
            "/v1/analytics?from=2030-01-01T00:00:00Z&to=2020-01-01T00:00:00Z",
            "invalid_range",
        ),
        (
            "/v1/analytics?from=2020-01-01T00:00:00Z&to=2022-01-01T00:00:00Z",
            "range_too_long",
        ),
        ("/v1/analytics?platform=myspace", "unknown_platform"),
        (
            "/v1/analytics?from=1990-01-01T00:00:00Z",
            "date_out_of_range",
        ),
        ("/v1/analytics?from=yesterday", ""),
        ("/v1/analytics?colour=blue", ""),
    ] {
        let (status, body) = alice.call(Method::GET, path, None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
        if !code.is_empty() {
            assert_eq!(body["error"]["code"], code, "{path}: {body}");
        }
    }
    let (status, body) = alice
        .call(
            Method::GET,
            &format!(
                "/v1/accounts/{carol}/metrics?from=2030-01-01T00:00:00Z&to=2029-01-01T00:00:00Z"
            ),
            None,
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (StatusCode::BAD_REQUEST, json!("invalid_range"))
    );
    shutdown.cancel();
}
