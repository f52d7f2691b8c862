//! The sampled gauges against the real RabbitMQ and PostgreSQL.

use lapin::{
    options::{BasicPublishOptions, QueueDeclareOptions},
    types::FieldTable,
    BasicProperties,
};
use prometheus::Registry;
use service_kit::{gauges::ServiceGauges, Readiness};

#[tokio::test]
async fn queue_and_dead_letter_depths_come_from_passive_declares() {
    let conn = events::connect(&testkit::amqp_url(), "gauges-test")
        .await
        .unwrap();
    let channel = conn.create_channel().await.unwrap();
    let queue = testkit::unique_name("gauges");
    let dlq = format!("{queue}.dlq");
    let temporary = QueueDeclareOptions {
        auto_delete: false,
        exclusive: false,
        ..QueueDeclareOptions::default()
    };
    for (name, messages) in [(&queue, 3), (&dlq, 1)] {
        channel
            .queue_declare(name, temporary, FieldTable::default())
            .await
            .unwrap();
        for _ in 0..messages {
            channel
                .basic_publish(
                    "",
                    name,
                    BasicPublishOptions::default(),
                    b"{}",
                    BasicProperties::default(),
                )
                .await
                .unwrap()
                .await
                .unwrap();
        }
    }

    let gauges = ServiceGauges::register(&Registry::new(), 8).unwrap();
    let sampler = conn.create_channel().await.unwrap();
    let names = vec![queue.clone()];
    testkit::eventually(std::time::Duration::from_secs(5), "depths", || async {
        gauges.sample_queues(&sampler, &names).await.unwrap();
        (gauges.queue_messages.with_label_values(&[&queue]).get() == 3).then_some(())
    })
    .await;
    assert_eq!(gauges.queue_consumers.with_label_values(&[&queue]).get(), 0);
    assert_eq!(gauges.dlq_messages.with_label_values(&[&queue]).get(), 1);

    // A queue that does not exist is an error (the caller reconnects), not a zero.
    let missing = vec![testkit::unique_name("missing")];
    assert!(gauges.sample_queues(&sampler, &missing).await.is_err());

    for name in [&queue, &dlq] {
        channel
            .queue_delete(name, lapin::options::QueueDeleteOptions::default())
            .await
            .unwrap();
    }
    let _ = conn.close(200, "done").await;
}

#[tokio::test]
async fn pool_saturation_and_readiness_are_sampled() {
    let test_db = testkit::TestDb::new();
    let db = test_db.db();
    let registry = Registry::new();
    let gauges = ServiceGauges::register(&registry, 8).unwrap();
    db.ping().await.unwrap();
    let held = db.get().unwrap();
    gauges.sample_pool(&db);
    assert_eq!(gauges.pool_max.get(), 8);
    assert_eq!(
        gauges.pool_connections.with_label_values(&["in_use"]).get(),
        1
    );
    drop(held);
    gauges.sample_pool(&db);
    assert_eq!(
        gauges.pool_connections.with_label_values(&["in_use"]).get(),
        0
    );
    assert!(gauges.pool_connections.with_label_values(&["idle"]).get() >= 1);

    gauges
        .sample_readiness(&Readiness::new(db.clone(), testkit::amqp_url().into()))
        .await;
    assert_eq!(gauges.ready.get(), 1);
    assert_eq!(
        gauges.dependency_up.with_label_values(&["rabbitmq"]).get(),
        1
    );

    // Nothing listens on port 1: RabbitMQ down, not ready.
    gauges
        .sample_readiness(&Readiness::new(
            db,
            "amqp://guest:guest@127.0.0.1:1/%2f".to_owned().into(),
        ))
        .await;
    assert_eq!(gauges.ready.get(), 0);
    assert_eq!(
        gauges.dependency_up.with_label_values(&["rabbitmq"]).get(),
        0
    );
    assert_eq!(
        gauges.dependency_up.with_label_values(&["postgres"]).get(),
        1
    );
    let text = prometheus::TextEncoder::new()
        .encode_to_string(&registry.gather())
        .unwrap();
    assert!(
        text.contains("postbridge_db_pool_max_connections 8"),
        "{text}"
    );
}
