//! Static facts about a platform, used to validate posts before accepting them.

use std::time::Duration;

use domain::{AuthKind, Platform};
use serde::Serialize;

/// How a platform counts the length of a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TextCounting {
    /// Unicode scalar values.
    Chars,
    /// User-perceived characters (Bluesky).
    Graphemes,
    /// X's weighted count (most CJK and emoji count double, URLs count 23).
    XWeighted,
}

/// Kinds of media a platform accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaKind {
    /// Still images.
    Image,
    /// Videos.
    Video,
}

/// What a post to the platform may contain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Capabilities {
    /// Longest text, counted the platform's way.
    pub text_limit: usize,
    /// How length is counted.
    pub text_counting: TextCounting,
    /// Media kinds accepted.
    pub media_kinds: Vec<MediaKind>,
    /// Most media items per post.
    pub max_media: usize,
    /// Whether a post must carry media (Instagram, Pinterest, YouTube, TikTok).
    pub requires_media: bool,
    /// The documented per-account publishing limit, which the publisher respects before
    /// calling (a call over it would only earn a 429, or worse, a flagged account).
    pub publish_limit: Option<PublishLimit>,
    /// Whether publishing the same request twice creates one post (Bluesky's deterministic
    /// rkey, Mastodon's and the sandbox's `Idempotency-Key`): a call whose outcome is unknown
    /// can then simply be repeated instead of reconciled.
    pub idempotent_publish: bool,
    /// How long the platform remembers a publish request for deduplication, where that is
    /// limited (Mastodon keeps an `Idempotency-Key` for an hour); `None`: for good (Bluesky's
    /// record keys, the sandbox's keys). Past it, a repeat could post twice.
    #[serde(skip)]
    pub dedup_window: Option<Duration>,
    /// Deletion, threads, first comments and engagement reading, where the platform has them.
    pub follow_ups: crate::FollowUps,
}

/// At most `max` posts per account in any sliding `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PublishLimit {
    /// Posts allowed in the window.
    pub max: u32,
    /// The sliding window.
    #[serde(with = "secs")]
    pub window: Duration,
}

impl PublishLimit {
    /// `max` posts per rolling hour.
    pub const fn per_hour(max: u32) -> Self {
        Self {
            max,
            window: Duration::from_secs(3600),
        }
    }

    /// `max` posts per rolling 24 hours.
    pub const fn per_day(max: u32) -> Self {
        Self {
            max,
            window: Duration::from_secs(24 * 3600),
        }
    }
}

mod secs {
    use std::time::Duration;

    pub fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_secs())
    }
}

/// Everything static about one platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Descriptor {
    /// Which platform.
    pub platform: Platform,
    /// How users connect.
    pub auth_kind: AuthKind,
    /// Scopes requested when connecting.
    pub scopes: Vec<String>,
    /// Whether the authorization request uses PKCE (S256).
    pub pkce: bool,
    /// Documented access-token lifetime, used when a grant omits `expires_in` (a missing
    /// value must never mean "never expires"). `None`: tokens do not expire.
    #[serde(skip)]
    pub access_token_lifetime: Option<Duration>,
    /// Whether each refresh token works once only (X, TikTok, Bluesky): refreshes must then
    /// never run twice for one account.
    pub refresh_token_rotates: bool,
    /// Posting capabilities.
    pub capabilities: Capabilities,
}
