//! `GET /v1/media/{id}/content?expires=&sig=`.

use actix_web::{
    http::header::{self, CacheControl, CacheDirective, ContentType},
    web, HttpResponse,
};
use serde::Deserialize;
use utoipa::IntoParams;

use super::service;
use crate::error::ApiError;
use crate::state::AppState;

/// The signature of a content URL.
#[derive(Debug, Deserialize, IntoParams)]
pub struct ContentQuery {
    /// Unix seconds after which the URL stops working.
    pub expires: Option<String>,
    /// Base64url HMAC-SHA256 of the id and `expires`.
    pub sig: Option<String>,
}

/// The file itself. No bearer token: the signature is the authorization, because platforms
/// (Instagram, Threads, Pinterest) fetch media by URL. URLs come from the media views and
/// from the publisher; a missing, wrong or expired signature answers 403.
#[utoipa::path(get, path = "/v1/media/{id}/content", tag = "media", params(("id" = String, Path), ContentQuery),
    responses((status = 200, description = "The file, with its stored Content-Type", content_type = "application/octet-stream"),
        (status = 403, description = "Missing, invalid or expired signature"), (status = 404, description = "Deleted")))]
pub async fn content(
    state: web::Data<AppState>,
    id: web::Path<String>,
    query: web::Query<ContentQuery>,
) -> Result<HttpResponse, ApiError> {
    let (media, bytes, remaining_secs) =
        service::content(&state, &id, query.expires.as_deref(), query.sig.as_deref()).await?;
    let content_type = media
        .mime_type
        .parse()
        .map(ContentType)
        .unwrap_or(ContentType::octet_stream());
    Ok(HttpResponse::Ok()
        .insert_header(content_type)
        // Caches may keep it no longer than the URL is valid.
        .insert_header(CacheControl(vec![
            CacheDirective::Private,
            CacheDirective::MaxAge(u32::try_from(remaining_secs).unwrap_or(u32::MAX)),
        ]))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(bytes))
}
