//! Uploading media, reading it, deleting it, and fetching it through signed URLs.

use std::path::{Path, PathBuf};

use reqwest::{
    multipart::{Form, Part},
    Response, StatusCode,
};
use serde_json::{json, Value};

use crate::support::{spawn_app_with, token_for, TestApp};

/// A gateway whose uploads go to a temporary directory, removed with it.
pub struct MediaApp {
    pub app: TestApp,
    pub dir: tempfile::TempDir,
}

impl std::ops::Deref for MediaApp {
    type Target = TestApp;
    fn deref(&self) -> &TestApp {
        &self.app
    }
}

pub async fn spawn_media_app() -> MediaApp {
    spawn_media_app_with(&[]).await
}

pub async fn spawn_media_app_with(extra: &[(&str, String)]) -> MediaApp {
    let dir = tempfile::tempdir().unwrap();
    let mut overrides = vec![("media.root_dir", dir.path().to_string_lossy().into_owned())];
    overrides.extend_from_slice(extra);
    let app = spawn_app_with(&overrides).await;
    MediaApp { app, dir }
}

impl MediaApp {
    /// `POST /v1/media` with `bytes` as the `file` part.
    pub async fn upload(
        &self,
        user: &str,
        bytes: Vec<u8>,
        file_name: &str,
        mime: &str,
        alt_text: Option<&str>,
    ) -> Response {
        let mut form = Form::new().part(
            "file",
            Part::bytes(bytes)
                .file_name(file_name.to_owned())
                .mime_str(mime)
                .unwrap(),
        );
        if let Some(alt) = alt_text {
            form = form.text("alt_text", alt.to_owned());
        }
        self.http
            .post(self.url("/v1/media"))
            .bearer_auth(token_for(user))
            .multipart(form)
            .send()
            .await
            .unwrap()
    }

    /// Uploads a small PNG for `user`; answers the media view.
    pub async fn upload_png(&self, user: &str) -> Value {
        let response = self
            .upload(user, png(4, 3), "photo.png", "image/png", None)
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json().await.unwrap()
    }

    /// A view's signed URL, pointed at this gateway instead of the configured public origin.
    pub fn local(&self, signed_url: &str) -> String {
        let path = signed_url.split_once("/v1/").unwrap().1;
        self.url(&format!("/v1/{path}"))
    }

    /// Every file under the media directory.
    pub fn stored_files(&self) -> Vec<PathBuf> {
        files_under(self.dir.path())
    }

    pub fn media_rows(&self) -> i64 {
        use db::diesel::{dsl::count_star, QueryDsl, RunQueryDsl};
        db::schema::media::table
            .select(count_star())
            .first(&mut self.db.conn())
            .unwrap()
    }
}

fn files_under(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(root) else {
        return found;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push(path);
        }
    }
    found
}

/// A valid `width`×`height` RGBA PNG (uncompressed, so its size grows with its area).
pub fn png(width: u32, height: u32) -> Vec<u8> {
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend(u32::try_from(data.len()).unwrap().to_be_bytes());
        let mut body = kind.to_vec();
        body.extend(data);
        out.extend(&body);
        out.extend(crc32(&body).to_be_bytes());
    }
    let mut raw = Vec::new();
    for y in 0..height {
        raw.push(0); // filter: none
        for x in 0..width {
            raw.extend([(x * 40) as u8, (y * 40) as u8, 128, 255]);
        }
    }
    // zlib with one stored (uncompressed) block.
    let len = u16::try_from(raw.len()).unwrap();
    let mut zlib = vec![0x78, 0x01, 0x01];
    zlib.extend(len.to_le_bytes());
    zlib.extend((!len).to_le_bytes());
    zlib.extend(&raw);
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in &raw {
        a = (a + u32::from(byte)) % 65521;
        b = (b + a) % 65521;
    }
    zlib.extend(((b << 16) | a).to_be_bytes());

    let mut ihdr = width.to_be_bytes().to_vec();
    ihdr.extend(height.to_be_bytes());
    ihdr.extend([8, 6, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &zlib);
    chunk(&mut out, b"IEND", &[]);
    out
}

/// The start of a JPEG: enough for the type and the frame size.
fn jpeg(width: u16, height: u16) -> Vec<u8> {
    let mut b = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10];
    b.extend(b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
    b.extend([0xFF, 0xC0, 0x00, 0x11, 0x08]);
    b.extend(height.to_be_bytes());
    b.extend(width.to_be_bytes());
    b.extend([3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
    b.extend([0xFF, 0xD9]);
    b
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA256, bytes))
}

#[tokio::test(flavor = "multi_thread")]
async fn uploading_a_png_answers_201_with_its_hash_and_dimensions() {
    let app = spawn_media_app().await;
    let bytes = png(4, 3);
    let response = app
        .upload(
            "alice",
            bytes.clone(),
            "photo.png",
            "image/png",
            Some("  A test card  "),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let view: Value = response.json().await.unwrap();
    assert_eq!(view["mime_type"], "image/png");
    assert_eq!(view["size_bytes"], bytes.len());
    assert_eq!(view["sha256"], sha256_hex(&bytes));
    assert_eq!(
        (view["width"].as_i64(), view["height"].as_i64()),
        (Some(4), Some(3))
    );
    assert_eq!(view["alt_text"], "A test card");
    assert!(view["created_at"].is_string());
    assert!(view["url"].as_str().unwrap().contains("/content?expires="));

    // One row and one file with exactly these bytes.
    assert_eq!(app.media_rows(), 1);
    let files = app.stored_files();
    assert_eq!(files.len(), 1);
    assert_eq!(std::fs::read(&files[0]).unwrap(), bytes);

    let id = view["id"].as_str().unwrap();
    let again: Value = app
        .get("alice", &format!("/v1/media/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["sha256"], view["sha256"]);
    assert_eq!(again["width"], 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_file_over_the_limit_is_413_and_nothing_is_stored() {
    let app = spawn_media_app_with(&[("media.max_image_bytes", "1024".into())]).await;
    let big = png(32, 32);
    assert!(big.len() > 4096);
    let response = app.upload("alice", big, "big.png", "image/png", None).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "file_too_large");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("1 KiB limit for images"),
        "{body}"
    );
    assert_eq!(app.media_rows(), 0);
    assert!(app.stored_files().is_empty());

    // Under the limit still works.
    let small = app
        .upload("alice", png(2, 2), "small.png", "image/png", None)
        .await;
    assert_eq!(small.status(), StatusCode::CREATED);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_declared_length_over_every_limit_is_refused_before_reading() {
    let app = spawn_media_app_with(&[
        ("media.max_image_bytes", "1024".into()),
        ("media.max_video_bytes", "2048".into()),
    ])
    .await;
    let response = app
        .http
        .post(app.url("/v1/media"))
        .bearer_auth(token_for("alice"))
        .header("content-type", "multipart/form-data; boundary=x")
        .body(vec![b'x'; 200 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(app.media_rows(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_text_file_named_png_is_refused() {
    let app = spawn_media_app().await;
    let response = app
        .upload(
            "alice",
            b"this is just text, whatever the name says\n".to_vec(),
            "notes.png",
            "image/png",
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unsupported_media_type");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("image/png"));
    assert_eq!(app.media_rows(), 0);
    assert!(app.stored_files().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_declared_type_that_disagrees_with_the_content_is_422() {
    let app = spawn_media_app().await;
    let response = app
        .upload("alice", jpeg(800, 600), "photo.png", "image/png", None)
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "media_type_mismatch");
    assert_eq!(body["error"]["details"]["detected"], "image/jpeg");
    assert_eq!(app.media_rows(), 0);

    // The same bytes without a claim are a JPEG.
    let response = app
        .upload(
            "alice",
            jpeg(800, 600),
            "upload",
            "application/octet-stream",
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let view: Value = response.json().await.unwrap();
    assert_eq!(view["mime_type"], "image/jpeg");
    assert_eq!(
        (view["width"].as_i64(), view["height"].as_i64()),
        (Some(800), Some(600))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_uploads_are_clear_4xx() {
    let app = spawn_media_app().await;
    // JSON instead of a form.
    let response = app.post("alice", "/v1/media", json!({ "file": "x" })).await;
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "multipart_required");
    // A form without a file.
    let response = app
        .http
        .post(app.url("/v1/media"))
        .bearer_auth(token_for("alice"))
        .multipart(Form::new().text("alt_text", "lonely"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "file_missing");
    // No token.
    let response = app
        .http
        .post(app.url("/v1/media"))
        .multipart(Form::new().part("file", Part::bytes(png(1, 1))))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.media_rows(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_signed_content_url_serves_the_file_and_refuses_tampering() {
    let app = spawn_media_app().await;
    let view = app.upload_png("alice").await;
    let id = view["id"].as_str().unwrap();
    let url = app.local(view["url"].as_str().unwrap());

    // No bearer token: the signature is enough.
    let response = app.http.get(&url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "image/png");
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    assert!(response.headers()["cache-control"]
        .to_str()
        .unwrap()
        .contains("max-age="));
    assert_eq!(response.bytes().await.unwrap().to_vec(), png(4, 3));
    let head = app.http.head(&url).send().await.unwrap();
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(head.headers()["accept-ranges"], "bytes");

    // A fetcher resuming a download gets the bytes it asked for.
    let whole = png(4, 3);
    let part = app
        .http
        .get(&url)
        .header("range", "bytes=8-15")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        part.headers()["content-range"],
        format!("bytes 8-15/{}", whole.len()).as_str()
    );
    assert_eq!(part.bytes().await.unwrap().to_vec(), whole[8..=15].to_vec());
    let past_the_end = app
        .http
        .get(&url)
        .header("range", format!("bytes={}-", whole.len()))
        .send()
        .await
        .unwrap();
    assert_eq!(past_the_end.status(), StatusCode::RANGE_NOT_SATISFIABLE);

    let forbidden = |response: Response| async move {
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "invalid_signature");
    };
    // A changed signature, a changed expiry, no signature, another id.
    let (base, query) = url.split_once('?').unwrap();
    let sig = query.split("sig=").nth(1).unwrap();
    let flipped = if sig.starts_with('A') { "B" } else { "A" };
    let tampered = format!(
        "{base}?{}",
        query.replacen("sig=", &format!("sig={flipped}"), 1)
    );
    forbidden(app.http.get(&tampered).send().await.unwrap()).await;
    let later = format!("{base}?{}", query.replacen("expires=", "expires=9", 1));
    forbidden(app.http.get(&later).send().await.unwrap()).await;
    forbidden(app.http.get(base).send().await.unwrap()).await;
    let other = app.upload_png("alice").await;
    let other_id = other["id"].as_str().unwrap();
    forbidden(
        app.http
            .get(format!("{}?{query}", base.replace(id, other_id)))
            .send()
            .await
            .unwrap(),
    )
    .await;

    // Correctly signed with the configured key, but expired.
    let signer = media_store::UrlSigner::new(
        &base64_key(media_store::DEVELOPMENT_SIGNING_KEY),
        &app.address,
        std::time::Duration::from_secs(60),
    );
    let expired = signer.sign_until(id, chrono::Utc::now().timestamp() - 5);
    forbidden(app.http.get(&expired).send().await.unwrap()).await;
    let fresh = signer.sign_until(id, chrono::Utc::now().timestamp() + 60);
    assert_eq!(
        app.http.get(&fresh).send().await.unwrap().status(),
        StatusCode::OK
    );
}

fn base64_key(encoded: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn another_users_media_answers_404() {
    let app = spawn_media_app().await;
    let view = app.upload_png("alice").await;
    let id = view["id"].as_str().unwrap();
    for response in [
        app.get("mallory", &format!("/v1/media/{id}")).await,
        app.delete("mallory", &format!("/v1/media/{id}")).await,
        app.get("alice", "/v1/media/not-a-uuid").await,
    ] {
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "not_found");
    }
    assert_eq!(
        app.get("alice", &format!("/v1/media/{id}")).await.status(),
        StatusCode::OK
    );
    assert_eq!(app.stored_files().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn deleting_media_removes_the_row_the_file_and_the_url() {
    let app = spawn_media_app().await;
    let view = app.upload_png("alice").await;
    let id = view["id"].as_str().unwrap();
    let url = app.local(view["url"].as_str().unwrap());
    let response = app.delete("alice", &format!("/v1/media/{id}")).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.media_rows(), 0);
    assert!(app.stored_files().is_empty());
    assert_eq!(
        app.get("alice", &format!("/v1/media/{id}")).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.http.get(&url).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.delete("alice", &format!("/v1/media/{id}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_openapi_document_lists_media_and_drafts() {
    let app = spawn_media_app().await;
    let doc: Value = app
        .http
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for path in [
        "/v1/media",
        "/v1/media/{id}",
        "/v1/media/{id}/content",
        "/v1/drafts",
        "/v1/drafts/{id}",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} is documented");
    }
    // Public: platforms fetch it by its signed URL, without a token.
    assert_eq!(
        doc["paths"]["/v1/media/{id}/content"]["get"]["security"],
        serde_json::json!([])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn media_a_scheduled_post_still_needs_cannot_be_deleted() {
    let app = spawn_media_app().await;
    let view = app.upload_png("alice").await;
    let id = view["id"].as_str().unwrap();
    let account = crate::drafts::account(&app, "alice", db::domain::Platform::Mastodon);
    let scheduled_at = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let post = app
        .post(
            "alice",
            "/v1/posts",
            json!({ "text": "with a picture", "account_ids": [account], "media_ids": [id], "scheduled_at": scheduled_at }),
        )
        .await;
    assert_eq!(
        post.status(),
        StatusCode::CREATED,
        "{}",
        post.text().await.unwrap()
    );
    let response = app.delete("alice", &format!("/v1/media/{id}")).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "media_in_use");
    assert_eq!(app.media_rows(), 1);
    assert_eq!(app.stored_files().len(), 1);
}

/// A small MP4: `ftyp`, `mdat` of `payload` bytes, then `moov` with the movie's duration and
/// one video track's frame size.
fn mp4(width: u32, height: u32, duration_ms: u32, payload: usize) -> Vec<u8> {
    fn boxed(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut b = u32::try_from(body.len() + 8)
            .unwrap()
            .to_be_bytes()
            .to_vec();
        b.extend(kind);
        b.extend(body);
        b
    }
    let mut mvhd = vec![0u8; 100];
    mvhd[12..16].copy_from_slice(&1000u32.to_be_bytes());
    mvhd[16..20].copy_from_slice(&duration_ms.to_be_bytes());
    let mut tkhd = vec![0u8; 84];
    tkhd[76..80].copy_from_slice(&(width << 16).to_be_bytes());
    tkhd[80..84].copy_from_slice(&(height << 16).to_be_bytes());
    let mut moov = boxed(b"mvhd", &mvhd);
    moov.extend(boxed(b"trak", &boxed(b"tkhd", &tkhd)));
    let mut file = boxed(b"ftyp", b"isom\0\0\x02\0isomiso2mp41");
    file.extend(boxed(b"mdat", &vec![7u8; payload]));
    file.extend(boxed(b"moov", &moov));
    file
}

#[tokio::test(flavor = "multi_thread")]
async fn videos_have_their_own_limit_and_report_their_duration() {
    let app = spawn_media_app_with(&[
        ("media.max_image_bytes", "1024".into()),
        ("media.max_video_bytes", "262144".into()),
    ])
    .await;
    let video = mp4(1280, 720, 12_500, 100_000);
    let response = app
        .upload("alice", video.clone(), "clip.mov", "video/quicktime", None)
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let view: Value = response.json().await.unwrap();
    assert_eq!(view["mime_type"], "video/mp4", "the content decides");
    assert_eq!(view["size_bytes"], video.len());
    assert_eq!(
        (view["width"].as_i64(), view["height"].as_i64()),
        (Some(1280), Some(720))
    );
    assert_eq!(view["duration_ms"], 12_500);

    let too_long = app
        .upload(
            "alice",
            mp4(1280, 720, 1_000, 300_000),
            "long.mp4",
            "video/mp4",
            None,
        )
        .await;
    assert_eq!(too_long.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: Value = too_long.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("256 KiB limit for videos"),
        "{body}"
    );
    assert_eq!(app.media_rows(), 1);
    assert_eq!(app.stored_files().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn uploads_are_not_bound_by_the_json_body_limit() {
    let app = spawn_media_app().await;
    // A PNG followed by 3 MiB of trailing data: far over `auth_gateway.max_json_bytes`.
    let mut bytes = png(8, 8);
    bytes.extend(vec![0u8; 3 * 1024 * 1024]);
    let response = app
        .upload("alice", bytes.clone(), "large.png", "image/png", None)
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let view: Value = response.json().await.unwrap();
    assert_eq!(view["size_bytes"], bytes.len());
    assert_eq!(view["sha256"], sha256_hex(&bytes));
    let url = app.local(view["url"].as_str().unwrap());
    let served = app
        .http
        .get(&url)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(served.len(), bytes.len());
}

#[tokio::test(flavor = "multi_thread")]
async fn uploads_beyond_the_concurrent_limit_are_told_to_retry_and_nothing_is_stored() {
    use tokio::io::AsyncWriteExt;
    let app = spawn_media_app_with(&[("media.max_concurrent_uploads", "1".into())]).await;

    // An upload whose body is still arriving holds the only slot.
    let host = app.address.trim_start_matches("http://").to_owned();
    let mut slow = tokio::net::TcpStream::connect(&host).await.unwrap();
    let head = format!(
        "POST /v1/media HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: multipart/form-data; boundary=x\r\nContent-Length: 100000\r\n\r\n\
         --x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n\r\n",
        token_for("alice")
    );
    slow.write_all(head.as_bytes()).await.unwrap();
    slow.write_all(&png(4, 3)[..16]).await.unwrap();
    slow.flush().await.unwrap();

    // The gateway takes the slot as soon as it has the headers; give it a moment.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let busy = app
        .upload("alice", png(4, 3), "b.png", "image/png", None)
        .await;
    assert_eq!(busy.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(busy.headers()["retry-after"], "5");
    let body: Value = busy.json().await.unwrap();
    assert_eq!(body["error"]["code"], "uploads_busy");
    assert_eq!(app.media_rows(), 0, "the refused upload stored nothing");

    // The slot frees when that upload ends, however it ends.
    drop(slow);
    testkit::eventually(
        std::time::Duration::from_secs(5),
        "the slot to free",
        || async {
            let response = app
                .upload("alice", png(4, 3), "c.png", "image/png", None)
                .await;
            (response.status() == StatusCode::CREATED).then_some(())
        },
    )
    .await;
    assert_eq!(app.media_rows(), 1);
}

/// A small PNG whose header claims `width`×`height` (the probe reads the header only).
fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = png(4, 3);
    bytes[16..20].copy_from_slice(&width.to_be_bytes());
    bytes[20..24].copy_from_slice(&height.to_be_bytes());
    bytes
}

/// Issue 16, finding 8: dimensions no platform accepts are refused, not stored (or stored as
/// NULL when they overflow the column).
#[tokio::test(flavor = "multi_thread")]
async fn images_with_absurd_pixel_dimensions_are_refused_and_nothing_is_stored() {
    let app = spawn_media_app().await;
    for (width, height) in [(100_000, 100_000), (3_000_000_000, 10), (20_000, 1)] {
        let response = app
            .upload(
                "alice",
                png_claiming(width, height),
                "huge.png",
                "image/png",
                None,
            )
            .await;
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{width}x{height}: {body}"
        );
        assert_eq!(body["error"]["code"], "dimensions_out_of_range", "{body}");
    }
    let stored: i64 = {
        use db::diesel::{dsl::count_star, QueryDsl, RunQueryDsl};
        db::schema::media::table
            .select(count_star())
            .first(&mut app.db.conn())
            .unwrap()
    };
    assert_eq!(stored, 0);
    let fine = app
        .upload(
            "alice",
            png_claiming(4_000, 3_000),
            "big.png",
            "image/png",
            None,
        )
        .await;
    assert_eq!(fine.status(), StatusCode::CREATED, "a 12 MP photo is fine");
}

/// Finding 8: a form with thousands of parts is refused instead of read to the end.
#[tokio::test(flavor = "multi_thread")]
async fn a_form_with_repeated_or_too_many_parts_is_refused() {
    let app = spawn_media_app().await;
    let mut form = Form::new().part(
        "file",
        Part::bytes(png(4, 3))
            .file_name("a.png".to_owned())
            .mime_str("image/png")
            .unwrap(),
    );
    for i in 0..50 {
        form = form.text("alt_text", format!("alt {i}"));
    }
    let response = app
        .http
        .post(app.url("/v1/media"))
        .bearer_auth(token_for("alice"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("alt_text"),
        "{body}"
    );
}

/// Finding 2: a NUL in the alt text is refused naming the field.
#[tokio::test(flavor = "multi_thread")]
async fn a_nul_byte_in_alt_text_is_refused_naming_the_field() {
    let app = spawn_media_app().await;
    let response = app
        .upload("alice", png(4, 3), "a.png", "image/png", Some("a\u{0}b"))
        .await;
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("alt_text"),
        "{body}"
    );
}
