//! `GET /v1/templates`.

use actix_web::{web, HttpResponse};

use crate::{
    auth::AuthUser,
    cursor::PageRequest,
    error::ApiError,
    routes::PageQuery,
    state::AppState,
    templates::{service, view::TemplateView},
    views::Page,
};

/// The caller's templates, most recently edited first.
#[utoipa::path(get, path = "/v1/templates", tag = "templates", operation_id = "listTemplates", params(PageQuery),
    responses((status = 200, description = "A page of templates", body = Page<TemplateView>), (status = 400, description = "A malformed cursor or query")))]
pub async fn list(
    user: AuthUser,
    state: web::Data<AppState>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = PageRequest::new(query.cursor.as_deref(), query.limit)?;
    let (items, next_cursor) = service::list(&state, user.0, page).await?;
    Ok(HttpResponse::Ok().json(Page {
        items: items.iter().map(TemplateView::from).collect(),
        next_cursor,
    }))
}
