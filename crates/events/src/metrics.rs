//! Prometheus metrics of the event plumbing.

use prometheus::{Gauge, IntCounter, IntCounterVec, IntGauge, Opts, Registry};

/// Counters and gauges shared by the relay and the consumers of one service.
#[derive(Debug, Clone)]
pub struct EventMetrics {
    /// Events published and confirmed, by type.
    pub published: IntCounterVec,
    /// Batches whose publishing failed (broker down, nack, timeout).
    pub publish_failures: IntCounter,
    /// Deliveries handled, by queue and outcome (`ok`, `duplicate`, `retry`, `dead_lettered`).
    pub consumed: IntCounterVec,
    /// Unsent outbox rows.
    pub outbox_backlog: IntGauge,
    /// Age of the oldest unsent outbox row, in seconds.
    pub outbox_oldest_age_seconds: Gauge,
    /// Rows deleted by retention, by table: the relay's purges here, and the services' own
    /// sweeps (`service_kit::retention`) through the same counter, one family per registry.
    pub retention_deleted: IntCounterVec,
}

impl EventMetrics {
    /// Creates the metrics and registers them in `registry`.
    pub fn register(registry: &Registry) -> prometheus::Result<Self> {
        let metrics = Self {
            published: IntCounterVec::new(
                Opts::new(
                    "postbridge_events_published_total",
                    "Events published with a broker confirm",
                ),
                &["type"],
            )?,
            publish_failures: IntCounter::new(
                "postbridge_events_publish_failures_total",
                "Outbox batches that failed to publish",
            )?,
            consumed: IntCounterVec::new(
                Opts::new("postbridge_events_consumed_total", "Deliveries handled"),
                &["queue", "outcome"],
            )?,
            outbox_backlog: IntGauge::new("postbridge_outbox_backlog", "Unsent outbox rows")?,
            outbox_oldest_age_seconds: Gauge::new(
                "postbridge_outbox_oldest_age_seconds",
                "Age of the oldest unsent outbox row",
            )?,
            retention_deleted: IntCounterVec::new(
                Opts::new(
                    "postbridge_retention_deleted_total",
                    "Rows deleted by retention (expired, or downsampled)",
                ),
                &["table"],
            )?,
        };
        registry.register(Box::new(metrics.published.clone()))?;
        registry.register(Box::new(metrics.publish_failures.clone()))?;
        registry.register(Box::new(metrics.consumed.clone()))?;
        registry.register(Box::new(metrics.outbox_backlog.clone()))?;
        registry.register(Box::new(metrics.outbox_oldest_age_seconds.clone()))?;
        registry.register(Box::new(metrics.retention_deleted.clone()))?;
        Ok(metrics)
    }

    /// Metrics registered nowhere (tests, tools).
    pub fn unregistered() -> Self {
        #[expect(
            clippy::expect_used,
            reason = "a fresh registry cannot hold duplicates"
        )]
        Self::register(&Registry::new()).expect("fresh registry")
    }
}
