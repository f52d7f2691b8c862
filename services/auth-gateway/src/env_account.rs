//! Publishing to the env account (the deployment's own Facebook Page, `db::env_accounts`):
//! allowed only where the deployment says so (`[env_account] allow_publishing`). Which users
//! see it, and that it is read-only, is `crate::accounts`' business.

use db::{accounts::Account, domain::AccountId, PgConnection};
use serde_json::json;

use crate::error::ApiError;

/// Refuses a post that names the env account while `allowed` is false: a 422
/// `env_account_publishing_disabled` naming it, so the frontend can say why and drop it.
/// Runs after the targets were resolved, so every id is one the caller sees.
pub fn check_publishing(
    conn: &mut PgConnection,
    account_ids: &[AccountId],
    allowed: bool,
) -> Result<(), ApiError> {
    if allowed || account_ids.is_empty() {
        return Ok(());
    }
    let env: Vec<AccountId> = db::env_accounts::env_ids(&Account::find_many(conn, account_ids)?);
    if env.is_empty() {
        return Ok(());
    }
    Err(ApiError::Unprocessable {
        code: "env_account_publishing_disabled",
        message: format!(
            "this deployment does not publish to its own Facebook Page (env account {}); \
             remove it from `account_ids`, or connect your own Facebook account",
            env.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        details: json!({ "account_ids": env }),
    })
}
