//! `GET /u/{username}`: the public page behind `profile_url`.

use actix_web::{http::StatusCode, web, HttpRequest, HttpResponse};

use super::{html, public_base};
use crate::{html as pages, users, Sim};

pub(super) async fn profile_page(
    sim: web::Data<Sim>,
    req: HttpRequest,
    username: web::Path<String>,
) -> HttpResponse {
    let Some(username) = users::normalize(&username) else {
        return HttpResponse::NotFound().finish();
    };
    let profile = users::profile(&username, &public_base(&sim, &req));
    let stats = users::stats(&username);
    html(
        StatusCode::OK,
        pages::profile_page(&profile, stats.posts_count, stats.followers_count),
    )
}
