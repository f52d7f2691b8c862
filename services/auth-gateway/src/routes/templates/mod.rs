//! `/v1/templates…` (the feature itself is `crate::templates`).

pub mod create;
pub mod delete;
pub mod draft;
pub mod get;
pub mod list;
pub mod update;

use actix_web::web;
use db::domain::TemplateId;

use crate::{error::json_error_handler, error::ApiError, templates::MAX_BODY_BYTES};

/// The JSON extractor settings of the template routes (see [`MAX_BODY_BYTES`]).
pub fn json_config() -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(MAX_BODY_BYTES)
        .error_handler(json_error_handler)
}

/// Parses a template `{id}`; a malformed id is as unknown as a missing one.
pub fn parse_template_id(raw: &str) -> Result<TemplateId, ApiError> {
    raw.parse().map_err(|_| ApiError::NotFound("template"))
}
