#![doc = include_str!("../README.md")]

mod enums;
mod ids;

pub use enums::*;
pub use ids::*;

/// A string that did not name any variant of the enum it was parsed into.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} `{value}`")]
pub struct UnknownVariant {
    /// Which enum was being parsed, e.g. `platform`.
    pub kind: &'static str,
    /// The rejected input.
    pub value: String,
}
