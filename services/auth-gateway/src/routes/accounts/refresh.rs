//! `POST /v1/accounts/{id}/refresh`.

use actix_web::{web, HttpResponse};

use crate::{
    accounts, auth::AuthUser, error::ApiError, params::parse_account_id, state::AppState,
    views::AcceptedView,
};

/// Asks token-refresher to refresh the account's token now.
#[utoipa::path(post, path = "/v1/accounts/{id}/refresh", tag = "accounts", operation_id = "refreshAccountToken",
    params(("id" = String, Path, description = "The account's id")),
    responses((status = 202, description = "Refresh requested", body = AcceptedView), (status = 404, description = "No such account of yours"),
        (status = 409, description = "`account_disconnecting`, or `env_account_read_only` (the deployment's own account)")))]
pub async fn refresh(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    accounts::request_refresh(&state, user.0, parse_account_id(&id)?).await?;
    Ok(HttpResponse::Accepted().json(AcceptedView {
        status: "refresh_requested",
    }))
}
