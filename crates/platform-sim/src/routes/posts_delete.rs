//! `DELETE /api/v1/posts/{id}`: deletes one of the caller's posts (scope `publish`); `204`, or
//! `404` when there is no such post of theirs (see [`crate::deletion`]).

use actix_web::{web, HttpRequest, HttpResponse};

use super::bearer;
use crate::{ApiError, Sim};

pub(super) async fn delete(
    sim: web::Data<Sim>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let principal = sim.authenticate(bearer(&req))?;
    principal.require("publish")?;
    sim.delete_post(&principal.user, &id)?;
    Ok(HttpResponse::NoContent().finish())
}
