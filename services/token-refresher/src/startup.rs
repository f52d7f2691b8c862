//! Wiring: the shared runtime, the scheduler and the refresh workers.

use std::{sync::Arc, time::Duration};

use events::CancellationToken;
use platform_adapters::Registry;
use service_kit::{ServiceRuntime, StartError};

use crate::{
    configuration::Settings, metrics::RefreshMetrics, refresher::Refresher, scheduler, SERVICE,
};

/// The built, running service.
#[derive(Debug)]
pub struct Application {
    port: u16,
    runtime: ServiceRuntime,
}

impl Application {
    /// Migrates, starts the relay, the scheduler and the workers, and binds HTTP.
    pub async fn build(
        settings: Settings,
        shutdown: CancellationToken,
    ) -> Result<Self, StartError> {
        let vault = service_kit::tokens::vault_from(&settings.vault).map_err(|e| {
            StartError::Config(format!("[vault] keys: {e} (set POSTBRIDGE__VAULT__KEYS)"))
        })?;
        let adapters =
            Registry::from_config(platform_adapters::http::client(), &settings.platforms)
                .map_err(StartError::Config)?;
        let mut runtime = ServiceRuntime::start(SERVICE, settings.common, shutdown).await?;
        let metrics = RefreshMetrics::register(runtime.metrics.registry())?;
        let refresher = Refresher::new(
            Arc::new(vault),
            adapters,
            Duration::from_secs(settings.service.refresh_timeout_secs.max(1)),
            metrics.clone(),
        );
        let queue = events::service_queues("")
            .into_iter()
            .find(|q| q.name == events::TOKEN_REFRESHER_EXPIRING)
            .ok_or_else(|| StartError::Config("no token-refresher queue in the topology".into()))?;
        runtime.spawn_consumer(queue, Arc::new(refresher));
        let schedule = scheduler::Schedule {
            interval: Duration::from_millis(settings.service.scheduler_interval_ms.max(10)),
            batch: settings.service.claim_batch.max(1),
            lease: chrono::Duration::seconds(settings.service.claim_lease_secs.max(1)),
        };
        runtime.spawn_task(scheduler::run(
            runtime.db.clone(),
            schedule,
            metrics,
            runtime.shutdown.clone(),
        ));
        let port = runtime.bind_and_serve(&settings.service.listen, 1, |_routes| {})?;
        Ok(Self { port, runtime })
    }

    /// The bound HTTP port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Runs until the shutdown token is cancelled, then drains.
    pub async fn run_until_stopped(self) -> Result<(), StartError> {
        self.runtime.run_until_stopped().await
    }
}
