//! `/readyz` tells the truth about PostgreSQL and RabbitMQ.

use std::{net::TcpListener, time::Duration};

use db::Db;
use events::CancellationToken;
use service_kit::{ops, testing::secret, Metrics, Readiness};
use testkit::{eventually, PrivatePostgres};

async fn readyz_status(client: &reqwest::Client, port: u16) -> u16 {
    client
        .get(format!("http://127.0.0.1:{port}/readyz"))
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread")]
async fn readyz_is_503_while_postgres_is_down_and_200_after_it_returns() {
    let pg = tokio::task::spawn_blocking(PrivatePostgres::start)
        .await
        .unwrap();
    let db = Db::new(
        &pg.url(),
        &db::PoolSettings {
            max_size: 2,
            connection_timeout: Duration::from_secs(1),
        },
    );
    let readiness = Readiness::new(db, secret(&testkit::amqp_url()));
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
    let client = reqwest::Client::new();

    assert_eq!(
        readyz_status(&client, port).await,
        200,
        "ready while both answer"
    );

    let pg = tokio::task::spawn_blocking(move || {
        pg.stop();
        pg
    })
    .await
    .unwrap();
    let body = client
        .get(format!("http://127.0.0.1:{port}/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(body.status(), 503);
    let json: serde_json::Value = body.json().await.unwrap();
    assert_eq!(json["checks"]["postgres"]["ok"], false);
    assert_eq!(json["checks"]["rabbitmq"]["ok"], true);
    assert_eq!(
        readyz_status(&client, port).await,
        503,
        "/healthz stays about the process, /readyz about its dependencies"
    );

    let _pg = tokio::task::spawn_blocking(move || {
        pg.resume();
        pg
    })
    .await
    .unwrap();
    eventually(Duration::from_secs(20), "/readyz to return 200", || async {
        (readyz_status(&client, port).await == 200).then_some(())
    })
    .await;

    shutdown.cancel();
    server.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn readyz_is_503_when_rabbitmq_does_not_answer() {
    let test_db = testkit::TestDb::new();
    let closed_port = testkit::free_port();
    let readiness = Readiness::new(
        test_db.db(),
        secret(&format!("amqp://guest:guest@127.0.0.1:{closed_port}/%2f")),
    );
    let (pg, amqp) = readiness.check().await;
    assert!(pg.is_ok());
    assert!(amqp.is_err());
}
