//! `GET /v1/media/{id}`.

use actix_web::{web, HttpResponse};

use super::{parse_media_id, service, view::MediaView};
use crate::{auth::AuthUser, error::ApiError, state::AppState};

/// One of the caller's uploads, with a fresh signed URL; another user's answers 404.
#[utoipa::path(get, path = "/v1/media/{id}", tag = "media", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = MediaView), (status = 404, description = "No such media of yours")))]
pub async fn get(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let media = service::get(&state, user.0, parse_media_id(&id)?).await?;
    Ok(HttpResponse::Ok().json(MediaView::new(&media, &state.signer)))
}
