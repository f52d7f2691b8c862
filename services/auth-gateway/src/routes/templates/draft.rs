//! `POST /v1/templates/{id}/drafts`.
//!
//! Why a route of the template rather than a `template_id` on `POST /v1/drafts`: the template
//! is the resource acted on (another user's is a 404 on its own path, as everywhere), and a
//! draft's body stays what it is, with no rule needed for a `text` given beside a template.

use actix_web::{web, HttpResponse};

use super::parse_template_id;
use crate::{
    auth::AuthUser,
    drafts::view::DraftView,
    error::ApiError,
    state::AppState,
    templates::{request::DraftFromTemplate, service},
};

/// Makes a draft from the template: every placeholder of the base text and of each platform
/// text is replaced by its value (inserted as written). A placeholder without a value: 422
/// `missing_values` naming every one (`details.missing`); values the template does not use are
/// ignored (a misspelt name still shows up as missing). The draft then passes the drafts'
/// checks (lengths after filling, media and accounts the caller's).
#[utoipa::path(post, path = "/v1/templates/{id}/drafts", tag = "templates", operation_id = "createDraftFromTemplate", params(("id" = String, Path, description = "The template's id")), request_body = DraftFromTemplate,
    responses((status = 201, description = "The new draft", body = DraftView), (status = 400, description = "Malformed body or too many values"),
        (status = 404, description = "No such template of yours"),
        (status = 422, description = "`missing_values` (with `details.missing`), `text_too_long`, or media/accounts that are not the caller's")))]
pub async fn draft(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: web::Json<DraftFromTemplate>,
) -> Result<HttpResponse, ApiError> {
    let draft = service::draft(&state, user.0, parse_template_id(&id)?, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(DraftView::from(&draft)))
}
