//! The registry is the list of platform specs: every platform has one, and nothing else names
//! a platform.

use domain::Platform;

#[test]
fn every_platform_has_exactly_one_spec_whose_descriptor_is_its_own() {
    let specs: Vec<Platform> = platform_adapters::platforms::ALL
        .iter()
        .map(|spec| spec.platform())
        .collect();
    assert_eq!(
        specs,
        Platform::ALL.to_vec(),
        "one spec per platform, in the enum's order"
    );
    for platform in Platform::ALL {
        assert_eq!(
            platform_adapters::platforms::spec(*platform).platform(),
            *platform
        );
    }
}
