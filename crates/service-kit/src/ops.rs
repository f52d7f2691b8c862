//! Operations endpoints and the HTTP server every service runs.

use std::{net::TcpListener, time::Duration};

use actix_web::{
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    http::header::{HeaderName, HeaderValue},
    middleware::{from_fn, Next},
    web, App, HttpResponse, HttpServer,
};
use db::Db;
use prometheus::{Encoder, HistogramOpts, HistogramVec, Registry, TextEncoder};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

/// The header carrying the request id in and out.
pub const REQUEST_ID: &str = "x-request-id";

/// A service's Prometheus registry plus the HTTP latency histogram every service has.
#[derive(Debug, Clone)]
pub struct Metrics {
    registry: Registry,
    http_duration: HistogramVec,
}

impl Metrics {
    /// A registry whose metrics all carry `service="<name>"`.
    pub fn new(service: &str) -> prometheus::Result<Self> {
        let labels = std::iter::once(("service".to_owned(), service.to_owned())).collect();
        let registry = Registry::new_custom(None, Some(labels))?;
        let http_duration = HistogramVec::new(
            HistogramOpts::new(
                "postbridge_http_request_duration_seconds",
                "HTTP request latency",
            )
            .buckets(vec![
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ]),
            &["method", "route", "status"],
        )?;
        registry.register(Box::new(http_duration.clone()))?;
        #[cfg(target_os = "linux")]
        registry.register(Box::new(
            prometheus::process_collector::ProcessCollector::for_self(),
        ))?;
        Ok(Self {
            registry,
            http_duration,
        })
    }

    /// Where a service registers its own metrics.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut buf);
        String::from_utf8(buf).unwrap_or_default()
    }
}

/// What `/readyz` checks: the service can do no useful work without either.
///
/// The answer must arrive within `timeout` whatever the dependencies do (a probe that gets no
/// answer is a failed probe, and one that arrives late says nothing), so both checks run at
/// once under a deadline a little shorter than `timeout`, leaving the rest for the HTTP round
/// trip. In particular the PostgreSQL check does not wait the pool's own checkout timeout.
#[derive(Debug, Clone)]
pub struct Readiness {
    db: Db,
    amqp_url: SecretString,
    timeout: Duration,
}

impl Readiness {
    /// Checks `db` and the broker at `amqp_url`, answering within two seconds (the Kubernetes
    /// probes give `/readyz` three).
    pub fn new(db: Db, amqp_url: SecretString) -> Self {
        Self {
            db,
            amqp_url,
            timeout: Duration::from_secs(2),
        }
    }

    /// The same checks, answering within `timeout`.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How long the checks may take: the timeout less a margin of a fifth (at most 250 ms).
    fn deadline(&self) -> Duration {
        self.timeout - (self.timeout / 5).min(Duration::from_millis(250))
    }

    /// `(postgres, rabbitmq)`: `Ok` or a short reason, within the deadline.
    pub async fn check(&self) -> (Result<(), String>, Result<(), String>) {
        let deadline = self.deadline();
        let pg = async {
            match tokio::time::timeout(deadline, self.db.ping_within(deadline)).await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err(e.to_string()),
                Err(_) => Err(format!("no answer within {deadline:?}")),
            }
        };
        let amqp = async {
            events::probe(self.amqp_url.expose_secret(), deadline)
                .await
                .map_err(|e| e.to_string())
        };
        tokio::join!(pg, amqp)
    }
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

async fn readyz(readiness: web::Data<Readiness>) -> HttpResponse {
    let (pg, amqp) = readiness.check().await;
    let describe = |r: &Result<(), String>| match r {
        Ok(()) => json!({ "ok": true }),
        Err(e) => json!({ "ok": false, "error": e }),
    };
    let body = json!({
        "status": if pg.is_ok() && amqp.is_ok() { "ready" } else { "not_ready" },
        "checks": { "postgres": describe(&pg), "rabbitmq": describe(&amqp) },
    });
    if pg.is_ok() && amqp.is_ok() {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

async fn metrics(metrics: web::Data<Metrics>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(metrics.render())
}

/// Registers `/healthz`, `/readyz` and `/metrics`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz))
        .route("/metrics", web::get().to(metrics));
}

/// Gives the request an id (the caller's `X-Request-Id` when it is sane, a new UUID otherwise),
/// runs it inside a span carrying that id, echoes the id back and records the latency.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let request_id = req
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 128
                && v.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let method = req.method().to_string();
    let span = tracing::info_span!("request", request_id = %request_id, method = %method, path = %req.path());
    let started = std::time::Instant::now();
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();
    let mut res = next.call(req).instrument(span.clone()).await?;
    let elapsed = started.elapsed();
    let status = res.status().as_u16();
    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".into());
    if let Some(metrics) = metrics {
        metrics
            .http_duration
            .with_label_values(&[&method, &route, &status.to_string()])
            .observe(elapsed.as_secs_f64());
    }
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        res.headers_mut()
            .insert(HeaderName::from_static(REQUEST_ID), value);
    }
    if route != "/healthz" && route != "/readyz" && route != "/metrics" {
        tracing::info!(parent: &span, status, duration_ms = elapsed.as_secs_f64() * 1000.0, route = %route, "request handled");
    }
    Ok(res)
}

/// Serves the ops routes plus whatever `configure` adds, on `listener`, until `shutdown` is
/// cancelled (then stops accepting and lets in-flight requests finish for up to 10 s).
pub fn serve<F>(
    listener: TcpListener,
    workers: usize,
    metrics: Metrics,
    readiness: Readiness,
    configure: F,
    shutdown: CancellationToken,
) -> std::io::Result<tokio::task::JoinHandle<std::io::Result<()>>>
where
    F: Fn(&mut web::ServiceConfig) + Clone + Send + 'static,
{
    let metrics = web::Data::new(metrics);
    let readiness = web::Data::new(readiness);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(metrics.clone())
            .app_data(readiness.clone())
            .wrap(from_fn(observe))
            .configure(routes)
            .configure(configure.clone())
    })
    .workers(workers.max(1))
    .disable_signals()
    .shutdown_timeout(10)
    .listen(listener)?
    .run();
    let handle = server.handle();
    tokio::spawn(async move {
        shutdown.cancelled().await;
        handle.stop(true).await;
    });
    Ok(tokio::spawn(server))
}
