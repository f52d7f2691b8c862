//! Wiring: the shared runtime plus the gateway's state, middleware and routes.

use std::sync::Arc;

use actix_cors::Cors;
use actix_web::{http::header, web};
use events::CancellationToken;
use platform_adapters::Registry;
use service_kit::{config::Environment, ServiceRuntime, StartError};

use crate::{
    auth::Authenticator,
    configuration::Settings,
    error::{json_error_handler, path_error_handler, query_error_handler},
    routes,
    state::AppState,
    SERVICE,
};

/// The built, running service.
#[derive(Debug)]
pub struct Application {
    port: u16,
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
        };
        let max_json = settings.service.max_json_bytes;
        let origins = settings.service.cors_allowed_origins.clone();
        let configure = move |cfg: &mut web::ServiceConfig| {
            let cors = origins
                .iter()
                .fold(Cors::default(), |cors, origin| cors.allowed_origin(origin))
                .allowed_methods(["GET", "POST", "PATCH", "DELETE"])
                .allowed_headers([
                    header::AUTHORIZATION,
                    header::CONTENT_TYPE,
                    header::HeaderName::from_static("idempotency-key"),
                ])
                .expose_headers([header::HeaderName::from_static(
                    service_kit::ops::REQUEST_ID,
                )])
                .max_age(600);
            cfg.app_data(web::Data::new(state.clone()))
                .app_data(web::Data::new(authenticator.clone()))
                .app_data(
                    web::JsonConfig::default()
                        .limit(max_json)
                        .error_handler(json_error_handler),
                )
                .app_data(web::PayloadConfig::new(max_json))
                .app_data(web::PathConfig::default().error_handler(path_error_handler))
                .app_data(web::QueryConfig::default().error_handler(query_error_handler))
                .service(web::scope("").wrap(cors).configure(routes::configure));
        };
        let port = runtime.bind_and_serve(
            &settings.service.listen,
            settings.service.workers,
            configure,
        )?;
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
