use std::time::Duration;

use testkit::TestDb;
use token_refresher::{configuration, startup::Application};

#[tokio::test(flavor = "multi_thread")]
async fn starts_migrated_and_ready_then_stops_on_shutdown() {
    let db = TestDb::new();
    let loaded = service_kit::testing::loaded_for_tests(
        db.url(),
        &testkit::amqp_url(),
        &testkit::unique_name("token-refresher-test"),
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
