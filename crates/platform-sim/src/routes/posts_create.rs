//! `POST /api/v1/posts`: creates a post (scope `publish`) from `{"text", "media_ids"}`, with an
//! optional `Idempotency-Key` header: a key this user sent before answers the post it created
//! (`200`, `Idempotent-Replayed: true`) instead of a new one (`201`).
//!
//! The `accept_then_stall_rate` knob strikes *after* the post is stored: the caller waits
//! `stall_ms` for an answer that proves nothing happened twice only if it sent a key.

use actix_web::{
    http::{header, StatusCode},
    web, HttpRequest, HttpResponse,
};
use serde::Deserialize;

use super::{bearer, public_base};
use crate::{
    posts::{Created, NewPost, PostAnswer},
    ApiError, Sim,
};

/// Unknown fields are refused, so a client that misspells `media_ids` learns it at once
/// instead of posting without its pictures.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewPostBody {
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    media_ids: Vec<String>,
    /// The id of the post this one answers (see [`crate::replies`]).
    #[serde(default)]
    reply_to: Option<String>,
}

pub(super) async fn create(
    sim: web::Data<Sim>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let principal = sim.authenticate(bearer(&req))?;
    principal.require("publish")?;
    let key = match req.headers().get("idempotency-key") {
        None => None,
        Some(value) => Some(value.to_str().map_err(|_| {
            ApiError::InvalidRequest("Idempotency-Key must be visible ASCII".into())
        })?),
    };
    let is_json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return Err(ApiError::InvalidRequest(
            "expected an application/json body".into(),
        ));
    }
    let draft: NewPostBody =
        serde_json::from_slice(&body).map_err(|e| ApiError::InvalidRequest(e.to_string()))?;
    let new = NewPost {
        text: draft.text.as_deref().unwrap_or_default(),
        media_ids: &draft.media_ids,
        idempotency_key: key,
    };
    if let Some(parent) = &draft.reply_to {
        sim.check_reply_parent(parent)?;
    }
    sim.injected_post_failure(new.text)?;
    let created = sim.create_post(&principal.user, new)?;
    if let (Some(parent), Created::New(post) | Created::Replayed(post)) =
        (&draft.reply_to, &created)
    {
        sim.record_reply(&post.id, parent);
    }
    if let Some(stall) = sim.draw_stall() {
        tracing::debug!(stall_ms = stall.as_millis(), "holding back a post's answer");
        tokio::time::sleep(stall).await;
    }
    let base = public_base(&sim, &req);
    Ok(match created {
        Created::New(post) => HttpResponse::build(StatusCode::CREATED)
            .insert_header((header::LOCATION, format!("/api/v1/posts/{}", post.id)))
            .json(PostAnswer::new(post, &base)),
        Created::Replayed(post) => HttpResponse::Ok()
            .insert_header(("idempotent-replayed", "true"))
            .json(PostAnswer::new(post, &base)),
    })
}
