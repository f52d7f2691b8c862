//! The random strings the sim hands out, and PKCE verification.
//!
//! Every secret carries a fixed prefix so tests can scan logs, events and responses for leaks
//! with one pattern per kind, without knowing the values.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use rand::{distributions::Alphanumeric, Rng};

/// Prefix of access tokens.
pub const ACCESS_TOKEN_PREFIX: &str = "simat_";
/// Prefix of refresh tokens.
pub const REFRESH_TOKEN_PREFIX: &str = "simrt_";
/// Prefix of authorization codes.
pub const CODE_PREFIX: &str = "simcode_";

/// A fresh secret: `prefix` plus 40 alphanumeric characters (~238 bits from the thread-local
/// CSPRNG), so guessing one is not a test scenario worth supporting.
pub(crate) fn random_secret(prefix: &str) -> String {
    let body: String = rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(40)
        .map(char::from)
        .collect();
    format!("{prefix}{body}")
}

/// An opaque id for a pending consent (not a credential, but unguessable all the same so one
/// browser cannot answer another's consent).
pub(crate) fn random_id() -> String {
    random_secret("")
}

/// Whether `challenge` looks like an S256 challenge: base64url of a 32-byte digest is exactly
/// 43 characters (RFC 7636 §4.2).
pub(crate) fn is_s256_challenge(challenge: &str) -> bool {
    challenge.len() == 43
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// RFC 7636 §4.6: `BASE64URL(SHA256(verifier)) == challenge`, with the verifier itself
/// checked against §4.1 (43–128 unreserved characters) so a sloppy client fails here rather
/// than at a real platform.
pub(crate) fn s256_matches(verifier: &str, challenge: &str) -> bool {
    let well_formed = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
    if !well_formed {
        return false;
    }
    let digest = ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes());
    URL_SAFE_NO_PAD.encode(digest.as_ref()) == challenge
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_7636_appendix_b_example_verifies() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(is_s256_challenge(challenge));
        assert!(s256_matches(verifier, challenge));
        assert!(!s256_matches(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXX",
            challenge
        ));
    }

    #[test]
    fn short_verifiers_are_refused_even_when_the_digest_matches() {
        let short = "abc";
        let digest = ring::digest::digest(&ring::digest::SHA256, short.as_bytes());
        let challenge = URL_SAFE_NO_PAD.encode(digest.as_ref());
        assert!(!s256_matches(short, &challenge));
    }

    #[test]
    fn secrets_carry_their_prefix_and_differ() {
        let a = random_secret(ACCESS_TOKEN_PREFIX);
        let b = random_secret(ACCESS_TOKEN_PREFIX);
        assert!(a.starts_with("simat_") && a.len() == 46);
        assert_ne!(a, b);
    }
}
