//! HTTP routes: one small file per endpoint; each extracts, authorizes, calls a feature
//! module and maps the result. No SQL and no platform calls here. Imports point one way:
//! routes use the features (`accounts`, `connect`, `drafts`, `media`, `posts`), never the
//! reverse.

pub mod accounts;
pub mod analytics;
pub mod complete_connection;
pub mod connections;
pub mod drafts;
pub mod media;
pub mod oauth_callback;
pub mod openapi;
pub mod platforms;
pub mod posts;
pub mod templates;

use actix_web::web;
use serde::Deserialize;
use utoipa::IntoParams;

/// One path with its methods; any other method answers 405 in the error shape.
fn resource(path: &str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(crate::hardening::wrong_method))
}

/// Paging of a list (`GET /v1/accounts`, `/v1/drafts`; `/v1/posts` adds filters).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1 to 100 (default 50).
    #[param(minimum = 1, maximum = 100, example = 50)]
    pub limit: Option<i64>,
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
        .service(resource("/v1/accounts/{id}/pause").route(web::post().to(accounts::pause::pause)))
        .service(
            resource("/v1/accounts/{id}/resume").route(web::post().to(accounts::resume::resume)),
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
                .route(web::patch().to(posts::update::update))
                .route(web::delete().to(posts::delete::delete)),
        )
        .service(resource("/v1/posts/{id}/cancel").route(web::post().to(posts::cancel::cancel)))
        .service(resource("/v1/posts/{id}/retry").route(web::post().to(posts::retry::retry)))
        .service(
            resource("/v1/posts/{id}/metrics").route(web::get().to(analytics::post_metrics::get)),
        )
        .service(
            resource("/v1/posts/{id}/metrics/refresh")
                .route(web::post().to(analytics::refresh::refresh)),
        )
        .service(
            resource("/v1/accounts/{id}/metrics")
                .route(web::get().to(analytics::account_metrics::get)),
        )
        .service(resource("/v1/analytics").route(web::get().to(analytics::overview::get)))
        // Templates take draft-sized bodies (see templates::MAX_BODY_BYTES).
        .service(
            resource("/v1/templates")
                .app_data(templates::json_config())
                .route(web::post().to(templates::create::create))
                .route(web::get().to(templates::list::list)),
        )
        .service(
            resource("/v1/templates/{id}")
                .app_data(templates::json_config())
                .route(web::get().to(templates::get::get))
                .route(web::patch().to(templates::update::update))
                .route(web::delete().to(templates::delete::delete)),
        )
        .service(
            resource("/v1/templates/{id}/drafts")
                .app_data(templates::json_config())
                .route(web::post().to(templates::draft::draft)),
        );
}
