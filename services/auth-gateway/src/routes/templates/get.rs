//! `GET /v1/templates/{id}`.

use actix_web::{web, HttpResponse};

use super::parse_template_id;
use crate::{
    auth::AuthUser,
    error::ApiError,
    state::AppState,
    templates::{service, view::TemplateView},
};

/// One of the caller's templates; another user's answers 404.
#[utoipa::path(get, path = "/v1/templates/{id}", tag = "templates", operation_id = "getTemplate", params(("id" = String, Path, description = "The template's id")),
    responses((status = 200, description = "The template", body = TemplateView), (status = 404, description = "No such template of yours")))]
pub async fn get(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let template = service::get(&state, user.0, parse_template_id(&id)?).await?;
    Ok(HttpResponse::Ok().json(TemplateView::from(&template)))
}
