//! `POST /v1/accounts/{id}/resume`.

use actix_web::{web, HttpResponse};

use crate::{
    account_pause, auth::AuthUser, error::ApiError, params::parse_account_id, state::AppState,
    views::AccountView,
};

/// Resumes a paused account: the posts it held go out at once. Resuming an account that is not paused changes nothing.
#[utoipa::path(post, path = "/v1/accounts/{id}/resume", tag = "accounts", operation_id = "resumeAccount",
    params(("id" = String, Path, description = "The account's id")),
    responses((status = 200, description = "The account", body = AccountView), (status = 404, description = "No such account of yours"), (status = 409, description = "`env_account_read_only`: the deployment's own account")))]
pub async fn resume(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let account = account_pause::set_paused(&state, user.0, parse_account_id(&id)?, false).await?;
    Ok(HttpResponse::Ok().json(AccountView::new(&account, &state.adapters)))
}
