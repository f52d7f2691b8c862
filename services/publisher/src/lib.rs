#![doc = include_str!("../README.md")]

pub mod configuration;
pub mod deletion;
pub mod dispatcher;
pub mod engagement;
pub mod gates;
pub mod group_commit;
pub mod lease;
pub mod media;
pub mod metrics;
pub mod outcome;
pub mod publish;
pub mod record;
pub mod retention;
pub mod startup;
pub mod token_wait;

/// Name used in logs, metrics, AMQP connection names and the `producer` of its events.
pub const SERVICE: &str = "publisher";
