//! Path and query values parsed into domain types, once, at the edge. Shared by the routes
//! and by the features that read platform names out of bodies (post variants).

use db::domain::{AccountId, DraftId, MediaId, Platform, PostId};

use crate::error::ApiError;

/// Parses a platform name; an unknown one is a 400 that lists the known ones.
pub fn parse_platform(raw: &str) -> Result<Platform, ApiError> {
    raw.parse().map_err(|_| {
        let known: Vec<&str> = Platform::ALL.iter().map(|p| p.as_str()).collect();
        ApiError::bad_request(
            "unknown_platform",
            format!("unknown platform `{raw}`; known: {}", known.join(", ")),
        )
    })
}

/// Parses an account `{id}`; a malformed id is as unknown as a missing one.
pub fn parse_account_id(raw: &str) -> Result<AccountId, ApiError> {
    raw.parse().map_err(|_| ApiError::NotFound("account"))
}

/// Parses a post `{id}`; a malformed id is as unknown as a missing one.
pub fn parse_post_id(raw: &str) -> Result<PostId, ApiError> {
    raw.parse().map_err(|_| ApiError::NotFound("post"))
}

/// Parses a draft `{id}`; a malformed id is as unknown as a missing one.
pub fn parse_draft_id(raw: &str) -> Result<DraftId, ApiError> {
    raw.parse().map_err(|_| ApiError::NotFound("draft"))
}

/// Parses a media `{id}`; a malformed id is as unknown as a missing one.
pub fn parse_media_id(raw: &str) -> Result<MediaId, ApiError> {
    raw.parse().map_err(|_| ApiError::NotFound("media"))
}
