//! token-refresher's queries on `social_accounts`: claiming due accounts, locking one for its
//! refresh, and recording the outcome.

use chrono::{DateTime, Utc};
use diesel::{prelude::*, sql_types};
use domain::{AccountId, AccountStatus, Platform};

use crate::{accounts::Account, schema::social_accounts};

/// An account the scheduler claimed.
#[derive(Debug, Clone, QueryableByName)]
pub struct ClaimedAccount {
    #[diesel(sql_type = sql_types::Uuid)]
    pub id: AccountId,
    #[diesel(sql_type = sql_types::Text)]
    pub platform: Platform,
    #[diesel(sql_type = sql_types::Nullable<sql_types::Timestamptz>)]
    pub token_expires_at: Option<DateTime<Utc>>,
}

/// A successful refresh. Token columns are ciphertext bound to the row.
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = social_accounts, treat_none_as_null = true)]
pub struct RefreshSuccessForm {
    pub access_token_enc: Option<Vec<u8>>,
    pub refresh_token_enc: Option<Vec<u8>>,
    pub token_key_id: Option<String>,
    pub token_expires_at: Option<DateTime<Utc>>,
    pub refresh_expires_at: Option<DateTime<Utc>>,
    pub last_refreshed_at: Option<DateTime<Utc>>,
    pub next_refresh_at: Option<DateTime<Utc>>,
    pub refresh_claimed_until: Option<DateTime<Utc>>,
    pub refresh_attempts: i32,
    pub status: AccountStatus,
    pub last_error: Option<String>,
}

/// A failed refresh.
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = social_accounts, treat_none_as_null = true)]
pub struct RefreshFailureForm {
    pub status: AccountStatus,
    pub last_error: Option<String>,
    pub health_score: i16,
    pub refresh_attempts: i32,
    pub next_refresh_at: Option<DateTime<Utc>>,
    pub refresh_claimed_until: Option<DateTime<Utc>>,
}

impl Account {
    /// Claims up to `limit` accounts whose refresh is due and that no live claim holds,
    /// leasing them until `lease_until`. Rows another scheduler is claiming right now are
    /// skipped (`SKIP LOCKED`), so replicas split the work.
    pub fn claim_due_for_refresh(
        conn: &mut PgConnection,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: i64,
    ) -> QueryResult<Vec<ClaimedAccount>> {
        diesel::sql_query(
            "WITH due AS ( \
                SELECT id FROM social_accounts \
                WHERE next_refresh_at IS NOT NULL AND next_refresh_at <= $1 \
                  AND status NOT IN ('disconnecting', 'disconnected', 'needs_reauth') \
                  AND (refresh_claimed_until IS NULL OR refresh_claimed_until < $1) \
                ORDER BY next_refresh_at \
                LIMIT $3 \
                FOR UPDATE SKIP LOCKED) \
             UPDATE social_accounts a SET refresh_claimed_until = $2 \
             FROM due WHERE a.id = due.id \
             RETURNING a.id, a.platform, a.token_expires_at",
        )
        .bind::<sql_types::Timestamptz, _>(now)
        .bind::<sql_types::Timestamptz, _>(lease_until)
        .bind::<sql_types::BigInt, _>(limit)
        .load(conn)
    }

    /// The account, row-locked until the end of the transaction: the lock that makes one
    /// refresh per account at a time, across every replica.
    pub fn lock_for_refresh(
        conn: &mut PgConnection,
        id: AccountId,
    ) -> QueryResult<Option<Account>> {
        social_accounts::table
            .find(id)
            .for_update()
            .select(Account::as_select())
            .first(conn)
            .optional()
    }

    /// Stores a successful refresh.
    pub fn record_refresh(
        conn: &mut PgConnection,
        id: AccountId,
        form: &RefreshSuccessForm,
    ) -> QueryResult<Account> {
        diesel::update(social_accounts::table.find(id))
            .set((form, social_accounts::updated_at.eq(diesel::dsl::now)))
            .returning(Account::as_returning())
            .get_result(conn)
    }

    /// Stores a failed refresh.
    pub fn record_refresh_failure(
        conn: &mut PgConnection,
        id: AccountId,
        form: &RefreshFailureForm,
    ) -> QueryResult<usize> {
        diesel::update(social_accounts::table.find(id))
            .set((form, social_accounts::updated_at.eq(diesel::dsl::now)))
            .execute(conn)
    }

    /// Accounts per status (for the `accounts by status` gauge).
    pub fn count_by_status(conn: &mut PgConnection) -> QueryResult<Vec<(AccountStatus, i64)>> {
        social_accounts::table
            .group_by(social_accounts::status)
            .select((social_accounts::status, diesel::dsl::count_star()))
            .load(conn)
    }

    /// The soonest expiry among accounts that are still in use.
    pub fn soonest_expiry(conn: &mut PgConnection) -> QueryResult<Option<DateTime<Utc>>> {
        social_accounts::table
            .filter(
                social_accounts::status
                    .ne_all([AccountStatus::Disconnecting, AccountStatus::Disconnected]),
            )
            .select(diesel::dsl::min(social_accounts::token_expires_at))
            .first(conn)
    }
}
