//! Reading and changing a user's accounts. Every query is scoped to the caller: another
//! user's account is indistinguishable from a missing one.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use chrono::{DateTime, Utc};
use db::{
    accounts::Account,
    domain::{AccountId, AccountStatus, OwnerId},
};
use events::{AccountDisconnectRequested, AccountSyncRequested, ExpiringReason, TokenExpiring};

use crate::{
    error::ApiError,
    state::{AppState, OUTBOX},
};

/// Largest page of `GET /v1/accounts`.
pub const MAX_PAGE: i64 = 100;

/// A page of the owner's accounts and the cursor of the next one.
pub async fn list(
    state: &AppState,
    owner: OwnerId,
    cursor: Option<String>,
    limit: Option<i64>,
) -> Result<(Vec<Account>, Option<String>), ApiError> {
    let limit = limit.unwrap_or(50).clamp(1, MAX_PAGE);
    let after = cursor.as_deref().map(decode_cursor).transpose()?;
    let mut accounts = state
        .db
        .query(move |conn| Account::list_for_owner(conn, &owner, after, limit + 1))
        .await?;
    let next = if accounts.len() as i64 > limit {
        accounts.truncate(limit as usize);
        accounts.last().map(|a| encode_cursor(a.created_at, a.id))
    } else {
        None
    };
    Ok((accounts, next))
}

/// One of the owner's accounts.
pub async fn get(state: &AppState, owner: OwnerId, id: AccountId) -> Result<Account, ApiError> {
    state
        .db
        .query(move |conn| Account::find_for_owner(conn, id, &owner))
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
                    None => Account::find_for_owner(conn, id, &owner)?
                        .filter(|a| a.status == AccountStatus::Disconnecting)
                        .ok_or(ApiError::NotFound("account")),
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
                let account = Account::find_for_owner(conn, id, &owner)?
                    .ok_or(ApiError::NotFound("account"))?;
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

fn encode_cursor(created_at: DateTime<Utc>, id: AccountId) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}|{id}", created_at.to_rfc3339()))
}

fn decode_cursor(cursor: &str) -> Result<(DateTime<Utc>, AccountId), ApiError> {
    let invalid =
        || ApiError::bad_request("invalid_cursor", "`cursor` is not one this API returned");
    let raw = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    let text = String::from_utf8(raw).map_err(|_| invalid())?;
    let (at, id) = text.split_once('|').ok_or_else(invalid)?;
    let at = DateTime::parse_from_rfc3339(at)
        .map_err(|_| invalid())?
        .with_timezone(&Utc);
    Ok((at, id.parse().map_err(|_| invalid())?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips() {
        let at = Utc::now();
        let id = AccountId::new();
        let (back_at, back_id) = decode_cursor(&encode_cursor(at, id)).unwrap();
        assert_eq!((back_at, back_id), (at, id));
    }

    #[test]
    fn a_forged_cursor_is_a_clear_400() {
        let err = decode_cursor("not-a-cursor").unwrap_err();
        assert!(matches!(
            err,
            ApiError::BadRequest {
                code: "invalid_cursor",
                ..
            }
        ));
    }
}
