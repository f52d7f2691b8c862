#![expect(
    clippy::expect_used,
    reason = "test fixtures fail the test by panicking"
)]
//! Contract tests: each adapter against a wiremock server answering with the shapes of the
//! platform's official API documentation. They pin the exact requests of the connect flow
//! (method, path, parameters, client authentication) and the parsing of documented answers.

mod bluesky;
mod hosts;
mod linkedin;
mod mastodon;
mod meta;
mod pinterest;
mod registry;
mod sandbox;
mod support;
mod tiktok;
mod x;
mod youtube;
