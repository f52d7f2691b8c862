//! `POST /_sim/post-failures`: refuse the next post creations whose text contains a marker
//! (`{"text_contains": "…", "times": 1}`), answered `422 injected_failure`. How a test makes
//! one part of a thread fail on purpose.

use actix_web::{web, HttpResponse};

use crate::{replies::PostFailure, Sim};

pub(super) async fn add(sim: web::Data<Sim>, rule: web::Json<PostFailure>) -> HttpResponse {
    sim.fail_posts(rule.into_inner());
    HttpResponse::NoContent().finish()
}
