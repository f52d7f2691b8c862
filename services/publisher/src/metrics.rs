//! publisher's Prometheus metrics.

use std::time::Duration;

use db::domain::Platform;
use platform_adapters::{AdapterError, Published};
use prometheus::{
    Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGaugeVec, Opts, Registry,
};

/// Publish calls, outcomes, dispatch lag and target gauges.
#[derive(Debug, Clone)]
pub struct PublishMetrics {
    /// Platform publish calls by platform and attempt outcome.
    pub calls: IntCounterVec,
    /// Latency of a whole publish (uploads included), by platform.
    pub latency: HistogramVec,
    /// Stored target states by platform and status (published, failed, scheduled = retrying,
    /// unknown = reconciling).
    pub outcomes: IntCounterVec,
    /// Seconds from a target's due time to its claim.
    pub dispatch_lag: Histogram,
    /// Lookups of posts whose publish went unanswered, by platform and result.
    pub reconciled: IntCounterVec,
    /// Targets deferred by a platform's publishing limit, by platform.
    pub deferred: IntCounterVec,
    /// In-flight attempts found after a publisher died.
    pub recovered: IntCounter,
    /// Targets by status.
    pub targets: IntGaugeVec,
    /// Calls made on published posts, by platform, kind (`metrics`: an engagement read,
    /// `delete`) and outcome: they share publishing's budget, so their share is worth seeing.
    pub follow_up_calls: IntCounterVec,
    /// Targets whose figures an engagement read brought back, by platform.
    pub engagement_targets: IntCounterVec,
}

impl PublishMetrics {
    /// Creates and registers the metrics.
    pub fn register(registry: &Registry) -> prometheus::Result<Self> {
        let metrics = Self {
            calls: IntCounterVec::new(
                Opts::new(
                    "postbridge_publish_calls_total",
                    "Platform publish calls by platform and outcome",
                ),
                &["platform", "outcome"],
            )?,
            latency: HistogramVec::new(
                HistogramOpts::new(
                    "postbridge_publish_duration_seconds",
                    "Duration of a publish, uploads included",
                )
                .buckets(vec![
                    0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 120.0,
                ]),
                &["platform"],
            )?,
            outcomes: IntCounterVec::new(
                Opts::new(
                    "postbridge_publish_targets_total",
                    "Target results stored, by platform and new status",
                ),
                &["platform", "status"],
            )?,
            dispatch_lag: Histogram::with_opts(
                HistogramOpts::new(
                    "postbridge_publish_dispatch_lag_seconds",
                    "Time from due to claim",
                )
                .buckets(vec![0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 15.0, 60.0]),
            )?,
            reconciled: IntCounterVec::new(
                Opts::new(
                    "postbridge_publish_reconciliations_total",
                    "Lookups after unanswered publishes",
                ),
                &["platform", "result"],
            )?,
            deferred: IntCounterVec::new(
                Opts::new(
                    "postbridge_publish_deferred_total",
                    "Targets deferred by a platform publishing limit",
                ),
                &["platform"],
            )?,
            recovered: IntCounter::new(
                "postbridge_publish_recovered_in_flight_total",
                "In-flight attempts found after a publisher stopped",
            )?,
            targets: IntGaugeVec::new(
                Opts::new(
                    "postbridge_post_targets",
                    "Live post targets (scheduled, unknown, publishing, deleting) by status",
                ),
                &["status"],
            )?,
            follow_up_calls: IntCounterVec::new(
                Opts::new(
                    "postbridge_follow_up_calls_total",
                    "Calls on published posts (engagement reads, deletes) by platform, kind and outcome",
                ),
                &["platform", "kind", "outcome"],
            )?,
            engagement_targets: IntCounterVec::new(
                Opts::new(
                    "postbridge_engagement_targets_read_total",
                    "Targets whose engagement figures a read brought back, by platform",
                ),
                &["platform"],
            )?,
        };
        registry.register(Box::new(metrics.calls.clone()))?;
        registry.register(Box::new(metrics.latency.clone()))?;
        registry.register(Box::new(metrics.outcomes.clone()))?;
        registry.register(Box::new(metrics.dispatch_lag.clone()))?;
        registry.register(Box::new(metrics.reconciled.clone()))?;
        registry.register(Box::new(metrics.deferred.clone()))?;
        registry.register(Box::new(metrics.recovered.clone()))?;
        registry.register(Box::new(metrics.targets.clone()))?;
        registry.register(Box::new(metrics.follow_up_calls.clone()))?;
        registry.register(Box::new(metrics.engagement_targets.clone()))?;
        Ok(metrics)
    }

    /// Counts one publish call and its duration.
    pub fn observe(
        &self,
        platform: Platform,
        result: &Result<Published, AdapterError>,
        took: Duration,
    ) {
        let outcome = match result {
            Ok(_) => "success",
            Err(err) => crate::outcome::attempt_outcome(err).as_str(),
        };
        self.calls
            .with_label_values(&[platform.as_str(), outcome])
            .inc();
        self.latency
            .with_label_values(&[platform.as_str()])
            .observe(took.as_secs_f64());
    }

    /// Counts one call made on published posts: `kind` is `metrics` or `delete`.
    pub fn follow_up(&self, platform: Platform, kind: &str, result: Result<(), &AdapterError>) {
        let outcome = match result {
            Ok(()) => "success",
            Err(err) => crate::outcome::attempt_outcome(err).as_str(),
        };
        self.follow_up_calls
            .with_label_values(&[platform.as_str(), kind, outcome])
            .inc();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_on_published_posts_are_counted_by_platform_kind_and_outcome() {
        let metrics = PublishMetrics::register(&Registry::new()).unwrap();
        metrics.follow_up(Platform::X, "delete", Ok(()));
        let limited = AdapterError::RateLimited { retry_after: None };
        metrics.follow_up(Platform::X, "metrics", Err(&limited));
        metrics.follow_up(Platform::X, "metrics", Err(&limited));
        let count = |kind, outcome| {
            metrics
                .follow_up_calls
                .with_label_values(&["x", kind, outcome])
                .get()
        };
        assert_eq!(count("delete", "success"), 1);
        assert_eq!(count("metrics", "rate_limited"), 2);
        assert_eq!(count("metrics", "success"), 0);
    }
}
