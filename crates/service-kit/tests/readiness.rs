//! `/healthz` and `/readyz` over HTTP tell the truth about the process and its dependencies.
#![expect(clippy::unwrap_used, reason = "test assertions")]

use std::{
    net::TcpListener,
    time::{Duration, Instant},
};

use db::Db;
use events::CancellationToken;
use service_kit::{ops, testing::secret, Metrics, Readiness};
use testkit::{eventually, PrivatePostgres};

/// The budget `/readyz` is given here; its answer must arrive within it.
const READYZ_TIMEOUT: Duration = Duration::from_secs(2);

struct OpsServer {
    port: u16,
    client: reqwest::Client,
    shutdown: CancellationToken,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl OpsServer {
    fn start(readiness: Readiness) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let shutdown = CancellationToken::new();
        let server = ops::serve(
            listener,
            1,
            Metrics::new("readiness-test").unwrap(),
            readiness,
            |_| {},
            shutdown.clone(),
        )
        .unwrap();
        Self {
            port,
            client: reqwest::Client::new(),
            shutdown,
            server,
        }
    }

    /// Status and body of `GET path`, failing the test if no answer comes within `READYZ_TIMEOUT`.
    async fn get(&self, path: &str) -> (u16, serde_json::Value, Duration) {
        let started = Instant::now();
        let response = self
            .client
            .get(format!("http://127.0.0.1:{}{path}", self.port))
            .timeout(READYZ_TIMEOUT)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: no answer within {READYZ_TIMEOUT:?}: {e}"));
        let status = response.status().as_u16();
        let body = response.json().await.unwrap_or(serde_json::Value::Null);
        (status, body, started.elapsed())
    }

    async fn stop(self) {
        self.shutdown.cancel();
        self.server.await.unwrap().unwrap();
    }
}

/// A pool as services configure it: checking a connection out waits up to five seconds, longer
/// than `/readyz` may take.
fn service_pool(url: &str) -> Db {
    Db::new(
        url,
        &db::PoolSettings {
            max_size: 2,
            connection_timeout: Duration::from_secs(5),
        },
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn with_postgres_down_readyz_answers_503_within_its_timeout_while_healthz_stays_200_and_both_recover(
) {
    let pg = tokio::task::spawn_blocking(PrivatePostgres::start)
        .await
        .unwrap();
    let readiness = Readiness::new(service_pool(&pg.url()), secret(&testkit::amqp_url()))
        .with_timeout(READYZ_TIMEOUT);
    let server = OpsServer::start(readiness);

    let (status, body, _) = server.get("/readyz").await;
    assert_eq!(status, 200, "ready while both answer: {body}");

    let pg = tokio::task::spawn_blocking(move || {
        pg.stop();
        pg
    })
    .await
    .unwrap();
    for _ in 0..3 {
        let (status, body, took) = server.get("/readyz").await;
        assert_eq!(status, 503, "{body}");
        assert_eq!(body["checks"]["postgres"]["ok"], false, "{body}");
        assert_eq!(body["checks"]["rabbitmq"]["ok"], true, "{body}");
        assert!(took < READYZ_TIMEOUT, "answered after {took:?}");
    }
    let (status, body, _) = server.get("/healthz").await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("ok")),
        "/healthz is about the process, not its dependencies"
    );

    let _pg = tokio::task::spawn_blocking(move || {
        pg.resume();
        pg
    })
    .await
    .unwrap();
    eventually(Duration::from_secs(20), "/readyz to return 200", || async {
        (server.get("/readyz").await.0 == 200).then_some(())
    })
    .await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn readyz_answers_503_within_its_timeout_when_rabbitmq_does_not_answer() {
    let test_db = testkit::TestDb::new();
    // A port that accepts TCP connections but never speaks AMQP: the slowest way to fail.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    let readiness = Readiness::new(
        service_pool(test_db.url()),
        secret(&format!("amqp://guest:guest@127.0.0.1:{silent_port}/%2f")),
    )
    .with_timeout(READYZ_TIMEOUT);
    let server = OpsServer::start(readiness);

    let (status, body, took) = server.get("/readyz").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["status"], "not_ready", "{body}");
    assert_eq!(body["checks"]["postgres"]["ok"], true, "{body}");
    assert_eq!(body["checks"]["rabbitmq"]["ok"], false, "{body}");
    assert!(took < READYZ_TIMEOUT, "answered after {took:?}");
    let (status, _, _) = server.get("/healthz").await;
    assert_eq!(status, 200);
    drop(silent);
    server.stop().await;
}
