//! `GET /v1/media/{id}`.

use actix_web::{web, HttpResponse};

use crate::{
    auth::AuthUser,
    error::ApiError,
    media::{service, view::MediaView},
    params::parse_media_id,
    state::AppState,
};

/// One of the caller's uploads, with a fresh signed URL; another user's answers 404.
#[utoipa::path(get, path = "/v1/media/{id}", tag = "media", operation_id = "getMedia", params(("id" = String, Path, description = "The media's id")),
    responses((status = 200, description = "The upload, with a fresh signed URL", body = MediaView), (status = 404, description = "No such media of yours")))]
pub async fn get(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let media = service::get(&state, user.0, parse_media_id(&id)?).await?;
    Ok(HttpResponse::Ok().json(MediaView::new(&media, &state.signer)))
}
