//! The `[platform_sim]` section of the workspace's `config/default.toml`.

use platform_sim::{Knobs, SimSettings};

#[test]
fn the_default_configuration_parses_into_the_default_knobs() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config");
    let loaded = service_kit::config::load_from(&root, "development").expect("config/ loads");
    let settings: SimSettings = loaded
        .section("platform_sim")
        .expect("[platform_sim] parses");
    assert_eq!(settings.listen, "127.0.0.1:8090");
    let options = settings.options();
    assert_eq!(options.knobs, Knobs::default());
    assert_eq!(options.public_url, None);
}
