//! `POST /v1/posts`.

use actix_web::{web, HttpRequest, HttpResponse};

use crate::{
    auth::AuthUser,
    error::ApiError,
    posts::{self, request::CreatePost, view::PostView, Created},
    state::AppState,
};

/// Accepts a post to one or more accounts, now or at `scheduled_at`. With an
/// `Idempotency-Key`, repeating the request answers the same post (200); the same key with a
/// different body is a 409. Every target is checked against its platform first: a refusal is
/// a 422 naming each failing account and creates nothing.
#[utoipa::path(post, path = "/v1/posts", tag = "posts", operation_id = "createPost", request_body = CreatePost,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries of this request safe: the same key with the same body answers the post made the first time (200)", example = "3f1c2a5e-7b1d-4c8e-9a51-0d2f6b7e8c90")),
    responses((status = 201, description = "Accepted", body = PostView), (status = 200, description = "The same request again", body = PostView),
        (status = 400, description = "Malformed body, unknown platform in `variants`, or a non-ASCII `Idempotency-Key`"),
        (status = 409, description = "Idempotency-Key reused with another body"), (status = 422, description = "Refused; `details.targets` says why per account"),
        (status = 503, description = "`unavailable`: the database is briefly unreachable; retry after `Retry-After` seconds. The post may nevertheless have been accepted (the outage can cut the answer to a commit that happened), so retry with the same Idempotency-Key: it answers the existing post instead of creating a second one")))]
pub async fn create(
    user: AuthUser,
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<CreatePost>,
) -> Result<HttpResponse, ApiError> {
    let key = match req.headers().get("idempotency-key") {
        Some(value) => Some(
            value
                .to_str()
                .map_err(|_| {
                    ApiError::bad_request(
                        "invalid_idempotency_key",
                        "`Idempotency-Key` must be printable ASCII",
                    )
                })?
                .to_owned(),
        ),
        None => None,
    };
    let (view, created) = posts::create(&state, user.0, key, body.into_inner()).await?;
    Ok(match created {
        Created::New => HttpResponse::Created().json(view),
        Created::Replayed => HttpResponse::Ok().json(view),
    })
}
