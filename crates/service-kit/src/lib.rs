#![doc = include_str!("../README.md")]

pub mod config;
pub mod env_account;
pub mod gauges;
pub mod ops;
pub mod retention;
pub mod runtime;
pub mod shutdown;
pub mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;
pub mod tokens;

pub use ops::{Metrics, Readiness};
pub use runtime::{migrate_only, ServiceRuntime, StartError};
