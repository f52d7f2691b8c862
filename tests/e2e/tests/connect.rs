//! Connecting, syncing and disconnecting a sandbox account through the running gateway,
//! account-registry and RabbitMQ, against platform-sim; and the connect flow's guard against
//! someone else's browser finishing it (issue 16).
//!
//! Every status line, header, redirect and body the test receives, every event on the bus,
//! every log line and both token columns at rest are scanned for the tokens platform-sim issued.
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
use reqwest::{redirect::Policy, Response, StatusCode};
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

/// Everything the gateway answered: each header as
/// `name: value` and each body, to be scanned for secrets at the end.
#[derive(Default)]
struct Seen(Vec<String>);

/// One answer, kept for assertions after its text went into [`Seen`].
struct Answer {
    status: StatusCode,
    location: Option<String>,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

impl Seen {
    async fn record(&mut self, response: Response) -> Answer {
        let status = response.status();
        for (name, value) in response.headers() {
            self.0.push(format!(
                "{name}: {}",
                String::from_utf8_lossy(value.as_bytes())
            ));
        }
        let location = response
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_owned());
        let body = response.text().await.unwrap();
        self.0.push(body.clone());
        Answer {
            status,
            location,
            body,
        }
    }

    /// Which of `secrets` appear anywhere in what was seen.
    fn leaks<'a>(&self, secrets: &'a [String]) -> Vec<&'a str> {
        secrets
            .iter()
            .filter(|secret| self.0.iter().any(|text| text.contains(secret.as_str())))
            .map(String::as_str)
            .collect()
    }
}

/// Whether `plaintext` appears in `ciphertext` (a column at rest).
fn contains_bytes(ciphertext: &[u8], plaintext: &str) -> bool {
    ciphertext
        .windows(plaintext.len())
        .any(|w| w == plaintext.as_bytes())
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
    let mut seen = Seen::default();
    let bearer = token_for("alice");

    // start → authorize → callback → complete (in the starting user's session)
    let started = seen
        .record(
            http.post(format!("{gateway_url}/v1/connections/sandbox"))
                .bearer_auth(&bearer)
                .json(&serde_json::json!({ "redirect_to": FRONTEND }))
                .send()
                .await
                .unwrap(),
        )
        .await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.body);
    let authorize_url = started.json()["authorize_url"].as_str().unwrap().to_owned();
    // platform-sim's redirect carries the authorization code by design: not the gateway's
    // answer, so not scanned (the code is single-use and already spent when the scan runs).
    let approved = http
        .get(format!("{authorize_url}&login_hint=carol"))
        .send()
        .await
        .unwrap();
    let callback = approved.headers()["location"]
        .to_str()
        .unwrap()
        .replace(PUBLIC_URL, &gateway_url);
    let back = seen.record(http.get(&callback).send().await.unwrap()).await;
    assert_eq!(back.status, StatusCode::FOUND);
    let back = back.location.unwrap();
    assert!(back.starts_with(FRONTEND), "{back}");
    assert_eq!(
        param(&back, "platform").as_deref(),
        Some("sandbox"),
        "{back}"
    );
    assert!(
        param(&back, "account").is_none(),
        "the callback connects nothing: {back}"
    );
    let ticket = param(&back, "ticket").expect("a ticket for the frontend");
    // Parked, encrypted: no plaintext token in the pending row either.
    let pending: Vec<Vec<u8>> = {
        use db::diesel::{QueryDsl, RunQueryDsl};
        db::schema::pending_connections::table
            .select(db::schema::pending_connections::payload_enc)
            .load(&mut test_db.conn())
            .unwrap()
    };
    assert_eq!(pending.len(), 1, "one parked authorization");
    let completed = seen
        .record(
            http.post(format!("{gateway_url}/v1/connections/complete"))
                .bearer_auth(&bearer)
                .json(&serde_json::json!({ "ticket": ticket }))
                .send()
                .await
                .unwrap(),
        )
        .await;
    assert_eq!(completed.status, StatusCode::OK, "{}", completed.body);
    let account_id = completed.json()["accounts"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let at_rest = db::accounts::Account::find(&mut test_db.conn(), account_id.parse().unwrap())
        .unwrap()
        .unwrap();
    let access_at_rest = at_rest.access_token_enc.clone().expect("an access token");
    let refresh_at_rest = at_rest
        .refresh_token_enc
        .clone()
        .expect("platform-sim grants a refresh token");

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
    assert_eq!(account["handle"], "carol");
    assert!(account["followers_count"].as_i64().unwrap() >= 0);
    assert_eq!(account["health_score"], 100);
    let listed = seen
        .record(
            http.get(format!("{gateway_url}/v1/accounts"))
                .bearer_auth(&bearer)
                .send()
                .await
                .unwrap(),
        )
        .await;
    assert!(listed.body.contains(&account_id));
    let one = seen
        .record(
            http.get(format!("{gateway_url}/v1/accounts/{account_id}"))
                .bearer_auth(&bearer)
                .send()
                .await
                .unwrap(),
        )
        .await;
    assert_eq!(one.status, StatusCode::OK);

    // Disconnect: revoked at platform-sim, wiped, account.disconnected.
    let revoked_before = sim.revoked_tokens().len();
    let deleted = seen
        .record(
            http.delete(format!("{gateway_url}/v1/accounts/{account_id}"))
                .bearer_auth(&bearer)
                .send()
                .await
                .unwrap(),
        )
        .await;
    assert_eq!(deleted.status, StatusCode::ACCEPTED);
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
    let mut bus = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while tokio::time::Instant::now() < deadline
        && !bus
            .iter()
            .any(|e: &Value| e["type"] == "account.disconnected")
    {
        while let Some(message) = spy
            .basic_get(&spy_queue, BasicGetOptions { no_ack: true })
            .await
            .unwrap()
        {
            bus.push(serde_json::from_slice::<Value>(&message.delivery.data).unwrap());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let types: Vec<&str> = bus
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
    let disconnected = bus
        .iter()
        .find(|e| e["type"] == "account.disconnected")
        .unwrap();
    assert_eq!(disconnected["data"]["revoked"], true);

    shutdown.cancel();
    gateway_task.await.unwrap().unwrap();
    registry_task.await.unwrap().unwrap();

    // No token the platform issued appears in a response (status, header, redirect or body),
    // an event, a log line, or in plaintext in either token column or the parked payload.
    let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("accounts connected"), "logs were captured");
    let events_text: Vec<String> = bus.iter().map(Value::to_string).collect();
    let issued = sim.issued_tokens();
    assert!(
        issued.len() >= 2,
        "an access and a refresh token were issued"
    );
    let mut secrets = issued.clone();
    secrets.push("postbridge-local-secret".to_owned());
    assert!(
        seen.0.len() > 40,
        "headers and bodies of every answer were collected: {}",
        seen.0.len()
    );
    assert_eq!(
        seen.leaks(&secrets),
        Vec::<&str>::new(),
        "a secret reached a response"
    );
    for token in &secrets {
        assert!(!logs.contains(token.as_str()), "a secret reached the logs");
        assert!(
            !events_text.iter().any(|e| e.contains(token.as_str())),
            "a secret reached an event"
        );
        for (column, bytes) in [
            ("access_token_enc", &access_at_rest),
            ("refresh_token_enc", &refresh_at_rest),
            ("pending_connections.payload_enc", &pending[0]),
        ] {
            assert!(
                !contains_bytes(bytes, token),
                "a plaintext token in {column}"
            );
        }
    }
}

/// The scanner itself: a token planted in a header, a redirect, a body or a column is found.
#[test]
fn the_leak_scan_finds_a_token_in_headers_redirects_bodies_and_columns() {
    let secret = "tok_planted_123".to_owned();
    for planted in [
        "location: http://localhost:3000/?t=tok_planted_123",
        "x-debug: tok_planted_123",
        "{\"access_token\":\"tok_planted_123\"}",
    ] {
        let seen = Seen(vec![
            "content-type: application/json".into(),
            planted.into(),
        ]);
        assert_eq!(
            seen.leaks(std::slice::from_ref(&secret)),
            vec!["tok_planted_123"]
        );
    }
    assert!(Seen(vec!["nothing here".into()])
        .leaks(std::slice::from_ref(&secret))
        .is_empty());
    assert!(contains_bytes(b"\x01\x02tok_planted_123\x03", &secret));
    assert!(!contains_bytes(b"\x01\x02tok_planted_12", &secret));
}

/// Issue 16, finding 1, end to end: Mallory starts a connection and gets Alice's browser to
/// follow it. Alice approves with her platform account; her frontend, in her session, is handed
/// the ticket and tries to complete it: 404. Nothing is connected to anyone, nothing reaches
/// the outbox, and the parked tokens are gone, so Mallory has nothing to redeem either.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_flow_finished_in_another_users_browser_connects_nothing_and_emits_nothing() {
    let test_db = testkit::TestDb::new();
    let (sim, server) = platform_sim::start(
        TcpListener::bind("127.0.0.1:0").unwrap(),
        SimOptions::default(),
    )
    .unwrap();
    tokio::spawn(server);
    let prefix = testkit::unique_name("e2e-xuser");
    let mut loaded =
        service_kit::testing::loaded_for_tests(test_db.url(), &testkit::amqp_url(), &prefix);
    let base = sim.base_url();
    for (key, value) in [
        (
            "platforms.sandbox.authorize_url",
            format!("{base}/oauth/authorize"),
        ),
        ("platforms.sandbox.token_url", format!("{base}/oauth/token")),
        ("platforms.sandbox.api_base", base.clone()),
        ("auth_gateway.public_url", PUBLIC_URL.into()),
    ] {
        loaded.set(key, &value);
    }
    let shutdown = CancellationToken::new();
    let gateway = auth_gateway::startup::Application::build(
        auth_gateway::configuration::from(&loaded).unwrap(),
        shutdown.clone(),
    )
    .await
    .unwrap();
    let gateway_url = format!("http://127.0.0.1:{}", gateway.port());
    let gateway_task = tokio::spawn(gateway.run_until_stopped());
    let http = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap();
    let mut seen = Seen::default();

    let started = seen
        .record(
            http.post(format!("{gateway_url}/v1/connections/sandbox"))
                .bearer_auth(token_for("mallory"))
                .send()
                .await
                .unwrap(),
        )
        .await;
    let authorize_url = started.json()["authorize_url"].as_str().unwrap().to_owned();
    // Alice's browser: approve as "alice", follow the callback (no bearer, as a redirect).
    let approved = http
        .get(format!("{authorize_url}&login_hint=alice"))
        .send()
        .await
        .unwrap();
    let callback = approved.headers()["location"]
        .to_str()
        .unwrap()
        .replace(PUBLIC_URL, &gateway_url);
    let back = seen.record(http.get(&callback).send().await.unwrap()).await;
    let ticket = param(back.location.as_deref().unwrap(), "ticket").expect("a ticket");
    for user in ["alice", "mallory"] {
        let refused = seen
            .record(
                http.post(format!("{gateway_url}/v1/connections/complete"))
                    .bearer_auth(token_for(user))
                    .json(&serde_json::json!({ "ticket": ticket }))
                    .send()
                    .await
                    .unwrap(),
            )
            .await;
        assert_eq!(
            refused.status,
            StatusCode::NOT_FOUND,
            "{user}: {}",
            refused.body
        );
        assert_eq!(refused.json()["error"]["code"], "not_found");
    }
    let (accounts, outbox, pending): (i64, i64, i64) = {
        use db::{
            diesel::{dsl::count_star, QueryDsl, RunQueryDsl},
            schema::{outbox, pending_connections, social_accounts},
        };
        let mut conn = test_db.conn();
        (
            social_accounts::table
                .select(count_star())
                .first(&mut conn)
                .unwrap(),
            outbox::table.select(count_star()).first(&mut conn).unwrap(),
            pending_connections::table
                .select(count_star())
                .first(&mut conn)
                .unwrap(),
        )
    };
    assert_eq!(
        (accounts, outbox, pending),
        (0, 0, 0),
        "nothing connected, emitted or kept"
    );
    shutdown.cancel();
    gateway_task.await.unwrap().unwrap();
    let issued = sim.issued_tokens();
    assert!(!issued.is_empty(), "the code was exchanged");
    assert_eq!(
        seen.leaks(&issued),
        Vec::<&str>::new(),
        "a token reached a response"
    );
}
