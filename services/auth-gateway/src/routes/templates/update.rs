//! `PATCH /v1/templates/{id}`.

use actix_web::{web, HttpResponse};

use super::parse_template_id;
use crate::{
    auth::AuthUser,
    error::ApiError,
    state::AppState,
    templates::{request::UpdateTemplate, service, view::TemplateView},
};

/// Changes the fields given; the others stay. Same checks as creating.
#[utoipa::path(patch, path = "/v1/templates/{id}", tag = "templates", operation_id = "updateTemplate", params(("id" = String, Path, description = "The template's id")), request_body = UpdateTemplate,
    responses((status = 200, description = "The changed template", body = TemplateView), (status = 400, description = "Malformed body or unknown platform in `variants`"),
        (status = 404, description = "No such template of yours"), (status = 409, description = "`template_name_taken`"),
        (status = 422, description = "`invalid_template` (with `field` and `position`), `invalid_template_name` or `text_too_long`")))]
pub async fn update(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: web::Json<UpdateTemplate>,
) -> Result<HttpResponse, ApiError> {
    let template =
        service::update(&state, user.0, parse_template_id(&id)?, body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(TemplateView::from(&template)))
}
