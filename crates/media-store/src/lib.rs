#![doc = include_str!("../README.md")]

pub mod probe;
mod s3;
mod settings;
mod signer;
mod store;
#[cfg(feature = "testing")]
pub mod testing;

use std::{fmt::Display, sync::Arc};

pub use bytes::Bytes;
pub use probe::{MediaType, Probe};
pub use s3::{S3Credentials, S3Settings, S3Store, PART_BYTES};
pub use settings::{MediaSettings, StoreKind, DEVELOPMENT_SIGNING_KEY};
pub use signer::{SignatureError, SignedParams, UrlSigner};
pub use store::{key_for, BlobReader, BlobStore, BoxFuture, LocalDirStore, Staged, StoreError};

/// The `[media]` section cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// `signing_key` is missing, not base64, or too short.
    #[error("signing_key: {0}")]
    SigningKey(String),
    /// `public_base_url` is not an absolute http(s) URL.
    #[error("public_base_url must start with http:// or https://, got `{0}`")]
    PublicBaseUrl(String),
    /// `root_dir` is empty.
    #[error("root_dir must not be empty")]
    RootDir,
    /// Production with the public development key: anyone could forge media URLs.
    #[error("signing_key is the public development key: set POSTBRIDGE__MEDIA__SIGNING_KEY")]
    DevelopmentKey,
    /// `[media.s3]` cannot be used.
    #[error("s3: {0}")]
    S3(String),
    /// `media.store = "s3"` without credentials in the environment.
    #[error("s3 credentials: {0}")]
    S3Credentials(String),
}

/// The blob store and URL signer that `settings` describe: the one place services build them,
/// so the gateway (which stores and serves) and the publisher (which reads and signs) agree.
/// In `production`, the public development signing key is refused.
pub fn from_settings(
    settings: &MediaSettings,
    production: bool,
) -> Result<(Arc<dyn BlobStore>, UrlSigner), SettingsError> {
    if production && settings.uses_development_key() {
        return Err(SettingsError::DevelopmentKey);
    }
    if settings.root_dir.as_os_str().is_empty() {
        return Err(SettingsError::RootDir);
    }
    let signer = UrlSigner::from_settings(settings)?;
    let store: Arc<dyn BlobStore> = match settings.store {
        StoreKind::Local => Arc::new(LocalDirStore::new(&settings.root_dir)),
        StoreKind::S3 => {
            let credentials = S3Credentials::from_env()?;
            Arc::new(S3Store::new(
                &settings.s3,
                &credentials,
                staging_dir(settings),
            )?)
        }
    };
    Ok((store, signer))
}

/// Where the `s3` store stages uploads: `staging_dir`, or a directory of the system's
/// temporary directory.
fn staging_dir(settings: &MediaSettings) -> std::path::PathBuf {
    if settings.staging_dir.as_os_str().is_empty() {
        std::env::temp_dir().join("postbridge-staging")
    } else {
        settings.staging_dir.clone()
    }
}

/// The URL a platform fetches media `id` (stored under `key`) from: the object store's
/// presigned GET when it issues them, so media traffic bypasses the gateway, else the
/// gateway's signed content URL. Both stay valid for the signer's TTL (`media.url_ttl_secs`).
pub async fn fetch_url(
    store: &dyn BlobStore,
    signer: &UrlSigner,
    id: impl Display,
    key: &str,
) -> Result<String, StoreError> {
    match store.presigned_get(key, signer.ttl()).await? {
        Some(url) => Ok(url),
        None => Ok(signer.sign(id)),
    }
}
