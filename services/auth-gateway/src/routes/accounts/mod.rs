//! `/v1/accounts…`.

pub mod delete;
pub mod get;
pub mod list;
pub mod refresh;
pub mod sync;
