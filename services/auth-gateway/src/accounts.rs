//! Reading and changing a user's accounts. Every query is scoped to the caller: another
//! user's account is indistinguishable from a missing one. The caller also sees the env
//! account (the deployment's Facebook Page, `db::env_accounts`) unless they have a Facebook
//! account of their own; it is read-only: disconnecting, syncing or refreshing it is a 409
//! `env_account_read_only`.

use db::{
    accounts::{Account, AccountListing},
    domain::{AccountId, AccountStatus, OwnerId},
};
use events::{AccountDisconnectRequested, AccountSyncRequested, ExpiringReason, TokenExpiring};

use crate::{
    cursor::PageRequest,
    error::ApiError,
    state::{AppState, OUTBOX},
};

/// A page of the owner's accounts, oldest first, and the cursor of the next one.
pub async fn list(
    state: &AppState,
    owner: OwnerId,
    page: PageRequest<AccountId>,
) -> Result<(Vec<AccountListing>, Option<String>), ApiError> {
    let accounts = state
        .db
        .query(move |conn| Account::list_visible_to(conn, &owner, page.position, page.fetch()))
        .await?;
    Ok(page.page(accounts, |a| (a.created_at, a.id)))
}

/// One of the owner's accounts.
pub async fn get(state: &AppState, owner: OwnerId, id: AccountId) -> Result<Account, ApiError> {
    state
        .db
        .query(move |conn| Account::find_visible_to(conn, id, &owner))
        .await?
        .filter(|a| a.status != AccountStatus::Disconnected)
        .ok_or(ApiError::NotFound("account"))
}

/// Asks account-registry for a fresh sync.
pub async fn request_sync(state: &AppState, owner: OwnerId, id: AccountId) -> Result<(), ApiError> {
    in_transaction_with_active_account(state, owner, id, |conn, account| {
        OUTBOX.write(
            conn,
            AccountSyncRequested {
                account_id: account.id,
                owner_id: account.owner_id.clone(),
                platform: account.platform,
            },
        )?;
        Ok(())
    })
    .await
}

/// Asks token-refresher to refresh the account's token now.
pub async fn request_refresh(
    state: &AppState,
    owner: OwnerId,
    id: AccountId,
) -> Result<(), ApiError> {
    in_transaction_with_active_account(state, owner, id, |conn, account| {
        OUTBOX.write(
            conn,
            TokenExpiring {
                account_id: account.id,
                platform: account.platform,
                expires_at: account.token_expires_at,
                urgent: false,
                reason: ExpiringReason::Requested,
            },
        )?;
        Ok(())
    })
    .await
}

/// Marks the account `disconnecting` and asks account-registry to revoke and wipe its tokens.
/// Asking again while it is under way is not an error: the current state is returned.
pub async fn disconnect(
    state: &AppState,
    owner: OwnerId,
    id: AccountId,
) -> Result<Account, ApiError> {
    state
        .db
        .run(move |conn| {
            db::Connection::transaction(conn, |conn| {
                match Account::mark_disconnecting(conn, id, &owner)? {
                    Some(account) => {
                        OUTBOX.write(
                            conn,
                            AccountDisconnectRequested {
                                account_id: account.id,
                                owner_id: account.owner_id.clone(),
                                platform: account.platform,
                            },
                        )?;
                        Ok(account)
                    }
                    None => match Account::find_visible_to(conn, id, &owner)? {
                        Some(account) if account.is_env() => Err(read_only()),
                        found => found
                            .filter(|a| a.status == AccountStatus::Disconnecting)
                            .ok_or(ApiError::NotFound("account")),
                    },
                }
            })
        })
        .await
}

async fn in_transaction_with_active_account<F>(
    state: &AppState,
    owner: OwnerId,
    id: AccountId,
    f: F,
) -> Result<(), ApiError>
where
    F: FnOnce(&mut db::PgConnection, &Account) -> Result<(), ApiError> + Send + 'static,
{
    state
        .db
        .run(move |conn| {
            db::Connection::transaction(conn, |conn| {
                let account = Account::find_visible_to(conn, id, &owner)?
                    .ok_or(ApiError::NotFound("account"))?;
                if account.is_env() {
                    return Err(read_only());
                }
                match account.status {
                    AccountStatus::Disconnected => Err(ApiError::NotFound("account")),
                    AccountStatus::Disconnecting => Err(ApiError::Conflict {
                        code: "account_disconnecting",
                        message: "the account is being disconnected".into(),
                    }),
                    _ => f(conn, &account),
                }
            })
        })
        .await
}

/// The 409 of every change asked of the env account: it belongs to the deployment, which
/// configures it (`[env_account]`), keeps it synced, and never refreshes its Page token.
pub(crate) fn read_only() -> ApiError {
    ApiError::Conflict {
        code: "env_account_read_only",
        message: "this Facebook Page is configured by the deployment and is read-only: it cannot \
                  be disconnected, paused, synced or refreshed; connect your own Facebook account \
                  instead"
            .into(),
    }
}
