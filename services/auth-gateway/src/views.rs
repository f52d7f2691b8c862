//! What the frontend sees. Built from rows, field by field, so nothing secret can slip in by
//! adding a column.

use chrono::{DateTime, Utc};
use db::{
    accounts::Account,
    domain::{AccountId, AccountKind, AccountStatus, AuthKind, Platform},
};
use platform_adapters::{Descriptor, MediaKind, TextCounting};
use serde::Serialize;
use utoipa::ToSchema;

/// A connected account, sanitized: never a token, secret or ciphertext.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AccountView {
    #[schema(value_type = String, format = Uuid)]
    pub id: AccountId,
    #[schema(value_type = String, example = "x")]
    pub platform: Platform,
    pub platform_account_id: String,
    #[schema(value_type = String, example = "profile")]
    pub account_kind: AccountKind,
    pub display_name: Option<String>,
    pub handle: Option<String>,
    pub avatar_url: Option<String>,
    pub profile_url: Option<String>,
    #[schema(value_type = String, example = "active")]
    pub status: AccountStatus,
    pub health_score: i16,
    pub followers_count: Option<i64>,
    pub following_count: Option<i64>,
    pub posts_count: Option<i64>,
    pub token_expires_at: Option<DateTime<Utc>>,
    pub last_synced_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub connected_at: DateTime<Utc>,
    /// How the account was connected: `oauth` or `app_password`.
    pub source: &'static str,
}

impl From<&Account> for AccountView {
    fn from(a: &Account) -> Self {
        Self {
            id: a.id,
            platform: a.platform,
            platform_account_id: a.platform_account_id.clone(),
            account_kind: a.account_kind,
            display_name: a.display_name.clone(),
            handle: a.handle.clone(),
            avatar_url: a.avatar_url.clone(),
            profile_url: a.profile_url.clone(),
            status: a.status,
            health_score: a.health_score,
            followers_count: a.followers_count,
            following_count: a.following_count,
            posts_count: a.posts_count,
            token_expires_at: a.token_expires_at,
            last_synced_at: a.last_synced_at,
            last_error: a.last_error.clone(),
            connected_at: a.created_at,
            source: if a.platform == Platform::Bluesky {
                "app_password"
            } else {
                "oauth"
            },
        }
    }
}

/// A list page: `{"items": [...], "next_cursor": null|string}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T: ToSchema> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// A platform and whether this deployment can connect it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlatformView {
    #[schema(value_type = String, example = "mastodon")]
    pub platform: Platform,
    pub configured: bool,
    #[schema(value_type = String, example = "oauth2")]
    pub auth_kind: AuthKind,
    pub capabilities: CapabilitiesView,
}

/// What a post to the platform may contain.
#[derive(Debug, Serialize, ToSchema)]
pub struct CapabilitiesView {
    pub text_limit: usize,
    #[schema(value_type = String, example = "chars")]
    pub text_counting: TextCounting,
    #[schema(value_type = Vec<String>)]
    pub media_kinds: Vec<MediaKind>,
    pub max_media: usize,
    pub requires_media: bool,
    pub scheduling: bool,
}

impl PlatformView {
    /// The view of `descriptor`.
    pub fn new(descriptor: &Descriptor, configured: bool) -> Self {
        let c = &descriptor.capabilities;
        Self {
            platform: descriptor.platform,
            configured,
            auth_kind: descriptor.auth_kind,
            capabilities: CapabilitiesView {
                text_limit: c.text_limit,
                text_counting: c.text_counting,
                media_kinds: c.media_kinds.clone(),
                max_media: c.max_media,
                requires_media: c.requires_media,
                // Postbridge schedules itself; every platform can be scheduled.
                scheduling: true,
            },
        }
    }
}

/// `{"authorize_url": "..."}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuthorizeView {
    pub authorize_url: String,
}

/// The answer of `POST /v1/connections/complete`: what was connected.
#[derive(Debug, Serialize, ToSchema)]
pub struct CompletedView {
    /// The platform, e.g. `sandbox`.
    pub platform: String,
    /// The connected accounts (several for a Facebook login that manages several pages).
    pub accounts: Vec<AccountView>,
}

/// `{"status": "..."}` for accepted asynchronous requests.
#[derive(Debug, Serialize, ToSchema)]
pub struct AcceptedView {
    pub status: &'static str,
}
