//! `POST /v1/accounts/{id}/sync`.

use actix_web::{web, HttpResponse};

use crate::{
    accounts, auth::AuthUser, error::ApiError, params::parse_account_id, state::AppState,
    views::AcceptedView,
};

/// Asks for a fresh profile and counts; the account shows them once `account.synced` is out.
#[utoipa::path(post, path = "/v1/accounts/{id}/sync", tag = "accounts", operation_id = "syncAccount",
    params(("id" = String, Path, description = "The account's id")),
    responses((status = 202, description = "Sync requested", body = AcceptedView), (status = 404, description = "No such account of yours"),
        (status = 409, description = "`account_disconnecting`, or `env_account_read_only` (the deployment's own account)")))]
pub async fn sync(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    accounts::request_sync(&state, user.0, parse_account_id(&id)?).await?;
    Ok(HttpResponse::Accepted().json(AcceptedView {
        status: "sync_requested",
    }))
}
