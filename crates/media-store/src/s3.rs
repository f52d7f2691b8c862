//! Blobs in an S3-compatible bucket (AWS S3, MinIO, R2, Ceph…), through the `object_store`
//! crate: no hand-written S3 client, and the same code path for every provider.
//!
//! Uploads arrive in a staged file on local disk (the gateway probes the file before it is
//! kept), then stream to the bucket as a multipart upload in [`PART_BYTES`] parts, a few in
//! flight at once, so neither a large video nor a slow bucket is ever held in memory whole.
//! Platforms that fetch media by URL get presigned GET URLs of the bucket, so media traffic
//! does not pass through the gateway; range reads serve `Range:` requests for video.

use std::{
    env,
    ops::RangeInclusive,
    path::{Path as FsPath, PathBuf},
    sync::Arc,
    time::Duration,
};

use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};
use object_store::{
    aws::{AmazonS3, AmazonS3Builder},
    path::Path,
    signer::Signer,
    GetOptions, GetRange, ObjectStore, PutPayload, WriteMultipart,
};
use serde::Deserialize;
use tokio::io::AsyncReadExt;

use crate::store::{segments, BlobReader, BlobStore, BoxFuture, Staged, StoreError};

/// Size of one part of a multipart upload: S3's minimum for every part but the last.
pub const PART_BYTES: usize = 8 * 1024 * 1024;

/// Parts uploaded at once per upload: enough to fill a link, and at most this many parts
/// (`PARTS_IN_FLIGHT × PART_BYTES`) in memory.
const PARTS_IN_FLIGHT: usize = 4;

/// `[media.s3]`: the bucket, when `media.store = "s3"`. Credentials are not here: they come
/// from the environment (see [`S3Credentials::from_env`]).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct S3Settings {
    /// Bucket name (it must exist; Postbridge does not create buckets).
    pub bucket: String,
    /// Region, e.g. `eu-west-1`. S3-compatible services that ignore it accept `us-east-1`.
    pub region: String,
    /// Empty for AWS S3; otherwise the service's URL, e.g. `https://minio.internal:9000`.
    /// Requests then use path-style addressing (`<endpoint>/<bucket>/<key>`), which every
    /// S3-compatible service understands; an `http://` endpoint allows plain HTTP.
    pub endpoint: String,
}

/// Where the bucket's credentials come from. Never configuration files: secrets stay in the
/// environment the platform injects (a Kubernetes Secret, an IAM role).
#[derive(Clone)]
pub enum S3Credentials {
    /// `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` (and `AWS_SESSION_TOKEN` if set).
    Static {
        /// Access key id.
        access_key_id: String,
        /// Secret access key.
        secret_access_key: secrecy::SecretString,
    },
    /// A web identity (Kubernetes service-account token: EKS IRSA, `AWS_WEB_IDENTITY_TOKEN_FILE`
    /// and `AWS_ROLE_ARN`) or a container credentials endpoint (ECS), resolved by
    /// `object_store` from the environment.
    Ambient,
}

impl std::fmt::Debug for S3Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Static { access_key_id, .. } => f
                .debug_struct("Static")
                .field("access_key_id", access_key_id)
                .finish_non_exhaustive(),
            Self::Ambient => f.write_str("Ambient"),
        }
    }
}

impl S3Credentials {
    /// From the environment. A store without credentials would only fail at the first upload
    /// (or ask the cloud's metadata service, which is not there), so their absence is an error
    /// at start-up that names the variables.
    pub fn from_env() -> Result<Self, crate::SettingsError> {
        let var = |name: &str| env::var(name).ok().filter(|v| !v.trim().is_empty());
        match (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY")) {
            (Some(access_key_id), Some(secret)) => Ok(Self::Static {
                access_key_id,
                secret_access_key: secret.into(),
            }),
            (Some(_), None) => Err(crate::SettingsError::S3Credentials(
                "AWS_SECRET_ACCESS_KEY is not set (AWS_ACCESS_KEY_ID is)".into(),
            )),
            (None, Some(_)) => Err(crate::SettingsError::S3Credentials(
                "AWS_ACCESS_KEY_ID is not set (AWS_SECRET_ACCESS_KEY is)".into(),
            )),
            (None, None)
                if var("AWS_WEB_IDENTITY_TOKEN_FILE").is_some()
                    || var("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI").is_some()
                    || var("AWS_CONTAINER_CREDENTIALS_FULL_URI").is_some() =>
            {
                Ok(Self::Ambient)
            }
            (None, None) => Err(crate::SettingsError::S3Credentials(
                "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set (nor a web identity: AWS_WEB_IDENTITY_TOKEN_FILE)".into(),
            )),
        }
    }
}

/// Blobs in one bucket. Keys are the same relative paths as in [`crate::LocalDirStore`].
#[derive(Debug, Clone)]
pub struct S3Store {
    bucket: Arc<AmazonS3>,
    staging_dir: PathBuf,
}

impl S3Store {
    /// A store over `settings`' bucket, staging uploads under `staging_dir`. Connects to
    /// nothing yet: a bucket that is down makes uploads fail, not the service's start.
    pub fn new(
        settings: &S3Settings,
        credentials: &S3Credentials,
        staging_dir: impl Into<PathBuf>,
    ) -> Result<Self, crate::SettingsError> {
        use secrecy::ExposeSecret;
        let invalid = |what: String| crate::SettingsError::S3(what);
        if settings.bucket.trim().is_empty() {
            return Err(invalid(
                "bucket is not set (POSTBRIDGE__MEDIA__S3__BUCKET)".into(),
            ));
        }
        let region = if settings.region.trim().is_empty() {
            "us-east-1"
        } else {
            settings.region.trim()
        };
        let mut builder = match credentials {
            // Only what we set: `from_env` would also pick up AWS_ENDPOINT, AWS_BUCKET, … and
            // let stray variables override the configuration.
            S3Credentials::Static {
                access_key_id,
                secret_access_key,
            } => {
                let mut builder = AmazonS3Builder::new()
                    .with_access_key_id(access_key_id)
                    .with_secret_access_key(secret_access_key.expose_secret());
                if let Ok(token) = env::var("AWS_SESSION_TOKEN") {
                    builder = builder.with_token(token);
                }
                builder
            }
            S3Credentials::Ambient => AmazonS3Builder::from_env(),
        }
        .with_bucket_name(settings.bucket.trim())
        .with_region(region);
        let endpoint = settings.endpoint.trim().trim_end_matches('/');
        if !endpoint.is_empty() {
            if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
                return Err(invalid(format!(
                    "endpoint must start with http:// or https://, got `{endpoint}`"
                )));
            }
            builder = builder
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"))
                .with_virtual_hosted_style_request(false);
        }
        let bucket = builder
            .build()
            .map_err(|e| invalid(format!("bucket `{}`: {e}", settings.bucket)))?;
        Ok(Self {
            bucket: Arc::new(bucket),
            staging_dir: staging_dir.into(),
        })
    }

    /// The object path of `key`, after the same checks as the local store's.
    fn path_of(key: &str) -> Result<Path, StoreError> {
        segments(key)?;
        Path::parse(key).map_err(|_| StoreError::InvalidKey(key.to_owned()))
    }

    async fn stage_file(&self) -> Result<Staged, StoreError> {
        Staged::create_in(&self.staging_dir).await
    }

    async fn put_bytes(&self, key: &str, bytes: Bytes) -> Result<(), StoreError> {
        let path = Self::path_of(key)?;
        // A single PUT: S3 makes it visible whole or not at all.
        self.bucket
            .put(&path, PutPayload::from_bytes(bytes))
            .await
            .map_err(backend("storing", key))?;
        Ok(())
    }

    /// Streams the staged file as a multipart upload; an upload that fails is aborted, so no
    /// parts are left behind (and the object is never visible half-written: S3 shows a
    /// multipart upload only once it is completed). The staged file is removed either way.
    async fn put_staged_file(&self, key: &str, staged: Staged) -> Result<(), StoreError> {
        let path = Self::path_of(key)?;
        let upload = self
            .bucket
            .put_multipart(&path)
            .await
            .map_err(backend("starting the upload of", key))?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_BYTES);
        match copy_into(staged.path(), &mut writer, key).await {
            Ok(()) => {
                writer
                    .finish()
                    .await
                    .map_err(backend("completing the upload of", key))?;
                Ok(())
            }
            Err(err) => {
                if let Err(abort) = writer.abort().await {
                    tracing::warn!(key, error = %abort, "could not abort a failed multipart upload; a bucket lifecycle rule removes its parts");
                }
                Err(err)
            }
        }
    }

    async fn get_bytes(&self, key: &str) -> Result<Bytes, StoreError> {
        let path = Self::path_of(key)?;
        let got = self
            .bucket
            .get(&path)
            .await
            .map_err(backend("reading", key))?;
        got.bytes().await.map_err(backend("reading", key))
    }

    async fn object_size(&self, key: &str) -> Result<u64, StoreError> {
        let path = Self::path_of(key)?;
        let meta = self
            .bucket
            .head(&path)
            .await
            .map_err(backend("reading the size of", key))?;
        Ok(meta.size)
    }

    async fn object_range(
        &self,
        key: &str,
        range: RangeInclusive<u64>,
    ) -> Result<BlobReader, StoreError> {
        let path = Self::path_of(key)?;
        let options = GetOptions {
            range: Some(GetRange::Bounded(
                *range.start()..range.end().saturating_add(1),
            )),
            ..GetOptions::default()
        };
        let got = self
            .bucket
            .get_opts(&path, options)
            .await
            .map_err(backend("reading", key))?;
        let stream = got
            .into_stream()
            .map_err(|e| std::io::Error::other(e.to_string()));
        Ok(Box::pin(tokio_util::io::StreamReader::new(stream.boxed())))
    }

    async fn delete_object(&self, key: &str) -> Result<(), StoreError> {
        let path = Self::path_of(key)?;
        match self.bucket.delete(&path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(err) => Err(backend("deleting", key)(err)),
        }
    }

    async fn presign(&self, key: &str, ttl: Duration) -> Result<Option<String>, StoreError> {
        let path = Self::path_of(key)?;
        let url = self
            .bucket
            .signed_url(http::Method::GET, &path, ttl)
            .await
            .map_err(backend("presigning", key))?;
        Ok(Some(url.to_string()))
    }
}

/// Reads `file` in parts into `writer`, waiting while [`PARTS_IN_FLIGHT`] parts are uploading.
async fn copy_into(
    file: &FsPath,
    writer: &mut WriteMultipart,
    key: &str,
) -> Result<(), StoreError> {
    let io = |operation| {
        move |source| StoreError::Io {
            operation,
            key: key.to_owned(),
            source,
        }
    };
    let mut file = tokio::fs::File::open(file)
        .await
        .map_err(io("opening the staged file of"))?;
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = file
            .read(&mut buf)
            .await
            .map_err(io("reading the staged file of"))?;
        if n == 0 {
            return Ok(());
        }
        writer
            .wait_for_capacity(PARTS_IN_FLIGHT)
            .await
            .map_err(backend("uploading a part of", key))?;
        writer.write(&buf[..n]);
    }
}

/// An `object_store` error as a [`StoreError`]: `NotFound` stays `NotFound`.
fn backend<'k>(
    operation: &'static str,
    key: &'k str,
) -> impl Fn(object_store::Error) -> StoreError + 'k {
    move |err| match err {
        object_store::Error::NotFound { .. } => StoreError::NotFound(key.to_owned()),
        other => StoreError::Backend {
            operation,
            key: key.to_owned(),
            source: Box::new(other),
        },
    }
}

impl BlobStore for S3Store {
    fn put<'a>(&'a self, key: &'a str, bytes: Bytes) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(self.put_bytes(key, bytes))
    }

    fn stage(&self) -> BoxFuture<'_, Result<Staged, StoreError>> {
        Box::pin(self.stage_file())
    }

    fn put_staged<'a>(
        &'a self,
        key: &'a str,
        staged: Staged,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(self.put_staged_file(key, staged))
    }

    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Bytes, StoreError>> {
        Box::pin(self.get_bytes(key))
    }

    fn size<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<u64, StoreError>> {
        Box::pin(self.object_size(key))
    }

    fn read_range<'a>(
        &'a self,
        key: &'a str,
        range: RangeInclusive<u64>,
    ) -> BoxFuture<'a, Result<BlobReader, StoreError>> {
        Box::pin(self.object_range(key, range))
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(self.delete_object(key))
    }

    fn presigned_get<'a>(
        &'a self,
        key: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<Option<String>, StoreError>> {
        Box::pin(self.presign(key, ttl))
    }
}
