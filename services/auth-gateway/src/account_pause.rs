//! Pausing and resuming an account: its due posts wait while it is paused (the publisher's
//! dispatcher skips them), its tokens are still refreshed and new posts are still accepted.
//! Both are idempotent: asking again answers the account as it is, with no second event.

use chrono::Utc;
use db::{
    accounts::Account,
    domain::{AccountId, AccountStatus, OwnerId},
};
use events::{AccountPaused, AccountResumed};

use crate::{
    error::ApiError,
    state::{AppState, OUTBOX},
};

/// Pauses (`paused`) or resumes the owner's account, with `account.paused` /
/// `account.resumed` in the same transaction when it changed. `account.resumed` wakes the
/// publisher's dispatcher, so the held posts go out at once.
pub async fn set_paused(
    state: &AppState,
    owner: OwnerId,
    id: AccountId,
    paused: bool,
) -> Result<Account, ApiError> {
    state
        .db
        .run(move |conn| {
            db::Connection::transaction(conn, |conn| {
                let now = Utc::now();
                // The env account is visible to users who do not own it; it is the
                // deployment's, so it is read-only here as everywhere (409, not 404).
                if Account::find_visible_to(conn, id, &owner)?.is_some_and(|a| a.is_env()) {
                    return Err(crate::accounts::read_only());
                }
                let Some(account) = Account::set_paused(conn, id, &owner, paused, now)? else {
                    // Already so (idempotent), or not the owner's: 404 then.
                    return Account::find_for_owner(conn, id, &owner)?
                        .filter(|a| a.status != AccountStatus::Disconnected)
                        .ok_or(ApiError::NotFound("account"));
                };
                if paused {
                    OUTBOX.write(
                        conn,
                        AccountPaused {
                            account_id: account.id,
                            owner_id: account.owner_id.clone(),
                            platform: account.platform,
                            paused_at: now,
                        },
                    )?;
                } else {
                    OUTBOX.write(
                        conn,
                        AccountResumed {
                            account_id: account.id,
                            owner_id: account.owner_id.clone(),
                            platform: account.platform,
                            resumed_at: now,
                        },
                    )?;
                }
                Ok(account)
            })
        })
        .await
}
