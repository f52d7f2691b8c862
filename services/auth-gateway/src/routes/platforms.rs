//! `GET /v1/platforms`.

use actix_web::{web, HttpResponse};
use db::domain::Platform;

use crate::{
    auth::AuthUser,
    state::AppState,
    views::{Page, PlatformView},
};

/// Every platform, whether this deployment can connect it, how, and what a post may contain.
#[utoipa::path(get, path = "/v1/platforms", tag = "platforms", operation_id = "listPlatforms",
    responses((status = 200, description = "Every platform", body = Page<PlatformView>)))]
pub async fn list(_user: AuthUser, state: web::Data<AppState>) -> HttpResponse {
    let items = Platform::ALL
        .iter()
        .map(|p| {
            PlatformView::new(
                &state.adapters.descriptor(*p),
                state.adapters.is_configured(*p),
            )
        })
        .collect();
    HttpResponse::Ok().json(Page {
        items,
        next_cursor: None,
    })
}
