//! What a publish writes, and the group-committed writers for it (see
//! [`crate::group_commit`]): the attempt marked in flight before the call, and the outcome
//! (attempt result, target row, post status, events) after it.

use chrono::{DateTime, Utc};
use db::{
    diesel,
    domain::{AccountId, PostId, PostTargetId, TargetStatus},
    posts::{AttemptResult, Post, PostAttempt, PostTarget, TargetResult},
    PgConnection,
};
use events::{ExpiringReason, PostFailed, PostPublished, TokenExpiring};
use platform_adapters::{PublishLimit, Published};

use crate::{group_commit::Batch, publish::OUTBOX};

/// What was decided about a target, to be stored.
#[derive(Debug)]
pub enum Decision {
    /// The platform has the post.
    Published(Published),
    /// Final failure, with the reason the user sees.
    Failed {
        code: &'static str,
        message: String,
        urgent_refresh: bool,
    },
    /// Not final: the target waits in `status` until `at`.
    Wait {
        status: TargetStatus,
        at: DateTime<Utc>,
        code: &'static str,
        message: String,
    },
}

/// Marks an attempt in flight on a target held under `lease`, unless the account has used up
/// `limit` (the platform's documented publishing limit, if it has one).
#[derive(Debug)]
pub struct StartAttempt {
    pub target: PostTargetId,
    pub account: AccountId,
    pub lease: DateTime<Utc>,
    pub limit: Option<PublishLimit>,
}

/// What came of a [`StartAttempt`].
#[derive(Debug)]
pub enum Started {
    /// The attempt is committed in flight: call the platform.
    Attempt(PostAttempt),
    /// Another publisher holds the target now.
    LeaseLost,
    /// The account used up `limit`; the oldest counted post leaves the window at `free_at`.
    OverLimit {
        limit: PublishLimit,
        free_at: DateTime<Utc>,
    },
}

/// The writer of [`StartAttempt`]s. Counting against a limit and starting the attempt happen
/// in one transaction under the account's counting lock, so concurrent publishes (in this
/// replica or another) can never take the same last slot.
#[derive(Debug)]
pub struct StartAttempts;

impl Batch for StartAttempts {
    type Job = StartAttempt;
    type Output = Started;

    fn prepare(&self, conn: &mut PgConnection, jobs: &[StartAttempt]) -> diesel::QueryResult<()> {
        let limited: Vec<AccountId> = jobs
            .iter()
            .filter(|job| job.limit.is_some())
            .map(|job| job.account)
            .collect();
        PostAttempt::lock_for_counting(conn, &limited)
    }

    fn run(&self, conn: &mut PgConnection, job: &StartAttempt) -> diesel::QueryResult<Started> {
        if let Some(limit) = job.limit {
            let window = chrono::Duration::from_std(limit.window).unwrap_or_default();
            let max = i64::from(limit.max);
            // Attempts started earlier in this transaction count too: they are visible here.
            let recent = PostAttempt::counted_since(conn, job.account, Utc::now() - window, max)?;
            if recent.len() as i64 >= max {
                let free_at = recent
                    .last()
                    .map_or_else(Utc::now, |oldest| *oldest + window);
                return Ok(Started::OverLimit { limit, free_at });
            }
        }
        Ok(
            match PostAttempt::start(conn, job.target, job.account, job.lease)? {
                Some(attempt) => Started::Attempt(attempt),
                None => Started::LeaseLost,
            },
        )
    }
}

/// A decision to store for a target held under `lease`, with the attempt that led to it.
#[derive(Debug)]
pub struct Outcome {
    pub target: PostTarget,
    pub lease: DateTime<Utc>,
    pub attempt: Option<(PostAttempt, AttemptResult)>,
    pub decision: Decision,
}

/// The writer of [`Outcome`]s: attempt result, target row, events, then the posts' derived
/// status. Output: the stored target, `None` when the lease was lost (the attempt's result
/// is still recorded; the target is left to its new holder).
#[derive(Debug)]
pub struct RecordOutcomes;

impl RecordOutcomes {
    fn posts(jobs: &[Outcome]) -> Vec<PostId> {
        jobs.iter().map(|job| job.target.post_id).collect()
    }
}

impl Batch for RecordOutcomes {
    type Job = Outcome;
    type Output = Option<PostTarget>;

    /// Post first, then target: the lock order every writer follows.
    fn prepare(&self, conn: &mut PgConnection, jobs: &[Outcome]) -> diesel::QueryResult<()> {
        Post::lock_many(conn, &Self::posts(jobs)).map(drop)
    }

    fn run(&self, conn: &mut PgConnection, job: &Outcome) -> diesel::QueryResult<Self::Output> {
        if let Some((attempt, result)) = &job.attempt {
            PostAttempt::finish(conn, attempt.id, result)?;
        }
        let now = Utc::now();
        let result = target_result(&job.decision, &job.target, now);
        let Some(stored) = PostTarget::record_result(conn, job.target.id, job.lease, &result)?
        else {
            return Ok(None);
        };
        emit(conn, &stored, &job.decision, now)?;
        Ok(Some(stored))
    }

    fn finish(&self, conn: &mut PgConnection, jobs: &[Outcome]) -> diesel::QueryResult<()> {
        let mut posts = Self::posts(jobs);
        posts.sort_unstable();
        posts.dedup();
        Post::refresh_status(conn, &posts).map(drop)
    }
}

/// The target's new row values for a decision. The lease is always released.
fn target_result(decision: &Decision, target: &PostTarget, now: DateTime<Utc>) -> TargetResult {
    match decision {
        Decision::Published(published) => TargetResult {
            status: TargetStatus::Published,
            next_attempt_at: target.next_attempt_at,
            lease_until: None,
            platform_post_id: Some(published.platform_post_id.clone()),
            url: published.url.clone(),
            error_code: None,
            last_error: None,
            published_at: Some(now),
        },
        Decision::Failed { code, message, .. } => {
            unpublished(TargetStatus::Failed, target.next_attempt_at, code, message)
        }
        Decision::Wait {
            status,
            at,
            code,
            message,
        } => unpublished(*status, *at, code, message),
    }
}

/// A target that is not on the platform: failed, or waiting until `next_attempt_at`.
fn unpublished(
    status: TargetStatus,
    next_attempt_at: DateTime<Utc>,
    code: &str,
    message: &str,
) -> TargetResult {
    TargetResult {
        status,
        next_attempt_at,
        lease_until: None,
        platform_post_id: None,
        url: None,
        error_code: Some(code.to_owned()),
        last_error: Some(message.to_owned()),
        published_at: None,
    }
}

/// The events of a final decision: `post.published`, or `post.failed` (plus an urgent
/// `token.expiring` when the platform refused the token). Waiting emits nothing.
fn emit(
    conn: &mut PgConnection,
    target: &PostTarget,
    decision: &Decision,
    now: DateTime<Utc>,
) -> diesel::QueryResult<()> {
    match decision {
        Decision::Published(published) => {
            OUTBOX.write(
                conn,
                PostPublished {
                    post_id: target.post_id,
                    target_id: target.id,
                    account_id: target.account_id,
                    platform: target.platform,
                    platform_post_id: published.platform_post_id.clone(),
                    url: published.url.clone(),
                    published_at: now,
                },
            )?;
        }
        Decision::Failed {
            code,
            message,
            urgent_refresh,
        } => {
            OUTBOX.write(
                conn,
                PostFailed {
                    post_id: target.post_id,
                    target_id: target.id,
                    account_id: target.account_id,
                    platform: target.platform,
                    error_code: (*code).to_owned(),
                    error_message: message.clone(),
                    failed_at: now,
                },
            )?;
            if *urgent_refresh {
                OUTBOX.write(
                    conn,
                    TokenExpiring {
                        account_id: target.account_id,
                        platform: target.platform,
                        expires_at: None,
                        urgent: true,
                        reason: ExpiringReason::Unauthorized,
                    },
                )?;
            }
        }
        Decision::Wait { .. } => {}
    }
    Ok(())
}
