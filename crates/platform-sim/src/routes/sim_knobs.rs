//! `GET /_sim/knobs` and `POST /_sim/knobs`: read or partially change the knobs at run time.

use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::{KnobsUpdate, Sim};

pub(super) async fn current(sim: web::Data<Sim>) -> HttpResponse {
    HttpResponse::Ok().json(sim.knobs())
}

pub(super) async fn update(sim: web::Data<Sim>, update: web::Json<KnobsUpdate>) -> HttpResponse {
    match sim.update_knobs(update.into_inner()) {
        Ok(knobs) => {
            tracing::info!(?knobs, "knobs changed");
            HttpResponse::Ok().json(knobs)
        }
        Err(message) => HttpResponse::BadRequest()
            .json(json!({ "error": "invalid_request", "error_description": message })),
    }
}
