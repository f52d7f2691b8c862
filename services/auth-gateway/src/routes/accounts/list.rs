//! `GET /v1/accounts`.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::{
    accounts,
    auth::AuthUser,
    error::ApiError,
    state::AppState,
    views::{AccountView, Page},
};

/// Paging of the account list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1 to 100 (default 50).
    pub limit: Option<i64>,
}

/// The caller's connected accounts, oldest first, sanitized.
#[utoipa::path(get, path = "/v1/accounts", tag = "accounts", security(("bearer" = [])), params(ListQuery),
    responses((status = 200, description = "A page of accounts", body = Page<AccountView>), (status = 401, description = "No or invalid token")))]
pub async fn list(
    user: AuthUser,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let (items, next_cursor) = accounts::list(&state, user.0, query.cursor, query.limit).await?;
    Ok(HttpResponse::Ok().json(Page {
        items: items.iter().map(AccountView::from).collect(),
        next_cursor,
    }))
}
