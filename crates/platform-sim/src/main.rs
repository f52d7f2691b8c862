use std::net::TcpListener;

use platform_sim::SimSettings;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let loaded = service_kit::config::load()?;
    let common = loaded.common()?;
    service_kit::telemetry::init("platform-sim", common.environment, &common.telemetry);
    let settings: SimSettings = loaded.section("platform_sim")?;
    let options = settings.options();
    let listener = TcpListener::bind(&settings.listen)?;
    tracing::info!(listen = %settings.listen, knobs = ?options.knobs, "platform-sim listening");
    let (_handle, server) = platform_sim::start(listener, options)?;
    server.await?;
    Ok(())
}
