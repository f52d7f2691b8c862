//! `POST /v1/templates`.

use actix_web::{web, HttpResponse};

use crate::{
    auth::AuthUser,
    error::ApiError,
    state::AppState,
    templates::{request::CreateTemplate, service, view::TemplateView},
};

/// Saves a template. Placeholders are `{name}` (`name`: `a-z`, `0-9`, `_`, at most 64);
/// `{{` and `}}` are literal braces; any other brace is a 422 `invalid_template` giving the
/// field and the character position (from 0). Names are unique per user (409).
#[utoipa::path(post, path = "/v1/templates", tag = "templates", operation_id = "createTemplate", request_body = CreateTemplate,
    responses((status = 201, description = "Saved", body = TemplateView), (status = 400, description = "Malformed body or unknown platform in `variants`"),
        (status = 409, description = "`template_name_taken`: another of your templates has this name"),
        (status = 422, description = "`invalid_template` (malformed placeholder, with `field` and `position`), `invalid_template_name` or `text_too_long`")))]
pub async fn create(
    user: AuthUser,
    state: web::Data<AppState>,
    body: web::Json<CreateTemplate>,
) -> Result<HttpResponse, ApiError> {
    let template = service::create(&state, user.0, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(TemplateView::from(&template)))
}
