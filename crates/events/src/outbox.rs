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
        let envelope = Envelope::new(self.producer, event);
        let json = serde_json::to_value(&envelope)
            .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
        OutboxRow::insert(
            conn,
            &OutboxInsertForm {
                id: envelope.id,
                event_type: E::TYPE,
                envelope: &json,
            },
        )?;
        Ok(envelope.id)
    }
}
