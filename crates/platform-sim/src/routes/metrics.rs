//! `GET /api/v1/metrics?ids=1,2,3`: the engagement of up to 100 posts in one request (scope
//! `publish`), shaped like X's `GET /2/tweets?ids=`: `{"data": [...]}` with one entry per
//! post found, in the order asked; an unknown id is left out, not answered with zeros.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Utc;
use serde::Deserialize;
use serde_json::json;

use super::bearer;
use crate::{engagement, ApiError, Sim};

/// Most ids one request may name.
pub(crate) const MAX_IDS: usize = 100;

#[derive(Debug, Deserialize)]
pub(super) struct MetricsQuery {
    ids: String,
}

pub(super) async fn metrics(
    sim: web::Data<Sim>,
    req: HttpRequest,
    query: web::Query<MetricsQuery>,
) -> Result<HttpResponse, ApiError> {
    let principal = sim.authenticate(bearer(&req))?;
    principal.require("publish")?;
    let ids: Vec<&str> = query.ids.split(',').filter(|id| !id.is_empty()).collect();
    if ids.is_empty() || ids.len() > MAX_IDS {
        return Err(ApiError::InvalidRequest(format!(
            "ids must name 1 to {MAX_IDS} posts"
        )));
    }
    let asked = ids.len();
    let now = Utc::now();
    let data: Vec<engagement::Engagement> = ids
        .into_iter()
        .filter_map(|id| sim.find_post(id))
        .map(|post| engagement::of(&post, &principal.user, now))
        .collect();
    sim.count_metrics_read(asked);
    Ok(HttpResponse::Ok().json(json!({ "data": data })))
}
