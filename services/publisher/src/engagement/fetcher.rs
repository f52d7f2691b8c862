//! The metrics fetcher: claims due reads, groups them per account into the platform's batches
//! (`follow_ups.metrics_batch`), reads each batch with one `post_metrics` call, stores the
//! samples, advances each target's schedule and emits one `post.metrics_updated` per batch.
//!
//! Publishing first, always:
//! - while any publish is due and unclaimed, no read starts (the dispatcher is behind);
//! - a read takes its account's gate only if it is free ([`AccountGates::try_enter`]): an
//!   account being published to keeps its calls, and the read comes back shortly;
//! - a platform paused for the whole application (its app limit used up) is not read until
//!   the pause ends; a read that earns that pause sets it for publishing too, which would
//!   earn it next anyway;
//! - at most `concurrency` batch reads run at once, over all accounts.
//!
//! A failed read only moves the target's next read (its publishing status is never touched);
//! a platform without per-post engagement (`Unsupported`, or `metrics_batch` 0) ends the
//! target's schedule.

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use db::{
    accounts::Account,
    domain::{AccountId, AccountStatus, Platform, PostTargetId},
    post_metrics::{DueTarget, MetricsSchedule, NextRead, PostMetricsSample},
    Db, DbError,
};
use events::{CancellationToken, PostMetricsUpdated, TargetMetrics};
use platform_adapters::{
    AccountRef, AdapterError, PlatformAdapter, PostMetrics, PostRef, Registry,
};
use service_kit::tokens;
use tokio::{
    sync::{Notify, Semaphore},
    task::JoinSet,
};
use vault::Vault;

use super::{MetricsSettings, Schedule};
use crate::{publish::Publisher, publish::OUTBOX};

/// Longest a batch read may take.
const READ_TIMEOUT: Duration = Duration::from_secs(60);

/// Reads engagement for due targets. Cheap to share: one per publisher process.
#[derive(Debug)]
pub struct Fetcher {
    db: Db,
    vault: Arc<Vault>,
    adapters: Registry,
    /// The publisher whose gates and pauses the reads share.
    publisher: Arc<Publisher>,
    schedule: Schedule,
    settings: MetricsSettings,
    slots: Arc<Semaphore>,
    /// Per platform, the most reads of one account a pass claims (see [`claim_sizes`]).
    per_account: Vec<(Platform, i64)>,
}

/// What became of one batch read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    /// Read and stored: how many targets the platform answered for.
    Stored(usize),
    /// Given back unread, due again later (busy account, paused platform, failed read).
    Deferred,
    /// The platform gives no engagement: the schedule of these targets ended.
    Stopped,
}

impl Fetcher {
    /// A fetcher reading through `adapters`, sharing `publisher`'s gates.
    pub fn new(
        db: Db,
        vault: Arc<Vault>,
        adapters: Registry,
        publisher: Arc<Publisher>,
        schedule: Schedule,
        settings: MetricsSettings,
    ) -> Self {
        let per_account = claim_sizes(settings.claim_batch.max(1), |platform| {
            adapters
                .descriptor(platform)
                .capabilities
                .follow_ups
                .metrics_batch
        });
        Self {
            slots: Arc::new(Semaphore::new(settings.concurrency.max(1))),
            per_account,
            db,
            vault,
            adapters,
            publisher,
            schedule,
            settings,
        }
    }

    /// Reads due targets until `shutdown`, sleeping until the next due read (at most
    /// `interval_ms`), woken early by `wake` (an on-demand refresh).
    pub async fn run(self: Arc<Self>, wake: Arc<Notify>, shutdown: CancellationToken) {
        let interval = Duration::from_millis(self.settings.interval_ms.max(5));
        let busy = Duration::from_millis(self.settings.busy_backoff_ms.max(5));
        while !shutdown.is_cancelled() {
            let sleep = if self.publishing_is_behind().await {
                busy
            } else {
                match self.pass().await {
                    Ok(claimed) if claimed as i64 >= self.settings.claim_batch.max(1) => {
                        Duration::ZERO
                    }
                    Ok(_) => self.until_next_due(interval).await,
                    Err(err) => {
                        tracing::warn!(error = %err, "metrics pass failed; trying again");
                        interval
                    }
                }
            };
            if sleep.is_zero() {
                continue;
            }
            tokio::select! {
                () = tokio::time::sleep(sleep) => {}
                () = wake.notified() => {}
                () = shutdown.cancelled() => {}
            }
        }
    }

    /// One pass: claims about `claim_batch` due reads, whole accounts at a time (up to one
    /// platform batch per account, so an account's reads go out in full batches and one
    /// account's backlog cannot fill the pass), and reads them, batch by batch, all finished
    /// before it returns (so a claim's lease only has to cover one pass). Answers how many
    /// targets it claimed.
    pub async fn pass(self: &Arc<Self>) -> Result<usize, DbError> {
        let now = Utc::now();
        let lease_until = now + chrono::Duration::seconds(self.settings.lease_secs.max(1));
        let limit = self.settings.claim_batch.max(1);
        let horizon = now + self.window();
        let per_account = self.per_account.clone();
        let claimed = self
            .db
            .query(move |conn| {
                MetricsSchedule::claim_due(conn, horizon, lease_until, limit, &per_account)
            })
            .await?;
        if claimed.is_empty() {
            return Ok(0);
        }
        let count = claimed.len();
        let mut per_account: BTreeMap<AccountId, Vec<DueTarget>> = BTreeMap::new();
        for target in claimed {
            per_account
                .entry(target.account_id)
                .or_default()
                .push(target);
        }
        let ids: Vec<AccountId> = per_account.keys().copied().collect();
        let accounts = self
            .db
            .query(move |conn| Account::find_many(conn, &ids))
            .await?;
        let mut reads = JoinSet::new();
        for (id, targets) in per_account {
            let account = accounts.iter().find(|a| a.id == id).cloned();
            let Some((account, adapter)) = self.readable(account, &targets, lease_until).await?
            else {
                continue;
            };
            let batch = adapter.descriptor().capabilities.follow_ups.metrics_batch;
            if batch == 0 {
                self.stop(&targets, lease_until).await?;
                continue;
            }
            for chunk in targets.chunks(batch) {
                let fetcher = self.clone();
                let (account, adapter, chunk) = (account.clone(), adapter.clone(), chunk.to_vec());
                reads.spawn(async move {
                    fetcher
                        .read(&account, adapter.as_ref(), &chunk, lease_until)
                        .await
                });
            }
        }
        while let Some(done) = reads.join_next().await {
            match done {
                Ok(Err(err)) => tracing::warn!(error = %err,
                    "storing a metrics read failed; its targets are read again when the claim runs out"),
                Err(err) => tracing::warn!(error = %err, "a metrics read panicked"),
                Ok(Ok(_)) => {}
            }
        }
        Ok(count)
    }

    /// The account and its adapter, when its targets can be read now. Otherwise their reads
    /// are ended (the account is gone or disconnected) or deferred (it must be reconnected;
    /// the platform is not configured here), and `None`.
    async fn readable(
        &self,
        account: Option<Account>,
        targets: &[DueTarget],
        lease_until: DateTime<Utc>,
    ) -> Result<Option<(Account, Arc<dyn PlatformAdapter>)>, DbError> {
        let Some(account) = account.filter(|a| {
            !matches!(
                a.status,
                AccountStatus::Disconnected | AccountStatus::Disconnecting
            )
        }) else {
            self.stop(targets, lease_until).await?;
            return Ok(None);
        };
        if account.status == AccountStatus::NeedsReauth {
            self.defer(targets, lease_until, self.retry_at()).await?;
            return Ok(None);
        }
        match self
            .adapters
            .for_publishing(account.platform, account.instance_url.as_deref())
        {
            Ok(adapter) => Ok(Some((account, adapter))),
            Err(err) => {
                tracing::debug!(error = %err, platform = %account.platform,
                    "no adapter to read engagement with; trying later");
                self.defer(targets, lease_until, self.retry_at()).await?;
                Ok(None)
            }
        }
    }

    /// Reads one batch of one account's targets, within the shared budget, and stores what
    /// came of it.
    #[tracing::instrument(name = "metrics_read", skip_all, fields(
        account.id = %account.id,
        platform = %account.platform,
        targets = targets.len(),
    ))]
    async fn read(
        &self,
        account: &Account,
        adapter: &dyn PlatformAdapter,
        targets: &[DueTarget],
        lease_until: DateTime<Utc>,
    ) -> Result<Read, DbError> {
        let Ok(_slot) = self.slots.acquire().await else {
            return Ok(Read::Deferred);
        };
        let (gates, pauses) = self.publisher.gates();
        let now = Utc::now();
        if let Some(until) = pauses.paused_until(account.platform, now) {
            self.defer(targets, lease_until, until).await?;
            return Ok(Read::Deferred);
        }
        // Publishing first: an account being published to keeps its calls.
        let Some(_gate) = gates.try_enter(account.id) else {
            self.defer(targets, lease_until, now + self.busy()).await?;
            return Ok(Read::Deferred);
        };
        let Ok(Some(access)) = tokens::access_token(&self.vault, account) else {
            self.defer(targets, lease_until, self.retry_at()).await?;
            return Ok(Read::Deferred);
        };
        let refresh = tokens::refresh_token(&self.vault, account).ok().flatten();
        let account_ref = AccountRef {
            platform_account_id: &account.platform_account_id,
            access_token: &access,
            refresh_token: refresh.as_ref(),
            instance_url: account.instance_url.as_deref(),
        };
        let posts: Vec<PostRef<'_>> = targets
            .iter()
            .map(|t| PostRef {
                platform_post_id: &t.platform_post_id,
                url: t.url.as_deref(),
            })
            .collect();
        let answer = tokio::time::timeout(READ_TIMEOUT, adapter.post_metrics(&account_ref, &posts))
            .await
            .unwrap_or_else(|_| {
                Err(AdapterError::Transient {
                    message: "no answer to the engagement read in time".into(),
                })
            });
        let metrics = self.publisher.metrics();
        metrics.follow_up(account.platform, "metrics", answer.as_ref().map(drop));
        if let Ok(read) = &answer {
            metrics
                .engagement_targets
                .with_label_values(&[account.platform.as_str()])
                .inc_by(read.len() as u64);
        }
        match answer {
            Ok(read) => self.store(account, targets, read, lease_until).await,
            Err(AdapterError::Unsupported { .. }) => {
                self.stop(targets, lease_until).await?;
                Ok(Read::Stopped)
            }
            Err(err) => {
                let at = self.after_failure(account, &err);
                tracing::info!(error = %err, retry_at = %at.to_rfc3339(),
                    "engagement read failed; reading again later");
                self.defer(targets, lease_until, at).await?;
                Ok(Read::Deferred)
            }
        }
    }

    /// When to read again after `err`; an application-wide limit pauses the platform for
    /// every call of this publisher, publishing included (it would be refused too).
    fn after_failure(&self, account: &Account, err: &AdapterError) -> DateTime<Utc> {
        let wait = |after: Option<Duration>| {
            Utc::now()
                + chrono::Duration::from_std(
                    after.unwrap_or(Duration::from_secs(self.settings.retry_secs)),
                )
                .unwrap_or_default()
        };
        match err {
            AdapterError::RateLimited { retry_after } => wait(*retry_after),
            AdapterError::AppRateLimited { retry_after } => {
                let until = wait(*retry_after);
                self.publisher.gates().1.pause(account.platform, until);
                until
            }
            _ => self.retry_at(),
        }
    }

    /// Stores a read: the samples, every target's next read, and one event, in one
    /// transaction. A target the platform left out (deleted there) gets no sample, and its
    /// schedule moves on.
    async fn store(
        &self,
        account: &Account,
        targets: &[DueTarget],
        read: Vec<PostMetrics>,
        lease_until: DateTime<Utc>,
    ) -> Result<Read, DbError> {
        let fetched_at = Utc::now();
        let mut samples = Vec::with_capacity(read.len());
        let mut figures = Vec::with_capacity(read.len());
        for metrics in read {
            let Some(target) = targets
                .iter()
                .find(|t| t.platform_post_id == metrics.platform_post_id)
            else {
                continue;
            };
            samples.push(sample(target.id, fetched_at, &metrics));
            figures.push(event_figures(target, metrics));
        }
        let next: Vec<NextRead> = targets
            .iter()
            .map(|t| {
                // A read made up to the batch window early counts as the due one.
                let next = self
                    .schedule
                    .after_read(t.published_at, fetched_at + self.window());
                NextRead {
                    target: t.id,
                    due_at: next.due_at,
                    round: next.round.max(t.metrics_round),
                }
            })
            .collect();
        let stored = samples.len();
        let event = PostMetricsUpdated {
            account_id: account.id,
            platform: account.platform,
            fetched_at,
            targets: figures,
        };
        self.db
            .query(move |conn| {
                db::Connection::transaction(conn, |conn| {
                    PostMetricsSample::insert_many(conn, &samples)?;
                    MetricsSchedule::advance(conn, &next, lease_until)?;
                    if !event.targets.is_empty() {
                        OUTBOX.write(conn, event)?;
                    }
                    Ok(())
                })
            })
            .await?;
        Ok(Read::Stored(stored))
    }

    /// Gives targets back unread, due again at `at`.
    async fn defer(
        &self,
        targets: &[DueTarget],
        lease_until: DateTime<Utc>,
        at: DateTime<Utc>,
    ) -> Result<(), DbError> {
        let ids: Vec<PostTargetId> = targets.iter().map(|t| t.id).collect();
        self.db
            .query(move |conn| MetricsSchedule::release(conn, &ids, lease_until, at))
            .await
            .map(drop)
    }

    /// Ends the schedule of targets whose engagement cannot be read (the platform gives none,
    /// or the account is gone).
    async fn stop(&self, targets: &[DueTarget], lease_until: DateTime<Utc>) -> Result<(), DbError> {
        let next: Vec<NextRead> = targets
            .iter()
            .map(|t| NextRead {
                target: t.id,
                due_at: None,
                round: t.metrics_round,
            })
            .collect();
        self.db
            .query(move |conn| MetricsSchedule::advance(conn, &next, lease_until))
            .await
            .map(drop)
    }

    /// Whether a publish is due and not yet claimed: the dispatcher is behind, so reads wait.
    async fn publishing_is_behind(&self) -> bool {
        let now = Utc::now();
        self.db
            .query(move |conn| MetricsSchedule::publishes_waiting(conn, now))
            .await
            .unwrap_or(false)
    }

    /// Until the next due read less half the batch window (a pass then also takes the reads
    /// due within the other half after it), at most `interval`, at least 5 ms.
    async fn until_next_due(&self, interval: Duration) -> Duration {
        match self.db.query(MetricsSchedule::next_due).await {
            Ok(Some(at)) => (at - self.window() / 2 - Utc::now())
                .to_std()
                .unwrap_or(Duration::ZERO)
                .clamp(Duration::from_millis(5), interval),
            _ => interval,
        }
    }

    fn window(&self) -> chrono::Duration {
        chrono::Duration::milliseconds(self.settings.batch_window_ms as i64)
    }

    fn retry_at(&self) -> DateTime<Utc> {
        Utc::now() + chrono::Duration::seconds(self.settings.retry_secs as i64)
    }

    fn busy(&self) -> chrono::Duration {
        chrono::Duration::milliseconds(self.settings.busy_backoff_ms.max(5) as i64)
    }
}

/// Per platform, the most reads of one account a pass claims: one batch read
/// (`follow_ups.metrics_batch`). A platform that gives no engagement (batch 0) has its
/// targets' schedules ended, not read, so those go `limit` at a time.
fn claim_sizes(limit: i64, metrics_batch: impl Fn(Platform) -> usize) -> Vec<(Platform, i64)> {
    Platform::ALL
        .iter()
        .map(|&platform| {
            let batch = i64::try_from(metrics_batch(platform)).unwrap_or(limit);
            (platform, if batch == 0 { limit } else { batch })
        })
        .collect()
}

/// The stored row of one read.
fn sample(target: PostTargetId, fetched_at: DateTime<Utc>, m: &PostMetrics) -> PostMetricsSample {
    PostMetricsSample {
        target_id: target,
        fetched_at,
        likes: m.likes,
        replies: m.replies,
        reposts: m.reposts,
        quotes: m.quotes,
        saves: m.saves,
        impressions: m.impressions,
        views: m.views,
        reach: m.reach,
    }
}

/// The event's entry of one read (ids and figures; nothing secret).
fn event_figures(target: &DueTarget, m: PostMetrics) -> TargetMetrics {
    TargetMetrics {
        post_id: target.post_id,
        target_id: target.id,
        platform_post_id: m.platform_post_id,
        likes: m.likes,
        replies: m.replies,
        reposts: m.reposts,
        quotes: m.quotes,
        saves: m.saves,
        impressions: m.impressions,
        views: m.views,
        reach: m.reach,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engagement_claims_one_batch_per_account_and_ends_unread_schedules_in_bulk() {
        let sizes = claim_sizes(500, |platform| match platform {
            Platform::Sandbox => 100,
            Platform::Threads => 1,
            Platform::Pinterest => 0,
            _ => 20,
        });
        assert_eq!(sizes.len(), Platform::ALL.len());
        let of = |p: Platform| sizes.iter().find(|(q, _)| *q == p).map(|(_, n)| *n);
        assert_eq!(of(Platform::Sandbox), Some(100));
        assert_eq!(of(Platform::Threads), Some(1));
        assert_eq!(
            of(Platform::Pinterest),
            Some(500),
            "no engagement: stopped in bulk"
        );
        assert_eq!(of(Platform::Mastodon), Some(20));
    }
}
