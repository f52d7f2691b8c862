//! What the API answers about posts: the frontend's view, never a token.

use chrono::{DateTime, Utc};
use db::{
    domain::{
        AccountId, AttemptKind, AttemptOutcome, MediaId, Platform, PostId, PostStatus,
        PostTargetId, TargetStatus,
    },
    posts::{Post, PostAttempt, PostTarget},
};
use serde::Serialize;
use utoipa::ToSchema;

use crate::views::enums::{
    AttemptKindSchema, AttemptOutcomeSchema, PlatformSchema, PostStatusSchema, TargetStatusSchema,
};

/// A publish request and where each of its targets stands.
#[derive(Debug, Serialize, ToSchema)]
pub struct PostView {
    /// The post's id.
    #[schema(value_type = String, format = Uuid)]
    pub id: PostId,
    /// Derived from the targets: scheduled, publishing, published, partially_failed, failed,
    /// canceled; after `DELETE`: deleting, deleted, partially_deleted (still live somewhere).
    #[schema(value_type = PostStatusSchema)]
    pub status: PostStatus,
    /// The base text.
    pub text: String,
    /// The base media.
    #[schema(value_type = Vec<String>)]
    pub media_ids: Vec<MediaId>,
    /// Per-platform overrides as given.
    #[schema(value_type = Object)]
    pub variants: serde_json::Value,
    /// When it was asked to go out; `null` for "now".
    pub scheduled_at: Option<DateTime<Utc>>,
    /// When it was accepted.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// One per account.
    pub targets: Vec<TargetView>,
}

/// One account's share of a post.
#[derive(Debug, Serialize, ToSchema)]
pub struct TargetView {
    /// The target's id.
    #[schema(value_type = String, format = Uuid)]
    pub id: PostTargetId,
    /// The account it goes to.
    #[schema(value_type = String, format = Uuid)]
    pub account_id: AccountId,
    /// Its platform.
    #[schema(value_type = PlatformSchema)]
    pub platform: Platform,
    /// scheduled, publishing, published, failed, canceled or unknown (the platform may have
    /// it; being checked); deleting or deleted after `DELETE /v1/posts/{id}`.
    #[schema(value_type = TargetStatusSchema)]
    pub status: TargetStatus,
    /// The text as sent to this platform.
    pub text: String,
    /// When it is due.
    pub due_at: DateTime<Utc>,
    /// Calls made so far.
    pub attempts: i32,
    /// When the next try happens, while it is waiting.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The platform's id of the post, once published.
    pub platform_post_id: Option<String>,
    /// Its public URL, where the platform has one.
    pub url: Option<String>,
    /// When it went live.
    pub published_at: Option<DateTime<Utc>>,
    /// Why it failed, or why it is waiting again.
    pub error: Option<ErrorView>,
    /// Its deletion from the platform, once asked for (`DELETE /v1/posts/{id}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deletion: Option<crate::posts::deletion::DeletionView>,
    /// Every call to the platform (only in `GET /v1/posts/{id}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempt_log: Option<Vec<AttemptView>>,
    /// A thread's positions (the post, its parts, its first comment) and where each stands;
    /// absent for a single post.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parts: Option<Vec<crate::posts::thread::PartView>>,
}

/// A failure's class and explanation.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorView {
    /// Machine-readable class, e.g. `rejected`, `needs_reauth`, `rate_limited`.
    pub code: String,
    /// For people.
    pub message: String,
}

/// One call to a platform.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptView {
    /// 1, 2, …
    pub attempt_no: i32,
    /// What the call was for: `publish` or `delete`.
    #[schema(value_type = AttemptKindSchema)]
    pub kind: AttemptKind,
    /// When the call started.
    pub started_at: DateTime<Utc>,
    /// When it ended; `null` while in flight.
    pub finished_at: Option<DateTime<Utc>>,
    /// in_flight, success, transient, rate_limited, needs_reauth, rejected, unsupported,
    /// unknown.
    #[schema(value_type = AttemptOutcomeSchema)]
    pub outcome: AttemptOutcome,
    /// The HTTP status the platform answered, where one came back.
    pub http_status: Option<i32>,
    /// Error class.
    pub error_code: Option<String>,
    /// Error explanation.
    pub error_message: Option<String>,
    /// Which position of a thread the call was for (0: the post itself); absent for a
    /// single post.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub part: Option<i32>,
}

impl PostView {
    /// The view of `post` with `targets` (all of its targets, any order) and, for the
    /// detailed view, their `attempts`.
    pub fn new(post: &Post, targets: &[PostTarget], attempts: Option<&[PostAttempt]>) -> Self {
        Self {
            id: post.id,
            status: post.status,
            text: post.text.clone(),
            media_ids: post.media_ids.iter().flatten().copied().collect(),
            variants: post.variants.clone(),
            scheduled_at: post.scheduled_at,
            created_at: post.created_at,
            updated_at: post.updated_at,
            targets: targets
                .iter()
                .filter(|t| t.post_id == post.id)
                .map(|t| TargetView::new(t, attempts))
                .collect(),
        }
    }
}

impl TargetView {
    fn new(target: &PostTarget, attempts: Option<&[PostAttempt]>) -> Self {
        let waiting = target.status == TargetStatus::Scheduled;
        Self {
            id: target.id,
            account_id: target.account_id,
            platform: target.platform,
            status: target.status,
            text: target.text.clone(),
            due_at: target.due_at,
            attempts: target.attempts,
            next_attempt_at: waiting.then_some(target.next_attempt_at),
            platform_post_id: target.platform_post_id.clone(),
            url: target.url.clone(),
            published_at: target.published_at,
            error: target.last_error.as_ref().map(|message| ErrorView {
                code: target.error_code.clone().unwrap_or_else(|| "error".into()),
                message: message.clone(),
            }),
            deletion: None,
            attempt_log: attempts.map(|all| {
                all.iter()
                    .filter(|a| a.target_id == target.id)
                    .map(|a| AttemptView {
                        attempt_no: a.attempt_no,
                        kind: a.kind,
                        started_at: a.started_at,
                        finished_at: a.finished_at,
                        outcome: a.outcome,
                        http_status: a.http_status,
                        error_code: a.error_code.clone(),
                        error_message: a.error_message.clone(),
                        part: None,
                    })
                    .collect()
            }),
            parts: None,
        }
    }
}
