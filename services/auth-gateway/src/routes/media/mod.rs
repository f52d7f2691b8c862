//! `/v1/media…`: uploading images and videos, reading and deleting them, and the signed
//! content URL that platforms fetch them from.

pub mod content;
pub mod delete;
pub mod get;
pub mod intake;
pub mod service;
pub mod upload;
pub mod view;

use db::domain::MediaId;

use crate::error::ApiError;

/// Parses an `{id}` path segment; a malformed id is as unknown as a missing one.
pub fn parse_media_id(raw: &str) -> Result<MediaId, ApiError> {
    raw.parse().map_err(|_| ApiError::NotFound("media"))
}
