//! `social_accounts`: connected accounts, their encrypted tokens and their health.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use domain::{AccountId, AccountKind, AccountStatus, OwnerId, Platform};

use crate::schema::social_accounts;

/// A row of `social_accounts`. Token columns hold ciphertext (see `crates/vault`); this struct
/// is never serialized to a client, the gateway maps it to a sanitized view.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = social_accounts, check_for_backend(diesel::pg::Pg))]
pub struct Account {
    pub id: AccountId,
    pub owner_id: OwnerId,
    pub platform: Platform,
    pub platform_account_id: String,
    pub account_kind: AccountKind,
    pub display_name: Option<String>,
    pub handle: Option<String>,
    pub avatar_url: Option<String>,
    pub profile_url: Option<String>,
    pub instance_url: Option<String>,
    pub scopes: Vec<Option<String>>,
    pub access_token_enc: Option<Vec<u8>>,
    pub refresh_token_enc: Option<Vec<u8>>,
    pub token_key_id: Option<String>,
    pub token_expires_at: Option<DateTime<Utc>>,
    pub refresh_expires_at: Option<DateTime<Utc>>,
    pub status: AccountStatus,
    pub health_score: i16,
    pub last_error: Option<String>,
    pub followers_count: Option<i64>,
    pub following_count: Option<i64>,
    pub posts_count: Option<i64>,
    pub last_synced_at: Option<DateTime<Utc>>,
    pub last_refreshed_at: Option<DateTime<Utc>>,
    pub refresh_attempts: i32,
    pub next_refresh_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub refresh_claimed_until: Option<DateTime<Utc>>,
    /// Set while the account is paused: its due targets wait (see `db::account_pause`).
    pub paused_at: Option<DateTime<Utc>>,
}

/// What a user is shown of an account: the columns of the gateway's account view, without the
/// sealed tokens, scopes and the refresher's bookkeeping. Lists select only these: a page of
/// 20 accounts then reads 19 columns a row instead of 31 (PostgreSQL's share of a list was
/// mostly sending them), and the token ciphertexts never leave the database for a read.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = social_accounts, check_for_backend(diesel::pg::Pg))]
pub struct AccountListing {
    pub id: AccountId,
    pub owner_id: OwnerId,
    pub platform: Platform,
    pub platform_account_id: String,
    pub account_kind: AccountKind,
    pub display_name: Option<String>,
    pub handle: Option<String>,
    pub avatar_url: Option<String>,
    pub profile_url: Option<String>,
    pub status: AccountStatus,
    pub health_score: i16,
    pub last_error: Option<String>,
    pub followers_count: Option<i64>,
    pub following_count: Option<i64>,
    pub posts_count: Option<i64>,
    pub token_expires_at: Option<DateTime<Utc>>,
    pub last_synced_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub paused_at: Option<DateTime<Utc>>,
}

impl From<&Account> for AccountListing {
    fn from(a: &Account) -> Self {
        Self {
            id: a.id,
            owner_id: a.owner_id.clone(),
            platform: a.platform,
            platform_account_id: a.platform_account_id.clone(),
            account_kind: a.account_kind,
            display_name: a.display_name.clone(),
            handle: a.handle.clone(),
            avatar_url: a.avatar_url.clone(),
            profile_url: a.profile_url.clone(),
            status: a.status,
            health_score: a.health_score,
            last_error: a.last_error.clone(),
            followers_count: a.followers_count,
            following_count: a.following_count,
            posts_count: a.posts_count,
            token_expires_at: a.token_expires_at,
            last_synced_at: a.last_synced_at,
            created_at: a.created_at,
            paused_at: a.paused_at,
        }
    }
}

/// What a (re)connection writes. Tokens are already encrypted, bound to `id`.
#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = social_accounts, treat_none_as_null = true)]
pub struct AccountConnectForm {
    pub id: AccountId,
    pub owner_id: OwnerId,
    pub platform: Platform,
    pub platform_account_id: String,
    pub account_kind: AccountKind,
    pub display_name: Option<String>,
    pub handle: Option<String>,
    pub avatar_url: Option<String>,
    pub profile_url: Option<String>,
    pub instance_url: Option<String>,
    pub scopes: Vec<Option<String>>,
    pub access_token_enc: Option<Vec<u8>>,
    pub refresh_token_enc: Option<Vec<u8>>,
    pub token_key_id: Option<String>,
    pub token_expires_at: Option<DateTime<Utc>>,
    pub refresh_expires_at: Option<DateTime<Utc>>,
    pub status: AccountStatus,
    pub last_error: Option<String>,
    pub followers_count: Option<i64>,
    pub following_count: Option<i64>,
    pub posts_count: Option<i64>,
    pub refresh_attempts: i32,
    pub next_refresh_at: Option<DateTime<Utc>>,
}

/// Profile, counts and health from a sync.
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = social_accounts)]
pub struct AccountSyncForm {
    pub display_name: Option<String>,
    pub handle: Option<String>,
    pub avatar_url: Option<String>,
    pub profile_url: Option<String>,
    pub followers_count: Option<i64>,
    pub following_count: Option<i64>,
    pub posts_count: Option<i64>,
    pub health_score: i16,
    pub last_synced_at: DateTime<Utc>,
    pub last_error: Option<Option<String>>,
    pub status: Option<AccountStatus>,
}

impl Account {
    /// The row of `(owner, platform, platform_account_id)`, locked for update: a reconnect
    /// reuses the row (and its id, which the token ciphertexts are bound to).
    pub fn find_for_connect(
        conn: &mut PgConnection,
        owner: &OwnerId,
        platform: Platform,
        platform_account_id: &str,
    ) -> QueryResult<Option<Account>> {
        social_accounts::table
            .filter(social_accounts::owner_id.eq(owner))
            .filter(social_accounts::platform.eq(platform))
            .filter(social_accounts::platform_account_id.eq(platform_account_id))
            .for_update()
            .select(Account::as_select())
            .first(conn)
            .optional()
    }

    /// Inserts a new connection.
    pub fn insert(conn: &mut PgConnection, form: &AccountConnectForm) -> QueryResult<Account> {
        diesel::insert_into(social_accounts::table)
            .values(form)
            .returning(Account::as_returning())
            .get_result(conn)
    }

    /// Inserts many connections in one statement (seeding benchmarks and imports).
    pub fn insert_batch(
        conn: &mut PgConnection,
        forms: &[AccountConnectForm],
    ) -> QueryResult<usize> {
        diesel::insert_into(social_accounts::table)
            .values(forms)
            .execute(conn)
    }

    /// Overwrites an existing connection with a fresh grant. The caller keeps the stored
    /// refresh token when the new grant omits one (it passes the old ciphertext through).
    pub fn update_connection(
        conn: &mut PgConnection,
        form: &AccountConnectForm,
    ) -> QueryResult<Account> {
        diesel::update(social_accounts::table.find(form.id))
            .set((form, social_accounts::updated_at.eq(diesel::dsl::now)))
            .returning(Account::as_returning())
            .get_result(conn)
    }

    /// One account by id, whoever owns it (workers).
    pub fn find(conn: &mut PgConnection, id: AccountId) -> QueryResult<Option<Account>> {
        social_accounts::table
            .find(id)
            .select(Account::as_select())
            .first(conn)
            .optional()
    }

    /// One account of `owner`; another owner's account is simply not found.
    pub fn find_for_owner(
        conn: &mut PgConnection,
        id: AccountId,
        owner: &OwnerId,
    ) -> QueryResult<Option<Account>> {
        social_accounts::table
            .find(id)
            .filter(social_accounts::owner_id.eq(owner))
            .select(Account::as_select())
            .first(conn)
            .optional()
    }

    /// Those of `ids` that belong to `owner` (any status; the caller judges which may post).
    pub fn find_many_for_owner(
        conn: &mut PgConnection,
        ids: &[AccountId],
        owner: &OwnerId,
    ) -> QueryResult<Vec<Account>> {
        social_accounts::table
            .filter(social_accounts::id.eq_any(ids))
            .filter(social_accounts::owner_id.eq(owner))
            .select(Account::as_select())
            .load(conn)
    }

    /// Several accounts by id, whoever owns them (the publisher's batch load).
    pub fn find_many(conn: &mut PgConnection, ids: &[AccountId]) -> QueryResult<Vec<Account>> {
        social_accounts::table
            .filter(social_accounts::id.eq_any(ids))
            .select(Account::as_select())
            .load(conn)
    }

    /// `owner`'s accounts that are not disconnected, oldest first, after `after` (cursor).
    pub fn list_for_owner(
        conn: &mut PgConnection,
        owner: &OwnerId,
        after: Option<(DateTime<Utc>, AccountId)>,
        limit: i64,
    ) -> QueryResult<Vec<Account>> {
        let mut query = social_accounts::table
            .filter(social_accounts::owner_id.eq(owner))
            .filter(social_accounts::status.ne(AccountStatus::Disconnected))
            .into_boxed();
        if let Some((created_at, id)) = after {
            query = query.filter(
                social_accounts::created_at
                    .gt(created_at)
                    .or(social_accounts::created_at
                        .eq(created_at)
                        .and(social_accounts::id.gt(id))),
            );
        }
        query
            .order((social_accounts::created_at.asc(), social_accounts::id.asc()))
            .limit(limit)
            .select(Account::as_select())
            .load(conn)
    }

    /// Marks `owner`'s account as disconnecting, unless it already is (or is gone). Returns
    /// the account when this call changed it.
    pub fn mark_disconnecting(
        conn: &mut PgConnection,
        id: AccountId,
        owner: &OwnerId,
    ) -> QueryResult<Option<Account>> {
        diesel::update(
            social_accounts::table
                .find(id)
                .filter(social_accounts::owner_id.eq(owner))
                .filter(
                    social_accounts::status
                        .ne_all([AccountStatus::Disconnecting, AccountStatus::Disconnected]),
                ),
        )
        .set((
            social_accounts::status.eq(AccountStatus::Disconnecting),
            social_accounts::updated_at.eq(diesel::dsl::now),
        ))
        .returning(Account::as_returning())
        .get_result(conn)
        .optional()
    }

    /// Applies a sync's results.
    pub fn record_sync(
        conn: &mut PgConnection,
        id: AccountId,
        form: &AccountSyncForm,
    ) -> QueryResult<Account> {
        diesel::update(social_accounts::table.find(id))
            .set((form, social_accounts::updated_at.eq(diesel::dsl::now)))
            .returning(Account::as_returning())
            .get_result(conn)
    }

    /// Wipes every token column and marks the account disconnected (kept for history).
    pub fn wipe_tokens_and_disconnect(
        conn: &mut PgConnection,
        id: AccountId,
    ) -> QueryResult<usize> {
        diesel::update(social_accounts::table.find(id))
            .set((
                social_accounts::access_token_enc.eq(None::<Vec<u8>>),
                social_accounts::refresh_token_enc.eq(None::<Vec<u8>>),
                social_accounts::token_key_id.eq(None::<String>),
                social_accounts::next_refresh_at.eq(None::<DateTime<Utc>>),
                social_accounts::status.eq(AccountStatus::Disconnected),
                social_accounts::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)
    }

    /// Records a failure the user should see on the account.
    pub fn record_error(
        conn: &mut PgConnection,
        id: AccountId,
        message: &str,
        health_score: i16,
    ) -> QueryResult<usize> {
        diesel::update(social_accounts::table.find(id))
            .set((
                social_accounts::last_error.eq(message),
                social_accounts::health_score.eq(health_score),
                social_accounts::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)
    }

    /// Stores a recomputed health score.
    pub fn set_health(
        conn: &mut PgConnection,
        id: AccountId,
        health_score: i16,
    ) -> QueryResult<usize> {
        diesel::update(social_accounts::table.find(id))
            .set(social_accounts::health_score.eq(health_score))
            .execute(conn)
    }

    /// Active accounts whose last sync is older than `before` (or never happened), oldest first.
    pub fn due_for_sync(
        conn: &mut PgConnection,
        before: DateTime<Utc>,
        limit: i64,
    ) -> QueryResult<Vec<AccountId>> {
        social_accounts::table
            .filter(social_accounts::status.eq_any([
                AccountStatus::Active,
                AccountStatus::Expiring,
                AccountStatus::RateLimited,
            ]))
            .filter(
                social_accounts::last_synced_at
                    .lt(before)
                    .or(social_accounts::last_synced_at.is_null()),
            )
            .order(social_accounts::last_synced_at.asc().nulls_first())
            .limit(limit)
            .select(social_accounts::id)
            .load(conn)
    }
}
