//! What a publish writes, and the group-committed writers for it (see
//! [`crate::group_commit`]): the attempt marked in flight before the call, and the outcome
//! (attempt result, target row, post status, events) after it.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use db::{
    diesel,
    domain::{AccountId, PostId, PostTargetId, TargetStatus},
    posts::{AttemptResult, Post, PostAttempt, PostTarget, TargetResult},
    publish_batch::{self, AttemptStart, TargetWrite},
    PgConnection,
};
use events::{ExpiringReason, OutboxBatch, PostFailed, PostPublished, TokenExpiring};
use platform_adapters::{PublishLimit, Published};
use uuid::Uuid;

use crate::{group_commit::Batch, publish::OUTBOX};

/// What was decided about a target, to be stored.
#[derive(Debug, Clone)]
pub enum Decision {
    /// The platform has the post.
    Published(Published),
    /// Final failure, with the reason the user sees.
    Failed { code: &'static str, message: String },
    /// Not final: the target waits in `status` until `at`.
    Wait {
        status: TargetStatus,
        at: DateTime<Utc>,
        code: &'static str,
        message: String,
    },
}

/// Marks an attempt in flight on a target held under the fence `claim`, unless the account
/// has used up `limit` (the platform's documented publishing limit, if it has one).
#[derive(Debug)]
pub struct StartAttempt {
    pub target: PostTargetId,
    pub account: AccountId,
    pub claim: Uuid,
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
            match PostAttempt::start(conn, job.target, job.account, job.claim)? {
                Some(attempt) => Started::Attempt(attempt),
                None => Started::LeaseLost,
            },
        )
    }

    /// The attempts of targets without a publishing limit in one statement; those with a
    /// limit one by one, counted under the lock [`Self::prepare`] took (a platform's limited
    /// accounts are few, and each must see the attempts started before it).
    fn run_all(
        &self,
        conn: &mut PgConnection,
        jobs: &[StartAttempt],
    ) -> diesel::QueryResult<Vec<Started>> {
        if !distinct(jobs.iter().map(|job| job.target)) {
            return jobs.iter().map(|job| self.run(conn, job)).collect();
        }
        let unlimited: Vec<AttemptStart> = jobs
            .iter()
            .filter(|job| job.limit.is_none())
            .map(|job| AttemptStart {
                target: job.target,
                account: job.account,
                claim: job.claim,
            })
            .collect();
        let mut started: HashMap<PostTargetId, PostAttempt> =
            publish_batch::start_attempts(conn, &unlimited)?
                .into_iter()
                .map(|attempt| (attempt.target_id, attempt))
                .collect();
        jobs.iter()
            .map(|job| match job.limit {
                Some(_) => self.run(conn, job),
                None => Ok(started
                    .remove(&job.target)
                    .map_or(Started::LeaseLost, Started::Attempt)),
            })
            .collect()
    }
}

/// Whether no target appears twice (a set-based statement joins each target row once; a
/// batch where one does is written one job at a time).
fn distinct(targets: impl Iterator<Item = PostTargetId>) -> bool {
    let mut seen = HashSet::new();
    targets.into_iter().all(|target| seen.insert(target))
}

/// A decision to store for a target held under the fence `claim`, with the attempt that led
/// to it. Cloned when a write that failed is tried again.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub target: PostTarget,
    pub claim: Uuid,
    pub attempt: Option<(PostAttempt, AttemptResult)>,
    pub decision: Decision,
    /// Ask token-refresher for an urgent refresh of the account's token, in the same
    /// transaction (only when the target is still held, so a stale write asks nothing).
    pub refresh: Option<RefreshRequest>,
}

/// Why the publisher asks for an urgent refresh.
#[derive(Debug, Clone, Copy)]
pub struct RefreshRequest {
    pub reason: ExpiringReason,
    pub expires_at: Option<DateTime<Utc>>,
}

/// The writer of [`Outcome`]s: attempt result, target row, events, then the posts' derived
/// status. Output: the stored target, `None` when the lease was lost (the attempt's result
/// is still recorded; the target is left to its new holder).
#[derive(Debug)]
pub struct RecordOutcomes {
    /// How long after publishing a target's engagement is first read (`None`: not scheduled).
    pub first_metrics_read: Option<chrono::Duration>,
}

impl RecordOutcomes {
    fn posts(jobs: &[Outcome]) -> Vec<PostId> {
        jobs.iter().map(|job| job.target.post_id).collect()
    }

    /// The target's new row for the job's decision.
    fn result(&self, job: &Outcome, now: DateTime<Utc>) -> TargetResult {
        let mut result = target_result(&job.decision, &job.target, now);
        if result.status == TargetStatus::Published {
            result.metrics_due_at = self.first_metrics_read.map(|after| now + after);
        }
        result
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
        let result = self.result(job, now);
        let Some(stored) = PostTarget::record_result(conn, job.target.id, job.claim, &result)?
        else {
            return Ok(None);
        };
        let mut events = OUTBOX.batch();
        emit(&mut events, &stored, job, now)?;
        events.write(conn)?;
        Ok(Some(stored))
    }

    /// Three statements for the whole batch whatever its size: the attempts' results, the
    /// target rows (fenced: a target whose claim is stale is left alone and its job answers
    /// `None`) and the events of the targets written.
    fn run_all(
        &self,
        conn: &mut PgConnection,
        jobs: &[Outcome],
    ) -> diesel::QueryResult<Vec<Self::Output>> {
        if !distinct(jobs.iter().map(|job| job.target.id)) {
            return jobs.iter().map(|job| self.run(conn, job)).collect();
        }
        let finished: Vec<_> = jobs
            .iter()
            .filter_map(|job| job.attempt.as_ref())
            .map(|(attempt, result)| (attempt.id, result))
            .collect();
        publish_batch::finish_attempts(conn, &finished)?;
        let now = Utc::now();
        let results: Vec<TargetResult> = jobs.iter().map(|job| self.result(job, now)).collect();
        let writes: Vec<TargetWrite<'_>> = jobs
            .iter()
            .zip(&results)
            .map(|(job, result)| TargetWrite {
                target: job.target.id,
                claim: job.claim,
                result,
            })
            .collect();
        let mut stored: HashMap<PostTargetId, PostTarget> =
            publish_batch::record_results(conn, &writes)?
                .into_iter()
                .map(|target| (target.id, target))
                .collect();
        let mut events = OUTBOX.batch();
        let outputs = jobs
            .iter()
            .map(|job| {
                let stored = stored.remove(&job.target.id);
                if let Some(target) = &stored {
                    emit(&mut events, target, job, now)?;
                }
                Ok(stored)
            })
            .collect::<diesel::QueryResult<Vec<_>>>()?;
        events.write(conn)?;
        Ok(outputs)
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
            claim_id: None,
            platform_post_id: Some(published.platform_post_id.clone()),
            url: published.url.clone(),
            error_code: None,
            last_error: None,
            published_at: Some(now),
            metrics_due_at: None,
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
        claim_id: None,
        platform_post_id: None,
        url: None,
        error_code: Some(code.to_owned()),
        last_error: Some(message.to_owned()),
        published_at: None,
        metrics_due_at: None,
    }
}

/// The events of a job whose target was written: `post.published` or `post.failed` for a
/// final decision (waiting emits nothing), and the urgent `token.expiring` it asks for.
fn emit(
    events: &mut OutboxBatch,
    target: &PostTarget,
    job: &Outcome,
    now: DateTime<Utc>,
) -> diesel::QueryResult<()> {
    match &job.decision {
        Decision::Published(published) => {
            events.push(PostPublished {
                post_id: target.post_id,
                target_id: target.id,
                account_id: target.account_id,
                platform: target.platform,
                platform_post_id: published.platform_post_id.clone(),
                url: published.url.clone(),
                published_at: now,
            })?;
        }
        Decision::Failed { code, message } => {
            events.push(PostFailed {
                post_id: target.post_id,
                target_id: target.id,
                account_id: target.account_id,
                platform: target.platform,
                error_code: (*code).to_owned(),
                error_message: message.clone(),
                failed_at: now,
            })?;
        }
        Decision::Wait { .. } => {}
    }
    if let Some(refresh) = job.refresh {
        events.push(TokenExpiring {
            account_id: target.account_id,
            platform: target.platform,
            expires_at: refresh.expires_at,
            urgent: true,
            reason: refresh.reason,
        })?;
    }
    Ok(())
}
