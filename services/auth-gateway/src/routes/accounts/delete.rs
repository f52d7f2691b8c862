//! `DELETE /v1/accounts/{id}`.

use actix_web::{web, HttpResponse};

use crate::{
    accounts, auth::AuthUser, error::ApiError, params::parse_account_id, state::AppState,
    views::AccountView,
};

/// Disconnects the account: it turns `disconnecting` at once; account-registry then revokes the
/// grant at the platform where possible, wipes the tokens and emits `account.disconnected`.
/// The env account (`source: "env"`) cannot be disconnected: 409 `env_account_read_only`.
#[utoipa::path(delete, path = "/v1/accounts/{id}", tag = "accounts", operation_id = "disconnectAccount",
    params(("id" = String, Path, description = "The account's id")),
    responses((status = 202, description = "Disconnecting", body = AccountView), (status = 404, description = "No such account of yours"),
        (status = 409, description = "`env_account_read_only`: the deployment's own account")))]
pub async fn delete(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let account = accounts::disconnect(&state, user.0, parse_account_id(&id)?).await?;
    Ok(HttpResponse::Accepted().json(AccountView::new(&account, &state.adapters)))
}
