//! `GET /v1/drafts/{id}`.

use actix_web::{web, HttpResponse};

use crate::{
    auth::AuthUser,
    drafts::{service, view::DraftView},
    error::ApiError,
    params::parse_draft_id,
    state::AppState,
};

/// One of the caller's drafts; another user's answers 404.
#[utoipa::path(get, path = "/v1/drafts/{id}", tag = "drafts", operation_id = "getDraft", params(("id" = String, Path, description = "The draft's id")),
    responses((status = 200, description = "The draft", body = DraftView), (status = 404, description = "No such draft of yours")))]
pub async fn get(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let draft = service::get(&state, user.0, parse_draft_id(&id)?).await?;
    Ok(HttpResponse::Ok().json(DraftView::from(&draft)))
}
