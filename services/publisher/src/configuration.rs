//! `[publisher]` plus the shared sections.

use serde::Deserialize;
use service_kit::config::{CommonSettings, ConfigError};

/// Everything this service reads from configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `[database]`, `[amqp]`, `[events]`, `[telemetry]`.
    pub common: CommonSettings,
    /// `[publisher]`.
    pub service: PublisherSettings,
}

/// `[publisher]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublisherSettings {
    /// Address of the HTTP listener (`host:port`; port 0 picks a free one, as tests do).
    pub listen: String,
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
    })
}
