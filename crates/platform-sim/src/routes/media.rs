//! `POST /api/v1/media`: uploads one image or video (scope `publish`) as the raw request body,
//! typed by its `Content-Type`, as Bluesky's `uploadBlob` takes it; optional `?alt_text=`. The
//! body is hashed as it streams in and then dropped: the sim keeps size and SHA-256 only.

use actix_web::{http::header, web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde::Deserialize;

use super::bearer;
use crate::{
    posts::{self, MediaAnswer, Upload},
    ApiError, Sim, MAX_MEDIA_BYTES,
};

#[derive(Debug, Deserialize)]
pub(super) struct UploadQuery {
    alt_text: Option<String>,
}

pub(super) async fn upload(
    sim: web::Data<Sim>,
    req: HttpRequest,
    query: web::Query<UploadQuery>,
    mut body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let principal = sim.authenticate(bearer(&req))?;
    principal.require("publish")?;
    let mime_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(posts::media_type)
        .ok_or(ApiError::UnsupportedMediaType)?;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > MAX_MEDIA_BYTES) {
        return Err(ApiError::PayloadTooLarge);
    }
    let mut digest = ring::digest::Context::new(&ring::digest::SHA256);
    let mut size: u64 = 0;
    while let Some(chunk) = body.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::InvalidRequest(format!("reading the upload: {e}")))?;
        size += chunk.len() as u64;
        if size > MAX_MEDIA_BYTES {
            return Err(ApiError::PayloadTooLarge);
        }
        digest.update(&chunk);
    }
    let mut sha256 = [0u8; 32];
    sha256.copy_from_slice(digest.finish().as_ref());
    let upload = Upload {
        mime_type,
        size,
        sha256,
        alt_text: query.into_inner().alt_text,
    };
    let media = sim.upload_media(&principal.user, upload)?;
    Ok(HttpResponse::Created().json(MediaAnswer::from(media)))
}
