//! `[auth_gateway]`, `[auth]`, `[vault]`, `[platforms.*]`, `[media]`, `[env_account]` plus the
//! shared sections.

use serde::Deserialize;
use service_kit::{
    config::{CommonSettings, ConfigError},
    tokens::VaultSettings,
};

pub use crate::auth::AuthSettings;

/// Everything this service reads from configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `[database]`, `[amqp]`, `[events]`, `[telemetry]`.
    pub common: CommonSettings,
    /// `[auth_gateway]`.
    pub service: AuthGatewaySettings,
    /// `[auth]`.
    pub auth: AuthSettings,
    /// `[vault]`.
    pub vault: VaultSettings,
    /// `[platforms.<name>]`.
    pub platforms: platform_adapters::PlatformsConfig,
    /// `[media]`: where uploads are stored, their size limits, and how their URLs are signed.
    pub media: media_store::MediaSettings,
    /// `[env_account]`: the gateway reads `allow_publishing` (the env account itself is a row
    /// account-registry keeps).
    pub env_account: service_kit::env_account::EnvAccountSettings,
}

/// `[auth_gateway]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthGatewaySettings {
    /// Address of the HTTP listener (`host:port`; port 0 picks a free one, as tests do).
    pub listen: String,
    /// HTTP worker threads.
    pub workers: usize,
    /// Address of the ops listener (`/healthz`, `/readyz`, `/metrics`), never to be exposed
    /// publicly. Default: `listen`'s host with its port + 1000 (`127.0.0.1:8080` →
    /// `127.0.0.1:9080`), or port 0 when `listen`'s port is 0 (tests).
    #[serde(default)]
    pub ops_listen: Option<String>,
    /// The gateway's public origin, from which OAuth callback URLs are built
    /// (`<public_url>/v1/oauth/<platform>/callback`, registered with each platform).
    pub public_url: String,
    /// Frontend URLs the browser may be sent back to after connecting (exact origins; the
    /// first is the default). A `redirect_to` outside the list is refused.
    pub redirect_allow_list: Vec<String>,
    /// Origins allowed to call the API from a browser (CORS).
    pub cors_allowed_origins: Vec<String>,
    /// Largest accepted JSON body, in bytes.
    pub max_json_bytes: usize,
    /// Connections one user may start per minute (each gateway process counts on its own;
    /// 0 = unlimited). Over it: 429 `rate_limited` with `Retry-After`.
    #[serde(default = "default_connection_starts_per_minute")]
    pub connection_starts_per_minute: u32,
    /// Authorizations one user may have waiting for the platform's answer at once (states
    /// live for 10 minutes). Over it: 429 `too_many_pending_connections`.
    #[serde(default = "default_max_pending_connections")]
    pub max_pending_connections: u32,
}

fn default_connection_starts_per_minute() -> u32 {
    30
}

fn default_max_pending_connections() -> u32 {
    20
}

impl AuthGatewaySettings {
    /// Where the ops listener binds (see [`AuthGatewaySettings::ops_listen`]).
    pub fn ops_address(&self) -> String {
        if let Some(ops) = self.ops_listen.as_deref().filter(|o| !o.is_empty()) {
            return ops.to_owned();
        }
        match self.listen.rsplit_once(':') {
            Some((host, port)) => {
                let ops_port = port
                    .parse::<u16>()
                    .ok()
                    .filter(|p| *p != 0)
                    .and_then(|p| p.checked_add(1000))
                    .unwrap_or(0);
                format!("{host}:{ops_port}")
            }
            None => "127.0.0.1:0".into(),
        }
    }
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
        auth: loaded.section("auth")?,
        vault: loaded.section("vault")?,
        platforms: loaded.section_or_default("platforms")?,
        media: loaded.section_or_default("media")?,
        env_account: loaded.section_or_default("env_account")?,
    })
}
