//! The skeleton every service runs on: pool, migrations, outbox relay, ops server, shutdown.

use std::{net::TcpListener, sync::Arc, time::Duration};

use actix_web::web;
use db::Db;
use events::{ConsumerSettings, EventMetrics, Handler, QueueSpec, Relay};
use secrecy::ExposeSecret;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::{
    config::CommonSettings,
    gauges::{ConsumedQueue, ConsumedQueues, ServiceGauges},
    Metrics, Readiness,
};

/// A service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Migrations could not be applied (database unreachable past the start-up patience).
    #[error(transparent)]
    Db(#[from] db::DbError),
    /// Metrics could not be registered.
    #[error("metrics: {0}")]
    Metrics(#[from] prometheus::Error),
    /// The configuration is unusable; the message says which key and why.
    #[error("configuration: {0}")]
    Config(String),
    /// The HTTP listener could not be bound or served.
    #[error("http: {0}")]
    Io(#[from] std::io::Error),
}

/// The running parts shared by every service.
#[derive(Debug)]
pub struct ServiceRuntime {
    /// Service name, e.g. `publisher`.
    pub name: &'static str,
    /// The shared configuration sections.
    pub common: CommonSettings,
    /// The database pool.
    pub db: Db,
    /// The service's Prometheus registry.
    pub metrics: Metrics,
    /// Event plumbing metrics (registered in `metrics`).
    pub event_metrics: EventMetrics,
    /// Cancelled when the service should stop.
    pub shutdown: CancellationToken,
    /// The queues this service consumes, whose depths the gauges sample.
    consumed: ConsumedQueues,
    server: Option<JoinHandle<std::io::Result<()>>>,
    tasks: Vec<JoinHandle<()>>,
}

impl ServiceRuntime {
    /// Migrates the database (waiting for it to come up) and starts the outbox relay.
    pub async fn start(
        name: &'static str,
        common: CommonSettings,
        shutdown: CancellationToken,
    ) -> Result<Self, StartError> {
        let url = common.database.url.expose_secret().to_owned();
        db::migrations::migrate_with_retry(
            &url,
            Duration::from_secs(common.database.startup_patience_secs),
        )
        .await?;
        let db = Db::new(&url, &common.database.pool());
        let metrics = Metrics::new(name)?;
        let event_metrics = EventMetrics::register(metrics.registry())?;

        let relay = Relay::new(
            db.clone(),
            common.amqp.url.expose_secret(),
            name,
            common.events.topology(),
            common.events.relay(),
            event_metrics.clone(),
        );
        let relay_task = tokio::spawn(relay.run(shutdown.clone()));
        let gauges = ServiceGauges::register(metrics.registry(), common.database.pool_size)?;
        let consumed = ConsumedQueues::default();
        let sampler_task = tokio::spawn(crate::gauges::run_sampler(
            gauges,
            db.clone(),
            Readiness::new(db.clone(), common.amqp.url.clone()),
            common.amqp.url.clone(),
            name,
            consumed.clone(),
            shutdown.clone(),
        ));
        Ok(Self {
            name,
            common,
            db,
            metrics,
            event_metrics,
            shutdown,
            consumed,
            server: None,
            tasks: vec![relay_task, sampler_task],
        })
    }

    /// Starts consuming `queue` with `handler`.
    pub fn spawn_consumer<H: Handler>(&mut self, mut queue: QueueSpec, handler: Arc<H>) {
        queue.name = format!("{}{}", self.common.events.queue_prefix, queue.name);
        let mut settings = ConsumerSettings::new(queue);
        if let Ok(mut consumed) = self.consumed.lock() {
            consumed.push(ConsumedQueue {
                name: settings.queue.name.clone(),
                declared: settings.declared.clone(),
            });
        }
        settings.prefetch = self.common.amqp.prefetch;
        // Every handler commits through the pool: more concurrent handlers than connections
        // would only queue for a connection (and time out under load).
        settings.concurrency = settings
            .concurrency
            .min(self.common.database.pool_size.saturating_sub(2).max(1) as usize);
        let task = tokio::spawn(events::run_consumer(
            self.common.amqp.url.expose_secret().to_owned(),
            self.common.events.topology(),
            settings,
            self.db.clone(),
            handler,
            self.event_metrics.clone(),
            self.shutdown.clone(),
        ));
        self.tasks.push(task);
    }

    /// Runs a background task that must stop when the service stops.
    pub fn spawn_task(&mut self, task: impl std::future::Future<Output = ()> + Send + 'static) {
        self.tasks.push(tokio::spawn(task));
    }

    /// Serves the ops routes plus `configure`'s on `listener`.
    pub fn serve<F>(
        &mut self,
        listener: TcpListener,
        workers: usize,
        configure: F,
    ) -> Result<(), StartError>
    where
        F: Fn(&mut web::ServiceConfig) + Clone + Send + 'static,
    {
        let readiness = Readiness::new(self.db.clone(), self.common.amqp.url.clone());
        let server = crate::ops::serve(
            listener,
            workers,
            self.metrics.clone(),
            readiness,
            configure,
            self.shutdown.clone(),
        )?;
        self.server = Some(server);
        Ok(())
    }

    /// Waits for shutdown, then for the server and every background task to finish.
    pub async fn run_until_stopped(self) -> Result<(), StartError> {
        self.shutdown.cancelled().await;
        if let Some(server) = self.server {
            match server.await {
                Ok(result) => result?,
                Err(err) => tracing::error!(error = %err, "http server task failed"),
            }
        }
        let drain = futures_util::future::join_all(self.tasks);
        if tokio::time::timeout(Duration::from_secs(15), drain)
            .await
            .is_err()
        {
            tracing::warn!("background tasks did not stop within 15 s; exiting anyway");
        }
        // lapin drives each connection from an I/O thread of its own, which finishes the
        // socket's teardown a moment after `close()` returned; a runtime dropped in that moment
        // makes it log "A Tokio 1.x context was found, but it is being shutdown" at ERROR.
        tokio::time::sleep(AMQP_TEARDOWN_GRACE).await;
        tracing::info!(service = self.name, "stopped");
        Ok(())
    }
}

/// How long the closed AMQP connections' I/O threads get to finish before the runtime stops.
const AMQP_TEARDOWN_GRACE: Duration = Duration::from_millis(200);

impl ServiceRuntime {
    /// Binds `listen` (`host:port`, port 0 for any), serves on it, and returns the bound port.
    pub fn bind_and_serve<F>(
        &mut self,
        listen: &str,
        workers: usize,
        configure: F,
    ) -> Result<u16, StartError>
    where
        F: Fn(&mut web::ServiceConfig) + Clone + Send + 'static,
    {
        let listener = TcpListener::bind(listen)?;
        let port = listener.local_addr()?.port();
        self.serve(listener, workers, configure)?;
        tracing::info!(service = self.name, %listen, port, "listening");
        Ok(port)
    }
}

/// The multi-thread tokio runtime a service runs on, sized by `[runtime]` (see
/// [`RuntimeSettings`](crate::config::RuntimeSettings)); `main` builds it after loading the
/// configuration and blocks on the service in it.
pub fn build(
    settings: &crate::config::RuntimeSettings,
) -> std::io::Result<tokio::runtime::Runtime> {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if settings.worker_threads > 0 {
        builder.worker_threads(settings.worker_threads);
    }
    builder
        .max_blocking_threads(settings.max_blocking_threads.max(1))
        .thread_keep_alive(Duration::from_secs(settings.blocking_keep_alive_secs))
        .enable_all()
        .build()
}

/// When `POSTBRIDGE_MIGRATE_ONLY=1`, applies the migrations and returns true: the binary then
/// exits instead of serving (the Kubernetes migration Job and docker compose's `migrate` step).
pub async fn migrate_only(common: &CommonSettings) -> Result<bool, StartError> {
    if std::env::var("POSTBRIDGE_MIGRATE_ONLY").is_ok_and(|v| v == "1" || v == "true") {
        let applied = db::migrations::migrate_with_retry(
            common.database.url.expose_secret(),
            Duration::from_secs(common.database.startup_patience_secs),
        )
        .await?;
        tracing::info!(
            applied = applied.len(),
            "migrations applied; exiting (POSTBRIDGE_MIGRATE_ONLY)"
        );
        return Ok(true);
    }
    Ok(false)
}
