//! `GET /v1/drafts`.

use actix_web::{web, HttpResponse};

use crate::{
    auth::AuthUser,
    cursor::PageRequest,
    drafts::{service, view::DraftView},
    error::ApiError,
    routes::PageQuery,
    state::AppState,
    views::Page,
};

/// The caller's drafts, most recently edited first.
#[utoipa::path(get, path = "/v1/drafts", tag = "drafts", operation_id = "listDrafts", params(PageQuery),
    responses((status = 200, description = "A page of drafts", body = Page<DraftView>), (status = 400, description = "A malformed cursor or query")))]
pub async fn list(
    user: AuthUser,
    state: web::Data<AppState>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = PageRequest::new(query.cursor.as_deref(), query.limit)?;
    let (items, next_cursor) = service::list(&state, user.0, page).await?;
    Ok(HttpResponse::Ok().json(Page {
        items: items.iter().map(DraftView::from).collect(),
        next_cursor,
    }))
}
