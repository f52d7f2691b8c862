#![doc = include_str!("../README.md")]

pub mod configuration;
pub mod startup;

/// Name used in logs, metrics, AMQP connection names and the `producer` of its events.
pub const SERVICE: &str = "auth-gateway";
