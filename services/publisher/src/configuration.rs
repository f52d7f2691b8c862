//! `[publisher]` plus the shared sections.

use serde::Deserialize;
use service_kit::{
    config::{CommonSettings, ConfigError},
    tokens::VaultSettings,
};

/// Everything this service reads from configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `[database]`, `[amqp]`, `[events]`, `[telemetry]`.
    pub common: CommonSettings,
    /// `[publisher]`.
    pub service: PublisherSettings,
    /// `[vault]`.
    pub vault: VaultSettings,
    /// `[platforms.<name>]`.
    pub platforms: platform_adapters::PlatformsConfig,
    /// `[media]`: where uploads are stored and how their URLs are signed.
    pub media: media_store::MediaSettings,
    /// `[env_account]`: the publisher reads `allow_publishing`, checked again at publish time
    /// so that posts accepted while it was on stay unpublished once the operator turns it off.
    pub env_account: service_kit::env_account::EnvAccountSettings,
}

/// `[publisher]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublisherSettings {
    /// Address of the HTTP listener (`host:port`; port 0 picks a free one, as tests do).
    pub listen: String,
    /// Longest sleep of the dispatcher between two looks at due targets, in milliseconds.
    /// `post.scheduled` wakes it earlier, and it wakes itself for the next known due time.
    pub dispatch_interval_ms: u64,
    /// Targets claimed per pass.
    pub claim_batch: i64,
    /// Seconds a claim holds a target without a heartbeat. The publishing replica renews it
    /// every third of this while a publish runs (however long a video upload takes), so it
    /// only bounds how soon a dead publisher's targets are taken over.
    pub lease_secs: i64,
    /// Publishes in flight at once, over all accounts. Most of a publish is waiting on the
    /// platform, so this is high; memory is bounded by `media_concurrency`.
    pub concurrency: usize,
    /// Publishes with media in flight at once. Their files are held in memory during the
    /// publish (a video up to `media.max_video_bytes`), so this bounds the publisher's memory.
    pub media_concurrency: usize,
    /// Platform calls in flight at once for one account.
    pub per_account_concurrency: usize,
    /// Attempts per target before a retryable failure becomes final.
    pub max_attempts: i32,
    /// First retry delay after a transient failure, in milliseconds; doubles each attempt.
    pub backoff_base_ms: u64,
    /// Longest retry delay, in seconds.
    pub backoff_max_secs: u64,
    /// Wait after a 429 that did not say how long, in seconds.
    pub rate_limit_wait_secs: u64,
    /// How long to wait before looking up a post whose publish call went unanswered, in
    /// seconds (platforms list new posts after a moment).
    pub reconcile_delay_secs: u64,
    /// Seconds one publish (all its calls) may take before its outcome counts as unknown.
    pub publish_timeout_secs: u64,
    /// A token that expires within this many seconds is refreshed (urgently, through
    /// token-refresher) before the call rather than presented.
    pub token_expiry_margin_secs: i64,
    /// Longest wait, in seconds, for `token.refreshed` after asking for an urgent refresh (or
    /// after a 401); the target is tried again then, refreshed or not.
    pub token_wait_secs: u64,
    /// `[publisher.metrics]`: reading published posts' engagement back (see
    /// [`crate::engagement`]).
    #[serde(default)]
    pub metrics: crate::engagement::MetricsSettings,
    /// `[publisher.retention]`: how long attempts and engagement reads are kept (see
    /// [`crate::retention`]).
    #[serde(default)]
    pub retention: crate::retention::RetentionSettings,
}

/// Reads the layered configuration (see `service_kit::config::load`).
pub fn load() -> Result<Settings, ConfigError> {
    from(&service_kit::config::load()?)
}

/// Reads this service's settings out of an already loaded tree (tests load `config/` from the
/// workspace root with [`service_kit::config::load_from`]).
pub fn from(loaded: &service_kit::config::Loaded) -> Result<Settings, ConfigError> {
    Ok(Settings {
        common: loaded.common()?,
        service: loaded.section("publisher")?,
        vault: loaded.section("vault")?,
        platforms: loaded.section_or_default("platforms")?,
        media: loaded.section_or_default("media")?,
        env_account: loaded.section_or_default("env_account")?,
    })
}
