//! `PATCH /v1/drafts/{id}`.

use actix_web::{web, HttpResponse};

use crate::{
    auth::AuthUser,
    drafts::{request::UpdateDraft, service, view::DraftView},
    error::ApiError,
    params::parse_draft_id,
    state::AppState,
};

/// Changes the fields given; the others stay. Same checks as creating.
#[utoipa::path(patch, path = "/v1/drafts/{id}", tag = "drafts", operation_id = "updateDraft", params(("id" = String, Path, description = "The draft's id")), request_body = UpdateDraft,
    responses((status = 200, description = "The changed draft", body = DraftView), (status = 400, description = "Malformed body or unknown platform in `variants`"),
        (status = 404, description = "No such draft of yours"), (status = 422, description = "Text too long, or media/accounts that are not the caller's")))]
pub async fn update(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: web::Json<UpdateDraft>,
) -> Result<HttpResponse, ApiError> {
    let draft = service::update(&state, user.0, parse_draft_id(&id)?, body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(DraftView::from(&draft)))
}
