//! `GET /healthz` and `GET /`: liveness, and a map of what the sim serves.

use actix_web::HttpResponse;
use serde_json::json;

pub(super) async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

pub(super) async fn index() -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "name": "platform-sim",
        "platforms": ["sandbox"],
        "endpoints": {
            "authorize": "/oauth/authorize",
            "token": "/oauth/token",
            "revoke": "/oauth/revoke",
            "me": "/api/v1/me",
            "me_stats": "/api/v1/me/stats",
            "media": "/api/v1/media",
            "posts": "/api/v1/posts",
            "sim_stats": "/_sim/stats",
            "sim_knobs": "/_sim/knobs",
            "sim_posts": "/_sim/posts",
            "sim_grants": "/_sim/grants",
        },
    }))
}
