//! `POST /v1/posts/{id}/retry`.

use actix_web::{web, HttpResponse};

use crate::{
    auth::AuthUser,
    error::ApiError,
    params::parse_post_id,
    posts::{self, view::PostView},
    state::AppState,
};

/// Publishes the failed targets again, now; published targets are never repeated.
#[utoipa::path(post, path = "/v1/posts/{id}/retry", tag = "posts", operation_id = "retryPost", params(("id" = String, Path, description = "The post's id")),
    responses((status = 200, description = "The post", body = PostView), (status = 404, description = "No such post of yours"), (status = 409, description = "No failed targets (`nothing_to_retry`), or the post was asked to be deleted (`post_deleted`)")))]
pub async fn retry(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let view = posts::retry(&state, user.0, parse_post_id(&id)?).await?;
    Ok(HttpResponse::Ok().json(view))
}
