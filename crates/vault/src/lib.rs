#![doc = include_str!("../README.md")]

use std::fmt;

use base64::{engine::general_purpose::STANDARD, Engine as _};
use ring::{
    aead::{self, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN},
    rand::{SecureRandom, SystemRandom},
};
use secrecy::{zeroize::Zeroizing, SecretBox};
pub use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// Format version written as the first stored byte, so the layout can change
/// later without guessing what an old row contains.
const VERSION: u8 = 1;
const KEY_LEN: usize = 32;
const TAG_LEN: usize = 16;
const MAX_KEY_ID_LEN: usize = 32;

/// Everything that can go wrong. No variant carries plaintext or key
/// material, so errors are safe to log.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("value was encrypted with key id {0:?}, which is not configured")]
    UnknownKeyId(String),
    #[error("stored value is not in the vault format")]
    Malformed,
    /// Tampering and wrong associated data deliberately look the same: telling
    /// them apart would help an attacker probe which guess was closer.
    #[error("decryption failed: value was altered or belongs to another row or field")]
    DecryptFailed,
    #[error("invalid vault key {id:?}: {reason}")]
    InvalidKey { id: String, reason: String },
    #[error("no vault keys configured")]
    NoKeys,
    #[error("vault key id {0:?} is configured more than once")]
    DuplicateKeyId(String),
    #[error("system random number generator failed")]
    Rng,
}

pub type Result<T, E = VaultError> = std::result::Result<T, E>;

/// Short ASCII name of a key (`k1`, `2025-06`). It is stored in clear in every
/// ciphertext so decryption knows which key to use and rotation can find rows
/// still on an old key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeyId(String);

impl KeyId {
    pub fn new(id: impl Into<String>) -> Result<Self> {
        let id = id.into();
        let valid_chars = id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if id.is_empty() || id.len() > MAX_KEY_ID_LEN || !valid_chars {
            let reason = format!("id must be 1-{MAX_KEY_ID_LEN} chars of [A-Za-z0-9._-]");
            return Err(VaultError::InvalidKey { id, reason });
        }
        Ok(Self(id))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// 32 bytes of AES-256 key material, zeroed on drop; its `Debug` is redacted.
pub struct Key(SecretBox<[u8; KEY_LEN]>);

impl Key {
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Self(SecretBox::new(Box::new(bytes)))
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Key([REDACTED])")
    }
}

/// One key as it appears in configuration: an id and the base64 of 32 bytes.
#[derive(Debug, Deserialize)]
pub struct KeyConfig {
    pub id: String,
    pub key: SecretString,
}

impl KeyConfig {
    /// Parses the one-line form used in configuration and environment variables:
    /// `id:base64` pairs separated by commas, newest (encrypting) key first, e.g.
    /// `k2:…,k1:…`. Errors name the position, never the key text.
    pub fn parse_list(list: &SecretString) -> Result<Vec<KeyConfig>> {
        list.expose_secret()
            .split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .enumerate()
            .map(|(index, entry)| {
                let (id, key) = entry
                    .split_once(':')
                    .ok_or_else(|| VaultError::InvalidKey {
                        id: format!("#{}", index + 1),
                        reason: "expected `id:base64`".into(),
                    })?;
                Ok(KeyConfig {
                    id: id.trim().to_owned(),
                    key: SecretString::from(key.trim().to_owned()),
                })
            })
            .collect()
    }
}

/// Where a ciphertext lives. It is authenticated with the value, so a
/// ciphertext copied to another row or field (say, one account's token pasted
/// into an attacker's account, or a refresh token swapped into the access
/// token column) fails to decrypt instead of silently being accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Aad {
    table: String,
    row_id: String,
    field: String,
}

impl Aad {
    pub fn new(table: &str, row_id: impl fmt::Display, field: &str) -> Self {
        Self {
            table: table.to_owned(),
            row_id: row_id.to_string(),
            field: field.to_owned(),
        }
    }

    /// Header || length-prefixed parts. Length prefixes keep ("a_b", "c") and
    /// ("a", "b_c") distinct; the header binds the version and key id too.
    fn bytes(&self, header: &[u8]) -> Vec<u8> {
        let mut out = header.to_vec();
        for part in [&self.table, &self.row_id, &self.field] {
            out.extend_from_slice(&(part.len() as u64).to_be_bytes());
            out.extend_from_slice(part.as_bytes());
        }
        out
    }
}

/// Things that can be encrypted: plain and secret strings alike.
pub trait Plaintext {
    fn plaintext_bytes(&self) -> &[u8];
}
impl Plaintext for str {
    fn plaintext_bytes(&self) -> &[u8] {
        self.as_bytes()
    }
}
impl Plaintext for String {
    fn plaintext_bytes(&self) -> &[u8] {
        self.as_bytes()
    }
}
impl Plaintext for SecretString {
    fn plaintext_bytes(&self) -> &[u8] {
        self.expose_secret().as_bytes()
    }
}

/// A stored value split into its parts, borrowed from the input.
struct Parsed<'a> {
    header: &'a [u8],
    key_id: &'a str,
    nonce: [u8; NONCE_LEN],
    sealed: &'a [u8],
}

fn parse(stored: &[u8]) -> Result<Parsed<'_>> {
    let Some((&VERSION, rest)) = stored.split_first() else {
        return Err(VaultError::Malformed);
    };
    let (&id_len, rest) = rest.split_first().ok_or(VaultError::Malformed)?;
    let id_len = usize::from(id_len);
    if id_len == 0 || rest.len() < id_len + NONCE_LEN + TAG_LEN {
        return Err(VaultError::Malformed);
    }
    let (id, rest) = rest.split_at(id_len);
    let key_id = std::str::from_utf8(id).map_err(|_| VaultError::Malformed)?;
    let (nonce, sealed) = rest.split_at(NONCE_LEN);
    let nonce = nonce.try_into().map_err(|_| VaultError::Malformed)?;
    Ok(Parsed {
        header: &stored[..2 + id_len],
        key_id,
        nonce,
        sealed,
    })
}

/// Encrypts and decrypts tokens. Share it behind an `Arc`; it is `Send + Sync`.
pub struct Vault {
    /// Non-empty; the first entry is the primary (encrypting) key.
    keys: Vec<(KeyId, LessSafeKey)>,
    rng: SystemRandom,
}

impl fmt::Debug for Vault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ids: Vec<&str> = self.keys.iter().map(|(id, _)| id.as_str()).collect();
        f.debug_struct("Vault")
            .field("key_ids", &ids)
            .finish_non_exhaustive()
    }
}

impl Vault {
    /// The first key encrypts; all keys decrypt. Keeping retired keys around
    /// lets rotation happen row by row instead of in one risky migration.
    pub fn new(keys: Vec<(KeyId, Key)>) -> Result<Self> {
        if keys.is_empty() {
            return Err(VaultError::NoKeys);
        }
        let mut out: Vec<(KeyId, LessSafeKey)> = Vec::with_capacity(keys.len());
        for (id, key) in keys {
            if out.iter().any(|(seen, _)| *seen == id) {
                return Err(VaultError::DuplicateKeyId(id.0));
            }
            let unbound = UnboundKey::new(&AES_256_GCM, key.0.expose_secret()).map_err(|_| {
                VaultError::InvalidKey {
                    id: id.0.clone(),
                    reason: "rejected by ring".into(),
                }
            })?;
            out.push((id, LessSafeKey::new(unbound)));
        }
        Ok(Self {
            keys: out,
            rng: SystemRandom::new(),
        })
    }

    /// Builds the vault from configuration. Errors name the offending key id
    /// but never echo the (possibly mistyped) key text.
    pub fn from_config(keys: &[KeyConfig]) -> Result<Self> {
        let mut parsed = Vec::with_capacity(keys.len());
        for config in keys {
            let id = KeyId::new(config.id.clone())?;
            let invalid = |reason: String| VaultError::InvalidKey {
                id: config.id.clone(),
                reason,
            };
            let decoded = Zeroizing::new(
                STANDARD
                    .decode(config.key.expose_secret().trim())
                    .map_err(|_| invalid("not valid base64".into()))?,
            );
            if decoded.len() != KEY_LEN {
                let got = decoded.len();
                return Err(invalid(format!(
                    "must decode to {KEY_LEN} bytes, got {got}"
                )));
            }
            let key = Key(SecretBox::init_with_mut(|bytes: &mut [u8; KEY_LEN]| {
                bytes.copy_from_slice(&decoded);
            }));
            parsed.push((id, key));
        }
        Self::new(parsed)
    }

    /// A fresh random key, base64-encoded, ready to paste into configuration.
    pub fn generate_key_base64() -> Result<SecretString> {
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        SystemRandom::new()
            .fill(bytes.as_mut())
            .map_err(|_| VaultError::Rng)?;
        Ok(SecretString::from(STANDARD.encode(bytes.as_ref())))
    }

    /// A vault with one fixed, publicly known key (`test`). Deterministic so
    /// fixtures encrypted in one test run decrypt in the next; never for
    /// production, hence the feature gate.
    #[cfg(any(test, feature = "testing"))]
    pub fn for_tests() -> Self {
        let key = UnboundKey::new(&AES_256_GCM, &[0x42; KEY_LEN]);
        #[expect(
            clippy::expect_used,
            reason = "a 32-byte key is always valid for AES-256"
        )]
        let key = key.expect("32-byte AES-256 key");
        Self {
            keys: vec![(KeyId("test".into()), LessSafeKey::new(key))],
            rng: SystemRandom::new(),
        }
    }

    pub fn primary_key_id(&self) -> &str {
        self.keys[0].0.as_str()
    }

    /// Seals `plaintext` under the primary key. A fresh random nonce per call
    /// means equal tokens produce unrelated ciphertexts; with 96-bit random
    /// nonces, rotate the key well before ~2^32 encryptions.
    pub fn encrypt<P: Plaintext + ?Sized>(&self, plaintext: &P, aad: &Aad) -> Result<Vec<u8>> {
        let (id, key) = &self.keys[0];
        let mut nonce = [0u8; NONCE_LEN];
        self.rng.fill(&mut nonce).map_err(|_| VaultError::Rng)?;

        let header_len = 2 + id.0.len();
        let plaintext = plaintext.plaintext_bytes();
        let mut out = Vec::with_capacity(header_len + NONCE_LEN + plaintext.len() + TAG_LEN);
        out.push(VERSION);
        out.push(id.0.len() as u8); // KeyId::new caps the length at 32
        out.extend_from_slice(id.0.as_bytes());
        out.extend_from_slice(&nonce);
        let aad = aad.bytes(&out[..header_len]);

        let body = out.len();
        out.extend_from_slice(plaintext);
        let tag = key
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce),
                aead::Aad::from(aad),
                &mut out[body..],
            )
            // ring refuses only inputs beyond GCM's ~64 GiB limit; no token gets there.
            .map_err(|_| VaultError::Malformed)?;
        out.extend_from_slice(tag.as_ref());
        Ok(out)
    }

    /// Opens a stored value. Fails with [`VaultError::DecryptFailed`] if it was
    /// altered or if `aad` names a different table, row or field.
    pub fn decrypt(&self, stored: &[u8], aad: &Aad) -> Result<SecretString> {
        let parsed = parse(stored)?;
        let key = self.key(parsed.key_id)?;
        let mut buf = Zeroizing::new(parsed.sealed.to_vec());
        let plaintext = key
            .open_in_place(
                Nonce::assume_unique_for_key(parsed.nonce),
                aead::Aad::from(aad.bytes(parsed.header)),
                &mut buf[..],
            )
            .map_err(|_| VaultError::DecryptFailed)?;
        let text = std::str::from_utf8(plaintext).map_err(|_| VaultError::Malformed)?;
        Ok(SecretString::from(text))
    }

    /// Which key sealed `stored`, without decrypting it. The rotation job uses
    /// this to find rows not yet on [`Vault::primary_key_id`].
    pub fn key_id_of(stored: &[u8]) -> Result<&str> {
        parse(stored).map(|parsed| parsed.key_id)
    }

    /// `Some(new)` if `stored` is under an older key and has been re-sealed
    /// under the primary one; `None` if it is already current.
    pub fn reencrypt(&self, stored: &[u8], aad: &Aad) -> Result<Option<Vec<u8>>> {
        if Self::key_id_of(stored)? == self.primary_key_id() {
            return Ok(None);
        }
        let plaintext = self.decrypt(stored, aad)?;
        self.encrypt(&plaintext, aad).map(Some)
    }

    fn key(&self, id: &str) -> Result<&LessSafeKey> {
        self.keys
            .iter()
            .find(|(known, _)| known.as_str() == id)
            .map(|(_, key)| key)
            .ok_or_else(|| VaultError::UnknownKeyId(id.to_owned()))
    }
}

#[cfg(test)]
mod key_list_tests {
    use super::*;

    #[test]
    fn a_key_list_parses_newest_first_and_builds_a_vault() {
        let k1 = Vault::generate_key_base64().unwrap();
        let k2 = Vault::generate_key_base64().unwrap();
        let list = SecretString::from(format!(
            "k2:{}, k1:{}",
            k2.expose_secret(),
            k1.expose_secret()
        ));
        let keys = KeyConfig::parse_list(&list).unwrap();
        assert_eq!(
            keys.iter().map(|k| k.id.as_str()).collect::<Vec<_>>(),
            ["k2", "k1"]
        );
        assert_eq!(Vault::from_config(&keys).unwrap().primary_key_id(), "k2");
    }

    #[test]
    fn a_key_list_entry_without_an_id_is_rejected_without_echoing_it() {
        let err = KeyConfig::parse_list(&SecretString::from("c2VjcmV0".to_owned())).unwrap_err();
        assert!(!err.to_string().contains("c2VjcmV0"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> Key {
        Key::from_bytes([byte; KEY_LEN])
    }

    fn vault(ids: &[(&str, u8)]) -> Vault {
        Vault::new(
            ids.iter()
                .map(|&(id, b)| (KeyId::new(id).unwrap(), key(b)))
                .collect(),
        )
        .unwrap()
    }

    fn aad() -> Aad {
        Aad::new(
            "social_accounts",
            "0b9e7c1e-4f7a-4f43-9b0e-2d1c5a6e8f90",
            "access_token",
        )
    }

    fn config(id: &str, key: &str) -> KeyConfig {
        KeyConfig {
            id: id.into(),
            key: SecretString::from(key),
        }
    }

    #[test]
    fn round_trip_returns_the_plaintext() {
        let vault = Vault::for_tests();
        let stored = vault.encrypt("ya29.token", &aad()).unwrap();
        assert_eq!(
            vault.decrypt(&stored, &aad()).unwrap().expose_secret(),
            "ya29.token"
        );
        let secret = SecretString::from("");
        let stored = vault.encrypt(&secret, &aad()).unwrap();
        assert_eq!(vault.decrypt(&stored, &aad()).unwrap().expose_secret(), "");
    }

    #[test]
    fn stored_form_starts_with_version_and_key_id() {
        let stored = vault(&[("k1", 1)]).encrypt("abc", &aad()).unwrap();
        assert_eq!(&stored[..4], &[VERSION, 2, b'k', b'1']);
        assert_eq!(stored.len(), 4 + NONCE_LEN + 3 + TAG_LEN);
        assert_eq!(Vault::key_id_of(&stored).unwrap(), "k1");
    }

    #[test]
    fn tampered_ciphertext_is_rejected() {
        let vault = Vault::for_tests();
        let stored = vault.encrypt("token", &aad()).unwrap();
        // Every byte after the 6-byte header (version, len, "test"): nonce, ciphertext, tag.
        for i in 6..stored.len() {
            let mut bad = stored.clone();
            bad[i] ^= 0x01;
            assert!(matches!(
                vault.decrypt(&bad, &aad()),
                Err(VaultError::DecryptFailed)
            ));
        }
    }

    #[test]
    fn wrong_associated_data_is_rejected() {
        let vault = Vault::for_tests();
        let stored = vault.encrypt("token", &aad()).unwrap();
        let other_row = Aad::new("social_accounts", "another-row", "access_token");
        let other_field = Aad::new(
            "social_accounts",
            "0b9e7c1e-4f7a-4f43-9b0e-2d1c5a6e8f90",
            "refresh_token",
        );
        let other_table = Aad::new(
            "users",
            "0b9e7c1e-4f7a-4f43-9b0e-2d1c5a6e8f90",
            "access_token",
        );
        for wrong in [other_row, other_field, other_table] {
            assert!(matches!(
                vault.decrypt(&stored, &wrong),
                Err(VaultError::DecryptFailed)
            ));
        }
    }

    #[test]
    fn unknown_key_id_is_rejected() {
        let stored = vault(&[("k9", 9)]).encrypt("token", &aad()).unwrap();
        let err = vault(&[("k1", 1)]).decrypt(&stored, &aad()).unwrap_err();
        assert!(matches!(err, VaultError::UnknownKeyId(ref id) if id == "k9"));
    }

    #[test]
    fn rotation_new_primary_encrypts_old_keys_still_decrypt() {
        let old = vault(&[("k1", 1)]).encrypt("old token", &aad()).unwrap();
        let rotated = vault(&[("k2", 2), ("k1", 1)]);
        assert_eq!(
            rotated.decrypt(&old, &aad()).unwrap().expose_secret(),
            "old token"
        );
        let new = rotated.encrypt("new token", &aad()).unwrap();
        assert_eq!(Vault::key_id_of(&new).unwrap(), "k2");
    }

    #[test]
    fn reencrypt_moves_value_to_primary_key() {
        let old = vault(&[("k1", 1)]).encrypt("token", &aad()).unwrap();
        let rotated = vault(&[("k2", 2), ("k1", 1)]);
        let moved = rotated.reencrypt(&old, &aad()).unwrap().unwrap();
        assert_eq!(Vault::key_id_of(&moved).unwrap(), "k2");
        assert_eq!(
            rotated.decrypt(&moved, &aad()).unwrap().expose_secret(),
            "token"
        );
        assert!(rotated.reencrypt(&moved, &aad()).unwrap().is_none());
        let other = Aad::new("social_accounts", "x", "access_token");
        assert!(matches!(
            rotated.reencrypt(&old, &other),
            Err(VaultError::DecryptFailed)
        ));
    }

    #[test]
    fn nonces_differ_between_encryptions() {
        let vault = Vault::for_tests();
        let a = vault.encrypt("same", &aad()).unwrap();
        let b = vault.encrypt("same", &aad()).unwrap();
        assert_ne!(a[6..6 + NONCE_LEN], b[6..6 + NONCE_LEN]);
        assert_ne!(a, b);
    }

    #[test]
    fn debug_output_never_shows_key_material() {
        let b64 = STANDARD.encode([0xAB; KEY_LEN]);
        let vault = Vault::from_config(&[config("k1", &b64), config("k0", &b64)]).unwrap();
        let shown = format!("{vault:?} {:?} {:?}", key(0xAB), config("k1", &b64));
        assert!(shown.contains("k1") && shown.contains("k0"));
        assert!(!shown.contains(&b64) && !shown.to_lowercase().contains("abab"));
        assert!(!shown.contains("171")); // 0xAB in decimal, as a derived Debug would print
    }

    #[test]
    fn malformed_input_is_rejected_not_panicking() {
        let vault = Vault::for_tests();
        let good = vault.encrypt("token", &aad()).unwrap();
        let mut wrong_version = good.clone();
        wrong_version[0] = 2;
        let mut bad_id_len = good.clone();
        bad_id_len[1] = 255;
        let mut empty_id = good.clone();
        empty_id[1] = 0;
        let cases = [
            vec![],
            vec![VERSION],
            vec![VERSION, 4, b't'],
            wrong_version,
            bad_id_len,
            empty_id,
        ];
        for case in cases {
            assert!(
                matches!(vault.decrypt(&case, &aad()), Err(VaultError::Malformed)),
                "{case:?}"
            );
            assert!(Vault::key_id_of(&case).is_err());
        }
        for len in 0..good.len() - TAG_LEN {
            assert!(vault.decrypt(&good[..len], &aad()).is_err());
        }
    }

    #[test]
    fn config_errors_are_specific_and_leak_no_key_text() {
        let good = Vault::generate_key_base64().unwrap();
        let good = good.expose_secret();
        assert!(Vault::from_config(&[config("k1", good)]).is_ok());
        assert!(matches!(Vault::from_config(&[]), Err(VaultError::NoKeys)));

        let err = Vault::from_config(&[config("k1", "not base64!!secret")]).unwrap_err();
        assert!(matches!(err, VaultError::InvalidKey { ref id, .. } if id == "k1"));
        assert!(!err.to_string().contains("secret"));

        let short = STANDARD.encode([7u8; 16]);
        let err = Vault::from_config(&[config("k1", &short)]).unwrap_err();
        assert!(err.to_string().contains("got 16"), "{err}");

        let err = Vault::from_config(&[config("k1", good), config("k1", good)]).unwrap_err();
        assert!(matches!(err, VaultError::DuplicateKeyId(ref id) if id == "k1"));

        for bad_id in ["", "has space", &"x".repeat(MAX_KEY_ID_LEN + 1)] {
            let err = Vault::from_config(&[config(bad_id, good)]).unwrap_err();
            assert!(matches!(err, VaultError::InvalidKey { .. }), "{bad_id:?}");
        }
    }

    #[test]
    fn vault_can_be_shared_between_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Vault>();
    }
}
