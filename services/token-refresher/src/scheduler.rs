//! The scheduler: finds accounts whose refresh is due and refreshes them itself.
//!
//! Each pass claims as many due accounts as this instance has free refresh slots, in one
//! transaction, under the same short fenced lease a worker takes for an on-demand request
//! (`token.expiring`), and starts their refreshes at once; so a claimed account is being
//! refreshed, its lease renewed by the heartbeat, from the moment it is claimed. Replicas split
//! due accounts between them (`SKIP LOCKED`); an account whose claimer died is due again as
//! soon as its lease has lapsed.
//!
//! Why not announce each due account with a `token.expiring` and let the workers pick it up:
//! that was one outbox row, one relay round, one broker message, one inbox check and one claim
//! per refresh on top of the refresh itself, all to hand work from this process to this
//! process; at 100,000 accounts due at once it halved the throughput. `token.expiring` stays
//! the way other services ask for a refresh now (a 401, a user's "refresh").

use std::{sync::Arc, time::Duration};

use chrono::Utc;
use db::{accounts::Account, Connection, Db, DbError};
use events::CancellationToken;
use tokio::sync::Semaphore;
use uuid::Uuid;

use crate::{metrics::RefreshMetrics, refresher::Refresher};

/// Scheduler settings.
#[derive(Debug, Clone)]
pub struct Schedule {
    /// Time between passes that found fewer due accounts than free slots.
    pub interval: Duration,
    /// Most accounts claimed per pass.
    pub batch: i64,
    /// Refreshes of due accounts running at once in this instance.
    pub concurrency: usize,
}

/// Claims up to `limit` due accounts under one fresh fence and the refresher's lease.
pub async fn claim_once(
    db: &Db,
    refresher: &Refresher,
    limit: i64,
) -> Result<(Uuid, Vec<Account>), DbError> {
    let fence = Uuid::new_v4();
    let lease = refresher.lease();
    let claimed = db
        .run(move |conn| {
            conn.transaction(|conn| {
                let now = Utc::now();
                Account::claim_due_for_refresh(conn, now, now + lease, fence, limit)
            })
            .map_err(DbError::from)
        })
        .await?;
    Ok((fence, claimed))
}

/// Runs passes until `shutdown`, then waits (a while) for the refreshes it started.
pub async fn run(
    db: Db,
    refresher: Refresher,
    schedule: Schedule,
    metrics: RefreshMetrics,
    shutdown: CancellationToken,
) {
    let slots = Arc::new(Semaphore::new(schedule.concurrency.max(1)));
    let mut last_gauges = tokio::time::Instant::now() - Duration::from_secs(60);
    while !shutdown.is_cancelled() {
        // Claim only what can be called now: a claimed account must not wait for a slot.
        let free = slots.available_permits() as i64;
        if free == 0 {
            tokio::select! {
                permit = slots.acquire() => drop(permit),
                () = shutdown.cancelled() => break,
            }
            continue;
        }
        let want = free.min(schedule.batch);
        let claimed = match claim_once(&db, &refresher, want).await {
            Ok((fence, accounts)) => {
                let n = accounts.len();
                for account in accounts {
                    let Ok(slot) = slots.clone().try_acquire_owned() else {
                        // Cannot happen (only this loop takes slots); the lease lapses.
                        break;
                    };
                    let refresher = refresher.clone();
                    tokio::spawn(async move {
                        refresher.refresh_due(account, fence).await;
                        drop(slot);
                    });
                }
                n
            }
            Err(err) => {
                tracing::warn!(error = %err, "refresh scheduler pass failed");
                0
            }
        };
        if claimed as i64 >= want {
            continue;
        }
        if claimed > 0 {
            tracing::debug!(claimed, "due refreshes started");
        }
        if last_gauges.elapsed() > Duration::from_secs(15) {
            last_gauges = tokio::time::Instant::now();
            update_gauges(&db, &metrics).await;
        }
        tokio::select! {
            () = tokio::time::sleep(schedule.interval) => {}
            () = shutdown.cancelled() => break,
        }
    }
    // Let the refreshes in flight store what the platform answered.
    let all = u32::try_from(schedule.concurrency.max(1)).unwrap_or(u32::MAX);
    let _ = tokio::time::timeout(Duration::from_secs(14), slots.acquire_many(all)).await;
}

async fn update_gauges(db: &Db, metrics: &RefreshMetrics) {
    let result = db
        .query(|conn| {
            Ok((
                Account::count_by_status(conn)?,
                Account::soonest_expiry(conn)?,
            ))
        })
        .await;
    match result {
        Ok((counts, soonest)) => {
            metrics.accounts.reset();
            for (status, count) in counts {
                metrics
                    .accounts
                    .with_label_values(&[status.as_str()])
                    .set(count);
            }
            if let Some(at) = soonest {
                metrics
                    .soonest_expiry
                    .set((at - Utc::now()).num_milliseconds() as f64 / 1000.0);
            }
        }
        Err(err) => tracing::debug!(error = %err, "cannot update account gauges"),
    }
}
