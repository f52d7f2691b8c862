//! `POST /v1/posts/{id}/metrics/refresh`.

use actix_web::{web, HttpResponse};

use crate::{
    analytics::{self, view::RefreshView},
    auth::AuthUser,
    error::ApiError,
    params::parse_post_id,
    state::AppState,
};

/// Reads the post's engagement now: its published targets become due and the publisher reads
/// them within moments (in the platform's budget, after any due publish). A target read in
/// the last 10 seconds is not read again.
#[utoipa::path(post, path = "/v1/posts/{id}/metrics/refresh", tag = "analytics", operation_id = "refreshPostMetrics", params(("id" = String, Path, description = "The post's id")),
    responses((status = 202, description = "The targets that will be read", body = RefreshView), (status = 404, description = "No such post of yours"), (status = 409, description = "Nothing of the post is published yet")))]
pub async fn refresh(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let view = analytics::refresh(&state, user.0, parse_post_id(&id)?).await?;
    Ok(HttpResponse::Accepted().json(view))
}
