//! `DELETE /v1/media/{id}`.

use actix_web::{web, HttpResponse};

use crate::{
    auth::AuthUser, error::ApiError, media::service, params::parse_media_id, state::AppState,
};

/// Deletes one of the caller's uploads and its file. Posts already published keep their
/// copy on the platform; a post still waiting to go out keeps the media in use (409).
#[utoipa::path(delete, path = "/v1/media/{id}", tag = "media", operation_id = "deleteMedia", params(("id" = String, Path, description = "The media's id")),
    responses((status = 204, description = "Deleted"), (status = 404, description = "No such media of yours"),
        (status = 409, description = "A scheduled post still uses it")))]
pub async fn delete(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    service::delete(&state, user.0, parse_media_id(&id)?).await?;
    Ok(HttpResponse::NoContent().finish())
}
