//! The scheduler: finds accounts whose refresh is due and asks for it with `token.expiring`.
//!
//! Claiming and emitting happen in one transaction, under a lease: replicas split due
//! accounts between them (`SKIP LOCKED`), and an account whose claimer died is claimed again
//! once its lease runs out. The refresh itself is done by the workers consuming the events.

use std::time::Duration;

use chrono::Utc;
use db::{accounts::Account, Db, DbError};
use events::{CancellationToken, ExpiringReason, TokenExpiring};

use crate::{metrics::RefreshMetrics, refresher::OUTBOX};

/// Scheduler settings.
#[derive(Debug, Clone)]
pub struct Schedule {
    /// Time between passes.
    pub interval: Duration,
    /// Accounts claimed per pass.
    pub batch: i64,
    /// How long a claim lasts.
    pub lease: chrono::Duration,
}

/// Claims due accounts and writes one `token.expiring` per account; returns how many.
pub async fn claim_once(db: &Db, schedule: &Schedule) -> Result<usize, DbError> {
    let (batch, lease) = (schedule.batch, schedule.lease);
    db.run(move |conn| {
        db::Connection::transaction(conn, |conn| {
            let now = Utc::now();
            let claimed = Account::claim_due_for_refresh(conn, now, now + lease, batch)?;
            for account in &claimed {
                OUTBOX.write(
                    conn,
                    TokenExpiring {
                        account_id: account.id,
                        platform: account.platform,
                        expires_at: account.token_expires_at,
                        urgent: false,
                        reason: ExpiringReason::Scheduled,
                    },
                )?;
            }
            Ok::<_, DbError>(claimed.len())
        })
    })
    .await
}

/// Runs passes until `shutdown`; a full batch is followed at once by the next pass.
pub async fn run(db: Db, schedule: Schedule, metrics: RefreshMetrics, shutdown: CancellationToken) {
    let mut last_gauges = tokio::time::Instant::now() - Duration::from_secs(60);
    loop {
        match claim_once(&db, &schedule).await {
            Ok(n) if n as i64 >= schedule.batch => continue,
            Ok(n) if n > 0 => tracing::debug!(claimed = n, "refreshes scheduled"),
            Ok(_) => {}
            Err(err) => tracing::warn!(error = %err, "refresh scheduler pass failed"),
        }
        if last_gauges.elapsed() > Duration::from_secs(15) {
            last_gauges = tokio::time::Instant::now();
            update_gauges(&db, &metrics).await;
        }
        tokio::select! {
            () = tokio::time::sleep(schedule.interval) => {}
            () = shutdown.cancelled() => return,
        }
    }
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
