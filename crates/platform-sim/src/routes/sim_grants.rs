//! `POST /_sim/grants`: mints a connected account's tokens without the browser round trip, for
//! benchmarks seeding many accounts into a sim running as its own process.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use crate::{OAuthError, Sim};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct MintRequest {
    username: String,
    client_id: String,
    /// Space-separated; default `profile`.
    #[serde(default)]
    scope: String,
}

pub(super) async fn mint(
    sim: web::Data<Sim>,
    request: web::Json<MintRequest>,
) -> Result<HttpResponse, OAuthError> {
    let scopes: Vec<&str> = request.scope.split(' ').filter(|s| !s.is_empty()).collect();
    let grant = sim.mint_grant(&request.username, &request.client_id, &scopes)?;
    Ok(HttpResponse::Ok().json(grant))
}
