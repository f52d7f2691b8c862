//! Connecting, syncing and disconnecting a sandbox account through the running gateway,
//! account-registry and RabbitMQ, against platform-sim.
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "an end-to-end test fails by panicking"
)]

use std::{
    io::Write,
    net::TcpListener,
    sync::{Arc, Mutex},
    time::Duration,
};

use events::{CancellationToken, Topology};
use lapin::{
    options::{BasicGetOptions, QueueBindOptions, QueueDeclareOptions},
    types::FieldTable,
};
use platform_sim::SimOptions;
use reqwest::{redirect::Policy, StatusCode};
use serde_json::Value;

const FRONTEND: &str = "http://localhost:3000";
const PUBLIC_URL: &str = "http://gateway.test";

/// Everything the services log, kept to be scanned for secrets.
#[derive(Clone, Default)]
struct LogSink(Arc<Mutex<Vec<u8>>>);

impl Write for LogSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        // `E2E_ECHO=1` also shows the services' logs, to debug a failing run.
        if std::env::var_os("E2E_ECHO").is_some() {
            std::io::stderr().write_all(buf)?;
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn capture_logs() -> LogSink {
    let sink = LogSink::default();
    let writer = sink.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            "debug,lapin=info,actix_server=info,hyper=info,reqwest=info,h2=info,rustls=info",
        )
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber)
        .expect("one test per binary installs the subscriber");
    sink
}

fn token_for(user: &str) -> String {
    service_kit::testing::dev_token(user)
}

fn param(url: &str, name: &str) -> Option<String> {
    reqwest::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_sandbox_account_connects_syncs_and_disconnects_across_the_services_without_leaking_a_token(
) {
    let logs = capture_logs();
    let test_db = testkit::TestDb::new();
    let (sim, server) = platform_sim::start(
        TcpListener::bind("127.0.0.1:0").unwrap(),
        SimOptions::default(),
    )
    .unwrap();
    tokio::spawn(server);
    let prefix = testkit::unique_name("e2e");
    let amqp = testkit::amqp_url();
    let mut loaded = service_kit::testing::loaded_for_tests(test_db.url(), &amqp, &prefix);
    let base = sim.base_url();
    for (key, value) in [
        (
            "platforms.sandbox.authorize_url",
            format!("{base}/oauth/authorize"),
        ),
        ("platforms.sandbox.token_url", format!("{base}/oauth/token")),
        (
            "platforms.sandbox.revoke_url",
            format!("{base}/oauth/revoke"),
        ),
        ("platforms.sandbox.api_base", base.clone()),
        ("platforms.sandbox.upload_base", base.clone()),
        ("auth_gateway.public_url", PUBLIC_URL.into()),
    ] {
        loaded.set(key, &value);
    }

    // A spy queue bound to every event on this test's exchange.
    let topology = Topology::isolated(&prefix);
    let conn = events::connect(&amqp, "e2e-spy").await.unwrap();
    let spy = conn.create_channel().await.unwrap();
    events::declare(&spy, &topology, &[]).await.unwrap();
    let spy_queue = format!("{prefix}.spy");
    spy.queue_declare(
        &spy_queue,
        QueueDeclareOptions {
            durable: true,
            ..QueueDeclareOptions::default()
        },
        FieldTable::default(),
    )
    .await
    .unwrap();
    spy.queue_bind(
        &spy_queue,
        &topology.exchange,
        "#",
        QueueBindOptions::default(),
        FieldTable::default(),
    )
    .await
    .unwrap();

    let shutdown = CancellationToken::new();
    let gateway = auth_gateway::startup::Application::build(
        auth_gateway::configuration::from(&loaded).unwrap(),
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
    let gateway_url = format!("http://127.0.0.1:{}", gateway.port());
    let gateway_task = tokio::spawn(gateway.run_until_stopped());
    let registry_task = tokio::spawn(registry.run_until_stopped());

    let http = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap();
    let mut bodies = Vec::new();
    let bearer = token_for("alice");

    // start → authorize → callback
    let started: Value = http
        .post(format!("{gateway_url}/v1/connections/sandbox"))
        .bearer_auth(&bearer)
        .json(&serde_json::json!({ "redirect_to": FRONTEND }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    bodies.push(started.to_string());
    let authorize_url = started["authorize_url"].as_str().unwrap();
    let approved = http
        .get(format!("{authorize_url}&login_hint=carol"))
        .send()
        .await
        .unwrap();
    let callback = approved.headers()["location"]
        .to_str()
        .unwrap()
        .replace(PUBLIC_URL, &gateway_url);
    let back = http.get(&callback).send().await.unwrap();
    assert_eq!(back.status(), StatusCode::FOUND);
    let back = back.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(
        param(&back, "connected").as_deref(),
        Some("sandbox"),
        "{back}"
    );
    let account_id = param(&back, "account").unwrap();

    // The registry syncs it: profile and counts, and account.synced on the bus.
    let account = testkit::eventually(Duration::from_secs(20), "the first sync", || {
        let http = http.clone();
        let url = format!("{gateway_url}/v1/accounts/{account_id}");
        let bearer = bearer.clone();
        async move {
            let body: Value = http
                .get(url)
                .bearer_auth(bearer)
                .send()
                .await
                .ok()?
                .json()
                .await
                .ok()?;
            (!body["last_synced_at"].is_null()).then_some(body)
        }
    })
    .await;
    bodies.push(account.to_string());
    assert_eq!(account["handle"], "carol");
    assert!(account["followers_count"].as_i64().unwrap() >= 0);
    assert_eq!(account["health_score"], 100);
    let listed = http
        .get(format!("{gateway_url}/v1/accounts"))
        .bearer_auth(&bearer)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(listed.contains(&account_id));
    bodies.push(listed);

    // Disconnect: revoked at platform-sim, wiped, account.disconnected.
    let revoked_before = sim.revoked_tokens().len();
    let deleted = http
        .delete(format!("{gateway_url}/v1/accounts/{account_id}"))
        .bearer_auth(&bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::ACCEPTED);
    bodies.push(deleted.text().await.unwrap());
    testkit::eventually(Duration::from_secs(20), "the disconnect to finish", || {
        let http = http.clone();
        let url = format!("{gateway_url}/v1/accounts/{account_id}");
        let bearer = bearer.clone();
        async move {
            (http
                .get(url)
                .bearer_auth(bearer)
                .send()
                .await
                .ok()?
                .status()
                == StatusCode::NOT_FOUND)
                .then_some(())
        }
    })
    .await;
    assert!(
        sim.revoked_tokens().len() > revoked_before,
        "platform-sim saw the revocation"
    );
    let row = db::accounts::Account::find(&mut test_db.conn(), account_id.parse().unwrap())
        .unwrap()
        .unwrap();
    assert!(
        row.access_token_enc.is_none() && row.refresh_token_enc.is_none(),
        "tokens wiped"
    );

    // Every event this account produced, from the bus.
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while tokio::time::Instant::now() < deadline
        && !seen
            .iter()
            .any(|e: &Value| e["type"] == "account.disconnected")
    {
        while let Some(message) = spy
            .basic_get(&spy_queue, BasicGetOptions { no_ack: true })
            .await
            .unwrap()
        {
            seen.push(serde_json::from_slice::<Value>(&message.delivery.data).unwrap());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let types: Vec<&str> = seen
        .iter()
        .filter(|e| e["data"]["account_id"] == account_id.as_str())
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    for expected in [
        "account.connected",
        "account.synced",
        "account.disconnect_requested",
        "account.disconnected",
    ] {
        assert!(
            types.contains(&expected),
            "{expected} on the bus; saw {types:?}"
        );
    }
    let disconnected = seen
        .iter()
        .find(|e| e["type"] == "account.disconnected")
        .unwrap();
    assert_eq!(disconnected["data"]["revoked"], true);

    shutdown.cancel();
    gateway_task.await.unwrap().unwrap();
    registry_task.await.unwrap().unwrap();

    // No token the platform issued appears in a response, an event or a log line.
    let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("accounts connected"), "logs were captured");
    let events_text: Vec<String> = seen.iter().map(Value::to_string).collect();
    let issued = sim.issued_tokens();
    assert!(!issued.is_empty());
    for token in issued
        .iter()
        .chain(std::iter::once(&"postbridge-local-secret".to_owned()))
    {
        assert!(!logs.contains(token.as_str()), "a secret reached the logs");
        assert!(
            !bodies.iter().any(|b| b.contains(token.as_str())),
            "a secret reached a response"
        );
        assert!(
            !events_text.iter().any(|e| e.contains(token.as_str())),
            "a secret reached an event"
        );
    }
}
