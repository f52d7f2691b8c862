//! Wiring: the shared runtime, the lifecycle consumer, the env account and the periodic sync.

use std::{sync::Arc, time::Duration};

use events::CancellationToken;
use futures_util::StreamExt;
use platform_adapters::Registry;
use rand::Rng;
use service_kit::{ServiceRuntime, StartError};

use crate::{
    configuration::Settings,
    env_account::{self, EnvAccount},
    lifecycle::Lifecycle,
    SERVICE,
};

/// The built, running service.
#[derive(Debug)]
pub struct Application {
    port: u16,
    runtime: ServiceRuntime,
}

impl Application {
    /// Migrates, starts the relay, the lifecycle consumer, the env account's reconciliation and
    /// the periodic sync, and binds HTTP.
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
        settings
            .service
            .retention
            .validate()
            .map_err(StartError::Config)?;
        let mut runtime = ServiceRuntime::start(SERVICE, settings.common, shutdown).await?;
        runtime.spawn_task(crate::retention::run(
            runtime.db.clone(),
            settings.service.retention.clone(),
            runtime.event_metrics.clone(),
            runtime.shutdown.clone(),
        ));
        let interval = chrono::Duration::seconds(
            i64::try_from(settings.service.sync_interval_secs).unwrap_or(i64::MAX),
        );
        let vault = Arc::new(vault);
        let lifecycle = Lifecycle::new(
            runtime.db.clone(),
            vault.clone(),
            adapters.clone(),
            interval,
        );
        let queue = events::service_queues("")
            .into_iter()
            .find(|q| q.name == events::ACCOUNT_REGISTRY_LIFECYCLE)
            .ok_or_else(|| StartError::Config("no lifecycle queue in the topology".into()))?;
        runtime.spawn_consumer(queue, Arc::new(lifecycle.clone()));
        // The env account is stored (or retired) in the background: a Graph API outage must
        // not keep the service from starting; after that it syncs on the schedule below.
        runtime.spawn_task(env_account::reconcile_at_start(
            EnvAccount::new(
                lifecycle.clone(),
                runtime.db.clone(),
                vault,
                adapters,
                settings.env_account.clone(),
            ),
            Duration::from_secs(settings.service.sync_check_secs.max(1)),
            runtime.shutdown.clone(),
        ));
        runtime.spawn_task(periodic_sync(
            lifecycle,
            Duration::from_secs(settings.service.sync_check_secs.max(1)),
            settings.service.sync_batch,
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

/// Every `check` (plus jitter), syncs up to `batch` accounts whose last sync is older than the
/// sync interval, four at a time.
async fn periodic_sync(
    lifecycle: Lifecycle,
    check: Duration,
    batch: i64,
    shutdown: CancellationToken,
) {
    loop {
        let jitter =
            Duration::from_millis(rand::thread_rng().gen_range(0..=check.as_millis() as u64 / 10));
        tokio::select! {
            () = tokio::time::sleep(check + jitter) => {}
            () = shutdown.cancelled() => return,
        }
        let due = match lifecycle.due_for_sync(batch).await {
            Ok(due) => due,
            Err(err) => {
                tracing::warn!(error = %err, "cannot look for accounts due for a sync");
                continue;
            }
        };
        futures_util::stream::iter(due)
            .for_each_concurrent(4, |id| {
                let lifecycle = lifecycle.clone();
                async move {
                    if let Err(err) = lifecycle.sync_now(id).await {
                        tracing::warn!(account.id = %id, error = %err, "periodic sync failed");
                    }
                }
            })
            .await;
    }
}
