//! Deleting published posts from their platforms (`DELETE /v1/posts/{id}`).
//!
//! auth-gateway stores one request per published target (`db::deletions`) and announces
//! `post.delete_requested`; this worker claims due requests under a short lease renewed while
//! the call runs (like the dispatcher), and for each one:
//!
//! 1. checks, without a call, what makes the delete impossible: a platform whose API cannot
//!    delete (`FollowUps::delete` false: Instagram, TikTok) ends `unsupported` with a message
//!    naming it; an unusable account or token ends `failed`;
//! 2. waits for the account's gate and any application pause (the per-account budget it
//!    shares with publishing, see [`crate::gates`]; gates are first come, first served, and
//!    this worker runs few calls at once, so it never crowds publishing out);
//! 3. logs the call in `post_attempts` (kind `delete`) before making it, then stores what came
//!    of it ([`decide::after_delete`]: publishing's backoff and rate-limit rules) in one fenced
//!    transaction ([`store::store`]).
//!
//! Idempotent end to end: a target already deleted is never requested again (so never called
//! again), and a call whose answer was lost is made again, finding the post gone.

pub mod decide;
pub mod store;

use std::{sync::Arc, time::Duration};

use chrono::Utc;
use db::{
    accounts::Account,
    deletions::{ClaimedDeletion, PostDeletion},
    domain::{AccountStatus, AttemptOutcome, DeletionStatus, Platform, PostTargetId},
    post_parts::TargetPart,
    posts::{AttemptResult, PostAttempt},
    Db, DbError,
};
use events::{CancellationToken, Event, Handler, HandlerError, Incoming, PostDeleteRequested};
use platform_adapters::{AccountRef, AdapterError, Deletion, PlatformAdapter, PostRef, Registry};
use service_kit::tokens;
use tokio::sync::{Notify, Semaphore};
use vault::Vault;

use self::{
    decide::{unsupported_message, Settle},
    store::Settlement,
};
use crate::{
    outcome::{self, RetryPolicy, AWAITING_REFRESH},
    publish::Publisher,
};

/// How the deletion worker runs.
#[derive(Debug, Clone, Copy)]
pub struct DeletionSettings {
    /// Longest sleep between looks at due requests (`post.delete_requested` wakes it sooner).
    pub interval: Duration,
    /// Delete calls in flight at once, over all accounts. Small: deletions are rare and must
    /// not take the platforms' budget from publishing.
    pub concurrency: usize,
    /// How long a claim lasts without a heartbeat.
    pub lease: chrono::Duration,
    /// Longest a delete call may take.
    pub timeout: Duration,
}

/// Deletes claimed requests.
#[derive(Debug)]
pub struct Deleter {
    db: Db,
    vault: Arc<Vault>,
    adapters: Registry,
    policy: RetryPolicy,
    settings: DeletionSettings,
    /// Holds the per-account gates and application pauses this worker shares.
    publisher: Arc<Publisher>,
}

/// What a deletion needs for its call, once the checks before it passed.
struct Ready {
    account: Account,
    adapter: Arc<dyn PlatformAdapter>,
    access: secrecy::SecretString,
    refresh: Option<secrecy::SecretString>,
}

impl Deleter {
    /// A deleter over `db`, sharing `publisher`'s gates.
    pub fn new(
        db: Db,
        vault: Arc<Vault>,
        adapters: Registry,
        policy: RetryPolicy,
        settings: DeletionSettings,
        publisher: Arc<Publisher>,
    ) -> Self {
        Self {
            db,
            vault,
            adapters,
            policy,
            settings,
            publisher,
        }
    }

    /// Deletes one claimed request; a database failure is logged and the request is taken
    /// over when its lease runs out (a repeated delete is harmless).
    #[tracing::instrument(name = "delete", skip_all, fields(
        post.id = %claimed.target.post_id,
        target.id = %claimed.target.id,
        account.id = %claimed.target.account_id,
        platform = %claimed.target.platform,
        previous = %claimed.previous,
    ))]
    pub async fn handle(&self, claimed: ClaimedDeletion) {
        if let Err(err) = self.delete(claimed).await {
            tracing::warn!(error = %err,
                "a deletion stopped on a database error; it is taken over when its lease runs out");
        }
    }

    async fn delete(&self, claimed: ClaimedDeletion) -> Result<(), DbError> {
        if claimed.previous == DeletionStatus::Deleting {
            self.close_in_flight(&claimed).await?;
        }
        let ready = match self.preflight(&claimed).await? {
            Ok(ready) => ready,
            Err(settle) => return self.store(&claimed, None, settle).await,
        };
        let platform = claimed.target.platform;
        let (gates, pauses) = self.publisher.gates();
        let _gate = gates.enter(ready.account.id).await;
        if let Some(until) = pauses.paused_until(platform, Utc::now()) {
            let settle = Settle::Retry {
                at: until,
                code: "app_rate_limited",
                message: format!(
                    "{} has paused this application until {}; deleting then",
                    display_name(platform),
                    until.to_rfc3339()
                ),
                refresh: false,
            };
            return self.store(&claimed, None, settle).await;
        }
        let posts = self.posts_to_delete(&claimed, &ready).await?;
        let (target, account, claim) = (claimed.target.id, ready.account.id, claimed.claim);
        let mut first = true;
        for (part, platform_post_id) in posts {
            let counted = std::mem::take(&mut first);
            let Some(attempt) = self
                .db
                .query(move |conn| {
                    PostDeletion::start_attempt(conn, target, account, claim, part, counted)
                })
                .await?
            else {
                tracing::info!("lease lost before deleting; another publisher has the request");
                return Ok(());
            };
            let (result, http_status) = self.call(&ready, &platform_post_id, target, claim).await;
            self.publisher
                .metrics()
                .follow_up(platform, "delete", result.as_ref().map(drop));
            let finished = attempt_result(&result, http_status);
            if result.is_ok() && part > 0 {
                // One reply of a thread gone; the next (and last the post itself) follows.
                let id = attempt.id;
                self.db
                    .query(move |conn| PostAttempt::finish(conn, id, &finished))
                    .await?;
                continue;
            }
            let waited = claimed.deletion.error_code.as_deref() == Some(AWAITING_REFRESH);
            let settle = decide::after_delete(
                &result,
                display_name(platform),
                claimed.deletion.attempts + 1,
                waited,
                &self.policy,
                Utc::now(),
            );
            if let (Err(AdapterError::AppRateLimited { .. }), Settle::Retry { at, .. }) =
                (&result, &settle)
            {
                pauses.pause(platform, *at);
            }
            tracing::info!(outcome = ?settle.code().unwrap_or("deleted"), part, "delete call made");
            return self
                .store(&claimed, Some((attempt, finished)), settle)
                .await;
        }
        Ok(())
    }

    /// What to delete, in order: a thread's replies last first (so none is left answering a
    /// deleted post), then the post itself (part 0). Only where the platform chains replies
    /// (`FollowUps::threads`): elsewhere a first comment is a comment, which goes with its post.
    /// A reply already gone answers `AlreadyGone`, so a retried round repeats no harm.
    async fn posts_to_delete(
        &self,
        claimed: &ClaimedDeletion,
        ready: &Ready,
    ) -> Result<Vec<(i32, String)>, DbError> {
        let mut posts = Vec::new();
        if ready.adapter.descriptor().capabilities.follow_ups.threads {
            let id = claimed.target.id;
            let parts = self
                .db
                .query(move |conn| TargetPart::of_targets(conn, &[id]))
                .await?;
            posts.extend(
                parts
                    .into_iter()
                    .rev()
                    .filter(|p| p.position > 0)
                    .map(|p| (p.position, p.platform_post_id)),
            );
        }
        posts.push((
            0,
            claimed.target.platform_post_id.clone().unwrap_or_default(),
        ));
        Ok(posts)
    }

    /// The checks before a call. `Ok(Err(settle))`: what to store instead of calling.
    async fn preflight(&self, claimed: &ClaimedDeletion) -> Result<Result<Ready, Settle>, DbError> {
        let platform = claimed.target.platform;
        let name = display_name(platform);
        let failed =
            |code: &'static str, message: String| Ok(Err(Settle::Failed { code, message }));
        let id = claimed.target.account_id;
        let account = self
            .db
            .query(move |conn| Account::find_many(conn, &[id]))
            .await?
            .into_iter()
            .next();
        let Some(account) = account.filter(|a| {
            !matches!(
                a.status,
                AccountStatus::Disconnected | AccountStatus::Disconnecting
            )
        }) else {
            return failed(
                "account_unavailable",
                format!("the {name} account is disconnected: the post was not deleted; reconnect it and delete again"),
            );
        };
        let adapter = match self
            .adapters
            .for_publishing(platform, account.instance_url.as_deref())
        {
            Ok(adapter) => adapter,
            Err(_) => {
                return failed(
                    "unsupported",
                    format!(
                        "{name} is not configured on this deployment: the post was not deleted"
                    ),
                )
            }
        };
        if !adapter.descriptor().capabilities.follow_ups.delete {
            return Ok(Err(Settle::Unsupported {
                message: unsupported_message(name),
            }));
        }
        if claimed.target.platform_post_id.is_none() {
            return failed(
                "unknown_post",
                format!("no {name} id was recorded for this post, so it cannot be deleted"),
            );
        }
        if account.status == AccountStatus::NeedsReauth {
            return failed(
                "needs_reauth",
                format!("reconnect your {name} account, then delete the post again"),
            );
        }
        let (Ok(Some(access)), Ok(refresh)) = (
            tokens::access_token(&self.vault, &account),
            tokens::refresh_token(&self.vault, &account),
        ) else {
            return failed(
                "needs_reauth",
                format!("reconnect your {name} account: its token is missing or unreadable"),
            );
        };
        Ok(Ok(Ready {
            account,
            adapter,
            access,
            refresh,
        }))
    }

    /// One delete call, bounded by the timeout, renewing the claim's lease while it runs.
    async fn call(
        &self,
        ready: &Ready,
        platform_post_id: &str,
        target: PostTargetId,
        claim: uuid::Uuid,
    ) -> (Result<Deletion, AdapterError>, Option<i32>) {
        let account = AccountRef {
            platform_account_id: &ready.account.platform_account_id,
            access_token: &ready.access,
            refresh_token: ready.refresh.as_ref(),
            instance_url: ready.account.instance_url.as_deref(),
        };
        let post = PostRef {
            platform_post_id,
            url: None,
        };
        let call = tokio::time::timeout(
            self.settings.timeout,
            platform_adapters::http::observe(ready.adapter.delete_post(&account, &post)),
        );
        tokio::pin!(call);
        let beat = (self.settings.lease / 3)
            .to_std()
            .unwrap_or(Duration::from_secs(5))
            .max(Duration::from_millis(100));
        loop {
            tokio::select! {
                done = &mut call => {
                    let (result, status) = done.unwrap_or_else(|_| {
                        let message = format!("no answer within {:?}", self.settings.timeout);
                        (Err(AdapterError::OutcomeUnknown { message }), None)
                    });
                    return (result, status.map(i32::from));
                }
                () = tokio::time::sleep(beat) => {
                    let until = Utc::now() + self.settings.lease;
                    if let Err(err) = self.db.query(move |conn| PostDeletion::renew(conn, target, claim, until)).await {
                        tracing::warn!(error = %err, "could not renew a deletion's lease");
                    }
                }
            }
        }
    }

    /// A request taken over from a publisher that stopped: its last attempt, if still in
    /// flight, is closed as unknown (the new call settles it either way).
    async fn close_in_flight(&self, claimed: &ClaimedDeletion) -> Result<(), DbError> {
        let id = claimed.target.id;
        self.db
            .query(move |conn| {
                let Some(latest) = PostAttempt::latest(conn, id)? else {
                    return Ok(());
                };
                if latest.outcome != AttemptOutcome::InFlight {
                    return Ok(());
                }
                let stopped = AttemptResult {
                    finished_at: Some(Utc::now()),
                    http_status: None,
                    outcome: AttemptOutcome::Unknown,
                    error_code: Some("publisher_stopped".into()),
                    error_message: Some(
                        "the publisher stopped during this delete call; it is made again".into(),
                    ),
                    response: None,
                };
                PostAttempt::finish(conn, latest.id, &stopped).map(drop)
            })
            .await
    }

    async fn store(
        &self,
        claimed: &ClaimedDeletion,
        attempt: Option<(PostAttempt, AttemptResult)>,
        settle: Settle,
    ) -> Result<(), DbError> {
        let settlement = Settlement {
            target: claimed.target.clone(),
            claim: claimed.claim,
            attempt,
            settle,
        };
        let stored = self
            .db
            .query(move |conn| {
                db::Connection::transaction(conn, |conn| {
                    store::store(conn, &settlement, Utc::now())
                })
            })
            .await?;
        if stored.is_none() {
            tracing::warn!("lease lost while deleting; the request is left to its new holder");
        }
        Ok(())
    }
}

/// Claims and deletes due requests until `shutdown`, then lets the calls in flight finish (for
/// up to 30 seconds).
pub async fn run(db: Db, deleter: Arc<Deleter>, wake: Arc<Notify>, shutdown: CancellationToken) {
    let settings = deleter.settings;
    let slots = Arc::new(Semaphore::new(settings.concurrency.max(1)));
    while !shutdown.is_cancelled() {
        let room = slots.available_permits() as i64;
        let claimed = if room > 0 {
            let lease = settings.lease;
            db.query(move |conn| {
                db::Connection::transaction(conn, |conn| {
                    let now = Utc::now();
                    PostDeletion::claim_due(conn, now, now + lease, uuid::Uuid::new_v4(), room)
                })
            })
            .await
            .unwrap_or_else(|err| {
                tracing::warn!(error = %err, "deletion pass failed; trying again");
                Vec::new()
            })
        } else {
            Vec::new()
        };
        let full = room > 0 && claimed.len() as i64 == room;
        for request in claimed {
            let Ok(slot) = slots.clone().acquire_owned().await else {
                break;
            };
            let deleter = deleter.clone();
            tokio::spawn(async move {
                deleter.handle(request).await;
                drop(slot);
            });
        }
        if full {
            continue;
        }
        let sleep = if room == 0 {
            Duration::from_millis(20)
        } else {
            match db.query(PostDeletion::next_due).await {
                Ok(Some(at)) => (at - Utc::now())
                    .to_std()
                    .unwrap_or(Duration::ZERO)
                    .clamp(Duration::from_millis(5), settings.interval),
                _ => settings.interval,
            }
        };
        tokio::select! {
            () = tokio::time::sleep(sleep) => {}
            () = wake.notified() => {}
            () = shutdown.cancelled() => {}
        }
    }
    let all = u32::try_from(settings.concurrency.max(1)).unwrap_or(u32::MAX);
    if tokio::time::timeout(Duration::from_secs(30), slots.acquire_many(all))
        .await
        .is_err()
    {
        tracing::warn!("deletions still in flight at shutdown; their leases will be recovered");
    }
}

/// Consumes `post.delete_requested`: wakes the deletion worker.
#[derive(Debug)]
pub struct WakeDeletions(pub Arc<Notify>);

impl Handler for WakeDeletions {
    async fn handle(&self, incoming: &Incoming) -> Result<(), HandlerError> {
        if incoming.envelope.event_type == PostDeleteRequested::TYPE {
            self.0.notify_one();
        }
        Ok(())
    }
}

/// The platform's name for people ("Instagram", "LinkedIn"), as its spec spells it.
pub fn display_name(platform: Platform) -> &'static str {
    platform_adapters::platforms::ALL
        .iter()
        .find(|spec| spec.platform() == platform)
        .map_or_else(|| platform.as_str(), |spec| spec.name)
}

/// The attempt's row for the call's result.
fn attempt_result(
    result: &Result<Deletion, AdapterError>,
    http_status: Option<i32>,
) -> AttemptResult {
    let finished_at = Some(Utc::now());
    match result {
        Ok(deletion) => AttemptResult {
            finished_at,
            http_status,
            outcome: AttemptOutcome::Success,
            error_code: None,
            error_message: None,
            response: Some(serde_json::json!({
                "deleted": true,
                "already_gone": *deletion == Deletion::AlreadyGone,
            })),
        },
        Err(err) => AttemptResult {
            finished_at,
            http_status,
            outcome: outcome::attempt_outcome(err),
            error_code: Some(outcome::error_code(err).to_owned()),
            error_message: Some(err.to_string()),
            response: None,
        },
    }
}
