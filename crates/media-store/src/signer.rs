//! Signed, expiring content URLs.
//!
//! The signature is the whole authorization of `GET /v1/media/{id}/content`: platforms fetch
//! media by URL without our bearer token. It covers the id and the expiry (so neither can be
//! changed), is HMAC-SHA256 under a key every replica shares, and is compared in constant time.

use std::{
    fmt::{self, Display},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use base64::{
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
    Engine,
};
use ring::hmac;
use secrecy::ExposeSecret;

use crate::{MediaSettings, SettingsError};

/// Shortest accepted key: HMAC-SHA256 keys shorter than the hash weaken it.
const MIN_KEY_BYTES: usize = 32;

/// Signs and verifies content URLs. Cheap to clone.
#[derive(Clone)]
pub struct UrlSigner {
    key: hmac::Key,
    public_base_url: String,
    ttl: Duration,
}

impl fmt::Debug for UrlSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UrlSigner")
            .field("public_base_url", &self.public_base_url)
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

/// Why a content URL is refused. Both answer the same 403: the difference is for logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The signature does not match the id and expiry (tampered, forged or another key).
    #[error("invalid signature")]
    Invalid,
    /// The signature was right, but the URL is past its expiry.
    #[error("expired URL")]
    Expired,
}

/// The query of a signed URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedParams {
    /// Unix seconds after which the URL stops working.
    pub expires: i64,
    /// Base64url (no padding) HMAC-SHA256 of the id and `expires`.
    pub sig: String,
}

impl UrlSigner {
    /// A signer with the raw `key` bytes; URLs live `ttl`.
    pub fn new(key: &[u8], public_base_url: &str, ttl: Duration) -> Self {
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, key),
            public_base_url: public_base_url.trim_end_matches('/').to_owned(),
            ttl,
        }
    }

    /// The signer of the `[media]` section: `signing_key` is base64 of at least 32 bytes.
    pub fn from_settings(settings: &MediaSettings) -> Result<Self, SettingsError> {
        let encoded = settings.signing_key.expose_secret().trim();
        if encoded.is_empty() {
            return Err(SettingsError::SigningKey(
                "not set (set POSTBRIDGE__MEDIA__SIGNING_KEY to `openssl rand -base64 32`)".into(),
            ));
        }
        let key = STANDARD
            .decode(encoded)
            .map_err(|_| SettingsError::SigningKey("not valid base64".into()))?;
        if key.len() < MIN_KEY_BYTES {
            return Err(SettingsError::SigningKey(format!(
                "{} bytes; at least {MIN_KEY_BYTES} are needed",
                key.len()
            )));
        }
        let base = settings.public_base_url.trim();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(SettingsError::PublicBaseUrl(base.to_owned()));
        }
        Ok(Self::new(
            &key,
            base,
            Duration::from_secs(settings.url_ttl_secs.max(1)),
        ))
    }

    /// How long a URL signed now stays valid.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// A URL for media `id`, valid for the configured time from now.
    pub fn sign(&self, id: impl Display) -> String {
        let expires = unix_now().saturating_add(i64::try_from(self.ttl.as_secs()).unwrap_or(0));
        self.sign_until(id, expires)
    }

    /// A URL for media `id`, valid until `expires` (Unix seconds).
    pub fn sign_until(&self, id: impl Display, expires: i64) -> String {
        let id = id.to_string();
        let params = self.params(&id, expires);
        format!(
            "{}/v1/media/{id}/content?expires={}&sig={}",
            self.public_base_url, params.expires, params.sig
        )
    }

    /// The query parameters that authorize fetching `id` until `expires`.
    pub fn params(&self, id: &str, expires: i64) -> SignedParams {
        let tag = hmac::sign(&self.key, message(id, expires).as_bytes());
        SignedParams {
            expires,
            sig: URL_SAFE_NO_PAD.encode(tag.as_ref()),
        }
    }

    /// Checks `sig` for `id` and `expires` at time `now` (Unix seconds). The signature is
    /// checked first, in constant time, so an attacker learns nothing from which check failed.
    pub fn verify(
        &self,
        id: &str,
        expires: i64,
        sig: &str,
        now: i64,
    ) -> Result<(), SignatureError> {
        let tag = URL_SAFE_NO_PAD
            .decode(sig)
            .map_err(|_| SignatureError::Invalid)?;
        hmac::verify(&self.key, message(id, expires).as_bytes(), &tag)
            .map_err(|_| SignatureError::Invalid)?;
        if now > expires {
            return Err(SignatureError::Expired);
        }
        Ok(())
    }

    /// [`UrlSigner::verify`] against the clock.
    pub fn verify_now(&self, id: &str, expires: i64, sig: &str) -> Result<(), SignatureError> {
        self.verify(id, expires, sig, unix_now())
    }
}

/// What is signed: a purpose prefix (so a tag can never be replayed as another kind of
/// signature made with the same key), the id and the expiry, unambiguously separated.
fn message(id: &str, expires: i64) -> String {
    format!("postbridge-media-content\n{id}\n{expires}")
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use secrecy::SecretString;

    use super::*;

    const ID: &str = "0b0f6a52-8d0e-4c3a-9d0b-1f4f0f6b2a11";

    fn signer() -> UrlSigner {
        UrlSigner::new(
            &[7u8; 32],
            "https://api.example.com/",
            Duration::from_secs(3600),
        )
    }

    fn query(url: &str) -> (i64, String) {
        let (_, query) = url.split_once('?').unwrap();
        let mut expires = 0;
        let mut sig = String::new();
        for pair in query.split('&') {
            match pair.split_once('=').unwrap() {
                ("expires", v) => expires = v.parse().unwrap(),
                ("sig", v) => sig = v.to_owned(),
                other => panic!("unexpected parameter {other:?}"),
            }
        }
        (expires, sig)
    }

    #[test]
    fn a_signed_url_has_the_documented_shape_and_verifies() {
        let url = signer().sign(ID);
        assert!(
            url.starts_with(&format!(
                "https://api.example.com/v1/media/{ID}/content?expires="
            )),
            "{url}"
        );
        let (expires, sig) = query(&url);
        assert!(expires > unix_now() + 3500);
        assert!(
            !sig.contains(['+', '/', '=']),
            "base64url without padding: {sig}"
        );
        assert_eq!(signer().verify_now(ID, expires, &sig), Ok(()));
    }

    #[test]
    fn a_changed_id_expiry_or_signature_is_invalid() {
        let s = signer();
        let params = s.params(ID, 2_000_000_000);
        let other_id = "0b0f6a52-8d0e-4c3a-9d0b-1f4f0f6b2a12";
        assert_eq!(
            s.verify(other_id, params.expires, &params.sig, 0),
            Err(SignatureError::Invalid)
        );
        assert_eq!(
            s.verify(ID, params.expires + 1, &params.sig, 0),
            Err(SignatureError::Invalid)
        );
        let mut tampered = params.sig.clone().into_bytes();
        tampered[0] = if tampered[0] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap();
        assert_eq!(
            s.verify(ID, params.expires, &tampered, 0),
            Err(SignatureError::Invalid)
        );
        assert_eq!(
            s.verify(ID, params.expires, "not base64!", 0),
            Err(SignatureError::Invalid)
        );
        assert_eq!(
            s.verify(ID, params.expires, "", 0),
            Err(SignatureError::Invalid)
        );
    }

    #[test]
    fn another_key_does_not_verify() {
        let params = signer().params(ID, 2_000_000_000);
        let other = UrlSigner::new(
            &[8u8; 32],
            "https://api.example.com",
            Duration::from_secs(1),
        );
        assert_eq!(
            other.verify(ID, params.expires, &params.sig, 0),
            Err(SignatureError::Invalid)
        );
    }

    #[test]
    fn an_expired_url_is_refused_and_the_last_second_still_counts() {
        let s = signer();
        let params = s.params(ID, 1_000);
        assert_eq!(s.verify(ID, 1_000, &params.sig, 1_000), Ok(()));
        assert_eq!(
            s.verify(ID, 1_000, &params.sig, 1_001),
            Err(SignatureError::Expired)
        );
    }

    #[test]
    fn settings_need_a_long_base64_key_and_an_http_base() {
        let mut settings = MediaSettings::default();
        assert!(matches!(
            UrlSigner::from_settings(&settings),
            Err(SettingsError::SigningKey(_))
        ));
        settings.signing_key = SecretString::from("c2hvcnQ=".to_owned());
        assert!(matches!(
            UrlSigner::from_settings(&settings),
            Err(SettingsError::SigningKey(m)) if m.contains("at least 32")
        ));
        settings.signing_key = SecretString::from(crate::DEVELOPMENT_SIGNING_KEY.to_owned());
        assert!(UrlSigner::from_settings(&settings).is_ok());
        settings.public_base_url = "ftp://example.com".into();
        assert!(matches!(
            UrlSigner::from_settings(&settings),
            Err(SettingsError::PublicBaseUrl(_))
        ));
    }

    #[test]
    fn debug_output_never_shows_the_key() {
        let shown = format!("{:?}", signer());
        assert!(shown.contains("api.example.com"));
        assert!(!shown.contains("key"), "{shown}");
    }
}
