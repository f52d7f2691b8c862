//! `POST /v1/connections/{platform}`.

use actix_web::{web, HttpResponse};

use crate::{
    auth::AuthUser,
    connect::{self, StartConnection, Started},
    error::ApiError,
    params::parse_platform,
    state::AppState,
    views::{enums::PlatformSchema, AccountView, AuthorizeView},
};

/// Starts connecting a platform: answers `{authorize_url}` for OAuth platforms (send the
/// browser there), or the new account at once for Bluesky (app password). The body is optional
/// for OAuth platforms.
#[utoipa::path(post, path = "/v1/connections/{platform}", tag = "connections", operation_id = "startConnection",
    params(("platform" = PlatformSchema, Path, description = "The platform to connect")),
    request_body(content = Option<StartConnection>, description = "Optional (OAuth platforms need no body): `redirect_to`; `instance` for Mastodon; `identifier` + `app_password` (+ `service`) for Bluesky"),
    responses(
        (status = 200, description = "Send the browser to the authorize URL", body = AuthorizeView),
        (status = 201, description = "Bluesky account connected", body = AccountView),
        (status = 400, description = "Unknown or unconfigured platform, bad redirect, missing fields"),
        (status = 422, description = "The platform refused (e.g. a main password instead of an app password)")))]
pub async fn start(
    user: AuthUser,
    state: web::Data<AppState>,
    platform: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let platform = parse_platform(&platform)?;
    let request: StartConnection = if body.iter().all(u8::is_ascii_whitespace) {
        StartConnection::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::bad_request("invalid_body", format!("invalid JSON body: {e}")))?
    };
    Ok(
        match connect::start(&state, user.0, platform, request).await? {
            Started::Authorize(authorize_url) => {
                HttpResponse::Ok().json(AuthorizeView { authorize_url })
            }
            Started::Connected(account) => {
                HttpResponse::Created().json(AccountView::new(account.as_ref(), &state.adapters))
            }
        },
    )
}
