//! Rows of the transactional outbox.
//!
//! Only `crates/events` should call these directly: it builds the envelope and owns the relay.

use chrono::{DateTime, Utc};
use diesel::{prelude::*, sql_types};
use domain::EventId;

use crate::schema::outbox;

/// An event waiting to be (or already) published.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = outbox, check_for_backend(diesel::pg::Pg))]
pub struct OutboxRow {
    pub id: EventId,
    pub seq: i64,
    pub event_type: String,
    pub envelope: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub publish_attempts: i32,
    pub last_error: Option<String>,
}

/// A new outbox row; `seq` and `created_at` come from the database.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = outbox)]
pub struct OutboxInsertForm<'a> {
    pub id: EventId,
    pub event_type: &'a str,
    pub envelope: &'a serde_json::Value,
}

impl OutboxRow {
    /// Adds an event to the outbox; call it inside the transaction that makes the change the
    /// event describes, so both commit or neither does.
    pub fn insert(conn: &mut PgConnection, form: &OutboxInsertForm<'_>) -> QueryResult<usize> {
        diesel::insert_into(outbox::table)
            .values(form)
            .execute(conn)
    }

    /// Adds many events in one multi-row `INSERT` (one statement, so the outbox's
    /// `FOR EACH STATEMENT` notify trigger fires once); like [`OutboxRow::insert`], inside the
    /// transaction of the change they describe. The rows keep their order in `seq`.
    pub fn insert_many(
        conn: &mut PgConnection,
        forms: &[OutboxInsertForm<'_>],
    ) -> QueryResult<usize> {
        // Three parameters a row: far below PostgreSQL's 65,535 per statement.
        const ROWS_PER_STATEMENT: usize = 10_000;
        let mut inserted = 0;
        for chunk in forms.chunks(ROWS_PER_STATEMENT) {
            inserted += diesel::insert_into(outbox::table)
                .values(chunk)
                .execute(conn)?;
        }
        Ok(inserted)
    }

    /// Locks up to `limit` of the oldest unsent rows for this transaction, skipping rows another
    /// relay holds, so relays running side by side never publish the same row twice.
    pub fn lock_unsent_batch(conn: &mut PgConnection, limit: i64) -> QueryResult<Vec<OutboxRow>> {
        outbox::table
            .filter(outbox::sent_at.is_null())
            .order(outbox::seq.asc())
            .limit(limit)
            .for_update()
            .skip_locked()
            .select(OutboxRow::as_select())
            .load(conn)
    }

    /// Stamps rows as published.
    pub fn mark_sent(conn: &mut PgConnection, ids: &[EventId]) -> QueryResult<usize> {
        diesel::update(outbox::table.filter(outbox::id.eq_any(ids)))
            .set(outbox::sent_at.eq(diesel::dsl::now))
            .execute(conn)
    }

    /// Records a failed publish attempt (committed separately from the batch that failed).
    pub fn record_failure(
        conn: &mut PgConnection,
        ids: &[EventId],
        error: &str,
    ) -> QueryResult<usize> {
        diesel::update(outbox::table.filter(outbox::id.eq_any(ids)))
            .set((
                outbox::publish_attempts.eq(outbox::publish_attempts + 1),
                outbox::last_error.eq(error),
            ))
            .execute(conn)
    }

    /// Number of unsent rows and the age in seconds of the oldest one (0 when none).
    pub fn backlog(conn: &mut PgConnection) -> QueryResult<(i64, f64)> {
        #[derive(QueryableByName)]
        struct Backlog {
            #[diesel(sql_type = sql_types::BigInt)]
            count: i64,
            #[diesel(sql_type = sql_types::Double)]
            oldest_age_s: f64,
        }
        let row: Backlog = diesel::sql_query(
            "SELECT count(*) AS count, \
             COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0)::float8 AS oldest_age_s \
             FROM outbox WHERE sent_at IS NULL",
        )
        .get_result(conn)?;
        Ok((row.count, row.oldest_age_s))
    }

    /// Deletes at most `limit` rows sent before `before`, oldest first; returns how many went.
    /// Called repeatedly (with a pause) until it deletes fewer than `limit`: a backlog of a
    /// million sent rows never becomes one long statement and one burst of WAL. The rows are
    /// found on `outbox_sent_at_idx` and locked `SKIP LOCKED`, so the relays of every service
    /// purge side by side without waiting for one another. `= ANY(ARRAY(…))`, not `IN (…)`:
    /// with `IN` the planner hashes the batch and scans the whole table for it (350 ms a batch
    /// at a million rows, docs/BENCHMARKS.md); an array is looked up on the primary key.
    pub fn purge_sent_before(
        conn: &mut PgConnection,
        before: DateTime<Utc>,
        limit: i64,
    ) -> QueryResult<usize> {
        diesel::sql_query(
            "DELETE FROM outbox WHERE id = ANY(ARRAY( \
                SELECT id FROM outbox WHERE sent_at < $1 ORDER BY sent_at LIMIT $2 \
                FOR UPDATE SKIP LOCKED))",
        )
        .bind::<sql_types::Timestamptz, _>(before)
        .bind::<sql_types::BigInt, _>(limit)
        .execute(conn)
    }

    /// Looks a row up by event id.
    pub fn find(conn: &mut PgConnection, id: EventId) -> QueryResult<OutboxRow> {
        outbox::table
            .find(id)
            .select(OutboxRow::as_select())
            .first(conn)
    }
}
