//! `/v1/accounts…`.

pub mod delete;
pub mod get;
pub mod list;
pub mod pause;
pub mod refresh;
pub mod resume;
pub mod sync;
