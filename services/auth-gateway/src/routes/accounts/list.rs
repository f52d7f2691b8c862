//! `GET /v1/accounts`.

use actix_web::{web, HttpResponse};

use crate::{
    accounts,
    auth::AuthUser,
    cursor::PageRequest,
    error::ApiError,
    routes::PageQuery,
    state::AppState,
    views::{AccountView, Page},
};

/// The caller's connected accounts, oldest first, sanitized.
#[utoipa::path(get, path = "/v1/accounts", tag = "accounts", operation_id = "listAccounts", params(PageQuery),
    responses((status = 200, description = "A page of accounts", body = Page<AccountView>),
        (status = 400, description = "A malformed cursor or query")))]
pub async fn list(
    user: AuthUser,
    state: web::Data<AppState>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = PageRequest::new(query.cursor.as_deref(), query.limit)?;
    let (items, next_cursor) = accounts::list(&state, user.0, page).await?;
    Ok(HttpResponse::Ok().json(Page {
        items: items
            .into_iter()
            .map(|a| AccountView::listed(a, &state.adapters))
            .collect(),
        next_cursor,
    }))
}
