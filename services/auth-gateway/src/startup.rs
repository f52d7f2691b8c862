//! Wiring: the shared runtime plus the gateway's state, middleware and routes.
//!
//! The gateway listens twice: the public API (plus `/healthz`, which load balancers probe) on
//! `auth_gateway.listen`, and `/healthz`, `/readyz` and `/metrics` on `auth_gateway.ops_listen`,
//! which is never exposed publicly: route-level metrics and readiness details are for
//! operators, not for the internet.

use std::{net::TcpListener, sync::Arc};

use actix_cors::Cors;
use actix_web::{http::header, middleware::from_fn, web, App, HttpResponse, HttpServer};
use events::CancellationToken;
use platform_adapters::Registry;
use service_kit::{config::Environment, ServiceRuntime, StartError};

use crate::{
    auth::Authenticator,
    configuration::Settings,
    error::{json_error_handler, path_error_handler, query_error_handler},
    hardening, routes,
    state::AppState,
    SERVICE,
};

/// The built, running service.
#[derive(Debug)]
pub struct Application {
    port: u16,
    ops_port: u16,
    runtime: ServiceRuntime,
}

impl Application {
    /// Validates configuration, migrates, starts the outbox relay and binds the HTTP listener.
    pub async fn build(
        settings: Settings,
        shutdown: CancellationToken,
    ) -> Result<Self, StartError> {
        let production = settings.common.environment == Environment::Production;
        let vault = service_kit::tokens::vault_from(&settings.vault).map_err(|e| {
            StartError::Config(format!("[vault] keys: {e} (set POSTBRIDGE__VAULT__KEYS)"))
        })?;
        let http = platform_adapters::http::client();
        let adapters =
            Registry::from_config(http.clone(), &settings.platforms).map_err(StartError::Config)?;
        let authenticator =
            Authenticator::new(&settings.auth, !production, http).map_err(StartError::Config)?;
        let (blobs, signer) = media_store::from_settings(&settings.media, production)
            .map_err(|e| StartError::Config(format!("[media] {e}")))?;

        let mut runtime = ServiceRuntime::start(SERVICE, settings.common, shutdown).await?;
        crate::observe::register(runtime.metrics.registry())?;
        let state = AppState {
            db: runtime.db.clone(),
            vault: Arc::new(vault),
            adapters,
            settings: Arc::new(settings.service.clone()),
            blobs,
            signer,
            media: Arc::new(settings.media.clone()),
            uploads: Arc::new(tokio::sync::Semaphore::new(
                settings.media.max_concurrent_uploads.max(1),
            )),
            connection_starts: crate::limits::PerUserLimit::new(
                settings.service.connection_starts_per_minute,
            ),
            env_account_publishing: settings.env_account.allow_publishing,
        };
        let max_json = settings.service.max_json_bytes;
        let origins = settings.service.cors_allowed_origins.clone();
        let headers = hardening::Headers { hsts: production };
        let allowed_origins = hardening::AllowedOrigins(origins.clone().into());
        let configure = move |cfg: &mut web::ServiceConfig| {
            let cors = origins
                .iter()
                .fold(Cors::default(), |cors, origin| cors.allowed_origin(origin))
                .allowed_methods(["GET", "POST", "PATCH", "DELETE"])
                .allowed_headers([
                    header::AUTHORIZATION,
                    header::CONTENT_TYPE,
                    header::HeaderName::from_static("idempotency-key"),
                    header::HeaderName::from_static(service_kit::ops::REQUEST_ID),
                ])
                .expose_headers([header::HeaderName::from_static(
                    service_kit::ops::REQUEST_ID,
                )])
                .max_age(600);
            cfg.app_data(web::Data::new(state.clone()))
                .app_data(web::Data::new(authenticator.clone()))
                .app_data(web::Data::new(headers))
                .app_data(web::Data::new(allowed_origins.clone()))
                .app_data(
                    web::JsonConfig::default()
                        .limit(max_json)
                        .error_handler(json_error_handler),
                )
                .app_data(web::PayloadConfig::new(max_json))
                .app_data(web::PathConfig::default().error_handler(path_error_handler))
                .app_data(web::QueryConfig::default().error_handler(query_error_handler))
                .service(
                    web::scope("")
                        .wrap(from_fn(hardening::refuse_nul))
                        .wrap(cors)
                        // Outside `cors`: a refused origin is explained before actix-cors refuses it.
                        .wrap(from_fn(hardening::explain_cors_refusal))
                        .configure(routes::configure)
                        .default_service(web::to(hardening::no_route)),
                );
        };

        // Ops: the runtime's listener, with nothing but /healthz, /readyz and /metrics.
        let ops_port = runtime.bind_and_serve(
            &settings.service.ops_address(),
            1,
            |_: &mut web::ServiceConfig| {},
        )?;

        // Public: the API and /healthz, observed (request id, latency metrics) like any
        // service-kit listener, behind the security headers and the error shape.
        let listener = TcpListener::bind(&settings.service.listen)?;
        let port = listener.local_addr()?.port();
        let metrics = web::Data::new(runtime.metrics.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(metrics.clone())
                .wrap(from_fn(hardening::finish))
                .wrap(from_fn(service_kit::ops::observe))
                .route("/healthz", web::get().to(healthz))
                .configure(configure.clone())
        })
        .workers(settings.service.workers.max(1))
        .disable_signals()
        .shutdown_timeout(10)
        .listen(listener)?
        .run();
        let handle = server.handle();
        let stop = runtime.shutdown.clone();
        runtime.spawn_task(async move {
            stop.cancelled().await;
            handle.stop(true).await;
        });
        runtime.spawn_task(async move {
            if let Err(err) = server.await {
                tracing::error!(error = %err, "public http server failed");
            }
        });
        tracing::info!(service = SERVICE, listen = %settings.service.listen, port, ops_port, "listening");
        Ok(Self {
            port,
            ops_port,
            runtime,
        })
    }

    /// The bound HTTP port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The bound port of the ops listener (`/healthz`, `/readyz`, `/metrics`).
    pub fn ops_port(&self) -> u16 {
        self.ops_port
    }

    /// Runs until the shutdown token is cancelled, then drains.
    pub async fn run_until_stopped(self) -> Result<(), StartError> {
        self.runtime.run_until_stopped().await
    }
}

/// The process is alive (load balancers probe the public port).
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
}
