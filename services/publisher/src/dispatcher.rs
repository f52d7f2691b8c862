//! The dispatcher: claims due targets and hands them to the publisher.
//!
//! Durable: the schedule lives in PostgreSQL, so nothing is lost when any process restarts.
//! Precise: it sleeps exactly until the next known due time (at most `interval`), and
//! `post.scheduled` wakes it at once for posts due sooner. Safe with replicas: claims take a
//! short lease under `SKIP LOCKED`, renewed by its publisher while it publishes (see
//! [`crate::lease`]), and a lease that runs out (its publisher died) is claimed again.
//! It claims only as many targets as it can start right away, so no lease ticks while a
//! target waits in a local queue.

use std::{sync::Arc, time::Duration};

use chrono::Utc;
use db::{
    accounts::Account,
    posts::{ClaimedTarget, Post, PostTarget},
    Db, DbError,
};
use events::{
    AccountResumed, CancellationToken, Event, Handler, HandlerError, Incoming, PostCanceled,
    PostScheduled,
};
use tokio::sync::{Notify, Semaphore};

use crate::{metrics::PublishMetrics, publish::Publisher};

/// Dispatcher settings.
#[derive(Debug, Clone)]
pub struct Dispatch {
    /// Longest sleep between passes.
    pub interval: Duration,
    /// Most targets claimed per pass.
    pub batch: i64,
    /// How long a claim lasts without a heartbeat.
    pub lease: chrono::Duration,
    /// Publishes in flight at once.
    pub concurrency: usize,
}

/// Claims and publishes due targets until `shutdown`, then lets the publishes in flight
/// finish (so none is cut off mid-call) for up to 30 seconds.
pub async fn run(
    db: Db,
    publisher: Arc<Publisher>,
    dispatch: Dispatch,
    wake: Arc<Notify>,
    metrics: PublishMetrics,
    shutdown: CancellationToken,
) {
    let slots = Arc::new(Semaphore::new(dispatch.concurrency.max(1)));
    let mut last_gauges = tokio::time::Instant::now() - Duration::from_secs(60);
    let mut last_pass = tokio::time::Instant::now() - BUSY_PASS_INTERVAL;
    while !shutdown.is_cancelled() {
        let free = slots.available_permits();
        let room = (free as i64).min(dispatch.batch);
        // While publishes are in flight, a pass waits for a quarter batch of free slots (or
        // BUSY_PASS_INTERVAL): a pass costs the same three transactions for 5 targets as for
        // 200, and in a burst slots free a few at a time.
        let idle = free >= dispatch.concurrency.max(1);
        let held_back = room > 0
            && !idle
            && room < (dispatch.batch / 4).max(1)
            && last_pass.elapsed() < BUSY_PASS_INTERVAL;
        let claimed = if room > 0 && !held_back {
            last_pass = tokio::time::Instant::now();
            match claim(&db, &dispatch, room).await {
                Ok(claimed) => claimed,
                Err(err) => {
                    tracing::warn!(error = %err, "dispatch pass failed; trying again");
                    Vec::new()
                }
            }
        } else {
            Vec::new()
        };
        let full = claimed.len() as i64 == room && room > 0;
        let taken_over = claimed
            .iter()
            .filter(|(c, _)| c.previous == db::domain::TargetStatus::Publishing)
            .count();
        if taken_over > 0 {
            tracing::info!(
                targets = taken_over,
                "took over targets whose lease ran out (their publisher stopped or lost them)"
            );
        }
        for (target, account) in claimed {
            let lag = (Utc::now() - target.target.next_attempt_at)
                .num_milliseconds()
                .max(0);
            metrics.dispatch_lag.observe(lag as f64 / 1000.0);
            let Ok(slot) = slots.clone().acquire_owned().await else {
                break;
            };
            let publisher = publisher.clone();
            tokio::spawn(async move {
                publisher.handle(target, account).await;
                drop(slot);
            });
        }
        if last_gauges.elapsed() > Duration::from_secs(15) {
            last_gauges = tokio::time::Instant::now();
            update_gauges(&db, &metrics).await;
        }
        if full {
            continue;
        }
        let sleep = if room == 0 || held_back {
            // Every slot is busy, or too few are free to be worth a pass: look again shortly
            // (a slot frees when a publish ends).
            Duration::from_millis(20)
        } else {
            until_next_due(&db, dispatch.interval).await
        };
        tokio::select! {
            () = tokio::time::sleep(sleep) => {}
            () = wake.notified() => {}
            () = shutdown.cancelled() => {}
        }
    }
    let all = u32::try_from(dispatch.concurrency.max(1)).unwrap_or(u32::MAX);
    if tokio::time::timeout(Duration::from_secs(30), slots.acquire_many(all))
        .await
        .is_err()
    {
        tracing::warn!("publishes still in flight at shutdown; their leases will be recovered");
    }
}

/// Longest a due target waits for a pass while publishes are in flight and only a few slots
/// are free (see [`run`]).
const BUSY_PASS_INTERVAL: Duration = Duration::from_millis(50);

/// A claimed target and its account (`None`: the account is gone).
type Claimed = (ClaimedTarget, Option<Account>);

/// Claims up to `room` due targets and loads their accounts, one query for the whole batch.
async fn claim(db: &Db, dispatch: &Dispatch, room: i64) -> Result<Vec<Claimed>, DbError> {
    let lease = dispatch.lease;
    db.run(move |conn| {
        let claimed = db::Connection::transaction(conn, |conn| {
            let now = Utc::now();
            // One fence for the whole batch: it proves, when a result is stored, that this
            // publisher still holds the target (the lease itself is renewed, so it cannot).
            PostTarget::claim_due(conn, now, now + lease, uuid::Uuid::new_v4(), room)
        })?;
        if claimed.is_empty() {
            return Ok(Vec::new());
        }
        // The posts go `publishing`, in a transaction of their own: posts are locked before
        // targets everywhere, and the claim above held target locks.
        let mut posts: Vec<_> = claimed.iter().map(|c| c.target.post_id).collect();
        posts.sort_unstable();
        posts.dedup();
        db::Connection::transaction(conn, |conn| Post::refresh_status(conn, &posts))?;
        let mut ids: Vec<_> = claimed.iter().map(|c| c.target.account_id).collect();
        ids.sort_unstable();
        ids.dedup();
        let accounts = Account::find_many(conn, &ids)?;
        Ok(claimed
            .into_iter()
            .map(|c| {
                let account = accounts
                    .iter()
                    .find(|a| a.id == c.target.account_id)
                    .cloned();
                (c, account)
            })
            .collect())
    })
    .await
}

/// How long to sleep: until the next due target, at most `interval`, at least 5 ms.
async fn until_next_due(db: &Db, interval: Duration) -> Duration {
    match db.query(PostTarget::next_due).await {
        Ok(Some(at)) => (at - Utc::now())
            .to_std()
            .unwrap_or(Duration::ZERO)
            .clamp(Duration::from_millis(5), interval),
        _ => interval,
    }
}

async fn update_gauges(db: &Db, metrics: &PublishMetrics) {
    if let Ok(counts) = db.query(PostTarget::count_by_status).await {
        metrics.targets.reset();
        for (status, count) in counts {
            metrics
                .targets
                .with_label_values(&[status.as_str()])
                .set(count);
        }
    }
}

/// Consumes `post.scheduled` (wakes the dispatcher: a post may be due sooner than its next
/// pass) and `post.canceled` (nothing to do: canceled targets are never claimed, the gateway
/// changed them in the database before the event was sent), and `account.resumed` (wakes it:
/// the resumed account's held targets are due).
#[derive(Debug)]
pub struct Wake(pub Arc<Notify>);

impl Handler for Wake {
    async fn handle(&self, incoming: &Incoming) -> Result<(), HandlerError> {
        match incoming.envelope.event_type.as_str() {
            // A resumed account's held targets are due: claim them now.
            PostScheduled::TYPE | PostCanceled::TYPE | AccountResumed::TYPE => {
                self.0.notify_one();
                Ok(())
            }
            other => {
                tracing::debug!(event_type = other, "publisher ignores this event");
                Ok(())
            }
        }
    }
}
