//! `GET /_sim/stats`: the counters, for tests and benchmarks driving a sim out of process.

use actix_web::{web, HttpResponse};

use crate::Sim;

pub(super) async fn stats(sim: web::Data<Sim>) -> HttpResponse {
    HttpResponse::Ok().json(sim.stats())
}
