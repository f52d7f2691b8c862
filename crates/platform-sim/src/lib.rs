#![doc = include_str!("../README.md")]

mod avatar;
mod client_auth;
mod deletion;
mod engagement;
mod error;
mod faults;
mod handle;
mod html;
mod knobs;
mod posts;
mod replies;
mod routes;
mod secrets;
mod state;
mod urlenc;
mod users;

use std::net::TcpListener;

use actix_web::{dev::Server, middleware::from_fn, web, App, HttpServer};
use serde::Deserialize;

pub use error::{ApiError, OAuthError};
pub use handle::SimHandle;
pub use knobs::{Knobs, KnobsUpdate};
pub use posts::{SimMedia, SimPost, MAX_MEDIA_BYTES, MAX_MEDIA_PER_POST, MAX_TEXT_CHARS};
pub use replies::{PostFailure, SimReply};
pub use routes::routes;
pub use secrets::{ACCESS_TOKEN_PREFIX, CODE_PREFIX, REFRESH_TOKEN_PREFIX};
pub use state::{Sim, SimStats, TokenGrant, KNOWN_SCOPES};
pub use users::{UserProfile, UserStats, DEFAULT_USER};

/// `[platform_sim]`. Every field but `listen` has a default so older configuration files keep
/// working; `config/default.toml` spells them all out.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimSettings {
    /// Address of the HTTP listener; port 0 picks a free one.
    pub listen: String,
    /// Show an Approve/Deny consent page instead of approving every authorization at once
    /// (development default: off, so connecting a sandbox account is one click in the app).
    #[serde(default)]
    pub consent_page: bool,
    /// Access-token lifetime in seconds.
    #[serde(default = "default_ttl")]
    pub access_token_ttl_secs: u64,
    /// Delay added to every token, revoke and API call, in milliseconds.
    #[serde(default)]
    pub latency_ms: u64,
    /// Fraction (0–1) of token, revoke and API calls answered 503.
    #[serde(default)]
    pub error_rate: f64,
    /// Fraction (0–1) of token, revoke and API calls answered 429 with `Retry-After: 1`.
    #[serde(default)]
    pub rate_limit_rate: f64,
    /// Fraction (0–1) of successful post creations answered only after `stall_ms`, the post
    /// being stored already: "accepted, but the caller timed out".
    #[serde(default)]
    pub accept_then_stall_rate: f64,
    /// How long such a stalled answer is held back, in milliseconds.
    #[serde(default = "default_stall_ms")]
    pub stall_ms: u64,
    /// Milliseconds the answer to a refresh-token grant is held back after the token was
    /// rotated (0: none): "the platform rotated, the client has not heard yet".
    #[serde(default)]
    pub refresh_hold_ms: u64,
    /// Origin put into `avatar_url` and `profile_url` (e.g. `http://127.0.0.1:8090` when
    /// services reach the sim under a name the browser cannot resolve, as in docker compose);
    /// empty: the origin each API request used.
    #[serde(default)]
    pub public_url: String,
}

fn default_ttl() -> u64 {
    Knobs::default().access_token_ttl_secs
}

fn default_stall_ms() -> u64 {
    Knobs::default().stall_ms
}

impl SimSettings {
    /// The options these settings describe.
    pub fn options(&self) -> SimOptions {
        SimOptions {
            knobs: Knobs {
                consent_page: self.consent_page,
                access_token_ttl_secs: self.access_token_ttl_secs,
                latency_ms: self.latency_ms,
                error_rate: self.error_rate,
                rate_limit_rate: self.rate_limit_rate,
                accept_then_stall_rate: self.accept_then_stall_rate,
                stall_ms: self.stall_ms,
                refresh_hold_ms: self.refresh_hold_ms,
            },
            public_url: Some(self.public_url.clone()).filter(|u| !u.is_empty()),
            ..SimOptions::default()
        }
    }
}

/// How to start a sim.
#[derive(Debug, Clone)]
pub struct SimOptions {
    /// Initial knobs (changeable later).
    pub knobs: Knobs,
    /// See [`SimSettings::public_url`]; `None`: the request's origin.
    pub public_url: Option<String>,
    /// HTTP worker threads.
    pub workers: usize,
}

impl Default for SimOptions {
    fn default() -> Self {
        Self {
            knobs: Knobs::default(),
            public_url: None,
            workers: 2,
        }
    }
}

/// Starts a sim on `listener`. The returned server must be awaited or spawned
/// (`tokio::spawn(server)`) to run; the handle reads counters and changes knobs meanwhile.
pub fn start(listener: TcpListener, options: SimOptions) -> std::io::Result<(SimHandle, Server)> {
    options
        .knobs
        .validate()
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    let addr = listener.local_addr()?;
    let sim = web::Data::new(Sim::new(options.knobs, options.public_url));
    let data = sim.clone();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .wrap(from_fn(service_kit::ops::observe))
            .configure(routes)
    })
    .workers(options.workers.max(1))
    .shutdown_timeout(5)
    .listen(listener)?
    .run();
    Ok((SimHandle::new(sim, addr), server))
}

/// Serves a sim with default options on `listener` until the returned server is stopped.
pub fn serve(listener: TcpListener) -> std::io::Result<Server> {
    start(listener, SimOptions::default()).map(|(_, server)| server)
}
