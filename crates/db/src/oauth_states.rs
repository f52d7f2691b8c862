//! `oauth_states`: pending OAuth authorizations, single-use and bound to a user.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use domain::{OwnerId, Platform};

use crate::schema::oauth_states;

/// A pending authorization. Only the state's sha256 is stored, so the table cannot be used to
/// forge a callback.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = oauth_states, check_for_backend(diesel::pg::Pg))]
pub struct OAuthState {
    pub state_hash: Vec<u8>,
    pub owner_id: OwnerId,
    pub platform: Platform,
    pub pkce_verifier_enc: Option<Vec<u8>>,
    pub redirect_to: String,
    pub instance: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl OAuthState {
    /// Stores a new pending authorization.
    pub fn insert(conn: &mut PgConnection, state: &OAuthState) -> QueryResult<usize> {
        diesel::insert_into(oauth_states::table)
            .values(state)
            .execute(conn)
    }

    /// Takes the state out of the table (`DELETE … RETURNING`): of two concurrent callbacks
    /// with the same state, exactly one gets it. Expired states are consumed but not returned.
    pub fn consume(
        conn: &mut PgConnection,
        state_hash: &[u8],
        now: DateTime<Utc>,
    ) -> QueryResult<Option<OAuthState>> {
        let taken: Option<OAuthState> = diesel::delete(oauth_states::table.find(state_hash))
            .returning(OAuthState::as_returning())
            .get_result(conn)
            .optional()?;
        Ok(taken.filter(|s| s.expires_at > now))
    }

    /// Deletes states that expired before `now`.
    pub fn purge_expired(conn: &mut PgConnection, now: DateTime<Utc>) -> QueryResult<usize> {
        diesel::delete(oauth_states::table.filter(oauth_states::expires_at.le(now))).execute(conn)
    }
}
