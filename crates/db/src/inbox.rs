//! The consumers' inbox (`processed_events`): how a redelivered event is recognised.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use domain::EventId;

use crate::schema::processed_events;

/// Marker for "this consumer has handled this event".
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = processed_events, check_for_backend(diesel::pg::Pg))]
pub struct ProcessedEvent {
    pub consumer: String,
    pub event_id: EventId,
    pub processed_at: DateTime<Utc>,
}

impl ProcessedEvent {
    /// Records that `consumer` handled `event_id`. Returns false when it already had: the
    /// caller must then roll back, because the effects were applied the first time.
    pub fn record(conn: &mut PgConnection, consumer: &str, event_id: EventId) -> QueryResult<bool> {
        let inserted = diesel::insert_into(processed_events::table)
            .values((
                processed_events::consumer.eq(consumer),
                processed_events::event_id.eq(event_id),
            ))
            .on_conflict_do_nothing()
            .execute(conn)?;
        Ok(inserted == 1)
    }

    /// Whether `consumer` already handled `event_id` (a cheap pre-check before doing work).
    pub fn exists(conn: &mut PgConnection, consumer: &str, event_id: EventId) -> QueryResult<bool> {
        diesel::select(diesel::dsl::exists(
            processed_events::table
                .filter(processed_events::consumer.eq(consumer))
                .filter(processed_events::event_id.eq(event_id)),
        ))
        .get_result(conn)
    }

    /// Forgets at most `limit` markers older than `before` (redeliveries never arrive that
    /// late), oldest first; returns how many went. Bounded and `SKIP LOCKED` for the same
    /// reasons as `OutboxRow::purge_sent_before`; found on `processed_events_processed_at_idx`
    /// and deleted by `ctid` (a TID scan: the rows are locked, so their `ctid` holds, and the
    /// two-column key would make the planner scan the whole table as `IN (…)` does).
    pub fn purge_before(
        conn: &mut PgConnection,
        before: DateTime<Utc>,
        limit: i64,
    ) -> QueryResult<usize> {
        diesel::sql_query(
            "DELETE FROM processed_events WHERE ctid = ANY(ARRAY( \
                SELECT ctid FROM processed_events WHERE processed_at < $1 \
                ORDER BY processed_at LIMIT $2 FOR UPDATE SKIP LOCKED))",
        )
        .bind::<diesel::sql_types::Timestamptz, _>(before)
        .bind::<diesel::sql_types::BigInt, _>(limit)
        .execute(conn)
    }
}
