//! HTTP-level tests of auth-gateway, each on its own database, exchanges and platform-sim.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers fail the test by panicking"
)]

mod accounts;
mod connections;
mod deletion_pause;
mod direct;
mod drafts;
mod env_account;
mod media;
mod outage;
mod posts;
mod security;
mod startup;
mod support;
mod templates;
mod threads;
