//! `GET /openapi.json`: generated from the handlers' annotations, so it cannot drift.

use actix_web::HttpResponse;
use utoipa::{
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
    Modify, OpenApi,
};

use crate::{connect, posts, routes, views};

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// The gateway's API description.
#[derive(OpenApi)]
#[openapi(
    info(title = "Postbridge API", description = "Connect social accounts and publish to them. Errors are `{\"error\": {\"code\", \"message\"}}`; lists are `{\"items\", \"next_cursor\"}`. Any endpoint may answer 503 with the code `unavailable` and a `Retry-After` header while the database or the message broker is unreachable; retry after that delay. A 503 on a write may still have been applied: send `POST /v1/posts` with an `Idempotency-Key` so that its retry is safe."),
    paths(
        routes::platforms::list,
        routes::connections::start,
        routes::complete_connection::complete,
        routes::oauth_callback::callback,
        routes::accounts::list::list,
        routes::accounts::get::get,
        routes::accounts::delete::delete,
        routes::accounts::sync::sync,
        routes::accounts::refresh::refresh,
        routes::media::upload::upload,
        routes::media::get::get,
        routes::media::delete::delete,
        routes::media::content::content,
        routes::drafts::create::create,
        routes::drafts::list::list,
        routes::drafts::get::get,
        routes::drafts::update::update,
        routes::drafts::delete::delete,
        routes::posts::create::create,
        routes::posts::list::list,
        routes::posts::get::get,
        routes::posts::update::update,
        routes::posts::cancel::cancel,
        routes::posts::retry::retry,
    ),
    components(schemas(views::AccountView, views::PlatformView, views::CapabilitiesView, views::AuthorizeView, views::CompletedView, views::AcceptedView, connect::StartConnection, connect::CompleteConnection, routes::media::view::MediaView, routes::media::upload::UploadForm, routes::drafts::view::DraftView, routes::drafts::request::CreateDraft, routes::drafts::request::UpdateDraft, posts::view::PostView, posts::view::TargetView, posts::view::AttemptView, posts::view::ErrorView, posts::request::CreatePost, posts::request::UpdatePost, posts::request::Variant)),
    modifiers(&BearerAuth)
)]
#[derive(Debug)]
pub struct ApiDoc;

/// Serves the document.
pub async fn get() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}
