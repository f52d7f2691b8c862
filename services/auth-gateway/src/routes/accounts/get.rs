//! `GET /v1/accounts/{id}`.

use actix_web::{web, HttpResponse};

use crate::{
    accounts, auth::AuthUser, error::ApiError, params::parse_account_id, state::AppState,
    views::AccountView,
};

/// One of the caller's accounts; another user's answers 404.
#[utoipa::path(get, path = "/v1/accounts/{id}", tag = "accounts", operation_id = "getAccount",
    params(("id" = String, Path, description = "The account's id")),
    responses((status = 200, description = "The account", body = AccountView), (status = 404, description = "No such account of yours")))]
pub async fn get(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let account = accounts::get(&state, user.0, parse_account_id(&id)?).await?;
    Ok(HttpResponse::Ok().json(AccountView::new(&account, &state.adapters)))
}
