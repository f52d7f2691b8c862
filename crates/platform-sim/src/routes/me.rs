//! `GET /api/v1/me`: who the bearer token belongs to (scope `profile`).

use actix_web::{web, HttpRequest, HttpResponse};

use super::{bearer, public_base};
use crate::{users, OAuthError, Sim};

pub(super) async fn me(sim: web::Data<Sim>, req: HttpRequest) -> Result<HttpResponse, OAuthError> {
    let principal = sim.authenticate(bearer(&req))?;
    principal.require("profile")?;
    Ok(HttpResponse::Ok().json(users::profile(&principal.user, &public_base(&sim, &req))))
}
