//! The env account across account-registry and the gateway: a Facebook Page token in the
//! configuration becomes, with the name and picture the Graph API gives, an account every user
//! without a Facebook account of their own sees read-only, and refuses disconnection. Every
//! answer, every log line and every event is scanned for the token.
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "an end-to-end test fails by panicking"
)]

use std::{
    io::Write,
    sync::{Arc, Mutex},
    time::Duration,
};

use db::diesel::{QueryDsl, RunQueryDsl};
use events::CancellationToken;
use reqwest::StatusCode;
use serde_json::{json, Value};
use wiremock::{
    matchers::{method, path, query_param},
    Mock, MockServer, ResponseTemplate,
};

const PAGE_TOKEN: &str = "EAAB-e2e-env-page-token-must-not-leak";
const PAGE_ID: &str = "987654321";

#[derive(Clone, Default)]
struct LogSink(Arc<Mutex<Vec<u8>>>);

impl Write for LogSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
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
        .with_env_filter("debug,lapin=info,actix_server=info,hyper=info,h2=info,rustls=info")
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber)
        .expect("one test per binary installs the subscriber");
    sink
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_env_account_appears_with_its_graph_profile_refuses_disconnection_and_never_leaks_its_token(
) {
    let logs = capture_logs();
    let graph = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/{PAGE_ID}")))
        .and(query_param("access_token", PAGE_TOKEN))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "name": "Acme Coffee",
            "picture": { "data": { "height": 50, "is_silhouette": false,
                "url": "https://scontent.xx.fbcdn.net/acme.png", "width": 50 } },
            "followers_count": 1200,
            "id": PAGE_ID
        })))
        .mount(&graph)
        .await;
    let test_db = testkit::TestDb::new();
    let prefix = testkit::unique_name("e2e-env");
    let mut loaded =
        service_kit::testing::loaded_for_tests(test_db.url(), &testkit::amqp_url(), &prefix);
    loaded.set("platforms.facebook.api_base", &graph.uri());
    loaded.set("env_account.facebook_page_token", PAGE_TOKEN);
    loaded.set("env_account.facebook_page_id", PAGE_ID);

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
    let api = format!("http://127.0.0.1:{}", gateway.port());
    tokio::spawn(gateway.run_until_stopped());
    tokio::spawn(registry.run_until_stopped());
    let http = reqwest::Client::new();
    let token = service_kit::testing::dev_token("alice");
    let mut seen = Vec::new();

    let mut listed = Value::Null;
    for _ in 0..100 {
        let response = http
            .get(format!("{api}/v1/accounts"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        let body = response.text().await.unwrap();
        seen.push(body.clone());
        listed = serde_json::from_str(&body).unwrap();
        if listed["items"][0]["display_name"] == "Acme Coffee" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let account = &listed["items"][0];
    assert_eq!(account["source"], "env", "{listed}");
    assert_eq!(account["platform"], "facebook");
    assert_eq!(account["platform_account_id"], PAGE_ID);
    assert_eq!(
        account["avatar_url"],
        "https://scontent.xx.fbcdn.net/acme.png"
    );
    assert_eq!(account["followers_count"], 1200);
    let id = account["id"].as_str().unwrap().to_owned();

    let refused = http
        .delete(format!("{api}/v1/accounts/{id}"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    let body = refused.text().await.unwrap();
    seen.push(body.clone());
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["error"]["code"], "env_account_read_only");
    let still: Value = http
        .get(format!("{api}/v1/accounts/{id}"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(still["status"], "active", "the refusal changed nothing");
    shutdown.cancel();

    // The events (the sync's account.synced among them) carry no token.
    let envelopes: Vec<Value> = db::schema::outbox::table
        .select(db::schema::outbox::envelope)
        .load(&mut test_db.conn())
        .unwrap();
    assert!(
        envelopes.iter().any(|e| e["type"] == "account.synced"),
        "{envelopes:?}"
    );
    let logged = String::from_utf8_lossy(&logs.0.lock().unwrap()).into_owned();
    assert!(
        logged.contains("env account stored and synced"),
        "the logs were captured"
    );
    for (what, text) in [
        ("answers", seen.join("\n")),
        ("events", format!("{envelopes:?}")),
        ("logs", logged),
    ] {
        assert!(
            !text.contains(PAGE_TOKEN),
            "the page token leaked into the {what}"
        );
    }
}
