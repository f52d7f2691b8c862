#![doc = include_str!("../README.md")]

use std::net::TcpListener;

use actix_web::{web, App, HttpResponse, HttpServer};
use serde::Deserialize;
use serde_json::json;

/// `[platform_sim]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimSettings {
    /// Address of the HTTP listener; port 0 picks a free one.
    pub listen: String,
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

async fn index() -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "name": "platform-sim",
        "platforms": [],
    }))
}

/// The simulator's routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/", web::get().to(index));
}

/// Serves the simulator on `listener` until the returned server is stopped.
pub fn serve(listener: TcpListener) -> std::io::Result<actix_web::dev::Server> {
    Ok(HttpServer::new(|| App::new().configure(routes))
        .workers(2)
        .listen(listener)?
        .run())
}
