//! `/v1/drafts…` (the feature itself is `crate::drafts`).

pub mod create;
pub mod delete;
pub mod get;
pub mod list;
pub mod update;

use actix_web::web;

use crate::{drafts::MAX_BODY_BYTES, error::json_error_handler};

/// The JSON extractor settings of the draft routes (see [`MAX_BODY_BYTES`]).
pub fn json_config() -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(MAX_BODY_BYTES)
        .error_handler(json_error_handler)
}
