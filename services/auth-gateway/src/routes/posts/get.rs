//! `GET /v1/posts/{id}`.

use actix_web::{web, HttpResponse};

use crate::{
    auth::AuthUser,
    error::ApiError,
    params::parse_post_id,
    posts::{self, view::PostView},
    state::AppState,
};

/// One of the caller's posts with its targets and every call made to the platforms.
#[utoipa::path(get, path = "/v1/posts/{id}", tag = "posts", operation_id = "getPost", params(("id" = String, Path, description = "The post's id")),
    responses((status = 200, description = "The post", body = PostView), (status = 404, description = "No such post of yours")))]
pub async fn get(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let view = posts::get(&state, user.0, parse_post_id(&id)?).await?;
    Ok(HttpResponse::Ok().json(view))
}
