//! `[token_refresher]` plus the shared sections.

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
    /// `[token_refresher]`.
    pub service: TokenRefresherSettings,
    /// `[vault]`.
    pub vault: VaultSettings,
    /// `[platforms.<name>]`.
    pub platforms: platform_adapters::PlatformsConfig,
}

/// `[token_refresher]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenRefresherSettings {
    /// Address of the HTTP listener (`host:port`; port 0 picks a free one, as tests do).
    pub listen: String,
    /// Milliseconds between two scheduler passes (each claims the accounts now due).
    pub scheduler_interval_ms: u64,
    /// Most due accounts claimed per pass (never more than the free refresh slots).
    pub claim_batch: i64,
    /// Seconds a claim holds an account: if the instance dies, another claims it after this.
    /// The worker's claim of one account for its refresh lasts this long and is renewed by its
    /// owner every third of it while the platform call runs, so it may be far shorter than
    /// `refresh_timeout_secs`.
    pub claim_lease_secs: i64,
    /// Refreshes one instance runs at once, for due accounts and again for `token.expiring`
    /// requests. A refresh holds a database connection only for its claim and its write (both
    /// group-committed), not during the platform call, so this may exceed the pool.
    pub concurrency: usize,
    /// Seconds one refresh call may take before it counts as a transient failure.
    pub refresh_timeout_secs: u64,
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
        service: loaded.section("token_refresher")?,
        vault: loaded.section("vault")?,
        platforms: loaded.section_or_default("platforms")?,
    })
}
