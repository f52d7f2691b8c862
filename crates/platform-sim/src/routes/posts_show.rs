//! `GET /api/v1/posts/{id}`: one post (scope `publish`). Posts are public, so any user's post
//! can be read.

use actix_web::{web, HttpRequest, HttpResponse};

use super::{bearer, public_base};
use crate::{posts::PostAnswer, ApiError, Sim};

pub(super) async fn show(
    sim: web::Data<Sim>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let principal = sim.authenticate(bearer(&req))?;
    principal.require("publish")?;
    let post = sim.find_post(&id).ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(PostAnswer::new(post, &public_base(&sim, &req))))
}
