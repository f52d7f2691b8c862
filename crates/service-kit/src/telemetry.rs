//! Tracing set-up.

use tracing_subscriber::{fmt, prelude::*, EnvFilter};

use crate::config::{Environment, LogFormat, TelemetrySettings};

/// Installs the global subscriber. `RUST_LOG` overrides the configured filter. Safe to call
/// more than once (later calls are ignored), which tests rely on.
pub fn init(service: &str, environment: Environment, settings: &TelemetrySettings) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&settings.filter));
    let format = settings.format.unwrap_or(match environment {
        Environment::Development => LogFormat::Pretty,
        Environment::Production => LogFormat::Json,
    });
    let registry = tracing_subscriber::registry().with(filter);
    let installed = match format {
        LogFormat::Json => registry
            .with(
                fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(true),
            )
            .try_init(),
        LogFormat::Pretty => registry.with(fmt::layer().compact()).try_init(),
    };
    if installed.is_ok() {
        tracing::info!(service, ?environment, "starting");
    }
}
