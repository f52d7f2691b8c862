//! The bodies of `POST /v1/posts` and `PATCH /v1/posts/{id}`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use db::domain::{AccountId, DraftId, MediaId, Platform};
use platform_adapters::PostOptions;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{error::ApiError, posts::thread::PartInput};

/// A publish request: inline, or from a draft (fields given here override the draft's).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "text": "Launch day! https://example.com",
    "account_ids": ["6f1c9a52-8d0e-4b7a-9c3e-2f5d1e8a7b64"],
    "media_ids": ["0d9b7c1e-3a2f-4e5d-8c6b-1a2b3c4d5e6f"],
    "scheduled_at": "2026-12-24T09:00:00Z",
    "variants": {"x": {"text": "Launch day!"}},
    "parts": [{"text": "Here is what is new…"}],
    "first_comment": "Questions? Ask below."
}))]
pub struct CreatePost {
    /// The base text, used where no variant overrides it.
    #[serde(default)]
    pub text: Option<String>,
    /// The accounts to publish to (one target each).
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>)]
    pub account_ids: Option<Vec<AccountId>>,
    /// When to publish (RFC 3339); absent: now.
    #[serde(default)]
    pub scheduled_at: Option<DateTime<Utc>>,
    /// Uploaded media (`POST /v1/media`), in order.
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>)]
    pub media_ids: Option<Vec<MediaId>>,
    /// Per-platform overrides: `{"x": {"text": "shorter"}, "pinterest": {"board_id": "…"}}`.
    #[serde(default)]
    pub variants: Option<BTreeMap<String, Variant>>,
    /// A saved draft to start from.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub draft_id: Option<DraftId>,
    /// A thread: the posts that follow this one, in order, each replying to the previous one
    /// (the text above, or its variant, stays the first part). Only to platforms with
    /// threads; each part is checked as a post of every target's platform.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parts: Option<Vec<PartInput>>,
    /// A comment published under the post right after it (and after its last part): a
    /// comment on Facebook, Instagram, LinkedIn and YouTube, a reply where the platform has
    /// replies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_comment: Option<String>,
}

/// A change to a post that is still waiting (`PATCH /v1/posts/{id}`).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdatePost {
    /// New base text.
    #[serde(default)]
    pub text: Option<String>,
    /// New time (RFC 3339).
    #[serde(default)]
    pub scheduled_at: Option<DateTime<Utc>>,
    /// New per-platform overrides (replace the old ones).
    #[serde(default)]
    pub variants: Option<BTreeMap<String, Variant>>,
}

/// One platform's override of the text, media and extras.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Variant {
    /// Text for this platform.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Media for this platform.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<String>>)]
    pub media_ids: Option<Vec<MediaId>>,
    /// YouTube video title, Pinterest pin title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// A link the post points to (Pinterest, LinkedIn).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// Pinterest board.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub board_id: Option<String>,
    /// Visibility where the platform asks (YouTube, TikTok, Mastodon).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub privacy: Option<String>,
}

impl Variant {
    /// The extras handed to the adapter.
    pub fn options(&self) -> PostOptions {
        PostOptions {
            title: self.title.clone(),
            link: self.link.clone(),
            board_id: self.board_id.clone(),
            privacy: self.privacy.clone(),
        }
    }
}

/// Variants keyed by platform; an unknown key is a clear 400 rather than silently ignored.
pub fn parse_variants(
    raw: &BTreeMap<String, Variant>,
) -> Result<BTreeMap<Platform, Variant>, ApiError> {
    raw.iter()
        .map(|(name, variant)| {
            let platform = crate::params::parse_platform(name).map_err(|_| {
                ApiError::bad_request(
                    "unknown_platform",
                    format!(
                        "`variants.{name}` is not a platform; known: {}",
                        Platform::ALL
                            .iter()
                            .map(|p| p.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            })?;
            Ok((platform, variant.clone()))
        })
        .collect()
}

/// An `Idempotency-Key` must be short and printable: it is stored and compared, never shown.
pub fn check_idempotency_key(key: &str) -> Result<(), ApiError> {
    if key.is_empty() || key.len() > 255 || !key.chars().all(|c| c.is_ascii_graphic()) {
        return Err(ApiError::bad_request(
            "invalid_idempotency_key",
            "`Idempotency-Key` must be 1 to 255 printable ASCII characters",
        ));
    }
    Ok(())
}

/// The fingerprint of a request, so a reused key with a different body is caught. Computed
/// on the parsed request, so whitespace and key order do not matter.
pub fn fingerprint(request: &CreatePost) -> Vec<u8> {
    let canonical = serde_json::to_vec(request).unwrap_or_default();
    ring::digest::digest(&ring::digest::SHA256, &canonical)
        .as_ref()
        .to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fingerprint_ignores_formatting_but_not_content() {
        let a: CreatePost = serde_json::from_str(r#"{"text":"hi","account_ids":[]}"#).unwrap();
        let b: CreatePost =
            serde_json::from_str("{ \"account_ids\": [], \"text\": \"hi\" }").unwrap();
        let c: CreatePost = serde_json::from_str(r#"{"text":"hi!","account_ids":[]}"#).unwrap();
        assert_eq!(fingerprint(&a), fingerprint(&b));
        assert_ne!(fingerprint(&a), fingerprint(&c));
    }

    #[test]
    fn an_unknown_variant_platform_is_a_400_naming_it() {
        let raw = BTreeMap::from([("myspace".to_owned(), Variant::default())]);
        let err = parse_variants(&raw).unwrap_err();
        assert!(err.to_string().contains("variants.myspace"), "{err}");
    }

    #[test]
    fn idempotency_keys_must_be_printable_and_short() {
        assert!(check_idempotency_key("order-42").is_ok());
        assert!(check_idempotency_key("").is_err());
        assert!(check_idempotency_key("a b").is_err());
        assert!(check_idempotency_key(&"k".repeat(256)).is_err());
    }
}

/// `Idempotency-Key` comes from any client: accepted exactly when it is 1 to 255 printable
/// ASCII characters, never a panic, and the fingerprint of a request does not depend on it.
#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn a_key_is_accepted_exactly_when_printable_ascii_and_short(key in any::<String>()) {
            let valid = (1..=255).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic());
            prop_assert_eq!(check_idempotency_key(&key).is_ok(), valid);
        }

        #[test]
        fn printable_keys_up_to_255_are_accepted(key in "[!-~]{1,255}") {
            prop_assert!(check_idempotency_key(&key).is_ok());
        }

        #[test]
        fn the_fingerprint_follows_the_content(a in any::<String>(), b in any::<String>()) {
            let post = |text: &str| CreatePost { text: Some(text.to_owned()), ..CreatePost::default() };
            prop_assert_eq!(fingerprint(&post(&a)), fingerprint(&post(&a)));
            prop_assert_eq!(fingerprint(&post(&a)) == fingerprint(&post(&b)), a == b);
        }
    }
}
