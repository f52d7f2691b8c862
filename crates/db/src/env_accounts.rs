//! The env account: the deployment's own Facebook Page, configured by token
//! (`[env_account] facebook_page_token`), shown read-only to every user who has no Facebook
//! account of their own.
//!
//! It is a real row of `social_accounts` (so the publisher and the sync treat it like any other
//! Page, its token sealed by the vault like any other), owned by the reserved owner
//! [`ENV_OWNER`]. No user can be that owner: the gateway refuses it as a token subject. Which
//! users see it is decided here, in the queries every account read of the gateway goes through
//! ([`Account::list_visible_to`], [`Account::find_visible_to`],
//! [`Account::find_many_visible_to`]): a user's own accounts, plus each live env account of a
//! platform on which the user has no live account of their own.
//!
//! Never refreshed: a Page token does not expire. It has no `next_refresh_at` (a check
//! constraint keeps it so) and token-refresher's claims skip [`ENV_OWNER`] (see `refresh.rs`).

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use domain::{AccountId, AccountStatus, OwnerId};

use crate::{
    accounts::{Account, AccountListing},
    schema::social_accounts,
};

/// The owner of env accounts. Not a possible `sub` of a user's token (the gateway refuses it).
pub const ENV_OWNER: &str = "postbridge:env";

/// [`ENV_OWNER`] as an owner id.
pub fn env_owner() -> OwnerId {
    OwnerId(ENV_OWNER.to_owned())
}

/// `NOT EXISTS (a live account of <owner> on this row's platform)`: the correlated subquery of
/// [`Account::visible_to`], which diesel's DSL cannot say (a subquery may not name the outer
/// table). A type of its own rather than `dsl::sql`, because a literal SQL fragment makes diesel
/// prepare the statement afresh on every call (two round trips and a plan instead of one
/// execution of the connection's cached statement); this fragment has a static query id, so
/// the statements around it are cached like any other.
#[derive(Debug, Clone, diesel::query_builder::QueryId)]
struct NoLiveAccountOfOwnerOnItsPlatform {
    owner: String,
}

impl diesel::Expression for NoLiveAccountOfOwnerOnItsPlatform {
    type SqlType = diesel::sql_types::Bool;
}

impl diesel::AppearsOnTable<social_accounts::table> for NoLiveAccountOfOwnerOnItsPlatform {}

impl diesel::expression::ValidGrouping<()> for NoLiveAccountOfOwnerOnItsPlatform {
    type IsAggregate = diesel::expression::is_aggregate::Never;
}

impl diesel::query_builder::QueryFragment<diesel::pg::Pg> for NoLiveAccountOfOwnerOnItsPlatform {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
    ) -> QueryResult<()> {
        out.push_sql("NOT EXISTS (SELECT 1 FROM social_accounts own WHERE own.owner_id = ");
        out.push_bind_param::<diesel::sql_types::Text, _>(&self.owner)?;
        out.push_sql(
            " AND own.platform = social_accounts.platform AND own.status <> 'disconnected')",
        );
        Ok(())
    }
}

impl Account {
    /// Whether this is an env account (configured by the deployment, read-only to users).
    pub fn is_env(&self) -> bool {
        self.owner_id.as_str() == ENV_OWNER
    }

    /// The filter "visible to `owner`": theirs, or a live env account of a platform they have
    /// no live account on. One statement (a correlated `NOT EXISTS` on the
    /// `(owner_id, platform, …)` unique index), so listing accounts costs no extra round trip.
    /// Status filters of the caller apply on top.
    fn visible_to(owner: &OwnerId) -> social_accounts::BoxedQuery<'static, diesel::pg::Pg> {
        let no_own_account_on_its_platform = NoLiveAccountOfOwnerOnItsPlatform {
            owner: owner.as_str().to_owned(),
        };
        social_accounts::table
            .filter(
                social_accounts::owner_id
                    .eq(owner.clone())
                    .or(social_accounts::owner_id
                        .eq(ENV_OWNER)
                        .and(social_accounts::status.ne(AccountStatus::Disconnected))
                        .and(no_own_account_on_its_platform)),
            )
            .into_boxed()
    }

    /// The accounts `owner` sees that are not disconnected, oldest first, after `after`
    /// (cursor): theirs and the env accounts visible to them, as shown to them.
    pub fn list_visible_to(
        conn: &mut PgConnection,
        owner: &OwnerId,
        after: Option<(DateTime<Utc>, AccountId)>,
        limit: i64,
    ) -> QueryResult<Vec<AccountListing>> {
        let mut query =
            Self::visible_to(owner).filter(social_accounts::status.ne(AccountStatus::Disconnected));
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
            .select(AccountListing::as_select())
            .load(conn)
    }

    /// One account `owner` sees (any status of theirs; an env account only while live and not
    /// hidden by one of theirs). Anything else is simply not found.
    pub fn find_visible_to(
        conn: &mut PgConnection,
        id: AccountId,
        owner: &OwnerId,
    ) -> QueryResult<Option<Account>> {
        Self::visible_to(owner)
            .filter(social_accounts::id.eq(id))
            .select(Account::as_select())
            .first(conn)
            .optional()
    }

    /// Those of `ids` that `owner` sees (drafts and posts may name the env account).
    pub fn find_many_visible_to(
        conn: &mut PgConnection,
        ids: &[AccountId],
        owner: &OwnerId,
    ) -> QueryResult<Vec<Account>> {
        Self::visible_to(owner)
            .filter(social_accounts::id.eq_any(ids.to_vec()))
            .select(Account::as_select())
            .load(conn)
    }

    /// The live env accounts (account-registry's start-up reconciliation).
    pub fn live_env_accounts(conn: &mut PgConnection) -> QueryResult<Vec<Account>> {
        social_accounts::table
            .filter(social_accounts::owner_id.eq(ENV_OWNER))
            .filter(
                social_accounts::status
                    .ne_all([AccountStatus::Disconnecting, AccountStatus::Disconnected]),
            )
            .select(Account::as_select())
            .load(conn)
    }
}

impl AccountListing {
    /// Whether this is an env account (see [`Account::is_env`]).
    pub fn is_env(&self) -> bool {
        self.owner_id.as_str() == ENV_OWNER
    }
}

/// Ids of `accounts` that are env accounts, each once.
pub fn env_ids(accounts: &[Account]) -> Vec<AccountId> {
    let mut seen = HashSet::new();
    accounts
        .iter()
        .filter(|a| a.is_env() && seen.insert(a.id))
        .map(|a| a.id)
        .collect()
}
