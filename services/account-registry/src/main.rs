use account_registry::{configuration, startup::Application, SERVICE};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = configuration::load()?;
    service_kit::telemetry::init(
        SERVICE,
        settings.common.environment,
        &settings.common.telemetry,
    );
    if service_kit::migrate_only(&settings.common).await? {
        return Ok(());
    }
    let app = Application::build(settings, service_kit::shutdown::on_signal()).await?;
    app.run_until_stopped().await?;
    Ok(())
}
