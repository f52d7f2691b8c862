//! Values passed to and returned by adapters.

use chrono::{DateTime, Utc};
use domain::{AccountKind, MediaId, Platform};
use serde::{Deserialize, Serialize};

use crate::MediaKind;
use secrecy::SecretString;

/// An OAuth client's credentials. The secret never prints.
#[derive(Debug, Clone)]
pub struct ClientCredentials {
    /// `client_id` (TikTok calls it `client_key`).
    pub client_id: String,
    /// `client_secret`.
    pub client_secret: SecretString,
}

/// Where a platform lives. Every URL is configurable so tests and operators can point any of
/// them elsewhere (a wiremock server, platform-sim, a proxy).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// The browser-facing authorization page.
    pub authorize_url: String,
    /// The token endpoint (code exchange and refresh).
    pub token_url: String,
    /// The revocation endpoint, where the platform has one.
    pub revoke_url: Option<String>,
    /// Base of the REST API, without a trailing slash.
    pub api_base: String,
    /// Base of the media upload API, without a trailing slash.
    pub upload_base: String,
}

/// How one adapter is set up.
#[derive(Debug, Clone)]
pub struct AdapterSettings {
    /// App credentials; `None` means the platform is not configured (and cannot be started).
    pub credentials: Option<ClientCredentials>,
    /// URLs.
    pub endpoints: Endpoints,
}

impl AdapterSettings {
    /// The app credentials, or `Unsupported` when the operator did not configure the platform.
    pub fn require_credentials(
        &self,
        platform: Platform,
    ) -> Result<&ClientCredentials, crate::AdapterError> {
        self.credentials
            .as_ref()
            .ok_or_else(|| crate::AdapterError::Unsupported {
                what: format!("{platform} is not configured: no client credentials"),
            })
    }
}

/// Inputs of the authorization URL.
#[derive(Debug, Clone, Copy)]
pub struct AuthorizeParams<'a> {
    /// The opaque, single-use `state`.
    pub state: &'a str,
    /// PKCE S256 challenge (base64url of sha256 of the verifier), when the platform uses PKCE.
    pub pkce_challenge: Option<&'a str>,
    /// Our callback URL, registered with the platform.
    pub redirect_uri: &'a str,
}

/// Inputs of the code exchange.
#[derive(Debug, Clone, Copy)]
pub struct CodeExchange<'a> {
    /// The `code` from the callback.
    pub code: &'a str,
    /// The PKCE verifier, when a challenge was sent.
    pub pkce_verifier: Option<&'a str>,
    /// The same redirect URI as in the authorization request.
    pub redirect_uri: &'a str,
}

/// Tokens as a platform returns them. Secret fields never print.
#[derive(Debug, Clone)]
pub struct TokenSet {
    /// Bearer token for API calls.
    pub access_token: SecretString,
    /// Refresh token, when the platform grants one.
    pub refresh_token: Option<SecretString>,
    /// When the access token expires: from `expires_in`, or the platform's documented lifetime
    /// when the answer omits it; `None` only for tokens that do not expire (Mastodon).
    pub expires_at: Option<DateTime<Utc>>,
    /// When the refresh token expires, where the platform says.
    pub refresh_expires_at: Option<DateTime<Utc>>,
    /// Scopes actually granted.
    pub scopes: Vec<String>,
}

/// Who an account is on its platform.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Profile {
    /// The platform's stable id of the account (page id, channel id, DID, …).
    pub platform_account_id: String,
    /// Profile, page, business account, channel or organization.
    pub account_kind: Option<AccountKind>,
    /// Display name.
    pub display_name: Option<String>,
    /// `@handle` without the `@` (or the page's username).
    pub handle: Option<String>,
    /// Avatar image URL.
    pub avatar_url: Option<String>,
    /// Public profile URL.
    pub profile_url: Option<String>,
}

/// Audience counts; `None` where the platform does not expose one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    /// Followers / subscribers / fans.
    pub followers_count: Option<i64>,
    /// Accounts followed.
    pub following_count: Option<i64>,
    /// Posts / videos / pins / statuses.
    pub posts_count: Option<i64>,
}

/// One connected account produced by a code exchange.
#[derive(Debug, Clone)]
pub struct Connection {
    /// Who it is.
    pub profile: Profile,
    /// Its tokens (for a Facebook page: the page token).
    pub tokens: TokenSet,
    /// Counts, when the exchange already fetched them.
    pub stats: Option<Stats>,
}

/// What an adapter needs to act for a stored account.
#[derive(Debug, Clone, Copy)]
pub struct AccountRef<'a> {
    /// The platform's id of the account.
    pub platform_account_id: &'a str,
    /// Its access token.
    pub access_token: &'a SecretString,
    /// Its refresh token, if any.
    pub refresh_token: Option<&'a SecretString>,
    /// Mastodon instance or Bluesky PDS origin, for per-instance platforms.
    pub instance_url: Option<&'a str>,
}

/// Outcome of a revoke call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revocation {
    /// The platform confirmed the grant is gone.
    Revoked,
    /// The platform has no revoke endpoint; the tokens are simply forgotten.
    NotSupported,
}

/// One media item of a post, ready to hand to a platform.
#[derive(Clone)]
pub struct MediaItem {
    /// Postbridge's id of the upload.
    pub id: MediaId,
    /// Image or video.
    pub kind: MediaKind,
    /// `image/jpeg`, `video/mp4`, …
    pub mime_type: String,
    /// Width and height in pixels, and duration, where known.
    pub width: Option<u32>,
    /// Height in pixels.
    pub height: Option<u32>,
    /// Duration of a video.
    pub duration_ms: Option<u32>,
    /// Alternative text for accessibility, where the user gave one.
    pub alt_text: Option<String>,
    /// A time-limited, signed URL the platform can fetch the file from: Instagram, Threads and
    /// Pinterest only take media by URL.
    pub url: String,
    /// The file itself, for platforms that take uploads (X, LinkedIn, YouTube, TikTok,
    /// Bluesky, Mastodon, Facebook videos).
    pub bytes: bytes::Bytes,
}

impl MediaItem {
    /// Size of the file in bytes.
    pub fn size(&self) -> u64 {
        self.bytes.len() as u64
    }
}

impl std::fmt::Debug for MediaItem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The signed URL is a bearer credential for the file: keep it out of logs.
        f.debug_struct("MediaItem")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("mime_type", &self.mime_type)
            .field("size", &self.bytes.len())
            .finish_non_exhaustive()
    }
}

/// Per-platform extras of a post, given by the user in the post's variant for that platform
/// (e.g. `{"pinterest": {"board_id": "…"}}`). Adapters use what applies to them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostOptions {
    /// A title: YouTube's video title, Pinterest's pin title. Derived from the text when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// A link the post points to (Pinterest's destination link, LinkedIn's article).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// Pinterest: the board to pin to (required there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub board_id: Option<String>,
    /// Visibility where the platform asks for it: YouTube `public`/`unlisted`/`private`, TikTok
    /// `PUBLIC_TO_EVERYONE`/`SELF_ONLY`/…, Mastodon `public`/`unlisted`/`private`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub privacy: Option<String>,
}

/// One post to publish for one account.
#[derive(Debug, Clone, Copy)]
pub struct PublishRequest<'a> {
    /// The same for every attempt of this post on this account (the target id): Mastodon and
    /// the sandbox send it as `Idempotency-Key`, Bluesky derives the record key from it.
    pub idempotency_key: &'a str,
    /// When this post was first asked for on this account (the target's creation), the same
    /// for every attempt: Bluesky's time-ordered record key carries it, so posts list in the
    /// order they were made and a retry still writes the same key.
    pub created_at: DateTime<Utc>,
    /// The text, already resolved for this platform.
    pub text: &'a str,
    /// Media, in order.
    pub media: &'a [MediaItem],
    /// Per-platform extras.
    pub options: &'a PostOptions,
    /// Whether the account is a profile, page, organization, … (LinkedIn posts as a member or
    /// as an organization).
    pub account_kind: AccountKind,
    /// The post this one answers: a thread's next part, or a first comment published as a
    /// reply. `None`: a post of its own.
    pub reply_to: Option<crate::ReplyTo<'a>>,
}

/// A post that exists on the platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// The platform's id of the post (tweet id, media id, status id, `at://` URI, URN, …).
    pub platform_post_id: String,
    /// Its public URL, where one can be built.
    pub url: Option<String>,
}
