//! `GET /_sim/replies`: every reply (`{"id", "in_reply_to"}`), in creation order, so a test
//! can read a thread back.

use actix_web::{web, HttpResponse};

use crate::Sim;

pub(super) async fn replies(sim: web::Data<Sim>) -> HttpResponse {
    HttpResponse::Ok().json(sim.replies())
}
