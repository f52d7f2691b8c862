//! Fault injection for the server-to-server endpoints (token, revoke, API): the added latency
//! and the fractions of 429 and 503 answers set by the knobs. Injected before the handler runs,
//! so a faulted call changes nothing: a refresh answered 503 has not used its refresh token,
//! exactly as a real platform failing in front of its token service.

use std::time::Duration;

use actix_web::{
    body::{EitherBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    http::header,
    middleware::Next,
    web, HttpResponse,
};
use serde_json::json;

use crate::{knobs::Fault, Sim};

/// Middleware (`actix_web::middleware::from_fn`) applying the knobs to one call.
pub(crate) async fn inject(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let Some(sim) = req.app_data::<web::Data<Sim>>().cloned() else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    };
    let latency = sim.knobs().latency_ms;
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    let response = match sim.draw_fault() {
        None => return next.call(req).await.map(ServiceResponse::map_into_left_body),
        Some(Fault::RateLimited) => HttpResponse::TooManyRequests()
            .insert_header((header::RETRY_AFTER, "1"))
            .json(json!({ "error": "rate_limited", "error_description": "injected by platform-sim" })),
        Some(Fault::Unavailable) => HttpResponse::ServiceUnavailable()
            .json(json!({ "error": "temporarily_unavailable", "error_description": "injected by platform-sim" })),
    };
    Ok(req.into_response(response).map_into_right_body())
}
