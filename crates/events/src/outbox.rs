//! Writing events into the outbox, inside the caller's transaction.

use db::{outbox::OutboxInsertForm, outbox::OutboxRow, PgConnection};
use diesel::QueryResult;
use domain::EventId;

use crate::{Envelope, Event};

/// A producer's handle on the outbox; stamps every envelope with the producing service.
#[derive(Debug, Clone, Copy)]
pub struct Outbox {
    producer: &'static str,
}

impl Outbox {
    /// The outbox of service `producer`, e.g. `"auth-gateway"`.
    pub const fn new(producer: &'static str) -> Self {
        Self { producer }
    }

    /// Inserts `event`. Call it on the connection of the transaction that makes the change,
    /// so the event exists exactly when the change committed.
    pub fn write<E: Event>(&self, conn: &mut PgConnection, event: E) -> QueryResult<EventId> {
        let (id, json) = self.envelope(event)?;
        OutboxRow::insert(
            conn,
            &OutboxInsertForm {
                id,
                event_type: E::TYPE,
                envelope: &json,
            },
        )?;
        Ok(id)
    }

    /// An empty batch of events of this producer, written with one statement by
    /// [`OutboxBatch::write`] (for a writer that commits many changes at once).
    pub fn batch(&self) -> OutboxBatch {
        OutboxBatch {
            outbox: *self,
            rows: Vec::new(),
        }
    }

    fn envelope<E: Event>(&self, event: E) -> QueryResult<(EventId, serde_json::Value)> {
        let envelope = Envelope::new(self.producer, event);
        let json = serde_json::to_value(&envelope)
            .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
        Ok((envelope.id, json))
    }
}

/// Events gathered to be inserted together, in the order they were added.
#[derive(Debug)]
pub struct OutboxBatch {
    outbox: Outbox,
    rows: Vec<(EventId, &'static str, serde_json::Value)>,
}

impl OutboxBatch {
    /// Adds `event` (its envelope is built now, so a serialization error shows here).
    pub fn push<E: Event>(&mut self, event: E) -> QueryResult<EventId> {
        let (id, json) = self.outbox.envelope(event)?;
        self.rows.push((id, E::TYPE, json));
        Ok(id)
    }

    /// How many events it holds.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Inserts every event in one statement (none when empty), on the connection of the
    /// transaction that makes the changes they describe; answers how many.
    pub fn write(self, conn: &mut PgConnection) -> QueryResult<usize> {
        if self.rows.is_empty() {
            return Ok(0);
        }
        let forms: Vec<OutboxInsertForm<'_>> = self
            .rows
            .iter()
            .map(|(id, event_type, envelope)| OutboxInsertForm {
                id: *id,
                event_type,
                envelope,
            })
            .collect();
        OutboxRow::insert_many(conn, &forms)
    }
}
