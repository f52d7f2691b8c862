//! Pausing an account (`social_accounts.paused_at`): its tokens are still refreshed and its
//! posts still accepted, but the dispatcher leaves its due targets waiting
//! ([`crate::posts::PostTarget::claim_due`] skips them) until it is resumed.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use domain::{AccountId, AccountStatus, OwnerId};

use crate::{accounts::Account, schema::social_accounts};

impl Account {
    /// Pauses (`paused` true, from `now`) or resumes the owner's account. Answers the account
    /// only when this call changed it: `None` when it was already so, or is not the owner's
    /// (or is disconnected); the caller tells these apart by reading it.
    pub fn set_paused(
        conn: &mut PgConnection,
        id: AccountId,
        owner: &OwnerId,
        paused: bool,
        now: DateTime<Utc>,
    ) -> QueryResult<Option<Account>> {
        let mine = social_accounts::table
            .filter(social_accounts::id.eq(id))
            .filter(social_accounts::owner_id.eq(owner))
            .filter(social_accounts::status.ne(AccountStatus::Disconnected));
        let changed = if paused {
            diesel::update(mine.filter(social_accounts::paused_at.is_null()))
                .set((
                    social_accounts::paused_at.eq(Some(now)),
                    social_accounts::updated_at.eq(diesel::dsl::now),
                ))
                .returning(Account::as_returning())
                .get_result(conn)
        } else {
            diesel::update(mine.filter(social_accounts::paused_at.is_not_null()))
                .set((
                    social_accounts::paused_at.eq(None::<DateTime<Utc>>),
                    social_accounts::updated_at.eq(diesel::dsl::now),
                ))
                .returning(Account::as_returning())
                .get_result(conn)
        };
        changed.optional()
    }
}
