//! `DELETE /v1/drafts/{id}`.

use actix_web::{web, HttpResponse};

use crate::{
    auth::AuthUser, drafts::service, error::ApiError, params::parse_draft_id, state::AppState,
};

/// Deletes one of the caller's drafts. Posts made from it are not affected.
#[utoipa::path(delete, path = "/v1/drafts/{id}", tag = "drafts", operation_id = "deleteDraft", params(("id" = String, Path, description = "The draft's id")),
    responses((status = 204, description = "Deleted"), (status = 404, description = "No such draft of yours")))]
pub async fn delete(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    service::delete(&state, user.0, parse_draft_id(&id)?).await?;
    Ok(HttpResponse::NoContent().finish())
}
