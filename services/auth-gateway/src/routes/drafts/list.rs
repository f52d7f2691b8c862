//! `GET /v1/drafts`.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;

use super::{service, view::DraftView};
use crate::{auth::AuthUser, error::ApiError, state::AppState, views::Page};

/// Paging of the draft list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1 to 100 (default 50).
    pub limit: Option<i64>,
}

/// The caller's drafts, most recently edited first.
#[utoipa::path(get, path = "/v1/drafts", tag = "drafts", security(("bearer" = [])), params(ListQuery),
    responses((status = 200, description = "A page of drafts", body = Page<DraftView>), (status = 400, description = "A malformed cursor")))]
pub async fn list(
    user: AuthUser,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let (items, next_cursor) = service::list(&state, user.0, query.cursor, query.limit).await?;
    Ok(HttpResponse::Ok().json(Page {
        items: items.iter().map(DraftView::from).collect(),
        next_cursor,
    }))
}
