use account_registry::{configuration, startup::Application, SERVICE};

fn main() -> anyhow::Result<()> {
    let settings = configuration::load()?;
    // Sized by `[runtime]` (two workers by default), not one worker per core.
    let runtime = service_kit::runtime::build(&settings.common.runtime)?;
    runtime.block_on(async move {
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
    })
}
