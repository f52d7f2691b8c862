//! Wiring: the shared runtime, the scheduler and the refresh workers.

use std::{sync::Arc, time::Duration};

use events::{CancellationToken, ConsumerSettings};
use platform_adapters::Registry;
use secrecy::ExposeSecret;
use service_kit::{ServiceRuntime, StartError};

use crate::{
    configuration::Settings,
    metrics::RefreshMetrics,
    refresher::{RefreshSettings, Refresher},
    scheduler, SERVICE,
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
            runtime.db.clone(),
            Arc::new(vault),
            adapters,
            RefreshSettings {
                timeout: Duration::from_secs(settings.service.refresh_timeout_secs.max(1)),
                lease: Duration::from_secs(settings.service.claim_lease_secs.max(3) as u64),
            },
            metrics.clone(),
        );
        let mut queue = events::service_queues("")
            .into_iter()
            .find(|q| q.name == events::TOKEN_REFRESHER_EXPIRING)
            .ok_or_else(|| StartError::Config("no token-refresher queue in the topology".into()))?;
        queue.name = format!("{}{}", runtime.common.events.queue_prefix, queue.name);
        // Not `spawn_consumer`, which bounds concurrency by the pool: a refresh holds a
        // connection only for its claim and its write, not while the platform answers.
        let mut consumer = ConsumerSettings::new(queue);
        consumer.concurrency = settings.service.concurrency.max(1);
        consumer.prefetch = runtime
            .common
            .amqp
            .prefetch
            .max(u16::try_from(consumer.concurrency).unwrap_or(u16::MAX));
        runtime.spawn_task(events::run_consumer(
            runtime.common.amqp.url.expose_secret().to_owned(),
            runtime.common.events.topology(),
            consumer,
            runtime.db.clone(),
            Arc::new(refresher.clone()),
            runtime.event_metrics.clone(),
            runtime.shutdown.clone(),
        ));
        let schedule = scheduler::Schedule {
            interval: Duration::from_millis(settings.service.scheduler_interval_ms.max(10)),
            batch: settings.service.claim_batch.max(1),
            concurrency: settings.service.concurrency.max(1),
        };
        runtime.spawn_task(scheduler::run(
            runtime.db.clone(),
            refresher,
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
