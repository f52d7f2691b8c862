//! Gauges sampled in the background: the service's RabbitMQ queues (depth, consumers, dead
//! letters), its PostgreSQL pool (saturation) and its readiness, every [`SAMPLE_EVERY`].
//!
//! Queue depths come from passive `queue.declare` answers, which carry the message and
//! consumer counts: plain AMQP, so no management plugin or its credentials are needed. Each
//! service reports the queues it consumes (and their `.dlq`): replicas report the same numbers,
//! which dashboards and alerts aggregate with `max by (queue)`.

use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use db::Db;
use lapin::{options::QueueDeclareOptions, types::FieldTable, Channel, Connection};
use prometheus::{IntGauge, IntGaugeVec, Opts, Registry};
use tokio_util::sync::CancellationToken;

use crate::Readiness;

/// How often the gauges are refreshed: a few samples per Prometheus scrape interval (30 s).
pub const SAMPLE_EVERY: Duration = Duration::from_secs(10);

/// The sampled gauges of one service.
#[derive(Debug, Clone)]
pub struct ServiceGauges {
    /// Ready messages waiting in a consumer queue: the consumers' lag.
    pub queue_messages: IntGaugeVec,
    /// Consumers attached to a queue (0: nobody is working it off).
    pub queue_consumers: IntGaugeVec,
    /// Messages dead-lettered from a queue (its `<queue>.dlq`), by the consumer queue's name.
    pub dlq_messages: IntGaugeVec,
    /// Pool connections by state: `in_use`, `idle`.
    pub pool_connections: IntGaugeVec,
    /// The pool's maximum: `in_use` at this value means callers queue for a connection.
    pub pool_max: IntGauge,
    /// 1 while the readiness checks pass (what `/readyz` would answer), else 0.
    pub ready: IntGauge,
    /// 1 while a dependency (`postgres`, `rabbitmq`) answers, else 0.
    pub dependency_up: IntGaugeVec,
}

impl ServiceGauges {
    /// Creates the gauges and registers them in `registry`.
    pub fn register(registry: &Registry, pool_max: u32) -> prometheus::Result<Self> {
        let gauges = Self {
            queue_messages: IntGaugeVec::new(
                Opts::new(
                    "postbridge_queue_messages",
                    "Ready messages in a consumer queue (consumer lag)",
                ),
                &["queue"],
            )?,
            queue_consumers: IntGaugeVec::new(
                Opts::new("postbridge_queue_consumers", "Consumers of a queue"),
                &["queue"],
            )?,
            dlq_messages: IntGaugeVec::new(
                Opts::new(
                    "postbridge_dlq_messages",
                    "Messages in a consumer queue's dead-letter queue",
                ),
                &["queue"],
            )?,
            pool_connections: IntGaugeVec::new(
                Opts::new(
                    "postbridge_db_pool_connections",
                    "PostgreSQL pool connections by state",
                ),
                &["state"],
            )?,
            pool_max: IntGauge::new(
                "postbridge_db_pool_max_connections",
                "Most connections the PostgreSQL pool opens",
            )?,
            ready: IntGauge::new("postbridge_ready", "1 while the service is ready")?,
            dependency_up: IntGaugeVec::new(
                Opts::new(
                    "postbridge_dependency_up",
                    "1 while a dependency answers the readiness check",
                ),
                &["dependency"],
            )?,
        };
        registry.register(Box::new(gauges.queue_messages.clone()))?;
        registry.register(Box::new(gauges.queue_consumers.clone()))?;
        registry.register(Box::new(gauges.dlq_messages.clone()))?;
        registry.register(Box::new(gauges.pool_connections.clone()))?;
        registry.register(Box::new(gauges.pool_max.clone()))?;
        registry.register(Box::new(gauges.ready.clone()))?;
        registry.register(Box::new(gauges.dependency_up.clone()))?;
        gauges.pool_max.set(i64::from(pool_max));
        Ok(gauges)
    }

    /// The pool's state now.
    pub fn sample_pool(&self, db: &Db) {
        let (open, idle) = db.pool_state();
        let in_use = open.saturating_sub(idle);
        self.pool_connections
            .with_label_values(&["in_use"])
            .set(i64::from(in_use));
        self.pool_connections
            .with_label_values(&["idle"])
            .set(i64::from(idle));
    }

    /// The readiness checks now.
    pub async fn sample_readiness(&self, readiness: &Readiness) {
        let (pg, amqp) = readiness.check().await;
        let up = |r: &Result<(), String>| i64::from(r.is_ok());
        self.dependency_up
            .with_label_values(&["postgres"])
            .set(up(&pg));
        self.dependency_up
            .with_label_values(&["rabbitmq"])
            .set(up(&amqp));
        self.ready.set(i64::from(pg.is_ok() && amqp.is_ok()));
    }

    /// Depth and consumers of each of `queues` and of its `.dlq`, on `channel`. A queue that
    /// does not exist closes the channel (AMQP 404), so the caller opens a new one then.
    pub async fn sample_queues(&self, channel: &Channel, queues: &[String]) -> lapin::Result<()> {
        let passive = QueueDeclareOptions {
            passive: true,
            ..QueueDeclareOptions::default()
        };
        for queue in queues {
            let work = channel
                .queue_declare(queue, passive, FieldTable::default())
                .await?;
            self.queue_messages
                .with_label_values(&[queue])
                .set(i64::from(work.message_count()));
            self.queue_consumers
                .with_label_values(&[queue])
                .set(i64::from(work.consumer_count()));
            let dlq = channel
                .queue_declare(&format!("{queue}.dlq"), passive, FieldTable::default())
                .await?;
            self.dlq_messages
                .with_label_values(&[queue])
                .set(i64::from(dlq.message_count()));
        }
        Ok(())
    }
}

/// A consumer queue of the service, and whether its consumer has declared it yet.
#[derive(Debug, Clone)]
pub struct ConsumedQueue {
    /// The queue's name (its dead-letter queue is `<name>.dlq`).
    pub name: String,
    /// Set by the consumer once the queue and its `.dlq` exist.
    pub declared: Arc<AtomicBool>,
}

/// The consumer queues a service works, filled in as its consumers start.
pub type ConsumedQueues = Arc<Mutex<Vec<ConsumedQueue>>>;

/// The queues of `queues` that exist already. A passive declare of one that does not (a
/// consumer still connecting at start-up) is refused with a 404, which closes the channel and
/// which lapin logs at ERROR: a graceful start must log no error.
fn declared_names(queues: &ConsumedQueues) -> Vec<String> {
    queues
        .lock()
        .map(|queues| {
            queues
                .iter()
                .filter(|q| q.declared.load(Ordering::Acquire))
                .map(|q| q.name.clone())
                .collect()
        })
        .unwrap_or_default()
}

/// Samples every gauge each [`SAMPLE_EVERY`] until `shutdown`.
pub async fn run_sampler(
    gauges: ServiceGauges,
    db: Db,
    readiness: Readiness,
    amqp_url: secrecy::SecretString,
    name: &'static str,
    queues: ConsumedQueues,
    shutdown: CancellationToken,
) {
    use secrecy::ExposeSecret;
    let mut connection: Option<(Connection, Channel)> = None;
    loop {
        gauges.sample_pool(&db);
        gauges.sample_readiness(&readiness).await;
        let names = declared_names(&queues);
        if !names.is_empty() {
            if connection.is_none() {
                connection = open(amqp_url.expose_secret(), name).await;
            }
            if let Some((_, channel)) = &connection {
                if let Err(err) = gauges.sample_queues(channel, &names).await {
                    tracing::debug!(error = %err, "queue depths not sampled; reconnecting next time");
                    if let Some((conn, _)) = connection.take() {
                        let _ = conn.close(200, "resampling").await;
                    }
                }
            }
        }
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = tokio::time::sleep(SAMPLE_EVERY) => {}
        }
    }
    if let Some((conn, _)) = connection {
        let _ = conn.close(200, "stopping").await;
    }
}

async fn open(url: &str, name: &str) -> Option<(Connection, Channel)> {
    let connection = events::connect(url, &format!("{name}-gauges")).await.ok()?;
    let channel = connection.create_channel().await.ok()?;
    Some((connection, channel))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_queue_is_sampled_only_once_its_consumer_has_declared_it() {
        let declared = Arc::new(AtomicBool::new(false));
        let queues: ConsumedQueues = Arc::new(Mutex::new(vec![
            ConsumedQueue {
                name: "ready.posts".into(),
                declared: Arc::new(AtomicBool::new(true)),
            },
            ConsumedQueue {
                name: "starting.tokens".into(),
                declared: declared.clone(),
            },
        ]));
        assert_eq!(declared_names(&queues), ["ready.posts"]);

        declared.store(true, Ordering::Release);
        assert_eq!(declared_names(&queues), ["ready.posts", "starting.tokens"]);
    }
}
