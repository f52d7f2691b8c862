//! `GET /v1/media/{id}/content?expires=&sig=`.

use std::ops::RangeInclusive;

use actix_web::{
    body::SizedStream,
    http::header::{self, CacheControl, CacheDirective, ContentType},
    web, HttpRequest, HttpResponse,
};
use bytes::{Bytes, BytesMut};
use futures_util::Stream;
use media_store::BlobReader;
use serde::Deserialize;
use tokio::io::AsyncReadExt;
use utoipa::IntoParams;

use crate::{error::ApiError, media::service, state::AppState};

/// The signature of a content URL.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ContentQuery {
    /// Unix seconds after which the URL stops working.
    pub expires: Option<String>,
    /// Base64url HMAC-SHA256 of the id and `expires`.
    pub sig: Option<String>,
}

/// The file itself. No bearer token: the signature is the authorization, because platforms
/// (Instagram, Threads, Pinterest) fetch media by URL. URLs come from the media views and
/// from the publisher; a missing, wrong or expired signature answers 403. A single byte range
/// (`Range: bytes=…`) is served as a 206, so a fetcher can resume a large video. `HEAD`
/// answers the same headers without the body (platforms check size and type first).
#[utoipa::path(method(get, head), path = "/v1/media/{id}/content", tag = "media", operation_id = "getMediaContent",
    params(("id" = String, Path, description = "The media's id"), ContentQuery,
        ("Range" = Option<String>, Header, description = "One byte range, e.g. `bytes=0-1023`; anything else gets the whole file")),
    responses((status = 200, description = "The file, with its stored Content-Type", content_type = "application/octet-stream", body = Vec<u8>,
            headers(("Content-Length" = u64, description = "The file's size"), ("Accept-Ranges" = String, description = "`bytes`"),
                ("Cache-Control" = String, description = "`private, max-age=<seconds the URL stays valid>`"))),
        (status = 206, description = "The requested byte range of the file", content_type = "application/octet-stream", body = Vec<u8>,
            headers(("Content-Range" = String, description = "`bytes <first>-<last>/<size>`"))),
        (status = 416, description = "The requested range lies outside the file"),
        (status = 403, description = "Missing, invalid or expired signature"), (status = 404, description = "Deleted")))]
pub async fn content(
    request: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    query: web::Query<ContentQuery>,
) -> Result<HttpResponse, ApiError> {
    let (media, len, remaining_secs) =
        service::content(&state, &id, query.expires.as_deref(), query.sig.as_deref()).await?;
    let content_type = media
        .mime_type
        .parse()
        .map(ContentType)
        .unwrap_or(ContentType::octet_stream());
    let range = request
        .headers()
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok());
    let (mut response, part) = match byte_range(range, len) {
        Wanted::Whole if len == 0 => (HttpResponse::Ok(), None),
        Wanted::Whole => (HttpResponse::Ok(), Some(0..=len - 1)),
        Wanted::Part(part) => {
            let mut response = HttpResponse::PartialContent();
            response.insert_header((
                header::CONTENT_RANGE,
                format!("bytes {}-{}/{len}", part.start(), part.end()),
            ));
            (response, Some(part))
        }
        Wanted::Unsatisfiable => {
            return Ok(HttpResponse::RangeNotSatisfiable()
                .insert_header((header::CONTENT_RANGE, format!("bytes */{len}")))
                .finish());
        }
    };
    response
        .insert_header(content_type)
        .insert_header((header::ACCEPT_RANGES, "bytes"))
        // Caches may keep it no longer than the URL is valid.
        .insert_header(CacheControl(vec![
            CacheDirective::Private,
            CacheDirective::MaxAge(u32::try_from(remaining_secs).unwrap_or(u32::MAX)),
        ]))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"));
    let Some(part) = part else {
        return Ok(response.finish());
    };
    let part_len = part.end() - part.start() + 1;
    let reader = match state.blobs.read_range(&media.storage_key, part).await {
        Ok(reader) => reader,
        Err(media_store::StoreError::NotFound(_)) => return Err(ApiError::NotFound("media")),
        Err(err) => return Err(ApiError::internal(err)),
    };
    // Streamed in pieces with its length declared: a video is never held in memory whole.
    Ok(response.body(SizedStream::new(part_len, chunks(reader))))
}

/// The reader's bytes, 64 KiB at a time; a read error ends the body early (the client sees
/// a short response against the declared length).
fn chunks(reader: BlobReader) -> impl Stream<Item = Result<Bytes, std::io::Error>> {
    futures_util::stream::unfold(Some(reader), |reader| async move {
        let mut reader = reader?;
        let mut buffer = BytesMut::with_capacity(64 * 1024);
        match reader.read_buf(&mut buffer).await {
            Ok(0) => None,
            Ok(_) => Some((Ok(buffer.freeze()), Some(reader))),
            Err(err) => Some((Err(err), None)),
        }
    })
}

/// What a `Range` header asks of a file of `len` bytes.
#[derive(Debug, PartialEq, Eq)]
enum Wanted {
    Whole,
    Part(RangeInclusive<u64>),
    Unsatisfiable,
}

/// Reads a `Range` header (RFC 9110 §14.1.2): one `bytes=` range, as `a-b`, `a-` or `-n`.
/// Anything else (other units, several ranges, a malformed header) gets the whole file, which
/// the RFC allows a server to send instead.
fn byte_range(header: Option<&str>, len: u64) -> Wanted {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return Wanted::Whole;
    };
    if spec.contains(',') {
        return Wanted::Whole;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return Wanted::Whole;
    };
    let number = |s: &str| s.trim().parse::<u64>().ok();
    let range = match (first.trim().is_empty(), number(first), number(last)) {
        // The last n bytes.
        (true, _, Some(suffix)) if suffix > 0 => len.saturating_sub(suffix)..=len.saturating_sub(1),
        (true, _, _) => return Wanted::Unsatisfiable,
        (false, Some(start), None) if last.trim().is_empty() => start..=len.saturating_sub(1),
        (false, Some(start), Some(end)) if start <= end => start..=end.min(len.saturating_sub(1)),
        _ => return Wanted::Whole,
    };
    if len == 0 || *range.start() >= len {
        Wanted::Unsatisfiable
    } else {
        Wanted::Part(range)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_single_byte_range_is_read_in_each_of_its_forms() {
        assert_eq!(byte_range(Some("bytes=0-99"), 1000), Wanted::Part(0..=99));
        assert_eq!(
            byte_range(Some("bytes=900-"), 1000),
            Wanted::Part(900..=999)
        );
        assert_eq!(
            byte_range(Some("bytes=-100"), 1000),
            Wanted::Part(900..=999)
        );
        assert_eq!(
            byte_range(Some("bytes=990-2000"), 1000),
            Wanted::Part(990..=999)
        );
        assert_eq!(byte_range(Some("bytes=-5000"), 1000), Wanted::Part(0..=999));
    }

    #[test]
    fn a_range_past_the_end_is_unsatisfiable_and_anything_else_gets_the_whole_file() {
        assert_eq!(byte_range(Some("bytes=1000-"), 1000), Wanted::Unsatisfiable);
        assert_eq!(byte_range(Some("bytes=-0"), 1000), Wanted::Unsatisfiable);
        assert_eq!(byte_range(None, 1000), Wanted::Whole);
        assert_eq!(byte_range(Some("bytes=0-1,5-9"), 1000), Wanted::Whole);
        assert_eq!(byte_range(Some("items=0-1"), 1000), Wanted::Whole);
        assert_eq!(byte_range(Some("bytes=9-1"), 1000), Wanted::Whole);
        assert_eq!(byte_range(Some("bytes=x-"), 1000), Wanted::Whole);
    }
}
