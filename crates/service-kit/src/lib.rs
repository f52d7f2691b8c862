#![doc = include_str!("../README.md")]

pub mod config;
pub mod ops;
pub mod runtime;
pub mod shutdown;
pub mod telemetry;

pub use ops::{Metrics, Readiness};
pub use runtime::{ServiceRuntime, StartError};
