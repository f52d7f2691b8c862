//! `pending_connections`: finished OAuth authorizations waiting for the user who started them,
//! and the per-user count of live authorizations that caps how many a user may start.
//!
//! The callback runs in whatever browser the platform redirected, which need not be the
//! starting user's. So it only parks the result here under a one-time ticket; the starting
//! user's frontend redeems the ticket with its own token. A ticket is consumed by the first
//! attempt to redeem it, by anyone: a wrong user's attempt throws the tokens away.

use chrono::{DateTime, Utc};
use diesel::{dsl::count_star, prelude::*};
use domain::{OwnerId, Platform};

use crate::schema::{oauth_states, pending_connections};

/// A parked authorization result. Only the ticket's sha256 is stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = pending_connections, check_for_backend(diesel::pg::Pg))]
pub struct PendingConnection {
    pub ticket_hash: Vec<u8>,
    pub owner_id: OwnerId,
    pub platform: Platform,
    pub instance_url: Option<String>,
    /// The exchanged profiles and tokens, encrypted as one vault ciphertext.
    pub payload_enc: Vec<u8>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl PendingConnection {
    /// Parks a result; expired ones are purged on the way.
    pub fn insert(conn: &mut PgConnection, pending: &PendingConnection) -> QueryResult<usize> {
        diesel::delete(
            pending_connections::table
                .filter(pending_connections::expires_at.le(pending.created_at)),
        )
        .execute(conn)?;
        diesel::insert_into(pending_connections::table)
            .values(pending)
            .execute(conn)
    }

    /// Takes the result out (`DELETE … RETURNING`), whoever asks: of two redemptions exactly
    /// one gets it, and a refused one leaves nothing to retry. Expired rows are consumed but not
    /// returned.
    pub fn consume(
        conn: &mut PgConnection,
        ticket_hash: &[u8],
        now: DateTime<Utc>,
    ) -> QueryResult<Option<PendingConnection>> {
        let taken: Option<PendingConnection> =
            diesel::delete(pending_connections::table.find(ticket_hash))
                .returning(PendingConnection::as_returning())
                .get_result(conn)
                .optional()?;
        Ok(taken.filter(|p| p.expires_at > now))
    }

    /// Authorizations `owner` started that are still live (not yet called back, not expired):
    /// the gateway refuses new starts above a cap.
    pub fn live_states(
        conn: &mut PgConnection,
        owner: &OwnerId,
        now: DateTime<Utc>,
    ) -> QueryResult<i64> {
        oauth_states::table
            .filter(oauth_states::owner_id.eq(owner))
            .filter(oauth_states::expires_at.gt(now))
            .select(count_star())
            .first(conn)
    }
}
