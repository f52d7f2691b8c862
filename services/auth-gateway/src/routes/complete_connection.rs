//! `POST /v1/connections/complete`.

use actix_web::{web, HttpResponse};

use crate::{
    auth::AuthUser,
    connect::{self, CompleteConnection},
    error::ApiError,
    state::AppState,
    views::{AccountView, CompletedView},
};

/// Finishes a connection: the frontend calls this, with its user's token, as soon as the
/// OAuth callback has sent the browser back with `?platform=<platform>&ticket=<ticket>`. Only
/// the user who started the connection can complete it; the ticket works once and for
/// 5 minutes. Another user's ticket, an unknown, used or expired one: 404 (another user's
/// tokens are discarded, nothing is connected or announced).
#[utoipa::path(post, path = "/v1/connections/complete", tag = "connections", operation_id = "completeConnection",
    request_body(content = CompleteConnection, description = "The `ticket` from the callback's redirect"),
    responses(
        (status = 200, description = "Connected: the platform and its accounts", body = CompletedView),
        (status = 400, description = "Malformed body"),
        (status = 404, description = "Unknown, used, expired or another user's ticket")))]
pub async fn complete(
    user: AuthUser,
    state: web::Data<AppState>,
    body: web::Json<CompleteConnection>,
) -> Result<HttpResponse, ApiError> {
    let (platform, accounts) = connect::complete(&state, user.0, &body.ticket).await?;
    Ok(HttpResponse::Ok().json(CompletedView {
        platform: platform.as_str().to_owned(),
        accounts: accounts
            .iter()
            .map(|a| AccountView::new(a, &state.adapters))
            .collect(),
    }))
}
