//! The refresh worker: consumes `token.expiring` and refreshes each token exactly once.
//!
//! How "exactly once" holds with any number of replicas:
//! - the account row is locked (`SELECT … FOR UPDATE`) for the whole refresh, so a second
//!   worker for the same account waits, then re-reads it;
//! - a request older than the account's last refresh is skipped: someone already refreshed it
//!   after the request was made (this is what makes duplicates and redeliveries harmless);
//! - the new tokens are written in that same transaction, right after the platform answers,
//!   before any event or other work; a grant without a refresh token keeps the stored one
//!   (wiping it would force the user to reconnect).

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use db::{
    accounts::Account,
    domain::{AccountStatus, Platform},
    refresh::{RefreshFailureForm, RefreshSuccessForm},
    PgConnection,
};
use events::{
    Event, ExpiringReason, Handler, HandlerError, Incoming, Outbox, RefreshFailureReason,
    TokenExpiring, TokenRefreshFailed, TokenRefreshed,
};
use platform_adapters::{AccountRef, AdapterError, PlatformAdapter, Registry, TokenSet};
use rand::Rng;
use service_kit::tokens::{self, ACCESS_TOKEN, REFRESH_TOKEN};
use vault::Vault;

use crate::metrics::RefreshMetrics;

/// The outbox of this service.
pub const OUTBOX: Outbox = Outbox::new(crate::SERVICE);

/// Wait after a 429 that named no reset time.
const DEFAULT_RATE_LIMIT_WAIT: chrono::Duration = chrono::Duration::seconds(60);

/// What happened to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// New tokens stored.
    Refreshed,
    /// Nothing to do (already refreshed, not due, gone, disconnected).
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

/// Refreshes tokens; cheap to clone.
#[derive(Clone)]
pub struct Refresher {
    vault: Arc<Vault>,
    adapters: Registry,
    timeout: Duration,
    metrics: RefreshMetrics,
}

impl std::fmt::Debug for Refresher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Refresher")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Refresher {
    /// A refresher decrypting with `vault` and calling platforms through `adapters`.
    pub fn new(
        vault: Arc<Vault>,
        adapters: Registry,
        timeout: Duration,
        metrics: RefreshMetrics,
    ) -> Self {
        Self {
            vault,
            adapters,
            timeout,
            metrics,
        }
    }

    fn adapter(&self, platform: Platform) -> Option<Arc<dyn PlatformAdapter>> {
        match platform {
            Platform::Bluesky => Some(self.adapters.bluesky()),
            // Mastodon tokens do not expire; its accounts are never scheduled.
            Platform::Mastodon => None,
            other => self.adapters.oauth(other),
        }
    }

    /// Handles one request inside the caller's transaction (which also holds the inbox
    /// marker). Runs on a blocking thread; `runtime` drives the platform call.
    pub fn refresh_locked(
        &self,
        conn: &mut PgConnection,
        runtime: &tokio::runtime::Handle,
        request: &TokenExpiring,
        requested_at: DateTime<Utc>,
    ) -> Result<Outcome, HandlerError> {
        let Some(account) = Account::lock_for_refresh(conn, request.account_id)? else {
            return Ok(Outcome::Skipped);
        };
        let now = Utc::now();
        let on_demand = request.urgent || request.reason != ExpiringReason::Scheduled;
        let skip = match account.status {
            AccountStatus::Disconnecting | AccountStatus::Disconnected => true,
            // No loops: a dead grant waits for the user, unless someone explicitly asks.
            AccountStatus::NeedsReauth => !on_demand,
            _ => false,
        } || account
            .last_refreshed_at
            .is_some_and(|at| at >= requested_at)
            || (!on_demand && account.next_refresh_at.is_none_or(|at| at > now));
        if skip {
            clear_claim(conn, &account)?;
            return Ok(Outcome::Skipped);
        }
        let Some(adapter) = self.adapter(account.platform) else {
            return self.unsupported(conn, &account);
        };
        let permanent = |e: vault::VaultError| {
            HandlerError::Permanent(format!(
                "cannot decrypt the tokens of account {}: {e}",
                account.id
            ))
        };
        let Some(access_token) = tokens::access_token(&self.vault, &account).map_err(permanent)?
        else {
            return Ok(Outcome::Skipped);
        };
        let refresh_token = tokens::refresh_token(&self.vault, &account).map_err(permanent)?;
        let account_ref = AccountRef {
            platform_account_id: &account.platform_account_id,
            access_token: &access_token,
            refresh_token: refresh_token.as_ref(),
            instance_url: account.instance_url.as_deref(),
        };
        let started = std::time::Instant::now();
        let result = runtime
            .block_on(tokio::time::timeout(
                self.timeout,
                adapter.refresh(&account_ref),
            ))
            .unwrap_or_else(|_| {
                Err(AdapterError::Transient {
                    message: format!("no answer within {:?}", self.timeout),
                })
            });
        self.metrics
            .latency
            .with_label_values(&[account.platform.as_str()])
            .observe(started.elapsed().as_secs_f64());
        match result {
            Ok(tokens) => self.store(conn, &account, tokens),
            Err(AdapterError::Unsupported { .. }) => self.unsupported(conn, &account),
            Err(err) => self.failed(conn, &account, &err),
        }
    }

    /// Persists a fresh token set, then announces it.
    fn store(
        &self,
        conn: &mut PgConnection,
        account: &Account,
        tokens: TokenSet,
    ) -> Result<Outcome, HandlerError> {
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
            refresh_claimed_until: None,
            refresh_attempts: 0,
            status: AccountStatus::Active,
            last_error: None,
        };
        let updated = Account::record_refresh(conn, account.id, &form)?;
        let recovered = account.status != AccountStatus::Active || account.refresh_attempts > 0;
        OUTBOX.write(
            conn,
            TokenRefreshed {
                account_id: updated.id,
                platform: updated.platform,
                expires_at: updated.token_expires_at,
                recovered,
            },
        )?;
        if recovered {
            tracing::info!(account.id = %account.id, platform = %account.platform, "token refreshed; account recovered");
        }
        Ok(Outcome::Refreshed)
    }

    /// Classifies a failure, schedules what comes next and announces it.
    fn failed(
        &self,
        conn: &mut PgConnection,
        account: &Account,
        err: &AdapterError,
    ) -> Result<Outcome, HandlerError> {
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
            refresh_claimed_until: None,
        };
        Account::record_refresh_failure(conn, account.id, &form)?;
        OUTBOX.write(
            conn,
            TokenRefreshFailed {
                account_id: account.id,
                platform,
                reason,
                message,
                retry_at: next,
            },
        )?;
        tracing::warn!(account.id = %account.id, %platform, outcome = outcome.label(), error = %err, "token refresh failed");
        Ok(outcome)
    }

    fn unsupported(
        &self,
        conn: &mut PgConnection,
        account: &Account,
    ) -> Result<Outcome, HandlerError> {
        let form = RefreshFailureForm {
            status: account.status,
            last_error: account.last_error.clone(),
            health_score: account.health_score,
            refresh_attempts: account.refresh_attempts,
            next_refresh_at: None,
            refresh_claimed_until: None,
        };
        Account::record_refresh_failure(conn, account.id, &form)?;
        Ok(Outcome::Unsupported)
    }
}

fn clear_claim(conn: &mut PgConnection, account: &Account) -> Result<(), HandlerError> {
    if account.refresh_claimed_until.is_some() {
        use db::diesel::{ExpressionMethods, QueryDsl, RunQueryDsl};
        db::diesel::update(db::schema::social_accounts::table.find(account.id))
            .set(db::schema::social_accounts::refresh_claimed_until.eq(None::<DateTime<Utc>>))
            .execute(conn)?;
    }
    Ok(())
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
    async fn handle(&self, incoming: &Incoming) -> Result<(), HandlerError> {
        if incoming.envelope.event_type != TokenExpiring::TYPE {
            return Ok(());
        }
        let request = incoming
            .envelope
            .decode::<TokenExpiring>()
            .map_err(HandlerError::Permanent)?
            .data;
        let requested_at = incoming.envelope.occurred_at;
        let platform = request.platform;
        let this = self.clone();
        let runtime = tokio::runtime::Handle::current();
        let committed = incoming
            .commit(move |conn| this.refresh_locked(conn, &runtime, &request, requested_at))
            .await?;
        if let events::Committed::Done(outcome) = committed {
            self.metrics
                .refreshes
                .with_label_values(&[platform.as_str(), outcome.label()])
                .inc();
        }
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
}
