//! A post with media, with `media.store = "s3"`: the upload streams through the gateway into a
//! real S3-protocol server (moto) as a multipart upload, the gateway serves ranges of it back
//! from the bucket, and the publisher reads it from the bucket and publishes it to
//! platform-sim intact. Nothing touches the local media directory.
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "an end-to-end test fails by panicking"
)]

use std::{net::TcpListener, time::Duration};

use events::CancellationToken;
use media_store::{testing, BlobStore, S3Store};
use platform_sim::SimOptions;
use reqwest::{
    multipart::{Form, Part},
    redirect::Policy,
    Client, StatusCode,
};
use serde_json::{json, Value};

const FRONTEND: &str = "http://localhost:3000";
const PUBLIC_URL: &str = "http://gateway.test";

/// A JPEG header (type and frame size are all the probe reads) padded to `len` bytes, so the
/// upload spans more than one multipart part.
fn jpeg_of(len: usize) -> Vec<u8> {
    let mut b = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10];
    b.extend(b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
    b.extend([0xFF, 0xC0, 0x00, 0x11, 0x08, 0x02, 0x58, 0x03, 0x20]);
    b.extend([3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
    b.extend((b.len()..len - 2).map(|i| (i % 251) as u8));
    b.extend([0xFF, 0xD9]);
    b
}

/// Connects sim user `login` as a sandbox account through the OAuth flow (as in publish.rs).
async fn connect(http: &Client, url: &str, bearer: &str, login: &str) -> String {
    let started: Value = http
        .post(format!("{url}/v1/connections/sandbox"))
        .bearer_auth(bearer)
        .json(&json!({ "redirect_to": FRONTEND }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let authorize_url = started["authorize_url"].as_str().unwrap();
    let approved = http
        .get(format!("{authorize_url}&login_hint={login}"))
        .send()
        .await
        .unwrap();
    let callback = approved.headers()["location"]
        .to_str()
        .unwrap()
        .replace(PUBLIC_URL, url);
    let back = http.get(&callback).send().await.unwrap();
    let back = back.headers()["location"].to_str().unwrap().to_owned();
    let ticket = reqwest::Url::parse(&back)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "ticket")
        .map(|(_, v)| v.into_owned())
        .expect("a ticket");
    let completed: Value = http
        .post(format!("{url}/v1/connections/complete"))
        .bearer_auth(bearer)
        .json(&json!({ "ticket": ticket }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    completed["accounts"][0]["id"].as_str().unwrap().to_owned()
}

#[test]
fn a_post_with_media_is_published_from_the_s3_bucket() {
    // The S3 store reads its credentials from the environment, as in a pod; set them before
    // any thread starts.
    std::env::set_var("AWS_ACCESS_KEY_ID", testing::ACCESS_KEY_ID);
    std::env::set_var("AWS_SECRET_ACCESS_KEY", testing::SECRET_ACCESS_KEY);
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap()
        .block_on(publish_from_s3());
}

async fn publish_from_s3() {
    let s3 = testing::S3TestServer::start();
    let bucket = s3.bucket("postbridge-media");
    let test_db = testkit::TestDb::new();
    let (sim, server) = platform_sim::start(
        TcpListener::bind("127.0.0.1:0").unwrap(),
        SimOptions::default(),
    )
    .unwrap();
    tokio::spawn(server);
    let prefix = testkit::unique_name("e2e-s3");
    let local_dir = tempfile_dir(&format!("{prefix}-local"));
    let staging_dir = tempfile_dir(&format!("{prefix}-staging"));
    let mut loaded =
        service_kit::testing::loaded_for_tests(test_db.url(), &testkit::amqp_url(), &prefix);
    let base = sim.base_url();
    for (key, value) in [
        (
            "platforms.sandbox.authorize_url",
            format!("{base}/oauth/authorize"),
        ),
        ("platforms.sandbox.token_url", format!("{base}/oauth/token")),
        (
            "platforms.sandbox.revoke_url",
            format!("{base}/oauth/revoke"),
        ),
        ("platforms.sandbox.api_base", base.clone()),
        ("platforms.sandbox.upload_base", base.clone()),
        ("auth_gateway.public_url", PUBLIC_URL.into()),
        ("media.public_base_url", PUBLIC_URL.into()),
        ("media.store", "s3".into()),
        ("media.s3.bucket", bucket.bucket.clone()),
        ("media.s3.endpoint", bucket.endpoint.clone()),
        ("media.s3.region", bucket.region.clone()),
        ("media.staging_dir", staging_dir.display().to_string()),
        ("media.root_dir", local_dir.display().to_string()),
    ] {
        loaded.set(key, &value);
    }
    let shutdown = CancellationToken::new();
    let gateway = auth_gateway::startup::Application::build(
        auth_gateway::configuration::from(&loaded).unwrap(),
        shutdown.clone(),
    )
    .await
    .unwrap();
    let publisher = publisher::startup::Application::build(
        publisher::configuration::from(&loaded).unwrap(),
        shutdown.clone(),
    )
    .await
    .unwrap();
    let url = format!("http://127.0.0.1:{}", gateway.port());
    let http = Client::builder().redirect(Policy::none()).build().unwrap();
    let bearer = service_kit::testing::dev_token("alice");
    tokio::spawn(gateway.run_until_stopped());
    tokio::spawn(publisher.run_until_stopped());
    let carol = connect(&http, &url, &bearer, "carol").await;

    // Upload: streamed into the bucket as two parts (a full one and a bit).
    let photo = jpeg_of(media_store::PART_BYTES + 4321);
    let uploaded = http
        .post(format!("{url}/v1/media"))
        .bearer_auth(&bearer)
        .multipart(
            Form::new().part(
                "file",
                Part::bytes(photo.clone())
                    .file_name("big.jpg")
                    .mime_str("image/jpeg")
                    .unwrap(),
            ),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(uploaded.status(), StatusCode::CREATED);
    let media: Value = uploaded.json().await.unwrap();
    let bucket_store = S3Store::new(&bucket, &testing::credentials(), &staging_dir).unwrap();
    let key = media_store::key_for("alice", media["id"].as_str().unwrap());
    assert_eq!(
        bucket_store.size(&key).await.unwrap(),
        photo.len() as u64,
        "stored in the bucket"
    );

    // The gateway serves a range of it from the bucket.
    let content = media["url"].as_str().unwrap().replace(PUBLIC_URL, &url);
    let ranged = http
        .get(&content)
        .header("range", "bytes=100-1099")
        .send()
        .await
        .unwrap();
    assert_eq!(ranged.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(ranged.bytes().await.unwrap(), photo[100..1100]);

    // Published from the bucket, intact.
    let created: Value = http
        .post(format!("{url}/v1/posts"))
        .bearer_auth(&bearer)
        .json(&json!({ "text": "From the bucket", "account_ids": [carol], "media_ids": [media["id"]] }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().expect("a post").to_owned();
    testkit::eventually(Duration::from_secs(30), "the post published", || async {
        let post: Value = http
            .get(format!("{url}/v1/posts/{id}"))
            .bearer_auth(&bearer)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        (post["status"] == "published").then_some(())
    })
    .await;
    let sent = sim.media();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].size, photo.len() as u64);
    let digest = ring::digest::digest(&ring::digest::SHA256, &photo);
    assert_eq!(sent[0].sha256, hex::encode(digest.as_ref()));
    assert_eq!(sim.posts()[0].media_ids, [sent[0].id.clone()]);

    assert_eq!(
        std::fs::read_dir(&local_dir)
            .map(|d| d.count())
            .unwrap_or(0),
        0,
        "nothing in the local media directory"
    );
    shutdown.cancel();
    let _ = std::fs::remove_dir_all(local_dir);
    let _ = std::fs::remove_dir_all(staging_dir);
}

fn tempfile_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(name);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
