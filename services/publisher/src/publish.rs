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
use events::{ExpiringReason, Outbox};
use platform_adapters::{
    AccountRef, AdapterError, MediaItem, PlatformAdapter, PostOptions, PublishLimit,
    PublishRequest, Published, Registry,
};
use secrecy::SecretString;
use service_kit::tokens;
use tokio::sync::{Semaphore, SemaphorePermit};
use uuid::Uuid;
use vault::Vault;

mod chain;

use crate::{
    gates::{AccountGates, PlatformPauses},
    group_commit::{GroupCommit, WriteError},
    lease::Leases,
    media::MediaLoader,
    metrics::PublishMetrics,
    outcome::{self, Next, Refusals, RetryPolicy, AWAITING_REFRESH},
    record::{
        Decision, Outcome, RecordOutcomes, RefreshRequest, StartAttempt, StartAttempts, Started,
    },
    token_wait::{self, RefreshRequests},
    SERVICE,
};

/// The outbox of this service.
pub const OUTBOX: Outbox = Outbox::new(SERVICE);

/// Committers per kind of write, each holding a pooled connection while it commits: two let
/// one batch fill while the other commits.
const WRITERS: usize = 2;
/// Most writes per transaction.
const MAX_BATCH: usize = 64;
/// First and longest pause between tries of an outcome write that failed.
const WRITE_RETRY_FIRST: Duration = Duration::from_millis(100);
const WRITE_RETRY_MAX: Duration = Duration::from_secs(2);

/// How a publisher is tuned (from `[publisher]`).
#[derive(Debug, Clone, Copy)]
pub struct Tuning {
    /// Longest a whole publish may take before its outcome counts as unknown.
    pub timeout: Duration,
    /// Platform calls in flight at once per account.
    pub per_account: usize,
    /// Publishes with media in flight at once.
    pub media_concurrency: usize,
    /// How long a claim lasts without a heartbeat.
    pub lease: chrono::Duration,
    /// A token expiring within this is refreshed before the call.
    pub token_margin: chrono::Duration,
    /// How long after publishing a target's engagement is first read (`None`: not scheduled;
    /// see [`crate::engagement`]).
    pub first_metrics_read: Option<chrono::Duration>,
    /// `[env_account] allow_publishing`: whether the deployment's own Page may be published to.
    pub env_account_publishing: bool,
}

/// Publishes claimed targets.
#[derive(Debug)]
pub struct Publisher {
    db: Db,
    vault: Arc<Vault>,
    adapters: Registry,
    media: MediaLoader,
    policy: RetryPolicy,
    tuning: Tuning,
    gates: AccountGates,
    pauses: PlatformPauses,
    /// Held by a publish while its media are in memory.
    media_slots: Semaphore,
    metrics: PublishMetrics,
    starts: GroupCommit<StartAttempts>,
    outcomes: GroupCommit<RecordOutcomes>,
    leases: Arc<Leases>,
    requests: Arc<RefreshRequests>,
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

/// A claimed target and the fence every write of its publish is made under.
struct Held {
    target: PostTarget,
    claim: Uuid,
}

impl Held {
    /// An outcome of this target without a call.
    fn outcome(&self, decision: Decision) -> Outcome {
        Outcome {
            target: self.target.clone(),
            claim: self.claim,
            attempt: None,
            decision,
            refresh: None,
        }
    }

    fn failed(&self, code: &'static str, message: String) -> Outcome {
        self.outcome(Decision::Failed { code, message })
    }
}

/// What a call needs, once the checks before it passed.
struct Ready<'p> {
    account: Account,
    adapter: Arc<dyn PlatformAdapter>,
    access: SecretString,
    refresh: Option<SecretString>,
    media: Vec<MediaItem>,
    options: PostOptions,
    /// Held while the media are in memory.
    _media_slot: Option<SemaphorePermit<'p>>,
}

impl Ready<'_> {
    fn account_ref(&self) -> AccountRef<'_> {
        AccountRef {
            platform_account_id: &self.account.platform_account_id,
            access_token: &self.access,
            refresh_token: self.refresh.as_ref(),
            instance_url: self.account.instance_url.as_deref(),
        }
    }

    fn request<'r>(&'r self, target: &'r PostTarget, key: &'r str) -> PublishRequest<'r> {
        PublishRequest {
            idempotency_key: key,
            created_at: target.created_at,
            text: &target.text,
            media: &self.media,
            options: &self.options,
            account_kind: self.account.account_kind,
            reply_to: None,
        }
    }
}

/// Early ends of a publish are outcomes to store; boxed, they keep `Result`s small.
type Early = Box<Outcome>;

/// What a claimed target's history says about its last call.
enum Doubt {
    /// No call is in doubt: publish.
    None,
    /// A call that started then may have reached the platform.
    Since(DateTime<Utc>),
    /// Its last call succeeded, but the publisher that made it lost the target before it
    /// could store that (its lease ran out): the post is on the platform, store it.
    Recorded(Published),
}

/// What looking up a post whose call went unanswered settled.
enum Settled {
    /// It is certainly not on the platform: publish it.
    Absent,
    /// Store this (found, or still unknown, or failed).
    Store(Early),
    /// Another publisher holds the target now.
    Lost,
}

impl Publisher {
    /// A publisher over `db`, decrypting tokens with `vault`.
    pub fn new(
        db: Db,
        vault: Arc<Vault>,
        adapters: Registry,
        media: MediaLoader,
        policy: RetryPolicy,
        tuning: Tuning,
        metrics: PublishMetrics,
    ) -> Self {
        Self {
            starts: GroupCommit::start(db.clone(), StartAttempts, WRITERS, MAX_BATCH),
            outcomes: GroupCommit::start(
                db.clone(),
                RecordOutcomes {
                    first_metrics_read: tuning.first_metrics_read,
                },
                WRITERS,
                MAX_BATCH,
            ),
            leases: Leases::start(db.clone(), tuning.lease),
            requests: Arc::new(RefreshRequests::new(policy.token_wait)),
            db,
            vault,
            adapters,
            media,
            policy,
            tuning,
            gates: AccountGates::new(tuning.per_account),
            pauses: PlatformPauses::default(),
            media_slots: Semaphore::new(tuning.media_concurrency.max(1)),
            metrics,
        }
    }

    /// The per-account gates and the platforms' application pauses, shared with the deletion
    /// worker ([`crate::deletion`]) so that every call made for an account draws on one budget.
    pub fn gates(&self) -> (&AccountGates, &PlatformPauses) {
        (&self.gates, &self.pauses)
    }

    /// The service's Prometheus metrics, shared with the deletion worker and the engagement
    /// fetcher so their calls are counted beside publishing's.
    pub fn metrics(&self) -> &PublishMetrics {
        &self.metrics
    }

    /// The urgent refreshes this publisher asked for (shared with the `token.refreshed`
    /// consumer, which settles them).
    pub fn refresh_requests(&self) -> Arc<RefreshRequests> {
        self.requests.clone()
    }

    /// Publishes (or reconciles) one claimed target, for `account` (loaded with the claim;
    /// `None` if it is gone), renewing its lease until the outcome is stored. A publish the
    /// database stopped (before the call, or an outcome it could not store before the lease
    /// ended) is logged: its target is taken over when the lease runs out.
    ///
    /// Everything it logs, here and in the adapter it calls, is inside one `publish` span that
    /// carries the post's, target's and account's ids and the platform.
    #[tracing::instrument(name = "publish", skip_all, fields(
        post.id = %claimed.target.post_id,
        target.id = %claimed.target.id,
        account.id = %claimed.target.account_id,
        platform = %claimed.target.platform,
        previous = %claimed.previous,
    ))]
    pub async fn handle(&self, claimed: ClaimedTarget, account: Option<Account>) {
        let target_id = claimed.target.id;
        let until = claimed
            .target
            .lease_until
            .unwrap_or_else(|| Utc::now() + self.leases.lease());
        let _held = self.leases.hold(target_id, claimed.claim, until);
        if let Err(err) = self.publish(claimed, account).await {
            tracing::warn!(error = %err,
                "a publish stopped on a database error; its target is taken over when its lease runs out");
        }
    }

    /// One publish in three steps: [`Self::preflight`] (the checks before a call, or what to
    /// store instead), [`Self::reconcile`] (a call that may have reached a platform that does
    /// not deduplicate is looked up first) and [`Self::call`].
    async fn publish(
        &self,
        claimed: ClaimedTarget,
        account: Option<Account>,
    ) -> Result<(), PublishError> {
        if claimed.target.follow_ups > 0 {
            return self.publish_chain(claimed, account).await;
        }
        let doubt = self
            .outcome_in_doubt(&claimed.previous, &claimed.target)
            .await?;
        let held = Held {
            target: claimed.target,
            claim: claimed.claim,
        };
        let in_doubt = match doubt {
            Doubt::None => None,
            Doubt::Since(since) => Some(since),
            Doubt::Recorded(published) => {
                return self
                    .store(held.outcome(Decision::Published(published)))
                    .await;
            }
        };
        let ready = match self.preflight(&held, account, in_doubt).await {
            Ok(ready) => ready,
            Err(early) => return self.store(*early).await,
        };
        let key = held.target.id.to_string();
        let request = ready.request(&held.target, &key);
        let account_ref = ready.account_ref();
        let capabilities = &ready.adapter.descriptor().capabilities;
        let repeatable = capabilities.idempotent_publish
            && in_doubt.is_none_or(|since| dedup_still_holds(capabilities.dedup_window, since));
        if let Some(since) = in_doubt.filter(|_| !repeatable) {
            match self
                .reconcile(&held, &ready, &account_ref, &request, since)
                .await?
            {
                Settled::Absent => {}
                Settled::Store(outcome) => return self.store(*outcome).await,
                Settled::Lost => return Ok(()),
            }
        }
        self.call(&held, &ready, &account_ref, &request).await
    }

    /// The checks before a call: the account is usable, the platform configured, the token
    /// readable and fresh, the media readable. `Err`: what to store instead of calling.
    async fn preflight(
        &self,
        held: &Held,
        account: Option<Account>,
        in_doubt: Option<DateTime<Utc>>,
    ) -> Result<Ready<'_>, Early> {
        let platform = held.target.platform;
        let account = usable(held, account)?;
        if account.is_env() && !self.tuning.env_account_publishing {
            let message = "publishing to the deployment's own Facebook Page is switched off \
                           ([env_account] allow_publishing); the post was not published"
                .to_owned();
            return Err(Box::new(
                held.failed("env_account_publishing_disabled", message),
            ));
        }
        let adapter = match self
            .adapters
            .for_publishing(account.platform, account.instance_url.as_deref())
        {
            Ok(adapter) => adapter,
            Err(AdapterError::Rejected { code, message }) if code == "instance_not_allowed" => {
                return Err(Box::new(held.failed("instance_not_allowed", message)));
            }
            Err(_) => {
                let message = format!("{platform} is not configured on this deployment");
                return Err(Box::new(held.failed("unsupported", message)));
            }
        };
        let (Ok(Some(access)), Ok(refresh)) = (
            tokens::access_token(&self.vault, &account),
            tokens::refresh_token(&self.vault, &account),
        ) else {
            let message =
                format!("reconnect your {platform} account: its token is missing or unreadable");
            return Err(Box::new(held.failed("needs_reauth", message)));
        };
        self.fresh_token(held, &account, in_doubt)?;
        let _media_slot = if held.target.media_ids.iter().any(Option::is_some) {
            self.media_slots.acquire().await.ok()
        } else {
            None
        };
        let media = self
            .media
            .load(&held.target.media_ids)
            .await
            .map_err(|err| {
                let message = format!("the post's media could not be read: {err}");
                Box::new(held.failed("media_unavailable", message))
            })?;
        let options: PostOptions =
            serde_json::from_value(held.target.options.clone()).unwrap_or_default();
        Ok(Ready {
            account,
            adapter,
            access,
            refresh,
            media,
            options,
            _media_slot,
        })
    }

    /// `Err` (wait for a refresh) when the account's token has expired or is about to, unless
    /// this target already waited for it once: then it is tried anyway (the refresh may be
    /// late, and the platform may still take the token).
    fn fresh_token(
        &self,
        held: &Held,
        account: &Account,
        in_doubt: Option<DateTime<Utc>>,
    ) -> Result<(), Early> {
        let already_waited = held.target.error_code.as_deref() == Some(AWAITING_REFRESH);
        if already_waited || !token_wait::expiring(account, Utc::now(), self.tuning.token_margin) {
            return Ok(());
        }
        let message = format!(
            "the {} token has expired or is about to; waiting for it to be refreshed",
            held.target.platform
        );
        let request = RefreshRequest {
            reason: ExpiringReason::Scheduled,
            expires_at: account.token_expires_at,
        };
        Err(Box::new(
            self.await_refresh(held, in_doubt, message, request),
        ))
    }

    /// The target waits (at most `token_wait`) for its account's token to be refreshed,
    /// asking token-refresher for it unless this publisher already asked for the account. A
    /// target whose last call may have reached the platform waits `unknown`, to be
    /// reconciled, never blindly repeated.
    fn await_refresh(
        &self,
        held: &Held,
        in_doubt: Option<DateTime<Utc>>,
        message: String,
        request: RefreshRequest,
    ) -> Outcome {
        let status = if in_doubt.is_some() {
            TargetStatus::Unknown
        } else {
            TargetStatus::Scheduled
        };
        let at =
            Utc::now() + chrono::Duration::from_std(self.policy.token_wait).unwrap_or_default();
        let mut outcome = held.outcome(Decision::Wait {
            status,
            at,
            code: AWAITING_REFRESH,
            message,
        });
        outcome.refresh = self
            .requests
            .first(held.target.account_id)
            .then_some(request);
        outcome
    }

    /// Settles a call that may have reached a platform that does not deduplicate: looks the
    /// post up.
    async fn reconcile(
        &self,
        held: &Held,
        ready: &Ready<'_>,
        account: &AccountRef<'_>,
        request: &PublishRequest<'_>,
        since: DateTime<Utc>,
    ) -> Result<Settled, PublishError> {
        let Some(decision) = self
            .look_up(
                ready.adapter.as_ref(),
                account,
                request,
                &held.target,
                since,
            )
            .await
        else {
            return Ok(Settled::Absent);
        };
        let Decision::Published(published) = &decision else {
            return Ok(Settled::Store(Box::new(held.outcome(decision))));
        };
        // Log the lookup that settled it as the successful call.
        let start = StartAttempt {
            target: held.target.id,
            account: held.target.account_id,
            claim: held.claim,
            limit: None,
        };
        let Started::Attempt(attempt) = self.starts.submit(start).await? else {
            return Ok(Settled::Lost);
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
        let mut outcome = held.outcome(decision);
        outcome.attempt = Some((attempt, result));
        Ok(Settled::Store(Box::new(outcome)))
    }

    /// Calls the platform (after the account's gate, an app-wide pause and the account's
    /// publishing limit allow it) and stores what came of it.
    async fn call(
        &self,
        held: &Held,
        ready: &Ready<'_>,
        account: &AccountRef<'_>,
        request: &PublishRequest<'_>,
    ) -> Result<(), PublishError> {
        let target = &held.target;
        let _gate = self.gates.enter(ready.account.id).await;
        // Checked after the gate: a pause may have begun while this publish waited for it.
        if let Some(until) = self.pauses.paused_until(target.platform, Utc::now()) {
            let message = format!(
                "{} has paused this application (all its accounts) until {}; publishing then",
                target.platform,
                until.to_rfc3339()
            );
            let decision = self.defer(target, until, "app_rate_limited", message);
            return self.store(held.outcome(decision)).await;
        }
        let start = StartAttempt {
            target: target.id,
            account: target.account_id,
            claim: held.claim,
            limit: ready.adapter.descriptor().capabilities.publish_limit,
        };
        let attempt = match self.starts.submit(start).await? {
            Started::Attempt(attempt) => attempt,
            Started::OverLimit { limit, free_at } => {
                let decision = self.deferred_by_limit(target, limit, free_at);
                return self.store(held.outcome(decision)).await;
            }
            Started::LeaseLost => {
                tracing::info!("lease lost before publishing; another publisher has the target");
                return Ok(());
            }
        };
        let (result, http_status) = self.timed_publish(ready, account, request, target).await;
        let finished = attempt_result(&result, http_status);
        let mut outcome = match result {
            Ok(published) => held.outcome(Decision::Published(published)),
            Err(err) => {
                self.after_error(held, &ready.account, &err, attempt.attempt_no)
                    .await
            }
        };
        outcome.attempt = Some((attempt, finished));
        self.store(outcome).await
    }

    /// The publish call, bounded by the publish timeout, with the last HTTP status seen.
    async fn timed_publish(
        &self,
        ready: &Ready<'_>,
        account: &AccountRef<'_>,
        request: &PublishRequest<'_>,
        target: &PostTarget,
    ) -> (Result<Published, AdapterError>, Option<i32>) {
        let started = std::time::Instant::now();
        let call = platform_adapters::http::observe(ready.adapter.publish(account, request));
        let (result, http_status) = tokio::time::timeout(self.tuning.timeout, call)
            .await
            .unwrap_or_else(|_| {
                let message = format!("no answer within {:?}", self.tuning.timeout);
                (Err(AdapterError::OutcomeUnknown { message }), None)
            });
        self.metrics
            .observe(target.platform, &result, started.elapsed());
        (result, http_status.map(i32::from))
    }

    /// What to store after a failed call.
    async fn after_error(
        &self,
        held: &Held,
        account: &Account,
        err: &AdapterError,
        attempt_no: i32,
    ) -> Outcome {
        let target = &held.target;
        let refusals = match err {
            AdapterError::NeedsReauth { .. } => self.refusals(target, account, attempt_no).await,
            _ => Refusals::NotSinceRefresh,
        };
        let next = outcome::after_failure(
            err,
            target.platform,
            attempt_no,
            refusals,
            &self.policy,
            Utc::now(),
        );
        let decision = match next {
            Next::AwaitRefresh { message, .. } => {
                let request = RefreshRequest {
                    reason: ExpiringReason::Unauthorized,
                    expires_at: None,
                };
                return self.await_refresh(held, None, message, request);
            }
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
            Next::Fail { code, message } => Decision::Failed { code, message },
        };
        if let (AdapterError::AppRateLimited { .. }, Decision::Wait { at, .. }) = (err, &decision) {
            self.pauses.pause(target.platform, *at);
        }
        held.outcome(decision)
    }

    /// Whether the platform refused this target's token before, and the token was refreshed
    /// since (so the fresh one was refused too). A failed lookup counts as not: waiting for a
    /// refresh is the harmless choice.
    async fn refusals(&self, target: &PostTarget, account: &Account, attempt_no: i32) -> Refusals {
        let id = target.id;
        let earlier = self
            .db
            .query(move |conn| PostAttempt::of_targets(conn, &[id]))
            .await
            .unwrap_or_default();
        let refused_at = earlier
            .iter()
            .filter(|a| a.attempt_no < attempt_no && a.outcome == AttemptOutcome::NeedsReauth)
            .map(|a| a.started_at)
            .max();
        match (refused_at, account.last_refreshed_at) {
            (Some(refused), Some(refreshed)) if refreshed > refused => Refusals::AfterRefresh,
            _ => Refusals::NotSinceRefresh,
        }
    }

    /// What the target's last call may have done: the target is `unknown`, or it was taken
    /// over from a publisher that lost it (died, or its lease ran out) with an attempt still
    /// in flight (closed as `unknown` here) or with a success it could not store any more.
    async fn outcome_in_doubt(
        &self,
        previous: &TargetStatus,
        target: &PostTarget,
    ) -> Result<Doubt, PublishError> {
        let id = target.id;
        match previous {
            TargetStatus::Unknown => Ok(Doubt::Since(
                self.db
                    .query(move |conn| PostAttempt::latest(conn, id))
                    .await?
                    .map_or(target.updated_at, |a| a.started_at),
            )),
            TargetStatus::Publishing => {
                let doubt = self
                    .db
                    .query(move |conn| {
                        let latest = PostAttempt::latest(conn, id)?;
                        taken_over(conn, latest)
                    })
                    .await?;
                if !matches!(doubt, Doubt::None) {
                    self.metrics.recovered.inc();
                }
                Ok(doubt)
            }
            _ => Ok(Doubt::None),
        }
    }

    /// Looks the post up. `None`: not there, publish it; otherwise what to store. A lookup
    /// that finds the post is logged as a successful attempt (the call that settled it);
    /// failing lookups are retried with backoff for up to an hour after the unanswered call.
    async fn look_up(
        &self,
        adapter: &dyn PlatformAdapter,
        account: &AccountRef<'_>,
        request: &PublishRequest<'_>,
        target: &PostTarget,
        since: DateTime<Utc>,
    ) -> Option<Decision> {
        let platform = target.platform;
        let found = tokio::time::timeout(
            self.tuning.timeout,
            adapter.find_published(account, request),
        )
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
                tracing::info!("reconciled: the post was already on the platform");
                Some(Decision::Published(published))
            }
            Ok(None) => None,
            Err(AdapterError::Unsupported { .. }) => Some(Decision::Failed {
                code: "outcome_unknown",
                message: format!(
                    "{platform} did not answer the publish call and its posts cannot be looked up: check the account; retrying may publish the post twice"
                ),
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

    /// Stores an outcome (the attempt's result, the target's new state, events) in one
    /// transaction, fenced by the claim. A write that fails (the database is restarting) is
    /// kept and tried again with backoff until it commits or the lease ends: the platform's
    /// answer is recorded as it was, not lost and later mistaken for a dead publisher's.
    async fn store(&self, outcome: Outcome) -> Result<(), PublishError> {
        let target = outcome.target.id;
        let mut pause = WRITE_RETRY_FIRST;
        let stored = loop {
            let err = match self.outcomes.submit(outcome.clone()).await {
                Ok(stored) => break stored,
                Err(WriteError::Closed) => return Err(WriteError::Closed.into()),
                Err(err) => err,
            };
            let lease_end = self
                .leases
                .until(target, outcome.claim)
                .unwrap_or_else(Utc::now);
            if Utc::now() + pause >= lease_end {
                return Err(err.into());
            }
            tracing::warn!(error = %err, retry_in_ms = pause.as_millis() as u64,
                "could not record a publish; keeping its outcome and trying again");
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(WRITE_RETRY_MAX);
        };
        match stored {
            Some(stored) => self
                .metrics
                .outcomes
                .with_label_values(&[stored.platform.as_str(), stored.status.as_str()])
                .inc(),
            None => tracing::warn!(
                "lease lost while publishing; the attempt is recorded, the target left to its new holder"),
        }
        Ok(())
    }
}

/// What a target taken over from another publisher (status `publishing`) is left with, by
/// its `latest` attempt: one still in flight is closed as `unknown` (its call may have
/// reached the platform); a success the other publisher recorded but could not store on the
/// target (it had lost its claim) is the post itself.
fn taken_over(
    conn: &mut db::PgConnection,
    latest: Option<PostAttempt>,
) -> db::diesel::QueryResult<Doubt> {
    let Some(latest) = latest else {
        return Ok(Doubt::None);
    };
    match latest.outcome {
        AttemptOutcome::InFlight => {
            let stopped = AttemptResult {
                finished_at: Some(Utc::now()),
                http_status: None,
                outcome: AttemptOutcome::Unknown,
                error_code: Some("publisher_stopped".into()),
                error_message: Some(
                    "the publisher stopped (or lost the target) during this call; its outcome is unknown"
                        .into(),
                ),
                response: None,
            };
            PostAttempt::finish(conn, latest.id, &stopped)?;
            Ok(Doubt::Since(latest.started_at))
        }
        AttemptOutcome::Success => {
            Ok(recorded(&latest).map_or(Doubt::Since(latest.started_at), Doubt::Recorded))
        }
        _ => Ok(Doubt::None),
    }
}

/// The post a successful attempt recorded.
fn recorded(attempt: &PostAttempt) -> Option<Published> {
    let response = attempt.response.as_ref()?;
    Some(Published {
        platform_post_id: response["platform_post_id"].as_str()?.to_owned(),
        url: response["url"].as_str().map(str::to_owned),
    })
}

/// The account, if it can publish; otherwise the failure to store. An account the refresher
/// marked `needs_reauth` fails its targets with the message that asks to reconnect it.
fn usable(held: &Held, account: Option<Account>) -> Result<Account, Early> {
    let platform = held.target.platform;
    match account {
        Some(account) if account.status == AccountStatus::NeedsReauth => Err(Box::new(
            held.failed("needs_reauth", outcome::reconnect_message(platform)),
        )),
        Some(account)
            if !matches!(
                account.status,
                AccountStatus::Disconnected | AccountStatus::Disconnecting
            ) =>
        {
            Ok(account)
        }
        _ => {
            let message = format!(
                "the {platform} account is disconnected or must be reconnected; the post was not published"
            );
            Err(Box::new(held.failed("account_unavailable", message)))
        }
    }
}

/// The attempt's row for the call's result.
fn attempt_result(
    result: &Result<Published, AdapterError>,
    http_status: Option<i32>,
) -> AttemptResult {
    let finished_at = Some(Utc::now());
    match result {
        Ok(published) => AttemptResult {
            finished_at,
            http_status,
            outcome: AttemptOutcome::Success,
            error_code: None,
            error_message: None,
            response: Some(serde_json::json!({
                "platform_post_id": published.platform_post_id,
                "url": published.url,
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

/// Whether the platform still deduplicates a request first sent at `since`: always where its
/// keys never expire (`window` `None`), otherwise within the platform's window. Past it,
/// repeating could post twice, so the target is treated like one on a platform without
/// deduplication.
fn dedup_still_holds(window: Option<Duration>, since: DateTime<Utc>) -> bool {
    window.is_none_or(|window| {
        chrono::Duration::from_std(window).is_ok_and(|window| Utc::now() - since < window)
    })
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
