//! Every event Postbridge emits. Payloads carry ids and facts, never a token or a secret.

use chrono::{DateTime, Utc};
use domain::{
    AccountId, AccountKind, AccountStatus, DeletionStatus, OwnerId, Platform, PostId, PostTargetId,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::Event;

macro_rules! event {
    ($ty:ident, $key:literal, version $version:literal) => {
        impl $ty {
            /// Routing key of this event.
            pub const ROUTING_KEY: &'static str = $key;
        }
        impl Event for $ty {
            const TYPE: &'static str = $key;
            const VERSION: u32 = $version;
        }
    };
}

/// A user connected (or reconnected) an account; emitted by auth-gateway.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AccountConnected {
    pub account_id: AccountId,
    pub owner_id: OwnerId,
    pub platform: Platform,
    pub platform_account_id: String,
    pub account_kind: AccountKind,
    /// True when an existing connection was renewed rather than a new one created.
    pub reconnected: bool,
}
event!(AccountConnected, "account.connected", version 1);

/// Profile, counts and health were refreshed from the platform; emitted by account-registry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AccountSynced {
    pub account_id: AccountId,
    pub owner_id: OwnerId,
    pub platform: Platform,
    pub status: AccountStatus,
    /// 0 (unusable) to 100 (healthy).
    pub health_score: i16,
    pub followers_count: Option<i64>,
    pub following_count: Option<i64>,
    pub posts_count: Option<i64>,
    pub synced_at: DateTime<Utc>,
}
event!(AccountSynced, "account.synced", version 1);

/// The user asked to disconnect an account; emitted by auth-gateway.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AccountDisconnectRequested {
    pub account_id: AccountId,
    pub owner_id: OwnerId,
    pub platform: Platform,
}
event!(AccountDisconnectRequested, "account.disconnect_requested", version 1);

/// Someone asked for a fresh sync of an account's profile and counts
/// (`POST /v1/accounts/{id}/sync`); emitted by auth-gateway, consumed by account-registry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AccountSyncRequested {
    pub account_id: AccountId,
    pub owner_id: OwnerId,
    pub platform: Platform,
}
event!(AccountSyncRequested, "account.sync_requested", version 1);

/// Tokens were revoked (where the platform allows) and wiped; emitted by account-registry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AccountDisconnected {
    pub account_id: AccountId,
    pub owner_id: OwnerId,
    pub platform: Platform,
    /// Whether the platform confirmed the revocation (false when it has no revoke endpoint or
    /// the call failed; the tokens are wiped either way).
    pub revoked: bool,
}
event!(AccountDisconnected, "account.disconnected", version 1);

/// Why a refresh is being asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExpiringReason {
    /// The scheduler found the token inside its refresh window.
    Scheduled,
    /// A platform answered 401 to a call made with the token.
    Unauthorized,
    /// Someone asked for it (`POST /v1/accounts/{id}/refresh`).
    Requested,
}

/// A token should be refreshed now; emitted by token-refresher's scheduler, or urgently by
/// the publisher on a 401.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TokenExpiring {
    pub account_id: AccountId,
    pub platform: Platform,
    pub expires_at: Option<DateTime<Utc>>,
    /// Skip the "already fresh" shortcut: the token was just refused.
    pub urgent: bool,
    pub reason: ExpiringReason,
}
event!(TokenExpiring, "token.expiring", version 1);

/// A token was refreshed and stored; emitted by token-refresher.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TokenRefreshed {
    pub account_id: AccountId,
    pub platform: Platform,
    pub expires_at: Option<DateTime<Utc>>,
    /// True when the account had been failing and is healthy again.
    pub recovered: bool,
}
event!(TokenRefreshed, "token.refreshed", version 1);

/// Why a refresh failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RefreshFailureReason {
    /// The grant is gone (revoked, expired, `invalid_grant`): the user must reconnect.
    NeedsReauth,
    /// The platform rate limited us; retried after its reset.
    RateLimited,
    /// Network or server error; retried with backoff.
    Transient,
}

/// A refresh failed; emitted by token-refresher.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TokenRefreshFailed {
    pub account_id: AccountId,
    pub platform: Platform,
    pub reason: RefreshFailureReason,
    /// What the user must do, in words (never contains a token).
    pub message: String,
    /// When the next attempt is planned, if any.
    pub retry_at: Option<DateTime<Utc>>,
}
event!(TokenRefreshFailed, "token.refresh_failed", version 1);

/// One account's share of a post, as scheduled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ScheduledTarget {
    pub target_id: PostTargetId,
    pub account_id: AccountId,
    pub platform: Platform,
    pub due_at: DateTime<Utc>,
}

/// A post was accepted for publishing (now or later); emitted by auth-gateway.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PostScheduled {
    pub post_id: PostId,
    pub owner_id: OwnerId,
    pub scheduled_at: Option<DateTime<Utc>>,
    pub targets: Vec<ScheduledTarget>,
}
event!(PostScheduled, "post.scheduled", version 1);

/// A post was canceled before publishing; emitted by auth-gateway.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PostCanceled {
    pub post_id: PostId,
    pub owner_id: OwnerId,
    pub target_ids: Vec<PostTargetId>,
}
event!(PostCanceled, "post.canceled", version 1);

/// A target went live on its platform; emitted by the publisher.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PostPublished {
    pub post_id: PostId,
    pub target_id: PostTargetId,
    pub account_id: AccountId,
    pub platform: Platform,
    pub platform_post_id: String,
    pub url: Option<String>,
    pub published_at: DateTime<Utc>,
}
event!(PostPublished, "post.published", version 1);

/// A target failed for good; emitted by the publisher.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PostFailed {
    pub post_id: PostId,
    pub target_id: PostTargetId,
    pub account_id: AccountId,
    pub platform: Platform,
    /// Machine-readable class, e.g. `rejected`, `needs_reauth`, `retries_exhausted`.
    pub error_code: String,
    /// The platform's reason or ours, for people.
    pub error_message: String,
    pub failed_at: DateTime<Utc>,
}
event!(PostFailed, "post.failed", version 1);

/// Someone asked to delete a post from its platforms (`DELETE /v1/posts/{id}`); emitted by
/// auth-gateway with the targets whose deletion it requested, and wakes the publisher, which
/// deletes them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PostDeleteRequested {
    pub post_id: PostId,
    pub owner_id: OwnerId,
    pub target_ids: Vec<PostTargetId>,
}
event!(PostDeleteRequested, "post.delete_requested", version 1);

/// How the deletion of one target ended (see `PostDeleted`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DeletedTarget {
    pub target_id: PostTargetId,
    pub account_id: AccountId,
    pub platform: Platform,
    /// `deleted` (gone from the platform), `unsupported` (the platform cannot delete through
    /// its API: the post is still live) or `failed` (see `error_code`, `message`).
    pub outcome: DeletionStatus,
    /// Machine-readable class when not deleted, e.g. `unsupported`, `rejected`.
    pub error_code: Option<String>,
    /// For people, when not deleted; names the platform.
    pub message: Option<String>,
    pub deleted_at: Option<DateTime<Utc>>,
}

/// Every deletion a post's `post.delete_requested` asked for is settled; emitted by the
/// publisher once per request, with each target's outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PostDeleted {
    pub post_id: PostId,
    pub owner_id: OwnerId,
    pub targets: Vec<DeletedTarget>,
    pub settled_at: DateTime<Utc>,
}
event!(PostDeleted, "post.deleted", version 1);

/// A user paused an account: its due posts wait until it is resumed (its tokens are still
/// refreshed); emitted by auth-gateway.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AccountPaused {
    pub account_id: AccountId,
    pub owner_id: OwnerId,
    pub platform: Platform,
    pub paused_at: DateTime<Utc>,
}
event!(AccountPaused, "account.paused", version 1);

/// A user resumed a paused account: its waiting posts go out now (the publisher's dispatcher
/// wakes on it); emitted by auth-gateway.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AccountResumed {
    pub account_id: AccountId,
    pub owner_id: OwnerId,
    pub platform: Platform,
    pub resumed_at: DateTime<Utc>,
}
event!(AccountResumed, "account.resumed", version 1);

/// Engagement of one target at one read (see `PostMetricsUpdated`). A figure the platform
/// does not give, or not with the scopes the account granted, is `null`, never 0.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TargetMetrics {
    pub post_id: PostId,
    pub target_id: PostTargetId,
    pub platform_post_id: String,
    pub likes: Option<i64>,
    pub replies: Option<i64>,
    pub reposts: Option<i64>,
    pub quotes: Option<i64>,
    pub saves: Option<i64>,
    pub impressions: Option<i64>,
    pub views: Option<i64>,
    pub reach: Option<i64>,
}

/// Engagement of published posts was read from the platform: one event per batch read (one
/// account, up to the platform's batch size), never one per figure; emitted by the publisher.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PostMetricsUpdated {
    pub account_id: AccountId,
    pub platform: Platform,
    pub fetched_at: DateTime<Utc>,
    pub targets: Vec<TargetMetrics>,
}
event!(PostMetricsUpdated, "post.metrics_updated", version 1);

/// A user asked for a post's engagement now (its published targets are due); wakes the
/// publisher's metrics fetcher. Emitted by auth-gateway.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PostMetricsRequested {
    pub post_id: PostId,
    pub owner_id: OwnerId,
    pub target_ids: Vec<PostTargetId>,
}
event!(PostMetricsRequested, "post.metrics_requested", version 1);

/// Every routing key, for topology bindings and the documentation.
pub const ALL_TYPES: &[&str] = &[
    AccountConnected::TYPE,
    AccountSynced::TYPE,
    AccountSyncRequested::TYPE,
    AccountDisconnectRequested::TYPE,
    AccountDisconnected::TYPE,
    TokenExpiring::TYPE,
    TokenRefreshed::TYPE,
    TokenRefreshFailed::TYPE,
    PostScheduled::TYPE,
    PostCanceled::TYPE,
    PostPublished::TYPE,
    PostFailed::TYPE,
    PostDeleteRequested::TYPE,
    PostDeleted::TYPE,
    AccountPaused::TYPE,
    AccountResumed::TYPE,
    PostMetricsUpdated::TYPE,
    PostMetricsRequested::TYPE,
];
