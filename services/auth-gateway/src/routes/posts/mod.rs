//! `/v1/posts…`.

pub mod cancel;
pub mod create;
pub mod get;
pub mod list;
pub mod retry;
pub mod update;

use crate::error::ApiError;

/// Parses an `{id}` path segment; a malformed id is as unknown as a missing one.
pub fn parse_post_id(raw: &str) -> Result<db::domain::PostId, ApiError> {
    raw.parse().map_err(|_| ApiError::NotFound("post"))
}
