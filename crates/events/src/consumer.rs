//! Consuming events: at-least-once delivery turned into exactly-once effects.
//!
//! For each delivery: skip it if this consumer already processed the event id; otherwise run
//! the handler, whose database writes commit in one transaction together with the
//! `processed_events` marker; acknowledge only after that commit. A handler error is retried
//! (after a backoff, by requeueing) until the queue's delivery limit dead-letters the message;
//! an undecodable message goes to the dead-letter queue at once.

use std::{
    future::Future,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::Duration,
};

use db::{inbox::ProcessedEvent, Db, DbError, PgConnection};
use diesel::Connection;
use futures_util::StreamExt;
use lapin::{
    message::Delivery,
    options::{
        BasicAckOptions, BasicConsumeOptions, BasicNackOptions, BasicQosOptions, BasicRejectOptions,
    },
    types::{AMQPValue, FieldTable},
};
use tokio_util::sync::CancellationToken;

use crate::{
    amqp::{backoff, connect},
    topology::{declare, QueueSpec, Topology},
    EventMetrics, RawEnvelope,
};

/// Why a handler did not complete.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// Worth trying again (platform down, database hiccup).
    #[error("retryable: {0}")]
    Retry(String),
    /// Will never succeed (malformed or impossible event): dead-letter it now.
    #[error("permanent: {0}")]
    Permanent(String),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for HandlerError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Db(DbError::Query(e))
    }
}

/// Handles the events of one queue. Implementations dispatch on `incoming.envelope.event_type`.
pub trait Handler: Send + Sync + 'static {
    /// Processes one event; must record its effects through [`Incoming::commit`].
    fn handle(&self, incoming: &Incoming) -> impl Future<Output = Result<(), HandlerError>> + Send;
}

/// What [`Incoming::commit`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Committed<T> {
    /// The writes committed, with the closure's result.
    Done(T),
    /// Another delivery of the same event committed first; these writes were rolled back.
    Duplicate,
}

/// One delivered event.
#[derive(Debug)]
pub struct Incoming {
    /// The envelope; decode the payload with [`RawEnvelope::decode`].
    pub envelope: RawEnvelope,
    /// How many times the broker delivered it before (0 on the first delivery).
    pub previous_deliveries: u32,
    consumer: Arc<str>,
    db: Db,
}

impl Incoming {
    /// The payload as `E`; a payload that does not decode is a permanent failure (the
    /// message is dead-lettered, never retried).
    pub fn decode<E: crate::Event>(&self) -> Result<E, HandlerError> {
        self.envelope
            .decode::<E>()
            .map(|e| e.data)
            .map_err(HandlerError::Permanent)
    }

    /// Runs `f` in a transaction that also records this event as processed by this consumer.
    /// If another delivery got there first, the transaction is rolled back.
    pub async fn commit<T, F>(&self, f: F) -> Result<Committed<T>, HandlerError>
    where
        F: FnOnce(&mut PgConnection) -> Result<T, HandlerError> + Send + 'static,
        T: Send + 'static,
    {
        /// Rolls the transaction back without it being an error for the caller.
        enum TxError {
            Duplicate,
            Handler(HandlerError),
        }
        impl From<diesel::result::Error> for TxError {
            fn from(e: diesel::result::Error) -> Self {
                Self::Handler(e.into())
            }
        }

        let consumer = self.consumer.clone();
        let event_id = self.envelope.id;
        self.db
            .run(move |conn| {
                let outcome = conn.transaction::<_, TxError, _>(|conn| {
                    if !ProcessedEvent::record(conn, &consumer, event_id)? {
                        return Err(TxError::Duplicate);
                    }
                    f(conn).map_err(TxError::Handler)
                });
                match outcome {
                    Ok(value) => Ok(Committed::Done(value)),
                    Err(TxError::Duplicate) => Ok(Committed::Duplicate),
                    Err(TxError::Handler(err)) => Err(err),
                }
            })
            .await
    }
}

/// Queue, identity and concurrency of a consumer.
#[derive(Debug, Clone)]
pub struct ConsumerSettings {
    /// The queue to declare and consume.
    pub queue: QueueSpec,
    /// Name in `processed_events` (normally the queue name).
    pub consumer: String,
    /// Unacknowledged deliveries the broker may push at once.
    pub prefetch: u16,
    /// Deliveries handled at the same time.
    pub concurrency: usize,
    /// Set once the queue and its dead-letter queue have been declared: until then a passive
    /// `queue.declare` of them (the depth gauges) would be refused with a 404 that lapin logs
    /// at ERROR.
    pub declared: Arc<AtomicBool>,
}

impl ConsumerSettings {
    /// Consumes `queue` with a prefetch of 64 and 16 concurrent handlers.
    pub fn new(queue: QueueSpec) -> Self {
        Self {
            consumer: queue.name.clone(),
            queue,
            prefetch: 64,
            concurrency: 16,
            declared: Arc::default(),
        }
    }
}

/// Consumes until `shutdown` is cancelled, reconnecting with backoff whenever the broker goes
/// away. In-flight deliveries finish before it returns; unacknowledged ones are redelivered.
pub async fn run_consumer<H: Handler>(
    amqp_url: String,
    topology: Topology,
    settings: ConsumerSettings,
    db: Db,
    handler: Arc<H>,
    metrics: EventMetrics,
    shutdown: CancellationToken,
) {
    let consumer_name: Arc<str> = settings.consumer.as_str().into();
    let mut failures = 0u32;
    while !shutdown.is_cancelled() {
        let session = async {
            let conn = connect(&amqp_url, &format!("{}-consumer", settings.consumer)).await?;
            let channel = conn.create_channel().await?;
            channel
                .basic_qos(settings.prefetch, BasicQosOptions::default())
                .await?;
            declare(&channel, &topology, std::slice::from_ref(&settings.queue)).await?;
            settings.declared.store(true, Ordering::Release);
            let consumer = channel
                .basic_consume(
                    &settings.queue.name,
                    &settings.consumer,
                    BasicConsumeOptions::default(),
                    FieldTable::default(),
                )
                .await?;
            Ok::<_, crate::AmqpError>((conn, channel, consumer))
        };
        let (conn, channel, consumer) = match session.await {
            Ok(parts) => parts,
            Err(err) => {
                failures += 1;
                let delay = backoff(
                    failures,
                    Duration::from_millis(200),
                    Duration::from_secs(10),
                );
                tracing::warn!(queue = %settings.queue.name, error = %err, retry_in_ms = delay.as_millis() as u64, "consumer cannot reach rabbitmq");
                tokio::select! {
                    () = tokio::time::sleep(delay) => continue,
                    () = shutdown.cancelled() => break,
                }
            }
        };
        failures = 0;
        tracing::info!(queue = %settings.queue.name, "consuming");

        consumer
            .take_until(shutdown.cancelled())
            .for_each_concurrent(settings.concurrency, |delivery| {
                let db = db.clone();
                let handler = handler.clone();
                let consumer_name = consumer_name.clone();
                let metrics = metrics.clone();
                let queue = settings.queue.name.clone();
                async move {
                    match delivery {
                        Ok(delivery) => {
                            process(
                                delivery,
                                &db,
                                handler.as_ref(),
                                consumer_name,
                                &metrics,
                                &queue,
                            )
                            .await
                        }
                        Err(err) => {
                            tracing::warn!(queue = %queue, error = %err, "delivery stream error")
                        }
                    }
                }
            })
            .await;

        let _ = channel.close(200, "consumer stopping").await;
        let _ = conn.close(200, "consumer stopping").await;
        if !shutdown.is_cancelled() {
            tracing::warn!(queue = %settings.queue.name, "lost rabbitmq; reconnecting");
            tokio::time::sleep(backoff(
                1,
                Duration::from_millis(200),
                Duration::from_secs(1),
            ))
            .await;
        }
    }
    tracing::info!(queue = %settings.queue.name, "consumer stopped");
}

async fn process<H: Handler>(
    delivery: Delivery,
    db: &Db,
    handler: &H,
    consumer: Arc<str>,
    metrics: &EventMetrics,
    queue: &str,
) {
    let previous_deliveries = delivery_count(&delivery);
    let envelope: RawEnvelope = match serde_json::from_slice(&delivery.data) {
        Ok(envelope) => envelope,
        Err(err) => {
            tracing::error!(queue, error = %err, "undecodable message; dead-lettering it");
            metrics
                .consumed
                .with_label_values(&[queue, "dead_lettered"])
                .inc();
            let _ = delivery.reject(BasicRejectOptions { requeue: false }).await;
            return;
        }
    };
    let span = tracing::info_span!("event", event.id = %envelope.id, event.type = %envelope.event_type, queue);

    let event_id = envelope.id;
    let seen = {
        let consumer = consumer.clone();
        db.run(move |conn| ProcessedEvent::exists(conn, &consumer, event_id).map_err(DbError::from))
            .await
    };
    if matches!(seen, Ok(true)) {
        tracing::debug!(parent: &span, "already processed; acknowledging");
        metrics
            .consumed
            .with_label_values(&[queue, "duplicate"])
            .inc();
        let _ = delivery.ack(BasicAckOptions::default()).await;
        return;
    }

    let incoming = Incoming {
        envelope,
        previous_deliveries,
        consumer,
        db: db.clone(),
    };
    let result = tracing::Instrument::instrument(handler.handle(&incoming), span.clone()).await;
    match result {
        Ok(()) => {
            metrics.consumed.with_label_values(&[queue, "ok"]).inc();
            if let Err(err) = delivery.ack(BasicAckOptions::default()).await {
                // The work committed; the redelivery will be recognised as a duplicate.
                tracing::warn!(parent: &span, error = %err, "ack failed after commit");
            }
        }
        Err(HandlerError::Permanent(reason)) => {
            tracing::error!(parent: &span, %reason, "event cannot be processed; dead-lettering it");
            metrics
                .consumed
                .with_label_values(&[queue, "dead_lettered"])
                .inc();
            let _ = delivery.reject(BasicRejectOptions { requeue: false }).await;
        }
        Err(err) => {
            let delay = backoff(
                previous_deliveries,
                Duration::from_millis(100),
                Duration::from_secs(5),
            );
            tracing::warn!(parent: &span, error = %err, attempt = previous_deliveries + 1, retry_in_ms = delay.as_millis() as u64, "event handler failed; will retry");
            metrics.consumed.with_label_values(&[queue, "retry"]).inc();
            tokio::time::sleep(delay).await;
            let _ = delivery
                .nack(BasicNackOptions {
                    requeue: true,
                    multiple: false,
                })
                .await;
        }
    }
}

/// The quorum queue's `x-delivery-count` header: deliveries before this one.
fn delivery_count(delivery: &Delivery) -> u32 {
    let Some(headers) = delivery.properties.headers() else {
        return 0;
    };
    match headers.inner().get("x-delivery-count") {
        Some(AMQPValue::LongLongInt(n)) => u32::try_from(*n).unwrap_or(u32::MAX),
        Some(AMQPValue::LongInt(n)) => u32::try_from(*n).unwrap_or(u32::MAX),
        Some(AMQPValue::ShortInt(n)) => u32::try_from(*n).unwrap_or(u32::MAX),
        Some(AMQPValue::LongUInt(n)) => *n,
        Some(AMQPValue::ShortShortInt(n)) => u32::try_from(*n).unwrap_or(u32::MAX),
        _ => 0,
    }
}
