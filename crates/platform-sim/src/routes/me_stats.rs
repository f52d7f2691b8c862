//! `GET /api/v1/me/stats`: the token owner's counts (scope `profile`).

use actix_web::{web, HttpRequest, HttpResponse};

use super::bearer;
use crate::{users, OAuthError, Sim};

pub(super) async fn me_stats(
    sim: web::Data<Sim>,
    req: HttpRequest,
) -> Result<HttpResponse, OAuthError> {
    let principal = sim.authenticate(bearer(&req))?;
    principal.require("profile")?;
    Ok(HttpResponse::Ok().json(users::stats(&principal.user)))
}
