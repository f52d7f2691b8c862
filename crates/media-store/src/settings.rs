//! `[media]`: shared by the gateway and the publisher.

use std::path::PathBuf;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// The signing key in `config/default.toml`. DEVELOPMENT ONLY: it is public, so anyone could
/// sign URLs with it; a production gateway refuses to start with it.
pub const DEVELOPMENT_SIGNING_KEY: &str = "cG9zdGJyaWRnZS1kZXYtbWVkaWEtdXJsLXNpZ25pbmctMDE=";

/// `[media]`. Every key has a default, so the whole section may be absent except
/// `signing_key`, which must come from configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MediaSettings {
    /// Where media bytes live: `local` (a directory, [`MediaSettings::root_dir`]; one machine
    /// or a shared volume) or `s3` (a bucket, `[media.s3]`; any number of replicas).
    pub store: StoreKind,
    /// Directory that holds the uploaded files (`LocalDirStore`); relative paths are relative to
    /// the working directory.
    pub root_dir: PathBuf,
    /// Where the `s3` store receives uploads before streaming them to the bucket (a local,
    /// writable directory with room for `max_concurrent_uploads` uploads); empty = the
    /// system's temporary directory. The `local` store stages under `root_dir` instead, so
    /// that storing is a rename.
    pub staging_dir: PathBuf,
    /// The bucket, when `store = "s3"`.
    pub s3: crate::S3Settings,
    /// Origin under which the gateway is reachable by the platforms that fetch media by URL;
    /// signed content URLs start with it.
    pub public_base_url: String,
    /// HMAC key for content URLs, base64 of at least 32 random bytes
    /// (`openssl rand -base64 32`). Every gateway and publisher replica needs the same key.
    pub signing_key: SecretString,
    /// Largest accepted image upload, in bytes.
    pub max_image_bytes: u64,
    /// Largest accepted video upload, in bytes.
    pub max_video_bytes: u64,
    /// How long a signed content URL stays valid, in seconds: long enough for a platform to
    /// fetch it after the publish call, short enough that a leaked URL soon stops working.
    pub url_ttl_secs: u64,
    /// Uploads one gateway receives at once. Each streams to a staged file and is probed
    /// there, so this bounds the disk bandwidth and staging space taken by uploads (up to
    /// `max_video_bytes` each); further uploads are answered 503 with `Retry-After`.
    pub max_concurrent_uploads: usize,
}

/// `media.store`: which [`crate::BlobStore`] holds media.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StoreKind {
    /// [`crate::LocalDirStore`] under `root_dir`.
    #[default]
    Local,
    /// [`crate::S3Store`] in `[media.s3]`'s bucket, credentials from the environment.
    S3,
}

impl Default for MediaSettings {
    fn default() -> Self {
        Self {
            store: StoreKind::Local,
            staging_dir: PathBuf::new(),
            s3: crate::S3Settings::default(),
            root_dir: PathBuf::from(".data/media"),
            public_base_url: "http://127.0.0.1:8080".into(),
            // No key by default: building a signer then fails with a message naming the key.
            signing_key: SecretString::from(String::new()),
            max_image_bytes: 16 * 1024 * 1024,
            max_video_bytes: 512 * 1024 * 1024,
            url_ttl_secs: 3600,
            max_concurrent_uploads: 32,
        }
    }
}

impl MediaSettings {
    /// Whether the public development key is configured (refused in production).
    pub fn uses_development_key(&self) -> bool {
        self.signing_key.expose_secret() == DEVELOPMENT_SIGNING_KEY
    }

    /// The size limit for a file of `media_type`.
    pub fn max_bytes_for(&self, media_type: crate::MediaType) -> u64 {
        if media_type.is_video() {
            self.max_video_bytes
        } else {
            self.max_image_bytes
        }
    }

    /// The largest upload of any type: the limit before the type is known.
    pub fn max_upload_bytes(&self) -> u64 {
        self.max_image_bytes.max(self.max_video_bytes)
    }
}

#[cfg(test)]
mod tests {
    use serde::de::{
        value::{Error, MapDeserializer},
        IntoDeserializer,
    };

    use super::*;

    fn from_pairs(pairs: &[(&'static str, &'static str)]) -> Result<MediaSettings, Error> {
        let de: MapDeserializer<'_, _, Error> = MapDeserializer::new(
            pairs
                .iter()
                .map(|&(key, value)| (key, value.into_deserializer())),
        );
        MediaSettings::deserialize(de)
    }

    #[test]
    fn a_partial_section_keeps_the_other_defaults() {
        let settings = from_pairs(&[("root_dir", "/tmp/x"), ("signing_key", "abc")]).unwrap();
        assert_eq!(settings.root_dir, PathBuf::from("/tmp/x"));
        assert_eq!(settings.max_image_bytes, 16 * 1024 * 1024);
        assert_eq!(settings.max_video_bytes, 512 * 1024 * 1024);
        assert_eq!(settings.url_ttl_secs, 3600);
        assert_eq!(settings.public_base_url, "http://127.0.0.1:8080");
    }

    #[test]
    fn the_store_is_local_unless_s3_is_chosen() {
        assert_eq!(MediaSettings::default().store, StoreKind::Local);
        let settings = from_pairs(&[("store", "s3")]).unwrap();
        assert_eq!(settings.store, StoreKind::S3);
        let err = from_pairs(&[("store", "gcs")]).unwrap_err();
        assert!(err.to_string().contains("gcs"), "{err}");
    }

    #[test]
    fn an_unknown_key_is_refused() {
        let err = from_pairs(&[("root_dri", "/tmp/x")]).unwrap_err();
        assert!(err.to_string().contains("root_dri"), "{err}");
    }

    #[test]
    fn the_development_key_is_recognised() {
        let settings = from_pairs(&[("signing_key", DEVELOPMENT_SIGNING_KEY)]).unwrap();
        assert!(settings.uses_development_key());
        assert!(!MediaSettings::default().uses_development_key());
    }
}
