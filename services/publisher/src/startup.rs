//! Wiring: the shared runtime plus this service's dispatcher, publisher and wake-up consumer.

use std::{sync::Arc, time::Duration};

use events::CancellationToken;
use platform_adapters::Registry;
use service_kit::{ServiceRuntime, StartError};
use tokio::sync::Notify;

use crate::{
    configuration::Settings,
    deletion::{self, Deleter, DeletionSettings, WakeDeletions},
    dispatcher::{self, Dispatch, Wake},
    engagement,
    media::MediaLoader,
    metrics::PublishMetrics,
    outcome::RetryPolicy,
    publish::{Publisher, Tuning},
    token_wait::TokenNews,
    SERVICE,
};

/// The built, running service.
#[derive(Debug)]
pub struct Application {
    port: u16,
    runtime: ServiceRuntime,
}

impl Application {
    /// Migrates, starts the outbox relay, the dispatcher and the `post.scheduled` consumer, and
    /// binds the HTTP listener.
    pub async fn build(
        settings: Settings,
        shutdown: CancellationToken,
    ) -> Result<Self, StartError> {
        let vault = service_kit::tokens::vault_from(&settings.vault).map_err(|e| {
            StartError::Config(format!("[vault] keys: {e} (set POSTBRIDGE__VAULT__KEYS)"))
        })?;
        // Each call may take as long as a whole publish: video uploads are slow.
        let http = platform_adapters::http::client_with_timeout(Duration::from_secs(
            settings.service.publish_timeout_secs.max(1),
        ));
        let adapters =
            Registry::from_config(http, &settings.platforms).map_err(StartError::Config)?;
        let production =
            settings.common.environment == service_kit::config::Environment::Production;
        let (store, signer) = media_store::from_settings(&settings.media, production)
            .map_err(|e| StartError::Config(format!("[media]: {e}")))?;
        let service = settings.service;
        let schedule: engagement::Schedule = service
            .metrics
            .schedule
            .parse()
            .map_err(|e| StartError::Config(format!("[publisher.metrics] {e}")))?;
        service.retention.validate().map_err(StartError::Config)?;
        let mut runtime = ServiceRuntime::start(SERVICE, settings.common, shutdown).await?;
        let metrics = PublishMetrics::register(runtime.metrics.registry())?;
        let policy = RetryPolicy {
            max_attempts: service.max_attempts.max(1),
            backoff_base: Duration::from_millis(service.backoff_base_ms.max(1)),
            backoff_max: Duration::from_secs(service.backoff_max_secs.max(1)),
            rate_limit_wait: Duration::from_secs(service.rate_limit_wait_secs.max(1)),
            reconcile_delay: Duration::from_secs(service.reconcile_delay_secs),
            token_wait: Duration::from_secs(service.token_wait_secs.max(1)),
        };
        let tuning = Tuning {
            timeout: Duration::from_secs(service.publish_timeout_secs.max(1)),
            per_account: service.per_account_concurrency,
            media_concurrency: service.media_concurrency,
            lease: chrono::Duration::seconds(service.lease_secs.max(1)),
            token_margin: chrono::Duration::seconds(service.token_expiry_margin_secs.max(0)),
            first_metrics_read: schedule.first().filter(|_| service.metrics.enabled),
            env_account_publishing: settings.env_account.allow_publishing,
        };
        let vault = Arc::new(vault);
        let publisher = Arc::new(Publisher::new(
            runtime.db.clone(),
            vault.clone(),
            adapters.clone(),
            MediaLoader::new(runtime.db.clone(), store, signer),
            policy,
            tuning,
            metrics.clone(),
        ));
        let wake = Arc::new(Notify::new());
        runtime.spawn_consumer(
            queue(events::PUBLISHER_POSTS)?,
            Arc::new(Wake(wake.clone())),
        );
        let news = TokenNews {
            wake: wake.clone(),
            requests: publisher.refresh_requests(),
        };
        runtime.spawn_consumer(queue(events::PUBLISHER_TOKENS)?, Arc::new(news));
        // Engagement reads share the publisher's gates and stand aside while publishes are due.
        let metrics_wake = Arc::new(Notify::new());
        runtime.spawn_consumer(
            queue(events::PUBLISHER_METRICS)?,
            Arc::new(engagement::WakeMetrics(metrics_wake.clone())),
        );
        if service.metrics.enabled {
            let fetcher = Arc::new(engagement::Fetcher::new(
                runtime.db.clone(),
                vault.clone(),
                adapters.clone(),
                publisher.clone(),
                schedule,
                service.metrics.clone(),
            ));
            runtime.spawn_task(fetcher.run(metrics_wake, runtime.shutdown.clone()));
        }
        // Deletions: their own worker, woken by post.delete_requested, sharing the publisher's
        // per-account gates and the retry policy.
        let deletions = Arc::new(Notify::new());
        runtime.spawn_consumer(
            queue(events::PUBLISHER_DELETIONS)?,
            Arc::new(WakeDeletions(deletions.clone())),
        );
        let deleter = Arc::new(Deleter::new(
            runtime.db.clone(),
            vault,
            adapters,
            policy,
            DeletionSettings {
                interval: Duration::from_millis(service.dispatch_interval_ms.max(5)),
                concurrency: 8,
                lease: tuning.lease,
                timeout: tuning.timeout,
            },
            publisher.clone(),
        ));
        runtime.spawn_task(deletion::run(
            runtime.db.clone(),
            deleter,
            deletions,
            runtime.shutdown.clone(),
        ));
        let dispatch = Dispatch {
            interval: Duration::from_millis(service.dispatch_interval_ms.max(5)),
            batch: service.claim_batch.max(1),
            lease: tuning.lease,
            concurrency: service.concurrency.max(1),
        };
        runtime.spawn_task(dispatcher::run(
            runtime.db.clone(),
            publisher,
            dispatch,
            wake,
            metrics,
            runtime.shutdown.clone(),
        ));
        runtime.spawn_task(crate::retention::run(
            runtime.db.clone(),
            service.retention.clone(),
            runtime.event_metrics.clone(),
            runtime.shutdown.clone(),
        ));
        let port = runtime.bind_and_serve(&service.listen, 1, |_routes| {})?;
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

/// This service's queue `name` from the shared topology.
fn queue(name: &str) -> Result<events::QueueSpec, StartError> {
    events::service_queues("")
        .into_iter()
        .find(|q| q.name == name)
        .ok_or_else(|| StartError::Config(format!("no queue {name} in the topology")))
}
