//! Publishing one claimed target: the rules that make a post go out once.
//!
//! 1. The attempt is committed as `in_flight` *before* the platform is called. A publisher
//!    that dies mid-call leaves it behind; whoever recovers the target knows the outcome is
//!    unknown.
//! 2. An unknown outcome (a timeout, a recovered in-flight attempt) is never blindly
//!    repeated: where the platform deduplicates (Bluesky rkey, Mastodon and sandbox
//!    `Idempotency-Key`) the same request is simply sent again; elsewhere the post is looked up
//!    first, and a platform that cannot look posts up gets a clear `outcome_unknown` failure
//!    for a person to check.
//! 3. The result, the target's new state, the post's derived status and the event are written
//!    in one transaction, and only while this publisher still holds the target's lease.

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use db::{
    accounts::Account,
    domain::{AccountStatus, AttemptOutcome, TargetStatus},
    posts::{AttemptResult, ClaimedTarget, PostAttempt, PostTarget},
    Db, DbError,
};
use events::Outbox;
use platform_adapters::{
    AccountRef, AdapterError, PlatformAdapter, PostOptions, PublishLimit, PublishRequest,
    Published, Registry,
};
use service_kit::tokens;
use tokio::sync::Semaphore;
use vault::Vault;

use crate::{
    gates::{AccountGates, PlatformPauses},
    group_commit::{GroupCommit, WriteError},
    media::MediaLoader,
    metrics::PublishMetrics,
    outcome::{self, Next, RetryPolicy},
    record::{Decision, Outcome, RecordOutcomes, StartAttempt, StartAttempts, Started},
    SERVICE,
};

/// The outbox of this service.
pub const OUTBOX: Outbox = Outbox::new(SERVICE);

/// Committers per kind of write, each holding a pooled connection while it commits: two let
/// one batch fill while the other commits.
const WRITERS: usize = 2;
/// Most writes per transaction.
const MAX_BATCH: usize = 64;

/// Publishes claimed targets.
#[derive(Debug)]
pub struct Publisher {
    db: Db,
    vault: Arc<Vault>,
    adapters: Registry,
    media: MediaLoader,
    policy: RetryPolicy,
    timeout: Duration,
    gates: AccountGates,
    pauses: PlatformPauses,
    /// Held by a publish while its media are in memory.
    media_slots: Semaphore,
    metrics: PublishMetrics,
    starts: GroupCommit<StartAttempts>,
    outcomes: GroupCommit<RecordOutcomes>,
}

/// Why publishing a target stopped before its result was recorded. The target keeps its
/// lease; when the lease runs out another pass recovers it.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
    /// A query failed.
    #[error(transparent)]
    Query(#[from] db::diesel::result::Error),
    /// A grouped write failed.
    #[error(transparent)]
    Write(#[from] WriteError),
}

impl Publisher {
    /// A publisher over `db`, decrypting tokens with `vault`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        db: Db,
        vault: Arc<Vault>,
        adapters: Registry,
        media: MediaLoader,
        policy: RetryPolicy,
        timeout: Duration,
        per_account: usize,
        media_concurrency: usize,
        metrics: PublishMetrics,
    ) -> Self {
        Self {
            starts: GroupCommit::start(db.clone(), StartAttempts, WRITERS, MAX_BATCH),
            outcomes: GroupCommit::start(db.clone(), RecordOutcomes, WRITERS, MAX_BATCH),
            db,
            vault,
            adapters,
            media,
            policy,
            timeout,
            gates: AccountGates::new(per_account),
            pauses: PlatformPauses::default(),
            media_slots: Semaphore::new(media_concurrency.max(1)),
            metrics,
        }
    }

    /// Publishes (or reconciles) one claimed target held under `lease`, for `account` (loaded
    /// with the claim; `None` if it is gone). Failures to record are logged: the lease then
    /// runs out and the target is recovered.
    pub async fn handle(
        &self,
        claimed: ClaimedTarget,
        account: Option<Account>,
        lease: DateTime<Utc>,
    ) {
        let target_id = claimed.target.id;
        let platform = claimed.target.platform;
        if let Err(err) = self.publish(claimed, account, lease).await {
            tracing::warn!(target.id = %target_id, %platform, error = %err,
                "could not record a publish; the target is recovered when its lease runs out");
        }
    }

    async fn publish(
        &self,
        claimed: ClaimedTarget,
        account: Option<Account>,
        lease: DateTime<Utc>,
    ) -> Result<(), PublishError> {
        let target = claimed.target;
        let account_id = target.account_id;
        let usable = account.filter(|a| {
            !matches!(
                a.status,
                AccountStatus::Disconnected
                    | AccountStatus::Disconnecting
                    | AccountStatus::NeedsReauth
            )
        });
        let Some(account) = usable else {
            let message = format!(
                "the {} account is disconnected or must be reconnected; the post was not published",
                target.platform
            );
            return self
                .store(
                    &target,
                    lease,
                    None,
                    Decision::Failed {
                        code: "account_unavailable",
                        message,
                        urgent_refresh: false,
                    },
                )
                .await;
        };
        let Some(adapter) = self
            .adapters
            .for_publishing(account.platform, account.instance_url.as_deref())
        else {
            let message = format!("{} is not configured on this deployment", account.platform);
            return self
                .store(
                    &target,
                    lease,
                    None,
                    Decision::Failed {
                        code: "unsupported",
                        message,
                        urgent_refresh: false,
                    },
                )
                .await;
        };
        let (access, refresh) = match (
            tokens::access_token(&self.vault, &account),
            tokens::refresh_token(&self.vault, &account),
        ) {
            (Ok(Some(access)), Ok(refresh)) => (access, refresh),
            _ => {
                let message = format!(
                    "reconnect your {} account: its token is missing or unreadable",
                    account.platform
                );
                return self
                    .store(
                        &target,
                        lease,
                        None,
                        Decision::Failed {
                            code: "needs_reauth",
                            message,
                            urgent_refresh: false,
                        },
                    )
                    .await;
            }
        };
        let _media_slot = if target.media_ids.iter().any(Option::is_some) {
            self.media_slots.acquire().await.ok()
        } else {
            None
        };
        let media = match self.media.load(&target.media_ids).await {
            Ok(media) => media,
            Err(err) => {
                let message = format!("the post's media could not be read: {err}");
                return self
                    .store(
                        &target,
                        lease,
                        None,
                        Decision::Failed {
                            code: "media_unavailable",
                            message,
                            urgent_refresh: false,
                        },
                    )
                    .await;
            }
        };
        let options: PostOptions =
            serde_json::from_value(target.options.clone()).unwrap_or_default();
        let key = target.id.to_string();
        let request = PublishRequest {
            idempotency_key: &key,
            text: &target.text,
            media: &media,
            options: &options,
            account_kind: account.account_kind,
        };
        let account_ref = AccountRef {
            platform_account_id: &account.platform_account_id,
            access_token: &access,
            refresh_token: refresh.as_ref(),
            instance_url: account.instance_url.as_deref(),
        };

        let in_doubt = self.outcome_in_doubt(&claimed.previous, &target).await?;
        let repeatable = adapter.descriptor().capabilities.idempotent_publish
            && in_doubt.is_none_or(|since| dedup_still_holds(target.platform, since));
        if let Some(since) = in_doubt.filter(|_| !repeatable) {
            // `None`: certainly not on the platform, so it is published below.
            if let Some(decision) = self
                .reconcile(adapter.as_ref(), &account_ref, &request, &target, since)
                .await
            {
                let found = match &decision {
                    Decision::Published(published) => Some(published.clone()),
                    _ => None,
                };
                let Some(published) = found else {
                    return self.store(&target, lease, None, decision).await;
                };
                // Log the lookup that settled it as the successful call.
                let target_id = target.id;
                let Started::Attempt(attempt) = self
                    .starts
                    .submit(StartAttempt {
                        target: target_id,
                        account: account_id,
                        lease,
                        limit: None,
                    })
                    .await?
                else {
                    return Ok(());
                };
                let result = AttemptResult {
                    finished_at: Some(Utc::now()),
                    http_status: None,
                    outcome: AttemptOutcome::Success,
                    error_code: None,
                    error_message: None,
                    response: Some(serde_json::json!({
                        "reconciled": true,
                        "platform_post_id": published.platform_post_id,
                        "url": published.url,
                    })),
                };
                return self
                    .store(&target, lease, Some((attempt, result)), decision)
                    .await;
            }
        }

        let _gate = self.gates.enter(account.id).await;
        // Checked after the gate: a pause may have begun while this publish waited for it.
        if let Some(until) = self.pauses.paused_until(target.platform, Utc::now()) {
            let message = format!(
                "{} has paused this application (all its accounts) until {}; publishing then",
                target.platform,
                until.to_rfc3339()
            );
            let decision = self.defer(&target, until, "app_rate_limited", message);
            return self.store(&target, lease, None, decision).await;
        }
        let target_id = target.id;
        let start = StartAttempt {
            target: target_id,
            account: account_id,
            lease,
            limit: adapter.descriptor().capabilities.publish_limit,
        };
        let attempt = match self.starts.submit(start).await? {
            Started::Attempt(attempt) => attempt,
            Started::OverLimit { limit, free_at } => {
                let decision = self.deferred_by_limit(&target, limit, free_at);
                return self.store(&target, lease, None, decision).await;
            }
            Started::LeaseLost => {
                tracing::info!(target.id = %target.id, "lease lost before publishing; another publisher has the target");
                return Ok(());
            }
        };
        let started = std::time::Instant::now();
        let call = platform_adapters::http::observe(adapter.publish(&account_ref, &request));
        let (result, http_status) = tokio::time::timeout(self.timeout, call)
            .await
            .unwrap_or_else(|_| {
                let message = format!("no answer within {:?}", self.timeout);
                (Err(AdapterError::OutcomeUnknown { message }), None)
            });
        let http_status = http_status.map(i32::from);
        self.metrics
            .observe(target.platform, &result, started.elapsed());
        let finished_at = Some(Utc::now());
        let (decision, finished) = match result {
            Ok(published) => {
                let response = serde_json::json!({
                    "platform_post_id": published.platform_post_id,
                    "url": published.url,
                });
                let finished = AttemptResult {
                    finished_at,
                    http_status,
                    outcome: AttemptOutcome::Success,
                    error_code: None,
                    error_message: None,
                    response: Some(response),
                };
                (Decision::Published(published), finished)
            }
            Err(err) => {
                let finished = AttemptResult {
                    finished_at,
                    http_status,
                    outcome: outcome::attempt_outcome(&err),
                    error_code: Some(outcome::error_code(&err).to_owned()),
                    error_message: Some(err.to_string()),
                    response: None,
                };
                let decision = self.decide(&err, &target, attempt.attempt_no);
                if let (AdapterError::AppRateLimited { .. }, Decision::Wait { at, .. }) =
                    (&err, &decision)
                {
                    self.pauses.pause(target.platform, *at);
                }
                (decision, finished)
            }
        };
        self.store(&target, lease, Some((attempt, finished)), decision)
            .await
    }

    /// When the call that may have reached the platform started, if there is one: the target
    /// is `unknown`, or it was recovered from a dead publisher with an attempt still in flight
    /// (which is closed as `unknown` here).
    async fn outcome_in_doubt(
        &self,
        previous: &TargetStatus,
        target: &PostTarget,
    ) -> Result<Option<DateTime<Utc>>, PublishError> {
        let id = target.id;
        match previous {
            TargetStatus::Unknown => Ok(self
                .db
                .query(move |conn| PostAttempt::latest(conn, id))
                .await?
                .map(|a| a.started_at)
                .or(Some(target.updated_at))),
            TargetStatus::Publishing => {
                let closed = self
                    .db
                    .query(move |conn| {
                        let Some(latest) = PostAttempt::latest(conn, id)? else {
                            return Ok(None);
                        };
                        if latest.outcome != AttemptOutcome::InFlight {
                            return Ok(None);
                        }
                        PostAttempt::finish(
                            conn,
                            latest.id,
                            &AttemptResult {
                                finished_at: Some(Utc::now()),
                                http_status: None,
                                outcome: AttemptOutcome::Unknown,
                                error_code: Some("publisher_stopped".into()),
                                error_message: Some(
                                    "the publisher stopped during this call; its outcome is unknown".into(),
                                ),
                                response: None,
                            },
                        )?;
                        Ok(Some(latest.started_at))
                    })
                    .await?;
                if closed.is_some() {
                    self.metrics.recovered.inc();
                }
                Ok(closed)
            }
            _ => Ok(None),
        }
    }

    /// Looks the post up. `None`: not there, publish it; otherwise what to store. A lookup
    /// that finds the post is logged as a successful attempt (the call that settled it);
    /// failing lookups are retried with backoff for up to an hour after the unanswered call.
    async fn reconcile(
        &self,
        adapter: &dyn PlatformAdapter,
        account: &AccountRef<'_>,
        request: &PublishRequest<'_>,
        target: &PostTarget,
        since: DateTime<Utc>,
    ) -> Option<Decision> {
        let platform = target.platform;
        let found = tokio::time::timeout(self.timeout, adapter.find_published(account, request))
            .await
            .unwrap_or_else(|_| {
                Err(AdapterError::Transient {
                    message: "lookup timed out".into(),
                })
            });
        self.metrics
            .reconciled
            .with_label_values(&[platform.as_str(), reconcile_label(&found)])
            .inc();
        let in_doubt_for = Utc::now() - since;
        match found {
            Ok(Some(published)) => {
                tracing::info!(target.id = %target.id, %platform, "reconciled: the post was already on the platform");
                Some(Decision::Published(published))
            }
            Ok(None) => None,
            Err(AdapterError::Unsupported { .. }) => Some(Decision::Failed {
                code: "outcome_unknown",
                message: format!(
                    "{platform} did not answer the publish call and its posts cannot be looked up: check the account; retrying may publish the post twice"
                ),
                urgent_refresh: false,
            }),
            Err(err) if in_doubt_for < chrono::Duration::hours(1) => {
                let wait = (in_doubt_for / 2)
                    .max(chrono::Duration::from_std(self.policy.backoff_base).unwrap_or_default())
                    .min(chrono::Duration::from_std(self.policy.backoff_max).unwrap_or_default());
                Some(Decision::Wait {
                    status: TargetStatus::Unknown,
                    at: Utc::now() + wait,
                    code: "reconciling",
                    message: format!(
                        "checking whether the post reached {platform} failed ({err}); checking again"
                    ),
                })
            }
            Err(err) => Some(Decision::Failed {
                code: "outcome_unknown",
                message: format!(
                    "{platform} did not answer the publish call and looking the post up kept failing for an hour ({err}): check the account; retrying may publish the post twice"
                ),
                urgent_refresh: false,
            }),
        }
    }

    /// Defers the target until `at`, when its account is back under the platform's documented
    /// publishing limit (e.g. Instagram's 100 posts per 24 hours), instead of earning a refusal.
    fn deferred_by_limit(
        &self,
        target: &PostTarget,
        limit: PublishLimit,
        at: DateTime<Utc>,
    ) -> Decision {
        let message = format!(
            "{} allows {} posts per {} per account; publishing at {}",
            target.platform,
            limit.max,
            window_text(limit.window),
            at.to_rfc3339()
        );
        self.defer(target, at, "publish_limit", message)
    }

    /// Holds the target back until `at` without calling the platform (a limit known before
    /// the call), counted in the deferred metric.
    fn defer(
        &self,
        target: &PostTarget,
        at: DateTime<Utc>,
        code: &'static str,
        message: String,
    ) -> Decision {
        self.metrics
            .deferred
            .with_label_values(&[target.platform.as_str()])
            .inc();
        Decision::Wait {
            status: TargetStatus::Scheduled,
            at,
            code,
            message,
        }
    }

    fn decide(&self, err: &AdapterError, target: &PostTarget, attempt_no: i32) -> Decision {
        match outcome::after_failure(err, target.platform, attempt_no, &self.policy, Utc::now()) {
            Next::Retry { at, code, message } => Decision::Wait {
                status: TargetStatus::Scheduled,
                at,
                code,
                message,
            },
            Next::Reconcile { at, message } => Decision::Wait {
                status: TargetStatus::Unknown,
                at,
                code: "outcome_unknown",
                message,
            },
            Next::Fail {
                code,
                message,
                urgent_refresh,
            } => Decision::Failed {
                code,
                message,
                urgent_refresh,
            },
        }
    }

    /// Stores a decision (and the attempt's result) in one transaction, while the lease holds.
    async fn store(
        &self,
        target: &PostTarget,
        lease: DateTime<Utc>,
        attempt: Option<(PostAttempt, AttemptResult)>,
        decision: Decision,
    ) -> Result<(), PublishError> {
        let outcome = Outcome {
            target: target.clone(),
            lease,
            attempt,
            decision,
        };
        match self.outcomes.submit(outcome).await? {
            Some(stored) => self
                .metrics
                .outcomes
                .with_label_values(&[stored.platform.as_str(), stored.status.as_str()])
                .inc(),
            None => tracing::warn!(target.id = %target.id,
                "lease lost while publishing; the attempt is recorded, the target left to its new holder"),
        }
        Ok(())
    }
}

/// Whether the platform still deduplicates a request first sent at `since`. Mastodon remembers
/// an `Idempotency-Key` for one hour only; past that, repeating could post twice, so the
/// target is treated like one on a platform without deduplication. Bluesky's record keys and
/// the sandbox's keys never expire.
fn dedup_still_holds(platform: db::domain::Platform, since: DateTime<Utc>) -> bool {
    platform != db::domain::Platform::Mastodon || Utc::now() - since < chrono::Duration::minutes(55)
}

/// "15 minutes", "24 hours".
fn window_text(window: Duration) -> String {
    let minutes = window.as_secs() / 60;
    match (minutes / 60, minutes % 60) {
        (hours, 0) if hours > 0 => format!("{hours} hours"),
        _ => format!("{minutes} minutes"),
    }
}

fn reconcile_label(found: &Result<Option<Published>, AdapterError>) -> &'static str {
    match found {
        Ok(Some(_)) => "found",
        Ok(None) => "absent",
        Err(AdapterError::Unsupported { .. }) => "unsupported",
        Err(_) => "error",
    }
}
