//! `DELETE /v1/templates/{id}`.

use actix_web::{web, HttpResponse};

use super::parse_template_id;
use crate::{auth::AuthUser, error::ApiError, state::AppState, templates::service};

/// Deletes one of the caller's templates. Drafts made from it are not affected.
#[utoipa::path(delete, path = "/v1/templates/{id}", tag = "templates", operation_id = "deleteTemplate", params(("id" = String, Path, description = "The template's id")),
    responses((status = 204, description = "Deleted"), (status = 404, description = "No such template of yours")))]
pub async fn delete(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    service::delete(&state, user.0, parse_template_id(&id)?).await?;
    Ok(HttpResponse::NoContent().finish())
}
