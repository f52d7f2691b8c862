#![expect(
    clippy::expect_used,
    reason = "test fixtures fail the test by panicking"
)]
//! platform-sim end to end: each test starts its own sim in-process on port 0 and talks to it
//! over HTTP, as the services and benchmarks do.

mod adapter;
mod api;
mod config;
mod consent;
mod knobs;
mod oauth_flow;
mod posts;
mod refresh;
mod revoke;
mod support;
