//! `GET /v1/oauth/{platform}/callback`.

use actix_web::{http::header::LOCATION, web, HttpRequest, HttpResponse};

use crate::{
    auth::{bearer_token, Authenticator},
    connect::{self, CallbackQuery},
    params::parse_platform,
    state::AppState,
    views::enums::PlatformSchema,
};

/// Where the platform sends the browser back. Connects nothing by itself: it exchanges the
/// code and always answers with a redirect to the frontend, either
/// `?platform=<platform>&ticket=<ticket>` (the frontend then calls
/// `POST /v1/connections/complete {"ticket"}` with its user's token) or `?error=<code>`.
#[utoipa::path(get, path = "/v1/oauth/{platform}/callback", tag = "connections", operation_id = "oauthCallback",
    params(("platform" = PlatformSchema, Path, description = "The platform sending the browser back"),
        ("code" = Option<String>, Query, description = "The authorization code"),
        ("state" = Option<String>, Query, description = "The state Postbridge sent"),
        ("error" = Option<String>, Query, description = "The platform's refusal, e.g. `access_denied`")),
    responses((status = 302, description = "Back to the frontend with `platform` and a one-time `ticket` to complete the connection (`POST /v1/connections/complete`), or with `error`",
        headers(("Location" = String, description = "The frontend URL, e.g. `http://localhost:3000/?platform=sandbox&ticket=…` or `…/?error=access_denied`")))))]
pub async fn callback(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: web::Data<Authenticator>,
    platform: web::Path<String>,
    query: web::Query<CallbackQuery>,
) -> HttpResponse {
    let location = match parse_platform(&platform) {
        Ok(platform) => {
            // A browser redirect normally carries no bearer token; when one is present it must
            // belong to the user who started the authorization.
            let caller = match bearer_token(&req) {
                Some(token) => Some(auth.verify(&token).await.ok()),
                None => None,
            };
            match caller {
                Some(None) => {
                    connect::with_query(&state.default_redirect(), &[("error", "invalid_state")])
                }
                Some(owner) => connect::callback(&state, platform, query.into_inner(), owner).await,
                None => connect::callback(&state, platform, query.into_inner(), None).await,
            }
        }
        Err(_) => connect::with_query(&state.default_redirect(), &[("error", "unknown_platform")]),
    };
    HttpResponse::Found()
        .insert_header((LOCATION, location))
        .finish()
}
