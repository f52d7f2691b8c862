//! One folder per platform. Each exposes `descriptor()`, `default_endpoints()`, an adapter
//! type, and `SPEC`, the [`crate::spec::PlatformSpec`] that ties them together; [`ALL`] lists
//! the specs, and is the only place a new platform is named outside its folder.

pub mod bluesky;
pub mod facebook;
pub mod instagram;
pub mod linkedin;
pub mod mastodon;
mod meta;
pub mod pinterest;
pub mod sandbox;
pub mod threads;
pub mod tiktok;
pub mod x;
pub mod youtube;

/// Every platform, in the order of [`domain::Platform::ALL`].
pub const ALL: &[crate::spec::PlatformSpec] = &[
    facebook::SPEC,
    instagram::SPEC,
    threads::SPEC,
    x::SPEC,
    linkedin::SPEC,
    youtube::SPEC,
    tiktok::SPEC,
    pinterest::SPEC,
    bluesky::SPEC,
    mastodon::SPEC,
    sandbox::SPEC,
];

/// The spec of `platform`.
pub fn spec(platform: domain::Platform) -> &'static crate::spec::PlatformSpec {
    ALL.iter()
        .find(|spec| spec.platform() == platform)
        .unwrap_or(&sandbox::SPEC)
}
