//! Wiring: the shared runtime plus this service's routes and workers.

use events::CancellationToken;
use service_kit::{ServiceRuntime, StartError};

use crate::{configuration::Settings, SERVICE};

/// The built, running service.
#[derive(Debug)]
pub struct Application {
    port: u16,
    runtime: ServiceRuntime,
}

impl Application {
    /// Migrates, starts the outbox relay and binds the HTTP listener.
    pub async fn build(
        settings: Settings,
        shutdown: CancellationToken,
    ) -> Result<Self, StartError> {
        let mut runtime = ServiceRuntime::start(SERVICE, settings.common, shutdown).await?;
        let port = runtime.bind_and_serve(
            &settings.service.listen,
            settings.service.workers,
            |_routes| {},
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
