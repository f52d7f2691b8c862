//! `[account_registry]`, `[env_account]` plus the shared sections.

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
    /// `[account_registry]`.
    pub service: AccountRegistrySettings,
    /// `[vault]`.
    pub vault: VaultSettings,
    /// `[platforms.<name>]`.
    pub platforms: platform_adapters::PlatformsConfig,
    /// `[env_account]`: the deployment's own Facebook Page (see `crate::env_account`).
    pub env_account: service_kit::env_account::EnvAccountSettings,
}

/// `[account_registry]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountRegistrySettings {
    /// Address of the HTTP listener (`host:port`; port 0 picks a free one, as tests do).
    pub listen: String,
    /// Seconds between two syncs of one account's profile and counts.
    pub sync_interval_secs: u64,
    /// Seconds between two looks for accounts due for a sync (a random tenth is added so
    /// replicas drift apart).
    pub sync_check_secs: u64,
    /// Accounts synced per look.
    pub sync_batch: i64,
    /// `[account_registry.retention]`: how long the account series is kept (see
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
        service: loaded.section("account_registry")?,
        vault: loaded.section("vault")?,
        platforms: loaded.section_or_default("platforms")?,
        env_account: loaded.section_or_default("env_account")?,
    })
}
