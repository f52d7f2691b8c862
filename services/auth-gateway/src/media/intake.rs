//! Reading an upload off the wire.
//!
//! The body is streamed part by part into a staged file of the blob store, so even a large
//! video is never held in memory. The file's type is decided by its first bytes, as soon as
//! they arrive, and from then on its own limit applies (images and videos differ); the upload
//! is refused the moment it goes over, and a refused upload's staged file is removed. The
//! declared `Content-Type` and the file name are only compared, never believed.

use actix_multipart::{Field, Multipart, MultipartError};
use actix_web::{http::header, web, HttpRequest};
use futures_util::StreamExt;
use media_store::{probe, BlobStore, MediaSettings, MediaType, Probe, Staged};
use serde_json::json;
use tokio::io::AsyncWriteExt;

use crate::error::ApiError;

/// Longest alt text, in characters: the most any platform takes (Bluesky: 2,000); each
/// platform's own limit is checked when a post is accepted.
pub const MAX_ALT_TEXT_CHARS: usize = 2_000;

/// Most parts a form may have: one `file` and one `alt_text`. A form is refused at the part
/// after, rather than read to the end (thousands of tiny parts cost a parse each).
const MAX_PARTS: usize = 2;

/// Room for the multipart framing and the `alt_text` part around the file, when judging a
/// declared `Content-Length`.
const ENVELOPE_BYTES: u64 = 64 * 1024;

/// A received, checked file.
#[derive(Debug)]
pub struct Upload {
    /// The whole file, staged in the blob store (removed if it is never stored).
    pub file: Staged,
    /// Its size in bytes.
    pub size: u64,
    /// Its SHA-256, computed as it arrived.
    pub sha256: Vec<u8>,
    /// Type, dimensions and duration, from its content.
    pub probe: Probe,
    /// The user's description, trimmed; `None` when absent or blank.
    pub alt_text: Option<String>,
}

/// Reads `payload` as `multipart/form-data` with one `file` part and an optional `alt_text`.
pub async fn read(
    req: &HttpRequest,
    payload: web::Payload,
    limits: &MediaSettings,
    store: &dyn BlobStore,
) -> Result<Upload, ApiError> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if !content_type.starts_with("multipart/form-data") {
        return Err(ApiError::unsupported(
            "multipart_required",
            "send the file as multipart/form-data with a `file` part (and optionally `alt_text`)",
        ));
    }
    // A declared length over every limit is refused before a byte is read.
    let declared_length = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared_length.is_some_and(|len| len > limits.max_upload_bytes() + ENVELOPE_BYTES) {
        return Err(ApiError::too_large(format!(
            "the upload is larger than the {} limit",
            human_size(limits.max_upload_bytes())
        )));
    }

    let mut form = Multipart::new(req.headers(), payload);
    let mut file = None;
    let mut alt_text = None;
    let mut parts = 0usize;
    let mut seen_alt_text = false;
    while let Some(field) = form.next().await {
        let field = field.map_err(malformed)?;
        parts += 1;
        let name = field.name().unwrap_or_default().to_owned();
        if parts > MAX_PARTS {
            return Err(ApiError::bad_request(
                "too_many_parts",
                format!("the form has more than {MAX_PARTS} parts: send one `file` and at most one `alt_text`"),
            ));
        }
        match name.as_str() {
            "file" if file.is_some() => {
                return Err(ApiError::bad_request(
                    "one_file_per_upload",
                    "send one `file` part per upload",
                ))
            }
            "file" => file = Some(read_file(field, limits, store).await?),
            "alt_text" if seen_alt_text => {
                return Err(ApiError::bad_request(
                    "duplicate_part",
                    "send at most one `alt_text` part",
                ))
            }
            "alt_text" => {
                seen_alt_text = true;
                alt_text = read_alt_text(field).await?;
            }
            other => {
                return Err(ApiError::bad_request(
                    "unexpected_part",
                    format!("unexpected part `{other}`: send `file` and optionally `alt_text`"),
                ))
            }
        }
    }
    let file =
        file.ok_or_else(|| ApiError::bad_request("file_missing", "the form has no `file` part"))?;
    Ok(Upload {
        file: file.staged,
        size: file.size,
        sha256: file.sha256,
        probe: file.probe,
        alt_text,
    })
}

struct ReceivedFile {
    staged: Staged,
    size: u64,
    sha256: Vec<u8>,
    probe: Probe,
}

async fn read_file(
    mut field: Field,
    limits: &MediaSettings,
    store: &dyn BlobStore,
) -> Result<ReceivedFile, ApiError> {
    let declared = field
        .content_type()
        .map(|mime| mime.essence_str().to_ascii_lowercase());
    let staged = store.stage().await.map_err(ApiError::internal)?;
    let mut out = tokio::fs::OpenOptions::new()
        .write(true)
        .open(staged.path())
        .await
        .map_err(ApiError::internal)?;
    let mut head = Vec::with_capacity(MediaType::SNIFF_LEN);
    let mut size = 0u64;
    let mut hash = ring::digest::Context::new(&ring::digest::SHA256);
    let mut detected: Option<MediaType> = None;
    // Until the type is known, the largest limit of any type.
    let mut limit = limits.max_upload_bytes();
    while let Some(chunk) = field.next().await {
        let chunk = chunk.map_err(malformed)?;
        // The type first, so a refusal names the right limit whatever the chunk sizes.
        if detected.is_none() {
            let wanted = MediaType::SNIFF_LEN
                .saturating_sub(head.len())
                .min(chunk.len());
            head.extend_from_slice(&chunk[..wanted]);
            if head.len() >= MediaType::SNIFF_LEN {
                let media_type = MediaType::sniff(&head).ok_or_else(not_accepted)?;
                limit = limits.max_bytes_for(media_type);
                detected = Some(media_type);
            }
        }
        size += chunk.len() as u64;
        if size > limit {
            return Err(too_large(detected, limit));
        }
        hash.update(&chunk);
        out.write_all(&chunk).await.map_err(ApiError::internal)?;
    }
    if size == 0 {
        return Err(ApiError::bad_request(
            "empty_file",
            "the `file` part is empty",
        ));
    }
    out.flush().await.map_err(ApiError::internal)?;
    drop(out);
    let path = staged.path().to_owned();
    let probe = tokio::task::spawn_blocking(move || probe::probe_file(&path))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?
        .ok_or_else(not_accepted)?;
    check_declared(declared.as_deref(), probe.media_type)?;
    if !probe.media_type.is_video() && (probe.width.is_none() || probe.height.is_none()) {
        return Err(ApiError::Unprocessable {
            code: "unreadable_media",
            message: format!(
                "the {} header could not be read: the file is truncated or corrupt",
                probe.media_type
            ),
            details: json!({ "mime_type": probe.media_type.mime() }),
        });
    }
    if let Some(problem) = probe.dimensions_problem() {
        return Err(ApiError::Unprocessable {
            code: "dimensions_out_of_range",
            message: format!("the {} is {problem}", probe.media_type),
            details: json!({
                "width": probe.width,
                "height": probe.height,
                "max_side_px": if probe.media_type.is_video() { probe::MAX_VIDEO_SIDE_PX } else { probe::MAX_IMAGE_SIDE_PX },
                "max_pixels": probe::MAX_IMAGE_PIXELS,
            }),
        });
    }
    Ok(ReceivedFile {
        staged,
        size,
        sha256: hash.finish().as_ref().to_vec(),
        probe,
    })
}

/// A declared type must agree with the content; `application/octet-stream` (what clients send
/// when they do not know) and no type at all say nothing and pass.
fn check_declared(declared: Option<&str>, actual: MediaType) -> Result<(), ApiError> {
    let Some(declared) = declared.filter(|d| *d != "application/octet-stream") else {
        return Ok(());
    };
    if MediaType::from_mime(declared).is_some_and(|d| d.matches(actual)) {
        return Ok(());
    }
    Err(ApiError::Unprocessable {
        code: "media_type_mismatch",
        message: format!("the file was declared as {declared} but its content is {actual}"),
        details: json!({ "declared": declared, "detected": actual.mime() }),
    })
}

async fn read_alt_text(mut field: Field) -> Result<Option<String>, ApiError> {
    // Four bytes per character at most in UTF-8.
    let max_bytes = MAX_ALT_TEXT_CHARS * 4;
    let too_long = || {
        ApiError::bad_request(
            "alt_text_too_long",
            format!("`alt_text` is longer than {MAX_ALT_TEXT_CHARS} characters"),
        )
    };
    let mut raw = Vec::new();
    while let Some(chunk) = field.next().await {
        let chunk = chunk.map_err(malformed)?;
        if raw.len() + chunk.len() > max_bytes {
            return Err(too_long());
        }
        raw.extend_from_slice(&chunk);
    }
    let text = String::from_utf8(raw)
        .map_err(|_| ApiError::bad_request("invalid_alt_text", "`alt_text` is not UTF-8"))?;
    if text.contains('\0') {
        return Err(crate::hardening::nul_refused("alt_text"));
    }
    let text = text.trim();
    if text.chars().count() > MAX_ALT_TEXT_CHARS {
        return Err(too_long());
    }
    Ok((!text.is_empty()).then(|| text.to_owned()))
}

fn malformed(err: MultipartError) -> ApiError {
    ApiError::bad_request(
        "invalid_multipart",
        format!("malformed multipart body: {err}"),
    )
}

fn not_accepted() -> ApiError {
    let accepted: Vec<&str> = MediaType::ALL.iter().map(|t| t.mime()).collect();
    ApiError::unsupported(
        "unsupported_media_type",
        format!(
            "the file's content is not an accepted type ({}); the type is read from the \
             content, not from the name or the declared type",
            accepted.join(", ")
        ),
    )
}

fn too_large(detected: Option<MediaType>, limit: u64) -> ApiError {
    let what = match detected {
        Some(t) if t.is_video() => "videos",
        Some(_) => "images",
        None => "uploads",
    };
    ApiError::too_large(format!(
        "the file is larger than the {} limit for {what}",
        human_size(limit)
    ))
}

/// `16 MiB`, `512 KiB`, `1000 bytes`.
fn human_size(bytes: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if bytes >= MIB && bytes / MIB * MIB == bytes {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= 1024 && bytes / 1024 * 1024 == bytes {
        format!("{} KiB", bytes / 1024)
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_naturally() {
        assert_eq!(human_size(16 * 1024 * 1024), "16 MiB");
        assert_eq!(human_size(512 * 1024), "512 KiB");
        assert_eq!(human_size(1000), "1000 bytes");
    }

    #[test]
    fn a_declared_type_must_match_the_content() {
        assert!(check_declared(None, MediaType::Png).is_ok());
        assert!(check_declared(Some("application/octet-stream"), MediaType::Png).is_ok());
        assert!(check_declared(Some("image/png"), MediaType::Png).is_ok());
        assert!(check_declared(Some("video/quicktime"), MediaType::Mp4).is_ok());
        let err = check_declared(Some("image/png"), MediaType::Jpeg).unwrap_err();
        assert!(err.to_string().contains("declared as image/png"), "{err}");
        assert!(check_declared(Some("text/plain"), MediaType::Png).is_err());
    }
}
