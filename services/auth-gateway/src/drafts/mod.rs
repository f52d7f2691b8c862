//! Drafts: text, per-platform variants, media and selected accounts, saved until they are
//! posted (`POST /v1/posts` with `draft_id`).

pub mod request;
pub mod service;
pub mod view;

/// Largest draft body, in bytes. Larger than the API's usual JSON limit because a draft may
/// hold a 100,000-character text plus a variant per platform.
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;
