//! `GET /_sim/posts`: every post with its author, key and create-call count, for tests and
//! benchmarks counting duplicates in a sim running out of process.

use actix_web::{web, HttpResponse};

use crate::Sim;

pub(super) async fn posts(sim: web::Data<Sim>) -> HttpResponse {
    HttpResponse::Ok().json(sim.posts())
}
