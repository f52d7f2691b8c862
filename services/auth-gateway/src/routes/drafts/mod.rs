//! `/v1/drafts…`: text, per-platform variants, media and selected accounts, saved until they
//! are posted (`POST /v1/posts` with `draft_id`).

pub mod create;
pub mod delete;
pub mod get;
pub mod list;
pub mod request;
pub mod service;
pub mod update;
pub mod view;

use actix_web::web;

use crate::error::{json_error_handler, ApiError};

/// Largest draft body, in bytes. Larger than the API's usual JSON limit because a draft may
/// hold a 100,000-character text plus a variant per platform.
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

/// The JSON extractor settings of the draft routes (see [`MAX_BODY_BYTES`]).
pub fn json_config() -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(MAX_BODY_BYTES)
        .error_handler(json_error_handler)
}

/// Parses an `{id}` path segment; a malformed id is as unknown as a missing one.
pub fn parse_draft_id(raw: &str) -> Result<db::domain::DraftId, ApiError> {
    raw.parse().map_err(|_| ApiError::NotFound("draft"))
}
