//! `POST /v1/posts/{id}/cancel`.

use actix_web::{web, HttpResponse};

use crate::{
    auth::AuthUser,
    error::ApiError,
    params::parse_post_id,
    posts::{self, view::PostView},
    state::AppState,
};

/// Cancels the targets that have not gone out yet; those already publishing continue.
#[utoipa::path(post, path = "/v1/posts/{id}/cancel", tag = "posts", operation_id = "cancelPost", params(("id" = String, Path, description = "The post's id")),
    responses((status = 200, description = "The post", body = PostView), (status = 404, description = "No such post of yours"), (status = 409, description = "Nothing left to cancel")))]
pub async fn cancel(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let view = posts::cancel(&state, user.0, parse_post_id(&id)?).await?;
    Ok(HttpResponse::Ok().json(view))
}
