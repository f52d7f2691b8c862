//! The refresh worker: consumes `token.expiring` and refreshes each token exactly once.
//!
//! A refresh is three short steps, and no database transaction or pooled connection is held
//! across the platform call:
//! 1. **Claim** (one `UPDATE … RETURNING`, committed before the call, in a group commit with
//!    the claims of other workers, [`crate::writer`]): a fresh fence (uuid) and a short lease on
//!    the account, taken only if no live lease holds it, it was not refreshed since the request
//!    was made (`last_refreshed_at >= requested_at`), its grant is not known dead
//!    (`needs_reauth`) or going away, and (for a scheduled request) it is due. Anything else is
//!    acknowledged as skipped: that is what coalesces any number of requests for one account,
//!    across replicas, into one refresh, and what keeps a dead refresh token from being
//!    presented again and again.
//!    Due accounts are claimed the same way, many per statement, by the scheduler
//!    ([`crate::scheduler`]), which then hands each to [`Refresher::refresh_due`].
//! 2. **Call** the platform with no connection held. The owner renews its lease every third of
//!    it while the call runs (fence-guarded heartbeat), so a slow call keeps the account and a
//!    dead replica's account is free again within one lease.
//! 3. **Write** the outcome with its event in one short transaction, shared with the outcomes
//!    of other workers that are ready at the same moment (group commit, [`crate::writer`]). New tokens are written
//!    before anything else and, if the write fails (database unreachable), kept in memory and
//!    written again with backoff for as long as the new access token lives; meanwhile this
//!    process presents no token of that account (the in-process set of accounts in hand, which
//!    every worker checks before claiming), and other replicas cannot claim it while the lease
//!    lives. Failures are written guarded by the fence: a replica that lost its claim does not
//!    overwrite its successor's outcome.
//!
//! No `processed_events` inbox marker is written: the refresh is idempotent on its own. A
//! redelivered or duplicated request finds the account refreshed after it was made (skipped),
//! its lease held (skipped), or, after a failure, rescheduled (a scheduled request is not due;
//! an on-demand one is a legitimate retry). The marker would add a statement and a row per
//! request to the hottest path for no extra guarantee.
//!
//! What no design can close: if the process dies *after* the platform rotated a refresh token
//! and *before* its answer reached us, the new token is known only to the dead process (the
//! platform-sim `refresh_hold_ms` knob opens that window on purpose). The next refresh presents
//! the spent token and the account lands in `needs_reauth`, once. What this design guarantees is
//! everything after the answer reached us: the token is not lost even if the database write
//! fails, and it is never traded for another one while its write is pending.

use std::{
    collections::HashSet,
    future::Future,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use chrono::{DateTime, Utc};
use db::{
    accounts::Account,
    domain::{AccountId, AccountStatus, Platform},
    refresh::{RefreshClaim, RefreshFailureForm, RefreshSuccessForm},
    Db, DbError,
};
use events::{
    Envelope, Event, ExpiringReason, Handler, HandlerError, Incoming, Outbox, RefreshFailureReason,
    TokenExpiring, TokenRefreshFailed, TokenRefreshed,
};
use platform_adapters::{AccountRef, AdapterError, PlatformAdapter, Registry, TokenSet};
use rand::Rng;
use service_kit::tokens::{self, ACCESS_TOKEN, REFRESH_TOKEN};
use uuid::Uuid;
use vault::Vault;

use crate::{
    metrics::RefreshMetrics,
    writer::{Batcher, OutboxEvent, Write},
};

/// The outbox of this service.
pub const OUTBOX: Outbox = Outbox::new(crate::SERVICE);

/// Wait after a 429 that named no reset time.
const DEFAULT_RATE_LIMIT_WAIT: chrono::Duration = chrono::Duration::seconds(60);
/// How long new tokens are kept for a write that keeps failing when the platform named no
/// lifetime (the documented default of most platforms).
const DEFAULT_TOKEN_LIFE: chrono::Duration = chrono::Duration::hours(1);
/// Longest pause between two attempts of a pending write.
const MAX_WRITE_BACKOFF: Duration = Duration::from_secs(2);
/// Most claims, or outcomes, committed in one transaction (see [`crate::writer`]).
const WRITE_BATCH: usize = 256;
/// How often a worker looks whether another worker of this process let go of an account.
const IN_HAND_POLL: Duration = Duration::from_millis(10);

/// What happened to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// New tokens stored.
    Refreshed,
    /// Nothing to do (already refreshed, held by another worker, not due, dead grant, gone).
    Skipped,
    /// The grant is gone: the user must reconnect.
    NeedsReauth,
    /// Rate limited; retried after the platform's reset.
    RateLimited,
    /// Network or server trouble; retried with backoff.
    Transient,
    /// The platform's tokens are not refreshed (nothing scheduled again).
    Unsupported,
}

impl Outcome {
    fn label(self) -> &'static str {
        match self {
            Self::Refreshed => "refreshed",
            Self::Skipped => "skipped",
            Self::NeedsReauth => "needs_reauth",
            Self::RateLimited => "rate_limited",
            Self::Transient => "transient",
            Self::Unsupported => "unsupported",
        }
    }
}

/// Timing of the refresh worker.
#[derive(Debug, Clone, Copy)]
pub struct RefreshSettings {
    /// The longest a platform's token call may take.
    pub timeout: Duration,
    /// A claim's lease; renewed every third of it while the call runs.
    pub lease: Duration,
}

/// Refreshes tokens; cheap to clone (clones share the set of accounts in hand).
#[derive(Clone)]
pub struct Refresher {
    db: Db,
    claims: Batcher<Option<Account>>,
    outcomes: Batcher<bool>,
    vault: Arc<Vault>,
    adapters: Registry,
    settings: RefreshSettings,
    metrics: RefreshMetrics,
    in_hand: Arc<Mutex<HashSet<AccountId>>>,
}

impl std::fmt::Debug for Refresher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Refresher")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// An account this process is working on, from before its claim until its outcome is written
/// (or given up): no other worker of the process claims it meanwhile. Released on drop.
struct InHand {
    set: Arc<Mutex<HashSet<AccountId>>>,
    id: AccountId,
}

impl InHand {
    /// Holds `id` if no other worker of this process does.
    fn try_take(set: &Arc<Mutex<HashSet<AccountId>>>, id: AccountId) -> Option<Self> {
        set.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id)
            .then(|| Self {
                set: set.clone(),
                id,
            })
    }

    /// Waits until no other worker of this process holds `id`, then holds it.
    async fn take(set: &Arc<Mutex<HashSet<AccountId>>>, id: AccountId) -> Self {
        loop {
            if set
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(id)
            {
                return Self {
                    set: set.clone(),
                    id,
                };
            }
            tokio::time::sleep(IN_HAND_POLL).await;
        }
    }
}

impl Drop for InHand {
    fn drop(&mut self) {
        self.set
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.id);
    }
}

/// A claimed account and its fence.
struct Claimed {
    account: Account,
    fence: Uuid,
}

impl Refresher {
    /// A refresher writing through `db`, decrypting with `vault` and calling platforms
    /// through `adapters`.
    pub fn new(
        db: Db,
        vault: Arc<Vault>,
        adapters: Registry,
        settings: RefreshSettings,
        metrics: RefreshMetrics,
    ) -> Self {
        Self {
            claims: Batcher::spawn(db.clone(), WRITE_BATCH, |_| false),
            outcomes: Batcher::spawn(db.clone(), WRITE_BATCH, |written| *written),
            db,
            vault,
            adapters,
            settings,
            metrics,
            in_hand: Arc::default(),
        }
    }

    /// The platform's refreshing adapter; `None` where tokens never expire (an app per
    /// instance, tokens without a lifetime): such accounts are never scheduled.
    fn adapter(&self, platform: Platform) -> Option<Arc<dyn PlatformAdapter>> {
        self.adapters.for_refreshing(platform)
    }

    /// A claim's lease.
    pub fn lease(&self) -> chrono::Duration {
        chrono::Duration::from_std(self.settings.lease).unwrap_or(chrono::Duration::seconds(15))
    }

    /// Handles one request made at `requested_at`: claim, call, write (see the module docs).
    #[tracing::instrument(name = "refresh", skip_all, fields(account.id = %request.account_id, platform = %request.platform, urgent = request.urgent))]
    pub async fn refresh(
        &self,
        request: &TokenExpiring,
        requested_at: DateTime<Utc>,
    ) -> Result<Outcome, HandlerError> {
        let id = request.account_id;
        let _in_hand = InHand::take(&self.in_hand, id).await;
        let now = Utc::now();
        let claim = RefreshClaim {
            fence: Uuid::new_v4(),
            now,
            lease_until: now + self.lease(),
            requested_at,
            on_demand: request.urgent || request.reason != ExpiringReason::Scheduled,
        };
        let Some(account) = self
            .claims
            .run(
                id,
                Arc::new(move |conn| Account::claim_for_refresh(conn, id, &claim)),
                None,
            )
            .await
            .map_err(|e| HandlerError::Retry(format!("cannot claim the account: {e}")))?
        else {
            return Ok(Outcome::Skipped);
        };
        self.refresh_claimed(Claimed {
            account,
            fence: claim.fence,
        })
        .await
    }

    /// Refreshes an account the scheduler claimed under `fence` (see
    /// [`Account::claim_due_for_refresh`]). An account another worker of this process still
    /// has in hand (its new tokens waiting to be written) is let go untouched.
    #[tracing::instrument(name = "refresh", skip_all, fields(account.id = %account.id, platform = %account.platform, scheduled = true))]
    pub async fn refresh_due(&self, account: Account, fence: Uuid) -> Outcome {
        let platform = account.platform;
        let claimed = Claimed { account, fence };
        let result = match InHand::try_take(&self.in_hand, claimed.account.id) {
            Some(_in_hand) => self.refresh_claimed(claimed).await,
            None => self
                .release(&claimed)
                .await
                .map(|()| Outcome::Skipped)
                .map_err(HandlerError::from),
        };
        let outcome = result.unwrap_or_else(|err| {
            // The claim lapses by itself; the account is due again after it.
            tracing::warn!(error = %err, "scheduled refresh not completed");
            Outcome::Transient
        });
        self.metrics
            .refreshes
            .with_label_values(&[platform.as_str(), outcome.label()])
            .inc();
        outcome
    }

    /// Decrypt, call, write: the part of a refresh after the claim.
    async fn refresh_claimed(&self, claimed: Claimed) -> Result<Outcome, HandlerError> {
        let Some(adapter) = self.adapter(claimed.account.platform) else {
            return self.unsupported(&claimed).await;
        };
        let (access_token, refresh_token) = match self.decrypt(&claimed.account) {
            Ok(Some(pair)) => pair,
            Ok(None) => {
                self.release(&claimed).await?;
                return Ok(Outcome::Skipped);
            }
            Err(err) => {
                self.release(&claimed).await?;
                return Err(err);
            }
        };
        let account = &claimed.account;
        let account_ref = AccountRef {
            platform_account_id: &account.platform_account_id,
            access_token: &access_token,
            refresh_token: refresh_token.as_ref(),
            instance_url: account.instance_url.as_deref(),
        };
        let started = std::time::Instant::now();
        let result = match self
            .adapters
            .check_host(account.platform, account.instance_url.as_deref())
        {
            Ok(()) => {
                self.call_with_heartbeat(&claimed, adapter.refresh(&account_ref))
                    .await
            }
            Err(refused) => Err(refused),
        };
        self.metrics
            .latency
            .with_label_values(&[account.platform.as_str()])
            .observe(started.elapsed().as_secs_f64());
        match result {
            Ok(tokens) => self.store(&claimed, tokens).await,
            Err(AdapterError::Unsupported { .. }) => self.unsupported(&claimed).await,
            Err(err) => self.failed(&claimed, &err).await,
        }
    }

    /// The access and refresh token, or `None` when the account holds no access token.
    fn decrypt(
        &self,
        account: &Account,
    ) -> Result<Option<(secrecy::SecretString, Option<secrecy::SecretString>)>, HandlerError> {
        let permanent = |e: vault::VaultError| {
            HandlerError::Permanent(format!(
                "cannot decrypt the tokens of account {}: {e}",
                account.id
            ))
        };
        let Some(access) = tokens::access_token(&self.vault, account).map_err(permanent)? else {
            return Ok(None);
        };
        let refresh = tokens::refresh_token(&self.vault, account).map_err(permanent)?;
        Ok(Some((access, refresh)))
    }

    /// Runs the platform call within the timeout, renewing the lease every third of it.
    async fn call_with_heartbeat(
        &self,
        claimed: &Claimed,
        call: impl Future<Output = Result<TokenSet, AdapterError>>,
    ) -> Result<TokenSet, AdapterError> {
        let timeout = self.settings.timeout;
        let call = tokio::time::timeout(timeout, call);
        tokio::pin!(call);
        let every = self.settings.lease / 3;
        loop {
            tokio::select! {
                result = &mut call => {
                    return result.unwrap_or_else(|_| {
                        Err(AdapterError::Transient {
                            message: format!("no answer within {timeout:?}"),
                        })
                    });
                }
                () = tokio::time::sleep(every) => self.renew(claimed).await,
            }
        }
    }

    async fn renew(&self, claimed: &Claimed) {
        let (id, fence) = (claimed.account.id, claimed.fence);
        let until = Utc::now() + self.lease();
        match self
            .db
            .query(move |conn| Account::renew_refresh_lease(conn, id, fence, until))
            .await
        {
            Ok(true) => tracing::debug!("refresh lease renewed"),
            // Nothing to undo: the request is out. If the platform answers, the write below
            // still lands as long as the row holds the token we presented.
            Ok(false) => tracing::warn!("refresh lease lost while the platform call runs"),
            Err(err) => tracing::warn!(error = %err, "cannot renew the refresh lease"),
        }
    }

    /// Persists a fresh token set with its event, retrying until it is written or the new
    /// access token has expired: once the platform rotated the refresh token, these are the
    /// only live tokens of the grant.
    async fn store(&self, claimed: &Claimed, tokens: TokenSet) -> Result<Outcome, HandlerError> {
        let account = &claimed.account;
        let seal_error = |e: vault::VaultError| {
            HandlerError::Permanent(format!("cannot encrypt the new tokens: {e}"))
        };
        let access = tokens::seal(&self.vault, account.id, ACCESS_TOKEN, &tokens.access_token)
            .map_err(seal_error)?;
        let refresh = match &tokens.refresh_token {
            Some(token) => Some(
                tokens::seal(&self.vault, account.id, REFRESH_TOKEN, token).map_err(seal_error)?,
            ),
            // The platform issued no new refresh token: the stored one stays valid.
            None => account.refresh_token_enc.clone(),
        };
        let now = Utc::now();
        let form = RefreshSuccessForm {
            access_token_enc: Some(access),
            refresh_token_enc: refresh,
            token_key_id: Some(self.vault.primary_key_id().to_owned()),
            token_expires_at: tokens.expires_at,
            refresh_expires_at: tokens.refresh_expires_at.or(account.refresh_expires_at),
            last_refreshed_at: Some(now),
            next_refresh_at: tokens::next_refresh_at(now, tokens.expires_at),
            refresh_attempts: 0,
            status: AccountStatus::Active,
            last_error: None,
        };
        let recovered = account.status != AccountStatus::Active || account.refresh_attempts > 0;
        let event = TokenRefreshed {
            account_id: account.id,
            platform: account.platform,
            expires_at: tokens.expires_at,
            recovered,
        };
        let (id, fence) = (account.id, claimed.fence);
        let presented = account.refresh_token_enc.clone();
        let keep_until = tokens.expires_at.unwrap_or(now + DEFAULT_TOKEN_LIFE);
        let written = self
            .persist(
                "new tokens",
                keep_until,
                id,
                Arc::new(move |conn| {
                    Account::record_refresh(conn, id, fence, presented.as_deref(), &form)
                }),
                outbox_event(event)?,
            )
            .await?;
        if !written {
            // Disconnected meanwhile, or reconnected with other tokens (and our claim lost).
            tracing::warn!("new tokens not stored: the account was disconnected or reconnected during the refresh");
            return Ok(Outcome::Skipped);
        }
        if recovered {
            tracing::info!("token refreshed; account recovered");
        }
        Ok(Outcome::Refreshed)
    }

    /// Submits `write` to the group commit until it commits; a failed attempt is retried with
    /// backoff (100 ms doubling to 2 s, with jitter) until `until`. Only then is it given up.
    async fn persist(
        &self,
        what: &'static str,
        until: DateTime<Utc>,
        account: AccountId,
        write: Write<bool>,
        event: OutboxEvent,
    ) -> Result<bool, HandlerError> {
        let mut attempt = 0u32;
        loop {
            match self
                .outcomes
                .run(account, write.clone(), Some(event.clone()))
                .await
            {
                Ok(written) => {
                    if attempt > 0 {
                        // A lost answer to a COMMIT that did apply shows up here as "not
                        // written": the guard no longer matches our own write.
                        tracing::info!(attempts = attempt + 1, written, "pending {what} written");
                    }
                    return Ok(written);
                }
                Err(err) if Utc::now() >= until => {
                    tracing::error!(error = %err, attempts = attempt + 1, "giving up writing {what}");
                    return Err(HandlerError::Retry(format!("cannot write {what}: {err}")));
                }
                Err(err) => {
                    attempt += 1;
                    let delay = write_backoff(attempt);
                    tracing::warn!(error = %err, attempt, retry_in_ms = delay.as_millis() as u64, "cannot write {what} yet; keeping them and retrying");
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }

    /// Classifies a failure, schedules what comes next and announces it.
    async fn failed(&self, claimed: &Claimed, err: &AdapterError) -> Result<Outcome, HandlerError> {
        let account = &claimed.account;
        let now = Utc::now();
        let platform = account.platform;
        let attempts = account.refresh_attempts.saturating_add(1);
        let (outcome, reason, status, next, message) = match err {
            AdapterError::NeedsReauth { message } => {
                let message = if message.contains("reconnect") {
                    message.clone()
                } else {
                    format!(
                        "reconnect your {platform} account: {platform} no longer accepts its token"
                    )
                };
                (
                    Outcome::NeedsReauth,
                    RefreshFailureReason::NeedsReauth,
                    AccountStatus::NeedsReauth,
                    None,
                    message,
                )
            }
            AdapterError::RateLimited { retry_after }
            | AdapterError::AppRateLimited { retry_after } => {
                let wait = retry_after
                    .and_then(|d| chrono::Duration::from_std(d).ok())
                    .unwrap_or(DEFAULT_RATE_LIMIT_WAIT);
                (
                    Outcome::RateLimited,
                    RefreshFailureReason::RateLimited,
                    AccountStatus::RateLimited,
                    Some(now + wait),
                    format!("{platform} is rate limiting token refreshes; retrying automatically"),
                )
            }
            other => {
                let next =
                    now + transient_backoff(attempts, account.token_expires_at.map(|at| at - now));
                let status = if account.status == AccountStatus::RateLimited {
                    AccountStatus::Active
                } else {
                    account.status
                };
                (
                    Outcome::Transient,
                    RefreshFailureReason::Transient,
                    status,
                    Some(next),
                    format!(
                        "refreshing the {platform} token failed ({other}); retrying automatically"
                    ),
                )
            }
        };
        tracing::warn!(outcome = outcome.label(), error = %err, "token refresh failed");
        let form = RefreshFailureForm {
            status,
            last_error: Some(message.clone()),
            health_score: if outcome == Outcome::NeedsReauth {
                0
            } else {
                account.health_score
            },
            refresh_attempts: attempts,
            next_refresh_at: next,
        };
        let event = TokenRefreshFailed {
            account_id: account.id,
            platform,
            reason,
            message,
            retry_at: next,
        };
        let (id, fence) = (account.id, claimed.fence);
        // A failure presented nothing new: once our lease is over, someone else may try again,
        // so there is no point in holding on to it longer.
        let written = self
            .persist(
                "the refresh failure",
                now + self.lease(),
                id,
                Arc::new(move |conn| Account::record_refresh_failure(conn, id, fence, &form)),
                outbox_event(event)?,
            )
            .await?;
        if !written {
            tracing::info!(
                "refresh failure not recorded: the account was taken over or refreshed meanwhile"
            );
        }
        Ok(outcome)
    }

    async fn unsupported(&self, claimed: &Claimed) -> Result<Outcome, HandlerError> {
        let account = &claimed.account;
        let form = RefreshFailureForm {
            status: account.status,
            last_error: account.last_error.clone(),
            health_score: account.health_score,
            refresh_attempts: account.refresh_attempts,
            next_refresh_at: None,
        };
        let (id, fence) = (account.id, claimed.fence);
        self.db
            .query(move |conn| Account::record_refresh_failure(conn, id, fence, &form))
            .await?;
        Ok(Outcome::Unsupported)
    }

    async fn release(&self, claimed: &Claimed) -> Result<(), DbError> {
        let (id, fence) = (claimed.account.id, claimed.fence);
        self.db
            .query(move |conn| Account::release_refresh_claim(conn, id, fence))
            .await?;
        Ok(())
    }
}

/// The envelope of `event` from this service, made once so that every attempt to write it
/// carries the same event id.
fn outbox_event<E: Event>(event: E) -> Result<OutboxEvent, HandlerError> {
    let envelope = Envelope::new(crate::SERVICE, event);
    Ok(OutboxEvent {
        id: envelope.id,
        event_type: E::TYPE,
        envelope: serde_json::to_value(&envelope)
            .map_err(|e| HandlerError::Permanent(format!("cannot encode {}: {e}", E::TYPE)))?,
    })
}

/// 100 ms doubling to [`MAX_WRITE_BACKOFF`], plus up to 20 % jitter.
fn write_backoff(attempt: u32) -> Duration {
    let base = Duration::from_millis(100)
        .saturating_mul(1 << attempt.clamp(1, 6).saturating_sub(1))
        .min(MAX_WRITE_BACKOFF);
    let jitter = rand::thread_rng().gen_range(0..=base.as_millis() as u64 / 5);
    base + Duration::from_millis(jitter)
}

/// Exponential backoff with jitter (30 s, 1 min, 2 min, … up to an hour), kept within half of
/// the token's remaining life so that several attempts still fit before it expires.
pub fn transient_backoff(attempts: i32, remaining: Option<chrono::Duration>) -> chrono::Duration {
    let exp = 30i64
        .saturating_mul(1i64 << attempts.clamp(1, 7).saturating_sub(1))
        .min(3600);
    let mut wait = chrono::Duration::seconds(exp);
    if let Some(remaining) = remaining.filter(|r| *r > chrono::Duration::zero()) {
        wait = wait.min(std::cmp::max(remaining / 2, chrono::Duration::seconds(1)));
    }
    let jitter_ms = rand::thread_rng().gen_range(0..=wait.num_milliseconds().max(1) / 5);
    wait + chrono::Duration::milliseconds(jitter_ms)
}

impl Handler for Refresher {
    /// Not through [`Incoming::commit`]: the refresh writes no inbox marker (see the module
    /// docs) and must not hold a transaction across the platform call.
    async fn handle(&self, incoming: &Incoming) -> Result<(), HandlerError> {
        if incoming.envelope.event_type != TokenExpiring::TYPE {
            return Ok(());
        }
        let request = incoming.decode::<TokenExpiring>()?;
        let outcome = self
            .refresh(&request, incoming.envelope.occurred_at)
            .await?;
        self.metrics
            .refreshes
            .with_label_values(&[request.platform.as_str(), outcome.label()])
            .inc();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transient_backoff_grows_and_stays_within_the_tokens_remaining_life() {
        let first = transient_backoff(1, None);
        let third = transient_backoff(3, None);
        assert!(first >= chrono::Duration::seconds(30) && first <= chrono::Duration::seconds(36));
        assert!(third >= chrono::Duration::seconds(120));
        let near_expiry = transient_backoff(5, Some(chrono::Duration::seconds(100)));
        assert!(
            near_expiry <= chrono::Duration::seconds(60),
            "{near_expiry}"
        );
    }

    #[test]
    fn transient_backoff_is_capped_at_an_hour_plus_jitter() {
        assert!(transient_backoff(30, None) <= chrono::Duration::seconds(3600 + 720));
    }

    #[test]
    fn a_pending_write_is_retried_at_least_every_two_and_a_half_seconds() {
        assert!(write_backoff(1) >= Duration::from_millis(100));
        assert!(write_backoff(1) <= Duration::from_millis(120));
        for attempt in 1..50 {
            assert!(write_backoff(attempt) <= MAX_WRITE_BACKOFF + MAX_WRITE_BACKOFF / 5);
        }
    }
}
