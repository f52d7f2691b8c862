//! `/v1/posts…` (the feature itself is `crate::posts`).

pub mod cancel;
pub mod create;
pub mod delete;
pub mod get;
pub mod list;
pub mod retry;
pub mod update;
