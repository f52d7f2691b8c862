//! `S3Store` against a real S3-protocol server on this machine (moto, `media_store::testing`).

use std::{sync::Arc, time::Duration};

use media_store::{
    fetch_url, key_for, testing::S3TestServer, BlobStore, Bytes, StoreError, UrlSigner, PART_BYTES,
};
use tokio::io::AsyncReadExt;

fn bytes_of(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

#[tokio::test]
async fn a_blob_round_trips_through_the_bucket_and_deleting_twice_is_fine() {
    let server = S3TestServer::start();
    let staging = tempfile::tempdir().unwrap();
    let store: Arc<dyn BlobStore> = Arc::new(server.store("round-trip", staging.path()));
    let key = key_for("user_2abc|weird id", "0b0f6a52-8d0e-4c3a-9d0b-1f4f0f6b2a11");

    store.put(&key, Bytes::from_static(b"hello")).await.unwrap();
    assert_eq!(store.get(&key).await.unwrap(), Bytes::from_static(b"hello"));
    assert_eq!(store.size(&key).await.unwrap(), 5);
    store.put(&key, Bytes::from_static(b"again")).await.unwrap();
    assert_eq!(store.get(&key).await.unwrap(), Bytes::from_static(b"again"));

    store.delete(&key).await.unwrap();
    assert!(matches!(store.get(&key).await, Err(StoreError::NotFound(k)) if k == key));
    assert!(matches!(
        store.size(&key).await,
        Err(StoreError::NotFound(_))
    ));
    store.delete(&key).await.unwrap();
    assert!(matches!(
        store.put("../escape", Bytes::from_static(b"x")).await,
        Err(StoreError::InvalidKey(_))
    ));
}

#[tokio::test]
async fn a_staged_upload_streams_as_a_multipart_upload_and_leaves_no_staged_file() {
    let server = S3TestServer::start();
    let staging = tempfile::tempdir().unwrap();
    let store = server.store("multipart", staging.path());
    // Two full parts and a short last one.
    let body = bytes_of(2 * PART_BYTES + 123_457);
    let staged = store.stage().await.unwrap();
    assert!(staged.path().starts_with(staging.path()), "staged locally");
    std::fs::write(staged.path(), &body).unwrap();
    let key = key_for("alice", "video");
    store.put_staged(&key, staged).await.unwrap();

    assert_eq!(store.size(&key).await.unwrap(), body.len() as u64);
    assert!(store.get(&key).await.unwrap() == body, "same bytes back");
    assert_eq!(
        std::fs::read_dir(staging.path()).unwrap().count(),
        0,
        "the staged file is removed once stored"
    );
}

#[tokio::test]
async fn a_range_is_read_from_the_bucket_without_the_rest() {
    let server = S3TestServer::start();
    let staging = tempfile::tempdir().unwrap();
    let store = server.store("ranges", staging.path());
    let body = bytes_of(100_000);
    let key = key_for("alice", "ranged");
    store.put(&key, Bytes::from(body.clone())).await.unwrap();

    for range in [0..=0, 300..=1299, 99_000..=99_999] {
        let mut part = Vec::new();
        store
            .read_range(&key, range.clone())
            .await
            .unwrap()
            .read_to_end(&mut part)
            .await
            .unwrap();
        assert_eq!(part, body[*range.start() as usize..=*range.end() as usize]);
    }
    let missing = key_for("alice", "missing");
    assert!(matches!(
        store.read_range(&missing, 0..=1).await,
        Err(StoreError::NotFound(_))
    ));
}

#[tokio::test]
async fn platforms_get_a_presigned_url_that_lives_as_long_as_a_signed_one() {
    let server = S3TestServer::start();
    let staging = tempfile::tempdir().unwrap();
    let store = server.store("presigned", staging.path());
    let key = key_for("alice", "image");
    store
        .put(&key, Bytes::from_static(b"\x89PNG not really"))
        .await
        .unwrap();
    let signer = UrlSigner::new(&[7u8; 32], "https://api.example", Duration::from_secs(900));

    let url = fetch_url(&store, &signer, "image", &key).await.unwrap();
    assert!(
        url.starts_with(&format!("{}/presigned/{key}?", server.endpoint())),
        "{url}"
    );
    assert!(url.contains("X-Amz-Expires=900"), "the signer's TTL: {url}");
    assert!(url.contains("X-Amz-Signature="), "{url}");
    // Fetched with nothing but the URL, as a platform would.
    let fetched = reqwest::get(&url).await.unwrap();
    assert_eq!(fetched.status(), 200);
    assert_eq!(
        fetched.bytes().await.unwrap(),
        Bytes::from_static(b"\x89PNG not really")
    );

    // A store without presigned URLs falls back to the gateway's signed URL.
    let local_dir = tempfile::tempdir().unwrap();
    let local = media_store::LocalDirStore::new(local_dir.path());
    let url = fetch_url(&local, &signer, "image", &key).await.unwrap();
    assert!(
        url.starts_with("https://api.example/v1/media/image/content?expires="),
        "{url}"
    );
}

#[tokio::test]
async fn an_unreachable_bucket_is_a_backend_error_not_a_missing_blob() {
    let staging = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let settings = media_store::S3Settings {
        bucket: "nowhere".into(),
        region: "us-east-1".into(),
        endpoint: format!("http://127.0.0.1:{port}"),
    };
    let store = media_store::S3Store::new(
        &settings,
        &media_store::testing::credentials(),
        staging.path(),
    )
    .unwrap();
    let err = tokio::time::timeout(Duration::from_secs(60), store.get("media/x/y"))
        .await
        .expect("gives up")
        .unwrap_err();
    assert!(matches!(err, StoreError::Backend { .. }), "{err}");
}
