//! The raw RabbitMQ ceiling of the run: how many `post.published`-sized messages the broker
//! takes and delivers per second on this machine, right now, with nothing of ours in the way.
//!
//! A confirm-mode channel keeps 1,000 publishes in flight (as the relay keeps a whole batch in
//! flight) to the isolated topology's exchange; a durable quorum queue is bound for the routing
//! key exactly as `events::declare` binds every consumer queue, and a consumer on its own
//! channel acknowledges each delivery. The clock runs from the first publish to the last
//! delivery. The burst is then reported as a share of this figure, so a run on a loaded
//! machine can still be read.

use std::time::{Duration, Instant};

use futures_util::{stream::FuturesUnordered, StreamExt};
use lapin::{
    options::{
        BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions,
        ConfirmSelectOptions, QueueDeleteOptions,
    },
    publisher_confirm::Confirmation,
    types::FieldTable,
    BasicProperties,
};

use db::domain::{AccountId, Platform, PostId, PostTargetId};
use events::{Envelope, Event, PostPublished, QueueSpec, Topology};

/// Publishes kept unconfirmed at once.
const IN_FLIGHT: usize = 1_000;

/// What the ceiling loop measured.
pub struct Ceiling {
    pub msgs: usize,
    pub msgs_per_s: f64,
    pub payload_bytes: usize,
}

/// The JSON of one `post.published` envelope as the relay sends it.
fn payload() -> Vec<u8> {
    let event = PostPublished {
        post_id: PostId::new(),
        target_id: PostTargetId::new(),
        account_id: AccountId::new(),
        platform: Platform::Sandbox,
        platform_post_id: "sim-0123456789abcdef0123456789abcdef".into(),
        url: Some("http://127.0.0.1:40000/posts/sim-0123456789abcdef0123456789abcdef".into()),
        published_at: chrono::Utc::now(),
    };
    serde_json::to_vec(&serde_json::to_value(Envelope::new("publisher", event)).unwrap()).unwrap()
}

/// Publishes `msgs` messages with confirms, `IN_FLIGHT` at once, and consumes them.
pub async fn rabbitmq_ceiling(msgs: usize) -> Ceiling {
    let amqp = testkit::amqp_url();
    let prefix = testkit::unique_name("bench-ceiling");
    let topology = Topology::isolated(&prefix);
    let queue = QueueSpec::new(format!("{prefix}.sink"), &[PostPublished::TYPE]);
    let conn = events::connect(&amqp, "bench-ceiling").await.unwrap();
    let publish = conn.create_channel().await.unwrap();
    publish
        .confirm_select(ConfirmSelectOptions::default())
        .await
        .unwrap();
    events::declare(&publish, &topology, std::slice::from_ref(&queue))
        .await
        .unwrap();
    let consume = conn.create_channel().await.unwrap();
    consume
        .basic_qos(1_000, BasicQosOptions::default())
        .await
        .unwrap();
    let mut deliveries = consume
        .basic_consume(
            &queue.name,
            "bench-ceiling",
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .unwrap();
    let body = payload();
    let payload_bytes = body.len();

    let started = Instant::now();
    let consumer = tokio::spawn(async move {
        let mut received = 0;
        while received < msgs {
            let delivery = tokio::time::timeout(Duration::from_secs(60), deliveries.next())
                .await
                .unwrap_or_else(|_| panic!("the ceiling's consumer waited a minute for a delivery"))
                .unwrap()
                .unwrap();
            delivery.ack(BasicAckOptions::default()).await.unwrap();
            received += 1;
        }
        Instant::now()
    });
    let mut confirms = FuturesUnordered::new();
    for n in 0..msgs {
        if confirms.len() >= IN_FLIGHT {
            confirmed(confirms.next().await);
        }
        let properties = BasicProperties::default()
            .with_delivery_mode(2)
            .with_content_type("application/json".into())
            .with_message_id(format!("ceiling-{n}").into())
            .with_type(PostPublished::TYPE.into());
        let confirm = publish
            .basic_publish(
                &topology.exchange,
                PostPublished::TYPE,
                BasicPublishOptions {
                    mandatory: true,
                    ..BasicPublishOptions::default()
                },
                &body,
                properties,
            )
            .await
            .unwrap();
        confirms.push(confirm);
    }
    while let Some(confirm) = confirms.next().await {
        confirmed(Some(confirm));
    }
    let done = consumer.await.unwrap();
    let elapsed = (done - started).as_secs_f64().max(0.001);
    let _ = publish
        .queue_delete(&queue.name, QueueDeleteOptions::default())
        .await;
    let _ = publish
        .queue_delete(&queue.dlq(), QueueDeleteOptions::default())
        .await;
    let _ = conn.close(200, "ceiling measured").await;
    Ceiling {
        msgs,
        msgs_per_s: msgs as f64 / elapsed,
        payload_bytes,
    }
}

fn confirmed(confirm: Option<lapin::Result<Confirmation>>) {
    match confirm.unwrap().unwrap() {
        Confirmation::Ack(None) => {}
        other => panic!("the broker did not take a ceiling message: {other:?}"),
    }
}
