//! One module per platform. Each exposes `descriptor()`, `default_endpoints()` and an adapter
//! type built from a shared `reqwest::Client` and its [`crate::AdapterSettings`].

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
