//! What the frontend sees of an upload.

use chrono::{DateTime, Utc};
use db::{domain::MediaId, media::Media};
use media_store::UrlSigner;
use serde::Serialize;
use utoipa::ToSchema;

/// An uploaded image or video.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MediaView {
    #[schema(value_type = String, format = Uuid)]
    pub id: MediaId,
    /// Detected from the file's content, not from what the client declared.
    #[schema(example = "image/png")]
    pub mime_type: String,
    pub size_bytes: i64,
    /// SHA-256 of the file, lowercase hex.
    pub sha256: String,
    pub width: Option<i32>,
    pub height: Option<i32>,
    /// Videos only, where the file says.
    pub duration_ms: Option<i32>,
    pub alt_text: Option<String>,
    pub created_at: DateTime<Utc>,
    /// A signed URL to the file (for previews), valid for `media.url_ttl_secs`.
    pub url: String,
}

impl MediaView {
    /// The view of `media`, with a freshly signed URL.
    pub fn new(media: &Media, signer: &UrlSigner) -> Self {
        Self {
            id: media.id,
            mime_type: media.mime_type.clone(),
            size_bytes: media.size_bytes,
            sha256: hex::encode(&media.sha256),
            width: media.width,
            height: media.height,
            duration_ms: media.duration_ms,
            alt_text: media.alt_text.clone(),
            created_at: media.created_at,
            url: signer.sign(media.id),
        }
    }
}
