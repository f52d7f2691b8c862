use std::time::Duration;

use account_registry::{configuration, startup::Application};
use testkit::TestDb;

#[tokio::test(flavor = "multi_thread")]
async fn starts_migrated_and_ready_then_stops_on_shutdown() {
    let db = TestDb::new();
    let loaded = service_kit::testing::loaded_for_tests(
        db.url(),
        &testkit::amqp_url(),
        &testkit::unique_name("account-registry-test"),
    );
    let settings = configuration::from(&loaded).unwrap();
    let shutdown = events::CancellationToken::new();
    let app = Application::build(settings, shutdown.clone())
        .await
        .unwrap();

    service_kit::testing::assert_ops_endpoints(app.port()).await;

    shutdown.cancel();
    let stopped = tokio::time::timeout(Duration::from_secs(20), app.run_until_stopped()).await;
    assert!(
        matches!(stopped, Ok(Ok(()))),
        "stops cleanly within 20 s: {stopped:?}"
    );
}
