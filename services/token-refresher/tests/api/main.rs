//! Tests of token-refresher against PostgreSQL, RabbitMQ and an in-process platform-sim.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers fail the test by panicking"
)]

mod refresh;
mod spans;
mod startup;
mod support;
