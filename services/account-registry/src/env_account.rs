//! The env account: the deployment's own Facebook Page, configured by token
//! (`[env_account] facebook_page_token`), which every user without a Facebook account of their
//! own sees read-only (`db::env_accounts`).
//!
//! At start, [`EnvAccount::reconcile`] makes the database agree with the configuration: with a
//! token, it reads the Page through the Facebook adapter's profile call (`GET /{page-id}` or,
//! without a configured id, `GET /me`, which a Page token answers with its Page), stores the
//! row of the reserved owner with the token sealed by the vault like any other, applies the
//! profile as a sync (name, picture, counts; `account.synced`), and retires env rows of any
//! other Page; without a token, it retires every env row (tokens wiped, `account.disconnected`).
//! From then on the row is synced on the periodic schedule like any other account. It is never
//! refreshed: a Page token does not expire (token-refresher's claims skip it).
//!
//! The token is only ever handed to the adapter and the vault; it is not logged, and the
//! adapter's errors are redacted of it.

use std::{sync::Arc, time::Duration};

use chrono::Utc;
use db::{
    accounts::{Account, AccountConnectForm},
    domain::{AccountId, AccountKind, AccountStatus, Platform},
    env_accounts::env_owner,
    Db,
};
use events::{CancellationToken, HandlerError};
use platform_adapters::{AccountRef, AdapterError, Registry};
use secrecy::SecretString;
use service_kit::{
    env_account::EnvAccountSettings,
    tokens::{self, ACCESS_TOKEN},
};
use vault::Vault;

use crate::lifecycle::{Fetched, Lifecycle};

/// What [`EnvAccount::reconcile`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reconciled {
    /// No token is configured; this many env rows were retired.
    NotConfigured {
        /// Env rows disconnected.
        retired: usize,
    },
    /// The configured Page is stored and synced as this account.
    Synced(AccountId),
}

/// Keeps the env account's row in line with `[env_account]`.
#[derive(Clone)]
pub struct EnvAccount {
    lifecycle: Lifecycle,
    db: Db,
    vault: Arc<Vault>,
    adapters: Registry,
    settings: EnvAccountSettings,
}

impl std::fmt::Debug for EnvAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnvAccount")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl EnvAccount {
    /// The env account of `settings`, written through `lifecycle`'s sync and disconnect.
    pub fn new(
        lifecycle: Lifecycle,
        db: Db,
        vault: Arc<Vault>,
        adapters: Registry,
        settings: EnvAccountSettings,
    ) -> Self {
        Self {
            lifecycle,
            db,
            vault,
            adapters,
            settings,
        }
    }

    /// Makes the stored env account agree with the configuration (see the module doc). A
    /// platform failure worth retrying is [`HandlerError::Retry`]; a refused token is
    /// [`HandlerError::Permanent`] (recorded on the row when there is one).
    pub async fn reconcile(&self) -> Result<Reconciled, HandlerError> {
        let Some(token) = self.settings.facebook_page_token().cloned() else {
            let retired = self.retire_except(None).await?;
            return Ok(Reconciled::NotConfigured { retired });
        };
        let node = self.settings.facebook_page_id().unwrap_or("me").to_owned();
        let adapter = self
            .adapters
            .for_account(Platform::Facebook, None, None)
            .map_err(|e| HandlerError::Permanent(e.to_string()))?;
        let fetched = adapter
            .profile_and_stats(&AccountRef {
                platform_account_id: &node,
                access_token: &token,
                refresh_token: None,
                instance_url: None,
            })
            .await;
        let (profile, stats) = match fetched {
            Ok(found) => found,
            Err(err) => return Err(self.refused(&node, err).await),
        };
        let page_id = profile.platform_account_id.clone();
        let this = self.clone();
        let id = self
            .db
            .run(move |conn| {
                db::Connection::transaction(conn, |conn| {
                    let account = this.store(conn, &page_id, &token)?;
                    this.lifecycle.apply_sync(
                        conn,
                        &account,
                        Fetched::Ok(profile, stats),
                        Utc::now(),
                    )?;
                    Ok::<_, HandlerError>(account.id)
                })
            })
            .await?;
        self.retire_except(Some(id)).await?;
        tracing::info!(account.id = %id, platform = %Platform::Facebook, "env account stored and synced");
        Ok(Reconciled::Synced(id))
    }

    /// Inserts or updates the env row of Page `page_id` with `token` sealed for it. Never
    /// scheduled for a refresh (`next_refresh_at` stays empty).
    fn store(
        &self,
        conn: &mut db::PgConnection,
        page_id: &str,
        token: &SecretString,
    ) -> Result<Account, HandlerError> {
        let owner = env_owner();
        let existing = Account::find_for_connect(conn, &owner, Platform::Facebook, page_id)?;
        let id = existing.as_ref().map_or_else(AccountId::new, |a| a.id);
        let sealed = tokens::seal(&self.vault, id, ACCESS_TOKEN, token)
            .map_err(|e| HandlerError::Permanent(format!("sealing the env account token: {e}")))?;
        let form = AccountConnectForm {
            id,
            owner_id: owner,
            platform: Platform::Facebook,
            platform_account_id: page_id.to_owned(),
            account_kind: AccountKind::Page,
            display_name: existing.as_ref().and_then(|a| a.display_name.clone()),
            handle: existing.as_ref().and_then(|a| a.handle.clone()),
            avatar_url: existing.as_ref().and_then(|a| a.avatar_url.clone()),
            profile_url: existing.as_ref().and_then(|a| a.profile_url.clone()),
            instance_url: None,
            scopes: Vec::new(),
            access_token_enc: Some(sealed),
            refresh_token_enc: None,
            token_key_id: Some(self.vault.primary_key_id().to_owned()),
            token_expires_at: None,
            refresh_expires_at: None,
            status: AccountStatus::Active,
            last_error: None,
            followers_count: existing.as_ref().and_then(|a| a.followers_count),
            following_count: None,
            posts_count: None,
            refresh_attempts: 0,
            next_refresh_at: None,
        };
        Ok(if existing.is_some() {
            Account::update_connection(conn, &form)?
        } else {
            Account::insert(conn, &form)?
        })
    }

    /// Disconnects every live env row but `keep` (another Page, or no token any more).
    async fn retire_except(&self, keep: Option<AccountId>) -> Result<usize, HandlerError> {
        self.db
            .run(move |conn| {
                db::Connection::transaction(conn, |conn| {
                    let stale: Vec<Account> = Account::live_env_accounts(conn)?
                        .into_iter()
                        .filter(|a| Some(a.id) != keep)
                        .collect();
                    for account in &stale {
                        Lifecycle::apply_disconnect(conn, account, false)?;
                        tracing::info!(account.id = %account.id, "env account retired: no longer configured");
                    }
                    Ok::<_, HandlerError>(stale.len())
                })
            })
            .await
    }

    /// The error for a failed profile call; a refusal is also recorded on the stored row of
    /// that Page, so users see why its name may be stale.
    async fn refused(&self, node: &str, err: AdapterError) -> HandlerError {
        if err.is_retryable() {
            return HandlerError::Retry(err.to_string());
        }
        let message = format!("the configured Facebook Page token was refused: {err}");
        let node = node.to_owned();
        let recorded = message.clone();
        let result = self
            .db
            .run(move |conn| {
                if let Some(account) =
                    Account::find_for_connect(conn, &env_owner(), Platform::Facebook, &node)?
                {
                    Account::record_error(conn, account.id, &recorded, 0)?;
                }
                Ok::<_, HandlerError>(())
            })
            .await;
        if let Err(db_err) = result {
            tracing::warn!(error = %db_err, "cannot record the env account's error");
        }
        HandlerError::Permanent(message)
    }
}

/// Reconciles the env account at start, retrying every `retry` while the platform or the
/// database fails transiently; a refused token is logged once (it needs new configuration).
pub async fn reconcile_at_start(
    env_account: EnvAccount,
    retry: Duration,
    shutdown: CancellationToken,
) {
    loop {
        match env_account.reconcile().await {
            Ok(_) => return,
            Err(HandlerError::Permanent(why)) => {
                tracing::error!(error = %why, "env account not stored; fix [env_account] and restart");
                return;
            }
            Err(err) => {
                tracing::warn!(error = %err, retry_in_s = retry.as_secs(), "env account not reconciled yet");
            }
        }
        tokio::select! {
            () = tokio::time::sleep(retry) => {}
            () = shutdown.cancelled() => return,
        }
    }
}
