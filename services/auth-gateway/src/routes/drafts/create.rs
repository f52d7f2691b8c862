//! `POST /v1/drafts`.

use actix_web::{web, HttpResponse};

use crate::{
    auth::AuthUser,
    drafts::{request::CreateDraft, service, view::DraftView},
    error::ApiError,
    state::AppState,
};

/// Saves a draft. Media and accounts must be the caller's (422 naming the others); variant
/// keys must be platforms (400 naming the unknown key).
#[utoipa::path(post, path = "/v1/drafts", tag = "drafts", operation_id = "createDraft", request_body = CreateDraft,
    responses((status = 201, description = "Saved", body = DraftView), (status = 400, description = "Malformed body or unknown platform in `variants`"),
        (status = 422, description = "Text too long, or media/accounts that are not the caller's")))]
pub async fn create(
    user: AuthUser,
    state: web::Data<AppState>,
    body: web::Json<CreateDraft>,
) -> Result<HttpResponse, ApiError> {
    let draft = service::create(&state, user.0, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(DraftView::from(&draft)))
}
