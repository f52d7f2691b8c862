//! Post analytics: reads the engagement of published targets back from their platforms, on a
//! decaying schedule after publishing ([`schedule`]) and on demand, and stores it as a time
//! series (`post_metrics`), one `post.metrics_updated` per batch read.
//!
//! It lives in the publisher because every call made for an account shares one budget with
//! publishing: a read takes the account's gate only when it is free ([`crate::gates`]), waits
//! out a platform's application pause, and stands aside while any publish is due. A failed
//! read never touches a target's publishing status.

pub mod fetcher;
pub mod schedule;
pub mod wake;

use serde::Deserialize;

pub use fetcher::Fetcher;
pub use schedule::Schedule;
pub use wake::WakeMetrics;

/// `[publisher.metrics]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsSettings {
    /// Read engagement at all (off: nothing is scheduled and nothing read).
    pub enabled: bool,
    /// When to read after publishing: ascending offsets from publication (`s`, `m`, `h`, `d`),
    /// then never again unless asked (`POST /v1/posts/{id}/metrics/refresh`).
    pub schedule: String,
    /// Longest sleep between two looks at due reads, in milliseconds (a refresh request and
    /// the next known due time wake it sooner).
    pub interval_ms: u64,
    /// Targets claimed per pass, whole accounts at a time: each account gets at most one
    /// platform batch of its due reads, so it is read in full batches and one account's
    /// backlog cannot fill a pass (the last account is taken whole: up to one batch more).
    pub claim_batch: i64,
    /// Batch reads in flight at once, over all accounts: small, publishing comes first.
    pub concurrency: usize,
    /// Seconds a claim holds its targets (a fetcher that dies leaves them due after it).
    pub lease_secs: i64,
    /// Wait before reading again after a failed read, in seconds.
    pub retry_secs: u64,
    /// Pause while publishes are due (or an account's gate is taken), in milliseconds.
    pub busy_backoff_ms: u64,
    /// Reads due within this many milliseconds are made now, with the ones due already: posts
    /// published together are read in one batch instead of one request each a few moments
    /// apart (a read this early is as good as on time).
    pub batch_window_ms: u64,
}

impl Default for MetricsSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            schedule: Schedule::DEFAULT.to_owned(),
            interval_ms: 5_000,
            claim_batch: 500,
            concurrency: 4,
            lease_secs: 120,
            retry_secs: 900,
            busy_backoff_ms: 500,
            batch_window_ms: 5_000,
        }
    }
}
