//! `DELETE /v1/posts/{id}`.

use actix_web::{web, HttpResponse};

use crate::{
    auth::AuthUser,
    error::ApiError,
    params::parse_post_id,
    posts::{
        deletion::{self, Progress},
        view::PostView,
    },
    state::AppState,
};

/// Deletes the post: targets not yet published are canceled; published ones are deleted from
/// their platforms by the publisher (each target's `deletion` says how it went: `deleted`, or
/// `unsupported` where the platform's API cannot delete, e.g. Instagram and TikTok). Answers
/// 202 while deletions are under way and 200 once nothing is left to do; asking again changes
/// nothing and answers the same, and a post is never deleted twice on a platform.
#[utoipa::path(delete, path = "/v1/posts/{id}", tag = "posts", operation_id = "deletePost", params(("id" = String, Path, description = "The post's id")),
    responses((status = 200, description = "Nothing left to do: the post as it stands (deleted, canceled, or never published)", body = PostView),
        (status = 202, description = "Deletion under way: poll `GET /v1/posts/{id}` for each target's outcome", body = PostView),
        (status = 404, description = "No such post of yours"),
        (status = 409, description = "`publishing_in_progress`: a target is being published right now")))]
pub async fn delete(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (view, progress) = deletion::delete(&state, user.0, parse_post_id(&id)?).await?;
    Ok(match progress {
        Progress::UnderWay => HttpResponse::Accepted().json(view),
        Progress::Done => HttpResponse::Ok().json(view),
    })
}
