//! `GET /v1/posts/{id}/metrics`.

use actix_web::{web, HttpResponse};

use crate::{
    analytics::{self, view::PostMetricsView},
    auth::AuthUser,
    error::ApiError,
    params::parse_post_id,
    state::AppState,
};

/// A post's engagement per target: the latest read and the whole series, as the platforms
/// reported it (`null` where a platform gives no such figure).
#[utoipa::path(get, path = "/v1/posts/{id}/metrics", tag = "analytics", operation_id = "getPostMetrics", params(("id" = String, Path, description = "The post's id")),
    responses((status = 200, description = "The post's engagement per target", body = PostMetricsView), (status = 404, description = "No such post of yours")))]
pub async fn get(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let view = analytics::post_metrics(&state, user.0, parse_post_id(&id)?).await?;
    Ok(HttpResponse::Ok().json(view))
}
