//! Account lifecycle: the first sync after a connection, on-demand and periodic syncs, and
//! disconnection (revoke at the platform, wipe the tokens).
//!
//! Platform calls happen before the database transaction; the transaction then applies the
//! result and writes the event, so a crash in between only repeats a harmless read.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use db::{
    account_metrics::AccountMetricsSample,
    accounts::{Account, AccountSyncForm},
    domain::{AccountId, AccountStatus, Platform},
    instance_apps::InstanceApp,
    Db, DbError, PgConnection,
};
use events::{
    AccountConnected, AccountDisconnectRequested, AccountDisconnected, AccountSyncRequested,
    AccountSynced, Event, Handler, HandlerError, Incoming, Outbox, TokenRefreshFailed,
    TokenRefreshed,
};
use platform_adapters::{
    AccountRef, AdapterError, ClientCredentials, PlatformAdapter, Profile, Registry, Revocation,
    Stats,
};
use service_kit::tokens;
use vault::Vault;

use crate::health::{self, HealthFacts};

/// The outbox of this service.
pub const OUTBOX: Outbox = Outbox::new(crate::SERVICE);

/// What a sync found at the platform.
#[derive(Debug)]
pub enum Fetched {
    /// Fresh profile and counts.
    Ok(Profile, Stats),
    /// The platform refused or failed; recorded on the account.
    Failed(AdapterError),
}

/// The registry's work, shared by the event handler and the periodic sync.
#[derive(Clone)]
pub struct Lifecycle {
    db: Db,
    vault: Arc<Vault>,
    adapters: Registry,
    sync_interval: Duration,
}

impl std::fmt::Debug for Lifecycle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lifecycle")
            .field("sync_interval", &self.sync_interval)
            .finish_non_exhaustive()
    }
}

impl Lifecycle {
    /// The lifecycle over `db`, decrypting with `vault` and calling platforms through `adapters`.
    pub fn new(db: Db, vault: Arc<Vault>, adapters: Registry, sync_interval: Duration) -> Self {
        Self {
            db,
            vault,
            adapters,
            sync_interval,
        }
    }

    async fn account(&self, id: AccountId) -> Result<Option<Account>, DbError> {
        self.db.query(move |conn| Account::find(conn, id)).await
    }

    async fn adapter_for(
        &self,
        account: &Account,
    ) -> Result<Arc<dyn PlatformAdapter>, HandlerError> {
        let app = match self.adapters.instance_apps(account.platform) {
            Some(_) => Some(self.instance_app(account).await?),
            None => None,
        };
        self.adapters
            .for_account(account.platform, account.instance_url.as_deref(), app)
            .map_err(|e| HandlerError::Permanent(e.to_string()))
    }

    /// The credentials of our app on the account's instance, for platforms with an app per
    /// instance.
    async fn instance_app(&self, account: &Account) -> Result<ClientCredentials, HandlerError> {
        let instance = account.instance_url.clone().ok_or_else(|| {
            HandlerError::Permanent(format!("{} account without instance", account.platform))
        })?;
        let lookup = instance.clone();
        let app = self
            .db
            .query(move |conn| InstanceApp::find_by_instance(conn, &lookup))
            .await?
            .ok_or_else(|| {
                HandlerError::Permanent(format!(
                    "no {} app registered for {instance}",
                    account.platform
                ))
            })?;
        let client_secret = self
            .vault
            .decrypt(
                &app.client_secret_enc,
                &tokens::instance_app_secret_aad(&app.instance),
            )
            .map_err(|e| HandlerError::Permanent(e.to_string()))?;
        Ok(ClientCredentials {
            client_id: app.client_id,
            client_secret,
        })
    }

    /// Reads profile and counts from the platform. `None` when there is nothing to sync (the
    /// account is gone, disconnecting, or has no token).
    pub async fn fetch(&self, id: AccountId) -> Result<Option<(Account, Fetched)>, HandlerError> {
        let Some(account) = self.account(id).await? else {
            tracing::info!(account.id = %id, "account no longer exists; nothing to sync");
            return Ok(None);
        };
        if matches!(
            account.status,
            AccountStatus::Disconnecting | AccountStatus::Disconnected
        ) {
            return Ok(None);
        }
        let Some(access_token) = tokens::access_token(&self.vault, &account)
            .map_err(|e| HandlerError::Permanent(e.to_string()))?
        else {
            return Ok(None);
        };
        let adapter = self.adapter_for(&account).await?;
        let refresh_token = tokens::refresh_token(&self.vault, &account)
            .map_err(|e| HandlerError::Permanent(e.to_string()))?;
        let account_ref = AccountRef {
            platform_account_id: &account.platform_account_id,
            access_token: &access_token,
            refresh_token: refresh_token.as_ref(),
            instance_url: account.instance_url.as_deref(),
        };
        let fetched = match adapter.profile_and_stats(&account_ref).await {
            Ok((profile, stats)) => Fetched::Ok(profile, stats),
            Err(err) => {
                tracing::warn!(account.id = %account.id, platform = %account.platform, error = %err, "sync failed at the platform");
                Fetched::Failed(err)
            }
        };
        Ok(Some((account, fetched)))
    }

    /// Applies a fetch: profile, counts, health, error; emits `account.synced` on success.
    pub fn apply_sync(
        &self,
        conn: &mut PgConnection,
        account: &Account,
        fetched: Fetched,
        now: DateTime<Utc>,
    ) -> Result<(), HandlerError> {
        let facts = |status, has_error, last_synced_at| HealthFacts {
            status,
            token_expires_at: account.token_expires_at,
            has_refresh_token: account.refresh_token_enc.is_some(),
            last_synced_at,
            has_error,
        };
        match fetched {
            Fetched::Ok(profile, stats) => {
                let status = account.status;
                let health_score =
                    health::score(&facts(status, false, Some(now)), now, self.sync_interval);
                let form = AccountSyncForm {
                    display_name: profile
                        .display_name
                        .or_else(|| account.display_name.clone()),
                    handle: profile.handle.or_else(|| account.handle.clone()),
                    avatar_url: profile.avatar_url.or_else(|| account.avatar_url.clone()),
                    profile_url: profile.profile_url.or_else(|| account.profile_url.clone()),
                    followers_count: stats.followers_count,
                    following_count: stats.following_count,
                    posts_count: stats.posts_count,
                    health_score,
                    last_synced_at: now,
                    last_error: Some(None),
                    status: None,
                };
                let updated = Account::record_sync(conn, account.id, &form)?;
                // The account's series: one sample per successful sync, same transaction.
                AccountMetricsSample::insert(
                    conn,
                    &AccountMetricsSample {
                        account_id: updated.id,
                        synced_at: now,
                        followers: updated.followers_count,
                        following: updated.following_count,
                        posts: updated.posts_count,
                    },
                )?;
                OUTBOX.write(
                    conn,
                    AccountSynced {
                        account_id: updated.id,
                        owner_id: updated.owner_id.clone(),
                        platform: updated.platform,
                        status: updated.status,
                        health_score: updated.health_score,
                        followers_count: updated.followers_count,
                        following_count: updated.following_count,
                        posts_count: updated.posts_count,
                        synced_at: now,
                    },
                )?;
            }
            Fetched::Failed(err) => {
                let message = if account.is_env() {
                    env_account_message(&err)
                } else {
                    user_message(account.platform, &err)
                };
                let health_score = health::score(
                    &facts(account.status, true, account.last_synced_at),
                    now,
                    self.sync_interval,
                );
                Account::record_error(conn, account.id, &message, health_score)?;
            }
        }
        Ok(())
    }

    /// Revokes the grant at the platform, best effort. `None` when the account is not
    /// (or no longer) waiting to be disconnected.
    pub async fn revoke(&self, id: AccountId) -> Result<Option<(Account, bool)>, HandlerError> {
        let Some(account) = self.account(id).await? else {
            return Ok(None);
        };
        if account.status != AccountStatus::Disconnecting {
            return Ok(None);
        }
        let revoked = match self.try_revoke(&account).await {
            Ok(Revocation::Revoked) => true,
            Ok(Revocation::NotSupported) => false,
            Err(err) => {
                // Never block a disconnect on the platform: the tokens are wiped either way.
                tracing::warn!(account.id = %account.id, platform = %account.platform, error = %err, "revocation failed; wiping the tokens anyway");
                false
            }
        };
        Ok(Some((account, revoked)))
    }

    async fn try_revoke(&self, account: &Account) -> Result<Revocation, AdapterError> {
        let unsupported = |e: String| AdapterError::Unsupported { what: e };
        let Some(access_token) =
            tokens::access_token(&self.vault, account).map_err(|e| unsupported(e.to_string()))?
        else {
            return Ok(Revocation::NotSupported);
        };
        let refresh_token =
            tokens::refresh_token(&self.vault, account).map_err(|e| unsupported(e.to_string()))?;
        let adapter = self
            .adapter_for(account)
            .await
            .map_err(|e| unsupported(e.to_string()))?;
        let account_ref = AccountRef {
            platform_account_id: &account.platform_account_id,
            access_token: &access_token,
            refresh_token: refresh_token.as_ref(),
            instance_url: account.instance_url.as_deref(),
        };
        adapter.revoke(&account_ref).await
    }

    /// Wipes the tokens, marks the account disconnected and emits `account.disconnected`.
    pub fn apply_disconnect(
        conn: &mut PgConnection,
        account: &Account,
        revoked: bool,
    ) -> Result<(), HandlerError> {
        Account::wipe_tokens_and_disconnect(conn, account.id)?;
        OUTBOX.write(
            conn,
            AccountDisconnected {
                account_id: account.id,
                owner_id: account.owner_id.clone(),
                platform: account.platform,
                revoked,
            },
        )?;
        Ok(())
    }

    /// Syncs one account outside any event (the periodic sync).
    pub async fn sync_now(&self, id: AccountId) -> Result<(), HandlerError> {
        let Some((account, fetched)) = self.fetch(id).await? else {
            return Ok(());
        };
        let this = self.clone();
        self.db
            .run(move |conn| {
                db::Connection::transaction(conn, |conn| {
                    this.apply_sync(conn, &account, fetched, Utc::now())
                })
            })
            .await
    }

    /// Accounts whose last sync is older than the interval.
    pub async fn due_for_sync(&self, limit: i64) -> Result<Vec<AccountId>, DbError> {
        let before = Utc::now() - self.sync_interval;
        self.db
            .query(move |conn| Account::due_for_sync(conn, before, limit))
            .await
    }

    /// Recomputes the health score after token-refresher changed the account's tokens or
    /// status (account-registry owns the score; token-refresher only reports).
    async fn rescore(&self, incoming: &Incoming, id: AccountId) -> Result<(), HandlerError> {
        let interval = self.sync_interval;
        incoming
            .commit(move |conn| {
                let Some(account) = Account::find(conn, id)? else {
                    return Ok(());
                };
                let facts = HealthFacts {
                    status: account.status,
                    token_expires_at: account.token_expires_at,
                    has_refresh_token: account.refresh_token_enc.is_some(),
                    last_synced_at: account.last_synced_at,
                    has_error: account.last_error.is_some(),
                };
                Account::set_health(conn, id, health::score(&facts, Utc::now(), interval))?;
                Ok(())
            })
            .await?;
        Ok(())
    }

    async fn sync_event(&self, incoming: &Incoming, id: AccountId) -> Result<(), HandlerError> {
        let fetched = self.fetch(id).await?;
        let this = self.clone();
        incoming
            .commit(move |conn| match fetched {
                Some((account, fetched)) => this.apply_sync(conn, &account, fetched, Utc::now()),
                None => Ok(()),
            })
            .await?;
        Ok(())
    }
}

/// The env account's failure in words: users cannot reconnect it, the deployment must act.
fn env_account_message(err: &AdapterError) -> String {
    match err {
        AdapterError::NeedsReauth { .. } => "Facebook no longer accepts this deployment's Page \
             token; its operators must configure a new one"
            .to_owned(),
        other => user_message(Platform::Facebook, other),
    }
}

/// What the user must do, in words, for a failure on `platform`.
fn user_message(platform: Platform, err: &AdapterError) -> String {
    match err {
        AdapterError::NeedsReauth { .. } => format!(
            "reconnect your {platform} account: {platform} no longer accepts Postbridge's access"
        ),
        AdapterError::RateLimited { .. } => {
            format!("{platform} is rate limiting this account; the next sync will try again")
        }
        AdapterError::AppRateLimited { .. } => format!(
            "{platform} is rate limiting this application for now; the next sync will try again"
        ),
        AdapterError::Transient { .. } | AdapterError::OutcomeUnknown { .. } => {
            format!("{platform} could not be reached; the next sync will try again")
        }
        AdapterError::Rejected { message, .. } => format!("{platform} refused the sync: {message}"),
        AdapterError::Unsupported { what } => format!("{platform} does not support this: {what}"),
    }
}

impl Handler for Lifecycle {
    async fn handle(&self, incoming: &Incoming) -> Result<(), HandlerError> {
        match incoming.envelope.event_type.as_str() {
            AccountConnected::TYPE => {
                self.sync_event(incoming, incoming.decode::<AccountConnected>()?.account_id)
                    .await
            }
            AccountSyncRequested::TYPE => {
                self.sync_event(
                    incoming,
                    incoming.decode::<AccountSyncRequested>()?.account_id,
                )
                .await
            }
            TokenRefreshed::TYPE => {
                self.rescore(incoming, incoming.decode::<TokenRefreshed>()?.account_id)
                    .await
            }
            TokenRefreshFailed::TYPE => {
                self.rescore(
                    incoming,
                    incoming.decode::<TokenRefreshFailed>()?.account_id,
                )
                .await
            }
            AccountDisconnectRequested::TYPE => {
                let id = incoming.decode::<AccountDisconnectRequested>()?.account_id;
                let revoked = self.revoke(id).await?;
                incoming
                    .commit(move |conn| match revoked {
                        Some((account, revoked)) => {
                            Lifecycle::apply_disconnect(conn, &account, revoked)
                        }
                        None => Ok(()),
                    })
                    .await?;
                Ok(())
            }
            other => {
                tracing::warn!(event.type = other, "event type not handled here; acknowledging");
                Ok(())
            }
        }
    }
}
