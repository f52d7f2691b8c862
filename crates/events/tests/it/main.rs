//! Integration tests of the event plumbing against the real PostgreSQL and RabbitMQ.
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail the test by panicking"
)]

mod consumer;
mod relay;
mod retention;
mod schemas;
mod support;
