//! `account_metrics`: an account's followers, following and posts at each sync, written by
//! account-registry in the sync's own transaction.
//!
//! Growth: one row (about 80 bytes with its index entry) per successful sync: with the default
//! six-hourly sync, 4 a day, about 1,500 a year per account (some 120 kB). Rows go with their
//! account (`ON DELETE CASCADE`); nothing else prunes them.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use domain::AccountId;

use crate::schema::account_metrics;

/// An account's counts at one sync. A count the platform did not give is `None`.
#[derive(Debug, Clone, PartialEq, Eq, Insertable, Queryable, Selectable)]
#[diesel(table_name = account_metrics, check_for_backend(diesel::pg::Pg))]
pub struct AccountMetricsSample {
    pub account_id: AccountId,
    pub synced_at: DateTime<Utc>,
    pub followers: Option<i64>,
    pub following: Option<i64>,
    pub posts: Option<i64>,
}

impl AccountMetricsSample {
    /// Stores one sample.
    pub fn insert(conn: &mut PgConnection, sample: &AccountMetricsSample) -> QueryResult<()> {
        diesel::insert_into(account_metrics::table)
            .values(sample)
            .execute(conn)
            .map(drop)
    }

    /// The account's samples synced in `[from, to)`, oldest first, at most `limit`.
    pub fn series(
        conn: &mut PgConnection,
        account: AccountId,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        limit: i64,
    ) -> QueryResult<Vec<AccountMetricsSample>> {
        let mut query = account_metrics::table
            .filter(account_metrics::account_id.eq(account))
            .into_boxed();
        if let Some(from) = from {
            query = query.filter(account_metrics::synced_at.ge(from));
        }
        if let Some(to) = to {
            query = query.filter(account_metrics::synced_at.lt(to));
        }
        query
            .order((account_metrics::synced_at, account_metrics::id))
            .limit(limit)
            .select(AccountMetricsSample::as_select())
            .load(conn)
    }
}
