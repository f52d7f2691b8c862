//! `GET /u/{username}/posts/{id}`: the public page behind a post's `url`.

use actix_web::{http::StatusCode, web, HttpRequest, HttpResponse};

use super::{html, public_base};
use crate::{html as pages, users, Sim};

pub(super) async fn post_page(
    sim: web::Data<Sim>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (username, id) = path.into_inner();
    let post = users::normalize(&username)
        .zip(sim.find_post(&id))
        .filter(|(user, post)| post.user == *user);
    let Some((username, post)) = post else {
        return HttpResponse::NotFound().finish();
    };
    let profile = users::profile(&username, &public_base(&sim, &req));
    html(StatusCode::OK, pages::post_page(&profile, &post))
}
