//! HTTP routes: one small file per endpoint; each extracts, authorizes, calls a function and
//! maps the result. No SQL and no platform calls here.

pub mod accounts;
pub mod connections;
pub mod oauth_callback;
pub mod openapi;
pub mod platforms;

use actix_web::web;
use db::domain::Platform;

use crate::error::ApiError;

/// Registers every `/v1` route and `/openapi.json`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/openapi.json", web::get().to(openapi::get))
        .route("/v1/platforms", web::get().to(platforms::list))
        .route(
            "/v1/connections/{platform}",
            web::post().to(connections::start),
        )
        .route(
            "/v1/oauth/{platform}/callback",
            web::get().to(oauth_callback::callback),
        )
        .route("/v1/accounts", web::get().to(accounts::list::list))
        .route("/v1/accounts/{id}", web::get().to(accounts::get::get))
        .route(
            "/v1/accounts/{id}",
            web::delete().to(accounts::delete::delete),
        )
        .route(
            "/v1/accounts/{id}/sync",
            web::post().to(accounts::sync::sync),
        )
        .route(
            "/v1/accounts/{id}/refresh",
            web::post().to(accounts::refresh::refresh),
        );
}

/// Parses the `{platform}` path segment.
pub fn parse_platform(raw: &str) -> Result<Platform, ApiError> {
    raw.parse().map_err(|_| {
        let known: Vec<&str> = Platform::ALL.iter().map(|p| p.as_str()).collect();
        ApiError::bad_request(
            "unknown_platform",
            format!("unknown platform `{raw}`; known: {}", known.join(", ")),
        )
    })
}

/// Parses an `{id}` path segment; a malformed id is as unknown as a missing one.
pub fn parse_account_id(raw: &str) -> Result<db::domain::AccountId, ApiError> {
    raw.parse().map_err(|_| ApiError::NotFound("account"))
}
