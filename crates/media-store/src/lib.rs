#![doc = include_str!("../README.md")]

pub mod probe;
mod settings;
mod signer;
mod store;

use std::sync::Arc;

pub use bytes::Bytes;
pub use probe::{MediaType, Probe};
pub use settings::{MediaSettings, DEVELOPMENT_SIGNING_KEY};
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
    let store: Arc<dyn BlobStore> = Arc::new(LocalDirStore::new(&settings.root_dir));
    Ok((store, signer))
}
