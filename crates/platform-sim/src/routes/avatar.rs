//! `GET /avatars/{username}.png`: the generated avatar behind `avatar_url`.

use actix_web::{http::header, web, HttpResponse};

use crate::{avatar, users};

pub(super) async fn avatar(file: web::Path<String>) -> HttpResponse {
    let Some(username) = file.strip_suffix(".png").and_then(users::normalize) else {
        return HttpResponse::NotFound().finish();
    };
    HttpResponse::Ok()
        .content_type("image/png")
        .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
        .body(avatar::png(users::fingerprint(&username)))
}
