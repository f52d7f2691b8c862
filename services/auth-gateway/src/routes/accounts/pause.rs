//! `POST /v1/accounts/{id}/pause`.

use actix_web::{web, HttpResponse};

use crate::{
    account_pause, auth::AuthUser, error::ApiError, params::parse_account_id, state::AppState,
    views::AccountView,
};

/// Pauses the account: its due posts wait (they stay `scheduled`, never failed) until it is resumed; its tokens are still kept fresh and new posts are still accepted. Pausing a paused account changes nothing.
#[utoipa::path(post, path = "/v1/accounts/{id}/pause", tag = "accounts", operation_id = "pauseAccount",
    params(("id" = String, Path, description = "The account's id")),
    responses((status = 200, description = "The account", body = AccountView), (status = 404, description = "No such account of yours"), (status = 409, description = "`env_account_read_only`: the deployment's own account")))]
pub async fn pause(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let account = account_pause::set_paused(&state, user.0, parse_account_id(&id)?, true).await?;
    Ok(HttpResponse::Ok().json(AccountView::new(&account, &state.adapters)))
}
