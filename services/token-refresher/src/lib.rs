#![doc = include_str!("../README.md")]

pub mod configuration;
pub mod metrics;
pub mod refresher;
pub mod scheduler;
pub mod startup;
pub mod writer;

/// Name used in logs, metrics, AMQP connection names and the `producer` of its events.
pub const SERVICE: &str = "token-refresher";
