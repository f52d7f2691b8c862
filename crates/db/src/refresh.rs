//! token-refresher's queries on `social_accounts`: the short claims (fence + lease) under
//! which an account is refreshed, taken by the scheduler for due accounts or by a worker for
//! one on-demand request, and the guarded writes of the outcome. (`refresh_claimed_until`, the
//! scheduler's claim of the older design, is only cleared now.)
//!
//! No statement here is meant to run inside a transaction held across a platform call: the
//! claim commits on its own, the platform is called with no connection held, and the outcome is
//! written afterwards in a short transaction (see `services/token-refresher/src/refresher.rs`).

use chrono::{DateTime, Utc};
use diesel::{prelude::*, sql_types, IntoSql, PgExpressionMethods};
use domain::{AccountId, AccountStatus};
use uuid::Uuid;

use crate::{accounts::Account, schema::social_accounts};

/// A worker's request to take one account for one refresh.
#[derive(Debug, Clone, Copy)]
pub struct RefreshClaim {
    /// Names this claim; the failure write and the lease renewals are guarded by it.
    pub fence: Uuid,
    /// The claimer's clock (the scheduler compares against the same clock).
    pub now: DateTime<Utc>,
    /// Until when the claim holds unless renewed.
    pub lease_until: DateTime<Utc>,
    /// When the request was made: an account refreshed at or after it is left alone.
    pub requested_at: DateTime<Utc>,
    /// Urgent or on-demand: refresh even if the account is not due.
    pub on_demand: bool,
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
    pub refresh_attempts: i32,
    pub status: AccountStatus,
    pub last_error: Option<String>,
}

/// A failed (or unsupported) refresh.
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = social_accounts, treat_none_as_null = true)]
pub struct RefreshFailureForm {
    pub status: AccountStatus,
    pub last_error: Option<String>,
    pub health_score: i16,
    pub refresh_attempts: i32,
    pub next_refresh_at: Option<DateTime<Utc>>,
}

/// Statuses in which no token of the account is ever presented to its platform again.
const NEVER_REFRESHED: [AccountStatus; 3] = [
    AccountStatus::Disconnecting,
    AccountStatus::Disconnected,
    AccountStatus::NeedsReauth,
];

impl Account {
    /// Claims up to `limit` accounts whose refresh is due and that no live lease holds, for
    /// the scheduler to refresh them itself at once: every one gets the fence `fence` (one per
    /// batch; the fence names the claim, the account id the row) and a lease until
    /// `lease_until`. Rows another replica is claiming right now are skipped (`SKIP LOCKED`),
    /// so replicas split the work; an account whose claimer died is due again as soon as its
    /// lease has lapsed. Two statements; run them in one transaction.
    pub fn claim_due_for_refresh(
        conn: &mut PgConnection,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        fence: Uuid,
        limit: i64,
    ) -> QueryResult<Vec<Account>> {
        use social_accounts as a;
        #[derive(QueryableByName)]
        struct Due {
            #[diesel(sql_type = sql_types::Uuid)]
            id: AccountId,
        }
        // Spelled out (not built) so that the planner sees the literal status list of the
        // partial index `social_accounts_next_refresh_idx` and walks it in order, instead of
        // scanning and sorting every account on each pass. The env account (owner
        // `env_accounts::ENV_OWNER`, spelled out here) is never due: its Page token does not
        // expire, and it has no `next_refresh_at` anyway (a check constraint keeps it so).
        let due: Vec<AccountId> = diesel::sql_query(
            "SELECT id FROM social_accounts \
             WHERE next_refresh_at IS NOT NULL AND next_refresh_at <= $1 \
               AND status NOT IN ('disconnecting', 'disconnected', 'needs_reauth') \
               AND owner_id <> 'postbridge:env' \
               AND (refresh_lease_until IS NULL OR refresh_lease_until < $1) \
             ORDER BY next_refresh_at \
             LIMIT $2 \
             FOR UPDATE SKIP LOCKED",
        )
        .bind::<sql_types::Timestamptz, _>(now)
        .bind::<sql_types::BigInt, _>(limit)
        .load::<Due>(conn)?
        .into_iter()
        .map(|d| d.id)
        .collect();
        if due.is_empty() {
            return Ok(Vec::new());
        }
        diesel::update(a::table.filter(a::id.eq_any(due)))
            .set((
                a::refresh_fence.eq(Some(fence)),
                a::refresh_lease_until.eq(Some(lease_until)),
                a::refresh_claimed_until.eq(None::<DateTime<Utc>>),
            ))
            .returning(Account::as_returning())
            .get_results(conn)
    }

    /// Takes the account for one refresh, in one committed statement: sets a fresh fence and a
    /// lease if no live lease holds it, it was not refreshed since the request was made, its
    /// grant is not known dead (`needs_reauth`) or going away, and (for a scheduled request) it
    /// is due. Returns the account as claimed, or `None` when there is nothing to do; that is
    /// what coalesces any number of requests for one account into one refresh.
    ///
    pub fn claim_for_refresh(
        conn: &mut PgConnection,
        id: AccountId,
        claim: &RefreshClaim,
    ) -> QueryResult<Option<Account>> {
        use social_accounts as a;
        let target = a::table
            .find(id)
            .filter(
                a::refresh_lease_until
                    .is_null()
                    .or(a::refresh_lease_until.lt(claim.now)),
            )
            .filter(
                a::last_refreshed_at
                    .is_null()
                    .or(a::last_refreshed_at.lt(claim.requested_at)),
            )
            .filter(a::status.ne_all(NEVER_REFRESHED))
            // An env account's Page token does not expire: not even a 401 or a user's request
            // has it presented for a refresh (see `env_accounts`).
            .filter(a::owner_id.ne(crate::env_accounts::ENV_OWNER))
            .filter(
                claim
                    .on_demand
                    .into_sql::<sql_types::Bool>()
                    .or(a::next_refresh_at.le(claim.now)),
            );
        diesel::update(target)
            .set((
                a::refresh_fence.eq(Some(claim.fence)),
                a::refresh_lease_until.eq(Some(claim.lease_until)),
                a::refresh_claimed_until.eq(None::<DateTime<Utc>>),
            ))
            .returning(Account::as_returning())
            .get_result(conn)
            .optional()
    }

    /// Extends the lease of the claim `fence` (the owner's heartbeat while the platform call
    /// runs). `false`: the claim is no longer ours.
    pub fn renew_refresh_lease(
        conn: &mut PgConnection,
        id: AccountId,
        fence: Uuid,
        lease_until: DateTime<Utc>,
    ) -> QueryResult<bool> {
        use social_accounts as a;
        diesel::update(a::table.find(id).filter(a::refresh_fence.eq(fence)))
            .set(a::refresh_lease_until.eq(Some(lease_until)))
            .execute(conn)
            .map(|n| n == 1)
    }

    /// Stores the tokens a refresh returned and ends the claim. `false`: not written, because
    /// the account is being disconnected or gone, or it no longer holds the refresh token that
    /// was presented *and* the claim `fence` is no longer ours.
    ///
    /// Why "fence or presented token" rather than the fence alone: if this write was held up
    /// (database unreachable) past the lease, another replica may have taken the account; it
    /// can only present the stored refresh token, which the platform has already rotated, so it
    /// fails. The tokens written here are the only live ones as long as the row still holds
    /// the token we presented, whoever holds the fence now; refusing them would lose the grant.
    /// The write clears any fence, so the taker's failure write (fence-guarded) is dropped.
    pub fn record_refresh(
        conn: &mut PgConnection,
        id: AccountId,
        fence: Uuid,
        presented_refresh_enc: Option<&[u8]>,
        form: &RefreshSuccessForm,
    ) -> QueryResult<bool> {
        use social_accounts as a;
        let target = a::table
            .find(id)
            .filter(a::status.ne_all([AccountStatus::Disconnecting, AccountStatus::Disconnected]))
            .filter(
                a::refresh_fence
                    .eq(fence)
                    .or(a::refresh_token_enc.is_not_distinct_from(presented_refresh_enc)),
            );
        diesel::update(target)
            .set((
                form,
                a::refresh_fence.eq(None::<Uuid>),
                a::refresh_lease_until.eq(None::<DateTime<Utc>>),
                a::refresh_claimed_until.eq(None::<DateTime<Utc>>),
                a::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)
            .map(|n| n == 1)
    }

    /// Stores a failed (or unsupported) refresh and ends the claim, if the claim `fence` is
    /// still ours. `false`: someone else holds the account now (or stored a success that
    /// cleared the fence); their outcome stands.
    pub fn record_refresh_failure(
        conn: &mut PgConnection,
        id: AccountId,
        fence: Uuid,
        form: &RefreshFailureForm,
    ) -> QueryResult<bool> {
        use social_accounts as a;
        diesel::update(a::table.find(id).filter(a::refresh_fence.eq(fence)))
            .set((
                form,
                a::refresh_fence.eq(None::<Uuid>),
                a::refresh_lease_until.eq(None::<DateTime<Utc>>),
                a::refresh_claimed_until.eq(None::<DateTime<Utc>>),
                a::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)
            .map(|n| n == 1)
    }

    /// Ends the claim `fence` without recording anything (nothing was presented).
    pub fn release_refresh_claim(
        conn: &mut PgConnection,
        id: AccountId,
        fence: Uuid,
    ) -> QueryResult<bool> {
        use social_accounts as a;
        diesel::update(a::table.find(id).filter(a::refresh_fence.eq(fence)))
            .set((
                a::refresh_fence.eq(None::<Uuid>),
                a::refresh_lease_until.eq(None::<DateTime<Utc>>),
            ))
            .execute(conn)
            .map(|n| n == 1)
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
