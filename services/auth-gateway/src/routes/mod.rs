//! HTTP routes: one small file per endpoint; each extracts, authorizes, calls a function and
//! maps the result. No SQL and no platform calls here.

pub mod accounts;
pub mod complete_connection;
pub mod connections;
pub mod drafts;
pub mod media;
pub mod oauth_callback;
pub mod openapi;
pub mod platforms;
pub mod posts;

use actix_web::web;
use db::domain::Platform;

use crate::error::ApiError;

/// Registers every `/v1` route and `/openapi.json`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/openapi.json", web::get().to(openapi::get))
        .route("/v1/platforms", web::get().to(platforms::list))
        // Before `/v1/connections/{platform}`, which would otherwise match it.
        .route(
            "/v1/connections/complete",
            web::post().to(complete_connection::complete),
        )
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
        )
        .route("/v1/media", web::post().to(media::upload::upload))
        .route("/v1/media/{id}", web::get().to(media::get::get))
        .route("/v1/media/{id}", web::delete().to(media::delete::delete))
        .route(
            "/v1/media/{id}/content",
            web::get().to(media::content::content),
        )
        .route(
            "/v1/media/{id}/content",
            web::head().to(media::content::content),
        )
        // Drafts take larger JSON bodies than the rest of the API (see drafts::MAX_BODY_BYTES).
        .service(
            web::resource("/v1/drafts")
                .app_data(drafts::json_config())
                .route(web::post().to(drafts::create::create))
                .route(web::get().to(drafts::list::list)),
        )
        .service(
            web::resource("/v1/drafts/{id}")
                .app_data(drafts::json_config())
                .route(web::get().to(drafts::get::get))
                .route(web::patch().to(drafts::update::update))
                .route(web::delete().to(drafts::delete::delete)),
        )
        .route("/v1/posts", web::post().to(posts::create::create))
        .route("/v1/posts", web::get().to(posts::list::list))
        .route("/v1/posts/{id}", web::get().to(posts::get::get))
        .route("/v1/posts/{id}", web::patch().to(posts::update::update))
        .route(
            "/v1/posts/{id}/cancel",
            web::post().to(posts::cancel::cancel),
        )
        .route("/v1/posts/{id}/retry", web::post().to(posts::retry::retry));
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
