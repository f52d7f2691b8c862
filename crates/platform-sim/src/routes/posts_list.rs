//! `GET /api/v1/posts`: the caller's posts (scope `publish`), newest first. With
//! `?idempotency_key=…` only the post created with that key (zero or one): how a client
//! settles a create call whose answer it never got.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::{bearer, public_base};
use crate::{posts::PostAnswer, ApiError, Sim};

const DEFAULT_LIMIT: usize = 20;
const MAX_LIMIT: usize = 100;

#[derive(Debug, Deserialize)]
pub(super) struct ListQuery {
    idempotency_key: Option<String>,
    limit: Option<usize>,
}

pub(super) async fn list(
    sim: web::Data<Sim>,
    req: HttpRequest,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let principal = sim.authenticate(bearer(&req))?;
    principal.require("publish")?;
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::InvalidRequest(format!(
            "limit must be within 1..={MAX_LIMIT}"
        )));
    }
    let posts = match query.idempotency_key.as_deref() {
        Some(key) => sim
            .find_post_by_key(&principal.user, key)
            .into_iter()
            .collect(),
        None => sim.recent_posts(&principal.user, limit),
    };
    let base = public_base(&sim, &req);
    let answer: Vec<PostAnswer> = posts
        .into_iter()
        .map(|p| PostAnswer::new(p, &base))
        .collect();
    Ok(HttpResponse::Ok().json(answer))
}
