#![doc = include_str!("../README.md")]

pub mod configuration;
pub mod env_account;
pub mod health;
pub mod lifecycle;
pub mod retention;
pub mod startup;

/// Name used in logs, metrics, AMQP connection names and the `producer` of its events.
pub const SERVICE: &str = "account-registry";
