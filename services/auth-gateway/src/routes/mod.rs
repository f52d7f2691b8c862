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

/// One path with its methods; any other method answers 405 in the error shape.
fn resource(path: &str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(crate::hardening::wrong_method))
}

/// Registers every `/v1` route and `/openapi.json`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/openapi.json").route(web::get().to(openapi::get)))
        .service(resource("/v1/platforms").route(web::get().to(platforms::list)))
        // Before `/v1/connections/{platform}`, which would otherwise match it.
        .service(
            resource("/v1/connections/complete")
                .route(web::post().to(complete_connection::complete)),
        )
        .service(resource("/v1/connections/{platform}").route(web::post().to(connections::start)))
        .service(
            resource("/v1/oauth/{platform}/callback")
                .route(web::get().to(oauth_callback::callback)),
        )
        .service(resource("/v1/accounts").route(web::get().to(accounts::list::list)))
        .service(
            resource("/v1/accounts/{id}")
                .route(web::get().to(accounts::get::get))
                .route(web::delete().to(accounts::delete::delete)),
        )
        .service(resource("/v1/accounts/{id}/sync").route(web::post().to(accounts::sync::sync)))
        .service(
            resource("/v1/accounts/{id}/refresh").route(web::post().to(accounts::refresh::refresh)),
        )
        .service(resource("/v1/media").route(web::post().to(media::upload::upload)))
        .service(
            resource("/v1/media/{id}")
                .route(web::get().to(media::get::get))
                .route(web::delete().to(media::delete::delete)),
        )
        .service(
            resource("/v1/media/{id}/content")
                .route(web::get().to(media::content::content))
                .route(web::head().to(media::content::content)),
        )
        // Drafts take larger JSON bodies than the rest of the API (see drafts::MAX_BODY_BYTES).
        .service(
            resource("/v1/drafts")
                .app_data(drafts::json_config())
                .route(web::post().to(drafts::create::create))
                .route(web::get().to(drafts::list::list)),
        )
        .service(
            resource("/v1/drafts/{id}")
                .app_data(drafts::json_config())
                .route(web::get().to(drafts::get::get))
                .route(web::patch().to(drafts::update::update))
                .route(web::delete().to(drafts::delete::delete)),
        )
        .service(
            resource("/v1/posts")
                .route(web::post().to(posts::create::create))
                .route(web::get().to(posts::list::list)),
        )
        .service(
            resource("/v1/posts/{id}")
                .route(web::get().to(posts::get::get))
                .route(web::patch().to(posts::update::update)),
        )
        .service(resource("/v1/posts/{id}/cancel").route(web::post().to(posts::cancel::cancel)))
        .service(resource("/v1/posts/{id}/retry").route(web::post().to(posts::retry::retry)));
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
