//! The HTTP surface, one file per endpoint. Handlers only parse the request, call [`Sim`] and
//! shape its answer; every rule lives in [`crate::state`].

mod authorize;
mod avatar;
mod decision;
mod index;
mod me;
mod me_stats;
mod media;
mod metrics;
mod post_page;
mod posts_create;
mod posts_delete;
mod posts_list;
mod posts_show;
mod profile_page;
mod revoke;
mod sim_grants;
mod sim_knobs;
mod sim_post_failures;
mod sim_posts;
mod sim_replies;
mod sim_stats;
mod token;

use actix_web::{
    error::InternalError,
    http::{header, StatusCode},
    middleware::from_fn,
    web, HttpRequest, HttpResponse,
};
use serde_json::json;

use crate::{faults, ApiError, OAuthError, Sim};

/// Registers every endpoint. Expects a `web::Data<Sim>` in the app data (see
/// [`crate::start`]). Fault injection wraps only the server-to-server endpoints (token,
/// revoke, API): the browser-facing pages and the `/_sim` controls always answer.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.app_data(
        web::FormConfig::default()
            .limit(16 * 1024)
            .error_handler(|err, _| {
                tracing::debug!(error = %err, "malformed form body");
                OAuthError::InvalidRequest("expected an application/x-www-form-urlencoded body")
                    .into()
            }),
    )
    .app_data(
        web::JsonConfig::default()
            .limit(16 * 1024)
            .error_handler(|err, _| {
                let body =
                    json!({ "error": "invalid_request", "error_description": err.to_string() });
                InternalError::from_response(err, HttpResponse::BadRequest().json(body)).into()
            }),
    )
    .app_data(
        web::QueryConfig::default().error_handler(|err, _| {
            ApiError::InvalidRequest(format!("malformed query: {err}")).into()
        }),
    )
    .route("/healthz", web::get().to(index::healthz))
    .route("/", web::get().to(index::index))
    .route("/oauth/authorize", web::get().to(authorize::authorize))
    .route(
        "/oauth/authorize/decision",
        web::post().to(decision::decide),
    )
    .service(
        web::resource("/oauth/token")
            .wrap(from_fn(faults::inject))
            .route(web::post().to(token::token)),
    )
    .service(
        web::resource("/oauth/revoke")
            .wrap(from_fn(faults::inject))
            .route(web::post().to(revoke::revoke)),
    )
    .service(
        web::scope("/api/v1")
            .wrap(from_fn(faults::inject))
            .route("/me", web::get().to(me::me))
            .route("/me/stats", web::get().to(me_stats::me_stats))
            .route("/media", web::post().to(media::upload))
            .route("/posts", web::post().to(posts_create::create))
            .route("/posts", web::get().to(posts_list::list))
            .route("/posts/{id}", web::delete().to(posts_delete::delete))
            .route("/posts/{id}", web::get().to(posts_show::show))
            .route("/metrics", web::get().to(metrics::metrics)),
    )
    .route("/avatars/{file}", web::get().to(avatar::avatar))
    .route("/u/{username}", web::get().to(profile_page::profile_page))
    .route(
        "/u/{username}/posts/{id}",
        web::get().to(post_page::post_page),
    )
    .route("/_sim/stats", web::get().to(sim_stats::stats))
    .route("/_sim/posts", web::get().to(sim_posts::posts))
    .route("/_sim/replies", web::get().to(sim_replies::replies))
    .route(
        "/_sim/post-failures",
        web::post().to(sim_post_failures::add),
    )
    .route("/_sim/knobs", web::get().to(sim_knobs::current))
    .route("/_sim/knobs", web::post().to(sim_knobs::update))
    .route("/_sim/grants", web::post().to(sim_grants::mint));
}

/// The token of an `Authorization: Bearer …` header (scheme case-insensitive, RFC 6750 §2.1).
fn bearer(req: &HttpRequest) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// The origin put into profile and avatar URLs: the configured public URL, else the one the
/// caller used to reach the sim.
fn public_base(sim: &Sim, req: &HttpRequest) -> String {
    match sim.public_url() {
        Some(url) => url.to_owned(),
        None => {
            let info = req.connection_info();
            format!("{}://{}", info.scheme(), info.host())
        }
    }
}

/// A browser redirect. No caching, and no `Referer` carrying the code onwards.
fn redirect(status: StatusCode, location: &str) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .finish()
}

/// An HTML page that must not be cached or framed (a framed consent page invites clickjacking).
fn html(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .body(body)
}
