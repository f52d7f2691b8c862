//! `PATCH /v1/posts/{id}`.

use actix_web::{web, HttpResponse};

use crate::{
    auth::AuthUser,
    error::ApiError,
    params::parse_post_id,
    posts::{self, request::UpdatePost, view::PostView},
    state::AppState,
};

/// Reschedules or edits a post while all of its targets are still waiting; the new content is
/// checked against every platform again.
#[utoipa::path(patch, path = "/v1/posts/{id}", tag = "posts", operation_id = "updatePost", params(("id" = String, Path, description = "The post's id")), request_body = UpdatePost,
    responses((status = 200, description = "The post", body = PostView), (status = 404, description = "No such post of yours"), (status = 409, description = "Already publishing"), (status = 422, description = "Refused")))]
pub async fn update(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: web::Json<UpdatePost>,
) -> Result<HttpResponse, ApiError> {
    let view = posts::update(&state, user.0, parse_post_id(&id)?, body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(view))
}
