use std::time::Duration;

use auth_gateway::{configuration, startup::Application};
use testkit::TestDb;

#[tokio::test(flavor = "multi_thread")]
async fn migrates_an_empty_database_at_start_is_ready_then_stops_on_shutdown() {
    let db = TestDb::empty();
    assert!(
        db.applied_migrations().is_empty(),
        "the test starts from a database no migration ran on"
    );
    let loaded = service_kit::testing::loaded_for_tests(
        db.url(),
        &testkit::amqp_url(),
        &testkit::unique_name("auth-gateway-test"),
    );
    let settings = configuration::from(&loaded).unwrap();
    let shutdown = events::CancellationToken::new();
    let app = Application::build(settings, shutdown.clone())
        .await
        .unwrap();

    service_kit::testing::assert_ops_endpoints(app.ops_port()).await;
    assert_eq!(
        db.applied_migrations(),
        testkit::embedded_migrations(),
        "the service applied every migration before serving"
    );

    shutdown.cancel();
    let stopped = tokio::time::timeout(Duration::from_secs(20), app.run_until_stopped()).await;
    assert!(
        matches!(stopped, Ok(Ok(()))),
        "stops cleanly within 20 s: {stopped:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_binary_stopped_by_sigterm_closes_its_rabbitmq_connections_and_logs_no_error() {
    let db = TestDb::new();
    let mut service = service_kit::testing::ServiceProcess::start(
        env!("CARGO_BIN_EXE_auth-gateway"),
        "auth_gateway",
        db.url(),
        &testkit::amqp_url(),
        &testkit::unique_name("auth-gateway-test"),
    );
    // Its AMQP connections are open: the outbox relay's.
    service
        .wait_for(
            "outbox relay connected to rabbitmq",
            Duration::from_secs(30),
        )
        .await;

    service
        .assert_stops_gracefully(Duration::from_secs(30))
        .await;
}
