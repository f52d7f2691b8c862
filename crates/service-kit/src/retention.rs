//! The retention loop a service runs for the tables it owns (see `db::retention` for the rules
//! and why a sweep is shaped as it is).
//!
//! Every `interval` (plus up to a tenth, so replicas drift apart) a pass runs each of the
//! service's sweeps from where it stands to its cutoff, one bounded batch at a time with a
//! short pause between batches, counts the rows it deleted in
//! `postbridge_retention_deleted_total{table}` and logs one line per table. Where a sweep
//! stands is stored (`retention_marks`, with each batch), so a pass continues where the last
//! one stopped, whichever replica ran it and across restarts. Every `rewind_every` a sweep
//! starts again from the table's oldest row, which finds rows that became deletable behind
//! it (an old target's new attempt makes its previous one deletable). Replicas each run the
//! loop: the statements lock with `SKIP LOCKED`, so they never wait for each other, and no
//! coordination is needed.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use db::{
    retention::{self, Mark, Swept},
    Connection, Db, DbError, PgConnection,
};
use futures_util::future::BoxFuture;
use prometheus::IntCounterVec;
use serde::Deserialize;
use tokio_util::sync::CancellationToken;

/// How a service's retention loop paces itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cadence {
    /// Time between two passes (a random tenth is added).
    pub interval: Duration,
    /// Rows examined (so at most deleted) per statement.
    pub batch_size: i64,
    /// Pause between two statements of a pass.
    pub batch_pause: Duration,
    /// How often a sweep starts again from the oldest row.
    pub rewind_every: Duration,
}

/// What one batch did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// Rows deleted.
    pub deleted: u64,
    /// Whether the sweep reached its cutoff (the pass is over for this table).
    pub done: bool,
}

/// One table's sweep: its position survives from pass to pass.
pub trait Sweep: Send {
    /// The table, as the counter's `table` label and in logs.
    fn table(&self) -> &'static str;
    /// One bounded batch from where the sweep stands, with cutoffs computed from `now` (the
    /// pass's start, so every batch of a pass uses the same cutoffs).
    fn batch<'a>(
        &'a mut self,
        db: &'a Db,
        now: DateTime<Utc>,
        limit: i64,
    ) -> BoxFuture<'a, Result<Step, DbError>>;
    /// Takes up where the sweep stands (stored by the last batch of any replica), or at the
    /// table's oldest row when it never ran or last did so `rewind_every` ago.
    fn begin<'a>(
        &'a mut self,
        db: &'a Db,
        rewind_every: Duration,
    ) -> BoxFuture<'a, Result<(), DbError>>;
}

/// A [`Sweep`] made of a `db::retention` batch function, which receives the mark to start
/// after, the pass's `now` and the batch size.
pub struct Sweeper<Id, F> {
    table: &'static str,
    start: Mark<Id>,
    mark: Mark<Id>,
    batch: F,
}

impl<Id: std::fmt::Debug, F> std::fmt::Debug for Sweeper<Id, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sweeper")
            .field("table", &self.table)
            .field("mark", &self.mark)
            .finish_non_exhaustive()
    }
}

impl<Id: Copy, F> Sweeper<Id, F> {
    /// A sweep of `table` starting at `start` (the table's `Mark::start()`).
    pub fn new(table: &'static str, start: Mark<Id>, batch: F) -> Self {
        Self {
            table,
            start,
            mark: start,
            batch,
        }
    }

    /// Where the next batch starts.
    pub fn mark(&self) -> Mark<Id> {
        self.mark
    }
}

impl<Id, F> Sweep for Sweeper<Id, F>
where
    Id: Copy + std::fmt::Display + std::str::FromStr + Send + Sync + 'static,
    F: Fn(&mut PgConnection, Mark<Id>, DateTime<Utc>, i64) -> db::diesel::QueryResult<Swept<Id>>
        + Clone
        + Send
        + Sync
        + 'static,
{
    fn table(&self) -> &'static str {
        self.table
    }

    fn batch<'a>(
        &'a mut self,
        db: &'a Db,
        now: DateTime<Utc>,
        limit: i64,
    ) -> BoxFuture<'a, Result<Step, DbError>> {
        let batch = self.batch.clone();
        let (mark, table) = (self.mark, self.table);
        Box::pin(async move {
            // The mark is stored in the batch's own transaction: it never runs ahead of the
            // deletions it stands for.
            let swept = db
                .query(move |conn| {
                    conn.transaction(|conn| {
                        let swept = batch(conn, mark, now, limit)?;
                        if let Some(last) = swept.last {
                            retention::save_mark(
                                conn,
                                table,
                                last.at,
                                &last.id.to_string(),
                                false,
                            )?;
                        }
                        Ok(swept)
                    })
                })
                .await?;
            if let Some(last) = swept.last {
                self.mark = last;
            }
            Ok(Step {
                deleted: u64::try_from(swept.deleted).unwrap_or(0),
                done: swept.reached_cutoff(limit),
            })
        })
    }

    fn begin<'a>(
        &'a mut self,
        db: &'a Db,
        rewind_every: Duration,
    ) -> BoxFuture<'a, Result<(), DbError>> {
        let (table, start) = (self.table, self.start);
        Box::pin(async move {
            let stored = db
                .query(move |conn| retention::load_mark(conn, table))
                .await?;
            let every = chrono::Duration::from_std(rewind_every).unwrap_or(chrono::Duration::MAX);
            let resumed = stored
                .filter(|m| Utc::now() - m.rewound_at < every)
                .and_then(|m| {
                    Some(Mark {
                        at: m.mark_at,
                        id: m.mark_id.parse().ok()?,
                    })
                });
            match resumed {
                Some(mark) => self.mark = mark,
                None => {
                    self.mark = start;
                    let id = start.id.to_string();
                    db.query(move |conn| retention::save_mark(conn, table, start.at, &id, true))
                        .await?;
                }
            }
            Ok(())
        })
    }
}

/// Runs one pass of `sweep`: batches until it reaches its cutoff, the database fails or the
/// service stops. Answers the rows deleted (also counted in `deleted{table}`) and logs them.
pub async fn pass(
    db: &Db,
    sweep: &mut dyn Sweep,
    cadence: &Cadence,
    deleted: &IntCounterVec,
    shutdown: &CancellationToken,
) -> u64 {
    let table = sweep.table();
    let started = Instant::now();
    let now = Utc::now();
    let limit = cadence.batch_size.max(1);
    let (mut total, mut batches) = (0u64, 0u32);
    let outcome = match sweep.begin(db, cadence.rewind_every).await {
        Ok(()) => loop {
            if shutdown.is_cancelled() {
                break Ok(false);
            }
            match sweep.batch(db, now, limit).await {
                Ok(step) => {
                    batches += 1;
                    total += step.deleted;
                    deleted.with_label_values(&[table]).inc_by(step.deleted);
                    if step.done {
                        break Ok(true);
                    }
                }
                Err(err) => break Err(err),
            }
            tokio::select! {
                () = tokio::time::sleep(cadence.batch_pause) => {}
                () = shutdown.cancelled() => {}
            }
        },
        Err(err) => Err(err),
    };
    let duration_ms = started.elapsed().as_millis() as u64;
    match outcome {
        Ok(complete) => tracing::info!(
            table,
            deleted = total,
            batches,
            complete,
            duration_ms,
            "retention pass"
        ),
        Err(err) => tracing::warn!(
            table,
            deleted = total,
            batches,
            duration_ms,
            error = %err,
            "retention pass failed; the next pass continues"
        ),
    }
    total
}

/// Runs every sweep's pass every `cadence.interval` (plus jitter) until `shutdown`. The first
/// pass comes within a tenth of the interval of the start, so a service restarted more often
/// than the interval still prunes.
pub async fn run(
    db: Db,
    mut sweeps: Vec<Box<dyn Sweep>>,
    cadence: Cadence,
    deleted: IntCounterVec,
    shutdown: CancellationToken,
) {
    let tenth = (cadence.interval / 10).max(Duration::from_millis(1));
    let mut first = true;
    loop {
        let jitter = tenth.mul_f64(rand_fraction());
        let wait = if first {
            jitter
        } else {
            cadence.interval + jitter
        };
        first = false;
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = shutdown.cancelled() => return,
        }
        for sweep in &mut sweeps {
            pass(&db, sweep.as_mut(), &cadence, &deleted, &shutdown).await;
        }
    }
}

/// A random number in [0, 1), without a generator dependency: the sub-second clock's low bits
/// are random enough to spread replicas' passes apart.
fn rand_fraction() -> f64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    f64::from(nanos % 1_000_000) / 1_000_000.0
}

/// `[events.retention]`: what every service's outbox relay keeps of `outbox` and
/// `processed_events` (both tables are shared, so every service reads the same keys).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RelayRetentionSettings {
    /// Hours a sent outbox row is kept (for inspection) before it is deleted.
    pub outbox_sent_hours: u64,
    /// Days a consumer's dedup marker is kept (redeliveries never come later).
    pub processed_events_days: u64,
    /// Rows deleted per statement.
    pub batch_size: i64,
    /// Seconds between two purges (a random tenth is added).
    pub interval_secs: u64,
}

impl Default for RelayRetentionSettings {
    fn default() -> Self {
        Self {
            outbox_sent_hours: 24,
            processed_events_days: 7,
            batch_size: 5000,
            interval_secs: 60,
        }
    }
}

impl RelayRetentionSettings {
    /// Applies these to the relay's settings.
    pub fn apply(&self, relay: &mut events::RelaySettings) {
        relay.sent_retention = Duration::from_secs(self.outbox_sent_hours * 3600);
        relay.inbox_retention = Duration::from_secs(self.processed_events_days * 24 * 3600);
        relay.purge_batch = self.batch_size.max(1);
        relay.housekeeping_interval = Duration::from_secs(self.interval_secs.max(1));
    }
}
