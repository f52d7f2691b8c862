//! `[auth_gateway]` plus the shared sections.

use serde::Deserialize;
use service_kit::config::{CommonSettings, ConfigError};

/// Everything this service reads from configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `[database]`, `[amqp]`, `[events]`, `[telemetry]`.
    pub common: CommonSettings,
    /// `[auth_gateway]`.
    pub service: AuthGatewaySettings,
}

/// `[auth_gateway]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthGatewaySettings {
    /// Address of the HTTP listener (`host:port`; port 0 picks a free one, as tests do).
    pub listen: String,
    /// HTTP worker threads.
    pub workers: usize,
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
        service: loaded.section("auth_gateway")?,
    })
}

/// `[auth]`: how users of the frontend are authenticated.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    /// Shared HS256 secret for development tokens (`make token`). Never used in production.
    pub jwt_hs256_secret: secrecy::SecretString,
    /// `iss` of development tokens.
    pub jwt_issuer: String,
}

/// Reads `[auth]`.
pub fn load_auth() -> Result<AuthSettings, ConfigError> {
    service_kit::config::load()?.section("auth")
}
