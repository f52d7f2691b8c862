//! token-refresher's Prometheus metrics.

use prometheus::{Gauge, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry};

/// Refresh outcomes and account gauges.
#[derive(Debug, Clone)]
pub struct RefreshMetrics {
    /// Refreshes by platform and outcome (`refreshed`, `skipped`, `needs_reauth`,
    /// `rate_limited`, `transient`, `unsupported`).
    pub refreshes: IntCounterVec,
    /// Latency of the platform's token call, by platform.
    pub latency: HistogramVec,
    /// Accounts by status.
    pub accounts: IntGaugeVec,
    /// Seconds until the soonest token expiry (negative when one is already expired).
    pub soonest_expiry: Gauge,
}

impl RefreshMetrics {
    /// Creates and registers the metrics.
    pub fn register(registry: &Registry) -> prometheus::Result<Self> {
        let metrics = Self {
            refreshes: IntCounterVec::new(
                Opts::new(
                    "postbridge_token_refreshes_total",
                    "Token refreshes by platform and outcome",
                ),
                &["platform", "outcome"],
            )?,
            latency: HistogramVec::new(
                HistogramOpts::new(
                    "postbridge_token_refresh_duration_seconds",
                    "Latency of platform token refresh calls",
                )
                .buckets(vec![
                    0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
                ]),
                &["platform"],
            )?,
            accounts: IntGaugeVec::new(
                Opts::new("postbridge_accounts", "Accounts by status"),
                &["status"],
            )?,
            soonest_expiry: Gauge::new(
                "postbridge_token_soonest_expiry_seconds",
                "Seconds until the soonest token expiry",
            )?,
        };
        registry.register(Box::new(metrics.refreshes.clone()))?;
        registry.register(Box::new(metrics.latency.clone()))?;
        registry.register(Box::new(metrics.accounts.clone()))?;
        registry.register(Box::new(metrics.soonest_expiry.clone()))?;
        Ok(metrics)
    }
}
