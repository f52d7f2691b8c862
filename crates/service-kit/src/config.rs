//! Layered configuration.

use std::{path::PathBuf, time::Duration};

use secrecy::SecretString;
use serde::{de::DeserializeOwned, Deserialize};

/// Configuration could not be read or is invalid.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A file is missing or a value has the wrong shape; the message names the key.
    #[error("configuration: {0}")]
    Invalid(#[from] ::config::ConfigError),
    /// Production without a secret that has no safe default; names the variable to set.
    #[error("configuration: {key} is not set: set {variable} (production has no default)")]
    Missing {
        /// The dotted key, e.g. `database.url`.
        key: &'static str,
        /// The environment variable that sets it, e.g. `POSTBRIDGE__DATABASE__URL`.
        variable: &'static str,
    },
}

/// Where the service runs; decides log format and how strict start-up checks are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    /// A developer's machine or CI: pretty logs, development defaults allowed.
    Development,
    /// Production: JSON logs, secrets must be configured explicitly.
    Production,
}

/// The loaded configuration tree, from which sections are read.
#[derive(Debug)]
pub struct Loaded {
    tree: ::config::Config,
    /// The environment the tree was loaded for.
    pub environment: Environment,
}

/// Loads `config/default.toml`, then `config/<env>.toml` if present, then `POSTBRIDGE__…`
/// environment variables (`POSTBRIDGE__DATABASE__URL` sets `database.url`). The environment is
/// `POSTBRIDGE_ENV` (default `development`); the directory is `POSTBRIDGE_CONFIG_DIR` (default
/// `config`, relative to the working directory).
pub fn load() -> Result<Loaded, ConfigError> {
    let dir =
        PathBuf::from(std::env::var("POSTBRIDGE_CONFIG_DIR").unwrap_or_else(|_| "config".into()));
    let env_name = std::env::var("POSTBRIDGE_ENV").unwrap_or_else(|_| "development".into());
    load_from(&dir, &env_name)
}

/// [`load`] with an explicit directory and environment name (for tests).
pub fn load_from(dir: &std::path::Path, env_name: &str) -> Result<Loaded, ConfigError> {
    let tree = ::config::Config::builder()
        .add_source(::config::File::from(dir.join("default.toml")).required(true))
        .add_source(::config::File::from(dir.join(format!("{env_name}.toml"))).required(false))
        .add_source(
            ::config::Environment::with_prefix("POSTBRIDGE")
                .prefix_separator("__")
                .separator("__")
                .try_parsing(true)
                .list_separator(",")
                .with_list_parse_key("auth_gateway.cors_allowed_origins")
                .with_list_parse_key("auth_gateway.redirect_allow_list"),
        )
        .set_override("environment", env_name)?
        .build()?;
    let environment = tree.get::<Environment>("environment")?;
    Ok(Loaded { tree, environment })
}

impl Loaded {
    /// The sections every service shares.
    ///
    /// In production the database and broker URLs must come from the environment (a Secret):
    /// the development defaults point at this machine, and a service that waited a minute for a
    /// database on its own localhost would fail without naming what is missing.
    pub fn common(&self) -> Result<CommonSettings, ConfigError> {
        let mut amqp: AmqpSettings = self.tree.get("amqp")?;
        amqp.url = amqp.connection_url();
        let common = CommonSettings {
            environment: self.environment,
            database: self.tree.get("database")?,
            amqp,
            events: self.tree.get("events")?,
            telemetry: self.tree.get("telemetry")?,
            runtime: self.section_or_default("runtime")?,
        };
        if self.environment == Environment::Production {
            use secrecy::ExposeSecret;
            if common.database.url.expose_secret().trim().is_empty() {
                return Err(ConfigError::Missing {
                    key: "database.url",
                    variable: "POSTBRIDGE__DATABASE__URL",
                });
            }
            if common.amqp.url.expose_secret().trim().is_empty() {
                return Err(ConfigError::Missing {
                    key: "amqp.url",
                    variable: "POSTBRIDGE__AMQP__URL",
                });
            }
        }
        Ok(common)
    }

    /// Overrides one key (dotted path) after loading; for tests.
    #[cfg(feature = "testing")]
    pub fn set(&mut self, key: &str, value: &str) {
        let tree = std::mem::take(&mut self.tree);
        #[expect(
            clippy::expect_used,
            reason = "test-only: overriding a loaded tree cannot fail for string values"
        )]
        let rebuilt = ::config::Config::builder()
            .add_source(tree)
            .set_override(key, value)
            .and_then(|b| b.build())
            .expect("override config key");
        self.tree = rebuilt;
    }

    /// A section that may be absent entirely (then its `Default`).
    pub fn section_or_default<T: DeserializeOwned + Default>(
        &self,
        name: &str,
    ) -> Result<T, ConfigError> {
        match self.tree.get(name) {
            Ok(value) => Ok(value),
            Err(::config::ConfigError::NotFound(_)) => Ok(T::default()),
            Err(err) => Err(err.into()),
        }
    }

    /// One service's own section, e.g. `section::<PublisherSettings>("publisher")`.
    pub fn section<T: DeserializeOwned>(&self, name: &str) -> Result<T, ConfigError> {
        Ok(self.tree.get(name)?)
    }
}

/// The sections every service reads.
#[derive(Debug, Clone)]
pub struct CommonSettings {
    /// Development or production.
    pub environment: Environment,
    /// `[database]`
    pub database: DatabaseSettings,
    /// `[amqp]`
    pub amqp: AmqpSettings,
    /// `[events]`
    pub events: EventSettings,
    /// `[telemetry]`
    pub telemetry: TelemetrySettings,
    /// `[runtime]` (optional: defaults sized for one service on a small machine)
    pub runtime: RuntimeSettings,
}

/// `[runtime]`: the threads of a service's tokio runtime. Every service is I/O-bound (HTTP,
/// PostgreSQL, RabbitMQ), so threads beyond a couple of workers buy little and cost memory:
/// each has its stack and, with glibc, its own malloc arena. Diesel's queries run on the
/// blocking pool, one thread per query in flight, so that pool follows the database pool.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RuntimeSettings {
    /// Async worker threads; 0 = one per CPU core (tokio's default, 16 on a 16-core node).
    pub worker_threads: usize,
    /// Most threads of the blocking pool (diesel queries, DNS lookups, files); tokio's
    /// default is 512. A query waiting for a pooled connection holds one too.
    pub max_blocking_threads: usize,
    /// Seconds an idle blocking thread lives before it exits (tokio's default is 10).
    pub blocking_keep_alive_secs: u64,
}

impl Default for RuntimeSettings {
    fn default() -> Self {
        Self {
            worker_threads: 2,
            max_blocking_threads: 64,
            blocking_keep_alive_secs: 10,
        }
    }
}

/// `[database]`: PostgreSQL.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `postgres://user:password@host:port/database`; secret because it carries a password.
    pub url: SecretString,
    /// Most pooled connections per process.
    pub pool_size: u32,
    /// Seconds to wait for a pooled connection.
    pub connection_timeout_secs: u64,
    /// Seconds a starting service keeps retrying to reach the database for migrations.
    pub startup_patience_secs: u64,
}

impl DatabaseSettings {
    /// Pool settings derived from this section.
    pub fn pool(&self) -> db::PoolSettings {
        db::PoolSettings {
            max_size: self.pool_size,
            connection_timeout: Duration::from_secs(self.connection_timeout_secs),
        }
    }
}

/// `[amqp]`: RabbitMQ.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AmqpSettings {
    /// `amqp://user:password@host:port/vhost`; secret because it carries a password.
    pub url: SecretString,
    /// Unacknowledged deliveries per consumer.
    pub prefetch: u16,
    /// Largest AMQP frame this process negotiates, in bytes (the broker's own limit wins when
    /// it is lower; 4096 is the protocol's minimum). lapin keeps a send and a receive buffer of
    /// 32 frames per connection, filled with zeros: at RabbitMQ's default of 128 KiB that is
    /// 8 MiB resident per connection, and a service holds one per consumer plus the relay's and
    /// the gauges'. Our messages are small JSON envelopes, so a larger one only costs a few
    /// more frames. A `frame_max` already in `url` wins.
    #[serde(default = "AmqpSettings::default_frame_max")]
    pub frame_max: u32,
}

impl AmqpSettings {
    /// 8 KiB: 512 KiB of lapin buffers per connection.
    const fn default_frame_max() -> u32 {
        8192
    }

    /// `url` with `frame_max` in its query unless the URL names one already (or is empty,
    /// which production refuses with a message naming the variable).
    fn connection_url(&self) -> SecretString {
        use secrecy::ExposeSecret;
        let url = self.url.expose_secret();
        let query = url.split_once('?').map(|(_, query)| query);
        let named = query.is_some_and(|q| q.split('&').any(|kv| kv.starts_with("frame_max=")));
        if url.trim().is_empty() || named {
            return self.url.clone();
        }
        let separator = if query.is_some() { '&' } else { '?' };
        SecretString::from(format!("{url}{separator}frame_max={}", self.frame_max))
    }
}

/// `[events]`: exchange names and the outbox relay.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventSettings {
    /// Topic exchange for events.
    pub exchange: String,
    /// Dead-letter exchange.
    pub dead_letter_exchange: String,
    /// Prepended to every consumer queue name (`<prefix><service>.<purpose>`): empty in
    /// deployments; tests set one so parallel runs never share a queue.
    #[serde(default)]
    pub queue_prefix: String,
    /// Outbox rows published per transaction.
    pub relay_batch_size: i64,
    /// Milliseconds between outbox polls when no notification arrives.
    pub relay_poll_interval_ms: u64,
    /// `[events.retention]`: how long the relay keeps sent outbox rows and inbox markers.
    #[serde(default)]
    pub retention: crate::retention::RelayRetentionSettings,
}

impl EventSettings {
    /// The exchange names as a [`events::Topology`].
    pub fn topology(&self) -> events::Topology {
        events::Topology {
            exchange: self.exchange.clone(),
            dead_letter_exchange: self.dead_letter_exchange.clone(),
        }
    }

    /// Relay tuning from this section.
    pub fn relay(&self) -> events::RelaySettings {
        let mut relay = events::RelaySettings {
            batch_size: self.relay_batch_size,
            poll_interval: Duration::from_millis(self.relay_poll_interval_ms),
            queues: events::service_queues(&self.queue_prefix),
            ..events::RelaySettings::default()
        };
        self.retention.apply(&mut relay);
        relay
    }
}

/// `[telemetry]`: logs.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelemetrySettings {
    /// `pretty` or `json`; empty means pretty in development and JSON in production.
    #[serde(default)]
    pub format: Option<LogFormat>,
    /// `tracing` filter directives, e.g. `info,lapin=warn`; `RUST_LOG` wins when set.
    pub filter: String,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable, coloured.
    Pretty,
    /// One JSON object per line, for log shippers.
    Json,
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    fn amqp(url: &str) -> AmqpSettings {
        AmqpSettings {
            url: SecretString::from(url.to_owned()),
            prefetch: 64,
            frame_max: 8192,
        }
    }

    #[test]
    fn the_connection_url_asks_for_the_configured_frame_max() {
        let url = amqp("amqp://guest:guest@127.0.0.1:55672/%2f").connection_url();
        assert_eq!(
            url.expose_secret(),
            "amqp://guest:guest@127.0.0.1:55672/%2f?frame_max=8192"
        );
        let url = amqp("amqp://u:p@rabbit/vhost?heartbeat=30").connection_url();
        assert_eq!(
            url.expose_secret(),
            "amqp://u:p@rabbit/vhost?heartbeat=30&frame_max=8192"
        );
    }

    #[test]
    fn a_frame_max_named_in_the_url_wins_and_an_empty_url_stays_empty() {
        let named = "amqp://rabbit/%2f?heartbeat=30&frame_max=131072";
        assert_eq!(amqp(named).connection_url().expose_secret(), named);
        assert_eq!(amqp("").connection_url().expose_secret(), "");
    }

    #[test]
    fn the_runtime_section_is_optional_and_each_key_can_be_set_alone() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config");
        let common = load_from(&root, "development").and_then(|loaded| loaded.common());
        assert_eq!(
            common.map(|c| c.runtime).map_err(|e| e.to_string()),
            Ok(RuntimeSettings::default())
        );
        let tree = ::config::Config::builder()
            .set_override("runtime.worker_threads", 4)
            .and_then(|b| b.build())
            .map_err(|e| e.to_string());
        let runtime = tree.and_then(|tree| {
            Loaded {
                tree,
                environment: Environment::Development,
            }
            .section_or_default::<RuntimeSettings>("runtime")
            .map_err(|e| e.to_string())
        });
        assert_eq!(
            runtime,
            Ok(RuntimeSettings {
                worker_threads: 4,
                ..RuntimeSettings::default()
            })
        );
    }

    #[test]
    fn loaded_settings_connect_with_the_default_frame_max() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config");
        let common = load_from(&root, "development")
            .and_then(|loaded| loaded.common())
            .map_err(|e| e.to_string());
        let url = common.map(|c| c.amqp.url.expose_secret().to_owned());
        assert_eq!(
            url.as_deref(),
            Ok("amqp://guest:guest@127.0.0.1:55672/%2f?frame_max=8192")
        );
    }
}
