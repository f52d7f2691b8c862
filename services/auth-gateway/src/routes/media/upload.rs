//! `POST /v1/media`.

use actix_web::{web, HttpRequest, HttpResponse};
use utoipa::ToSchema;

use crate::{
    auth::AuthUser,
    error::ApiError,
    media::{intake, service, view::MediaView},
    state::AppState,
};

/// The form of an upload (documentation only: the body is streamed, not deserialized).
#[derive(Debug, ToSchema)]
pub struct UploadForm {
    /// The image or video: JPEG, PNG, GIF, WebP, MP4 or QuickTime, recognised by content.
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
    /// A description for people who cannot see the image (at most 2,000 characters).
    pub alt_text: Option<String>,
}

/// Uploads an image or video for use in drafts and posts. The type comes from the file's
/// content; a declared type that disagrees is refused, as is a file over its type's limit
/// (`media.max_image_bytes`, `media.max_video_bytes`), before it is stored.
#[utoipa::path(post, path = "/v1/media", tag = "media", operation_id = "uploadMedia",
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses((status = 201, description = "Stored", body = MediaView), (status = 400, description = "No `file` part, an unexpected part or a malformed form"),
        (status = 413, description = "Over the size limit"), (status = 415, description = "Not multipart, or the content is not an accepted type"),
        (status = 422, description = "The declared type disagrees with the content, or the image header is unreadable"),
        (status = 503, description = "Too many uploads in progress on this gateway; retry after `Retry-After` seconds")))]
pub async fn upload(
    user: AuthUser,
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    // Held until the file is stored: receiving and probing it costs disk and CPU.
    let _slot = state.uploads.try_acquire().map_err(|_| ApiError::Busy {
        code: "uploads_busy",
        message: format!(
            "this server is receiving {} uploads already; try again in a few seconds",
            state.media.max_concurrent_uploads.max(1)
        ),
        retry_after_secs: 5,
    })?;
    let upload = intake::read(&req, payload, &state.media, state.blobs.as_ref()).await?;
    let media = service::create(&state, user.0, upload).await?;
    Ok(HttpResponse::Created().json(MediaView::new(&media, &state.signer)))
}
