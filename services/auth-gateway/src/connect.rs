//! Connecting accounts: starting an authorization, exchanging the code in the callback,
//! completing it in the starting user's session, Bluesky's app passwords and Mastodon's
//! per-instance apps, and storing the result.
//!
//! Invariants enforced here:
//! - a `state` is 256 random bits, stored only as its sha256, bound to the user and platform,
//!   valid 10 minutes and consumed exactly once (`DELETE … RETURNING`);
//! - the callback never connects an account. It runs in whichever browser the platform
//!   redirected, which need not belong to the user who started the flow (a user could send
//!   their own authorize URL to someone else and collect that person's account). So it parks
//!   the exchanged tokens under a one-time ticket (256 random bits, stored as its sha256, valid
//!   [`TICKET_TTL_MINUTES`]) and hands the ticket to the frontend; only
//!   `POST /v1/connections/complete` with the starting user's token turns it into accounts.
//!   Any other user's attempt consumes the ticket, discards the tokens and emits nothing;
//! - a user holds at most `max_pending_connections` live authorizations and starts at most
//!   `connection_starts_per_minute` connections per minute (per gateway process);
//! - the PKCE verifier is encrypted at rest, bound to its state;
//! - tokens are encrypted before they touch the database, bound to their row and column, and
//!   written with `account.connected` in one transaction;
//! - a callback failure sends the browser back with a short error code only; details go to the
//!   log, without secrets.

use chrono::{DateTime, Duration, Utc};
use db::{
    accounts::{Account, AccountConnectForm},
    domain::{AccountId, AccountKind, AccountStatus, AuthKind, InstanceAppId, OwnerId, Platform},
    instance_apps::InstanceApp,
    oauth_states::OAuthState,
    pending_connections::PendingConnection,
};
use events::AccountConnected;
use oauth2::{CsrfToken, PkceCodeChallenge};
use platform_adapters::{
    AdapterError, AuthorizeParams, ClientCredentials, CodeExchange, Connection, InstanceAppsOf,
    PlatformAdapter, Profile, Stats, TokenSet,
};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use service_kit::tokens::{self, ACCESS_TOKEN, REFRESH_TOKEN};
use utoipa::ToSchema;
use vault::Aad;

use crate::{
    error::ApiError,
    state::{AppState, OUTBOX},
};

/// How long a started authorization stays valid.
const STATE_TTL_MINUTES: i64 = 10;

/// How long the frontend has to complete a connection after the callback: it does so as soon
/// as the browser lands, so a short life limits what a leaked redirect URL is worth.
pub const TICKET_TTL_MINUTES: i64 = 5;

/// Longest ticket worth looking up (ours are 43 characters).
const MAX_TICKET_LEN: usize = 128;

/// Body of `POST /v1/connections/complete`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteConnection {
    /// The `ticket` query parameter of the callback's redirect to the frontend.
    pub ticket: String,
}

/// Body of `POST /v1/connections/{platform}`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartConnection {
    /// Where to send the browser afterwards (must be on the allow-list); default: the first.
    #[serde(default)]
    pub redirect_to: Option<String>,
    /// Mastodon: the instance, e.g. `mastodon.social`.
    #[serde(default)]
    pub instance: Option<String>,
    /// Bluesky: handle or email.
    #[serde(default)]
    pub identifier: Option<String>,
    /// Bluesky: an app password (Settings → App passwords), never the main password.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub app_password: Option<SecretString>,
    /// Bluesky: the PDS, default `https://bsky.social`.
    #[serde(default)]
    pub service: Option<String>,
}

/// The outcome of starting a connection.
#[derive(Debug)]
pub enum Started {
    /// Send the browser here.
    Authorize(String),
    /// Connected at once (Bluesky).
    Connected(Box<Account>),
}

fn sha256(value: &str) -> Vec<u8> {
    ring::digest::digest(&ring::digest::SHA256, value.as_bytes())
        .as_ref()
        .to_vec()
}

fn verifier_aad(state_hash: &[u8]) -> Aad {
    Aad::new("oauth_states", hex::encode(state_hash), "pkce_verifier")
}

/// Starts connecting `platform` for `owner`.
pub async fn start(
    state: &AppState,
    owner: OwnerId,
    platform: Platform,
    request: StartConnection,
) -> Result<Started, ApiError> {
    state.connection_starts.check(&owner)?;
    let redirect_to = state.allowed_redirect(request.redirect_to.as_deref())?;
    if !state.adapters.is_configured(platform) {
        let env = platform.as_str().to_uppercase();
        return Err(ApiError::bad_request(
            "platform_not_configured",
            format!("{platform} is not configured on this server: set POSTBRIDGE__PLATFORMS__{env}__CLIENT_ID and POSTBRIDGE__PLATFORMS__{env}__CLIENT_SECRET"),
        ));
    }
    if state.adapters.descriptor(platform).auth_kind == AuthKind::AppPassword {
        return connect_with_password(state, owner, platform, request)
            .await
            .map(|account| Started::Connected(Box::new(account)));
    }
    if let Some(apps) = state.adapters.instance_apps(platform) {
        let input = request.instance.as_deref().ok_or_else(|| {
            ApiError::bad_request(
                "instance_required",
                format!("{platform} needs `instance`, the server your account is on, e.g. \"mastodon.social\""),
            )
        })?;
        let instance = apps.normalize(input).await?;
        let credentials = instance_app(state, platform, &instance).await?;
        let adapter = state
            .adapters
            .for_account(platform, Some(&instance), Some(credentials))?;
        return authorize(
            state,
            &owner,
            platform,
            adapter.as_ref(),
            redirect_to,
            Some(instance),
        )
        .await
        .map(Started::Authorize);
    }
    let adapter = state.adapters.for_connecting(platform).ok_or_else(|| {
        ApiError::bad_request(
            "platform_not_configured",
            format!("{platform} has no OAuth adapter"),
        )
    })?;
    authorize(state, &owner, platform, adapter.as_ref(), redirect_to, None)
        .await
        .map(Started::Authorize)
}

async fn authorize(
    state: &AppState,
    owner: &OwnerId,
    platform: Platform,
    adapter: &dyn PlatformAdapter,
    redirect_to: String,
    instance: Option<String>,
) -> Result<String, ApiError> {
    let csrf = CsrfToken::new_random_len(32);
    let state_value = csrf.secret().clone();
    let state_hash = sha256(&state_value);
    let (challenge, verifier) = if adapter.descriptor().pkce {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        (Some(challenge.as_str().to_owned()), Some(verifier))
    } else {
        (None, None)
    };
    let pkce_verifier_enc = verifier
        .map(|v| {
            state
                .vault
                .encrypt(v.secret().as_str(), &verifier_aad(&state_hash))
        })
        .transpose()?;
    let callback = state.callback_uri(platform);
    let url = adapter.authorize_url(&AuthorizeParams {
        state: &state_value,
        pkce_challenge: challenge.as_deref(),
        redirect_uri: &callback,
    })?;

    let now = Utc::now();
    let row = OAuthState {
        state_hash,
        owner_id: owner.clone(),
        platform,
        pkce_verifier_enc,
        redirect_to,
        instance,
        created_at: now,
        expires_at: now + Duration::minutes(STATE_TTL_MINUTES),
    };
    let cap = state.settings.max_pending_connections;
    let stored = state
        .db
        .query(move |conn| {
            OAuthState::purge_expired(conn, now)?;
            if PendingConnection::live_states(conn, &row.owner_id, now)? >= i64::from(cap) {
                return Ok(false);
            }
            OAuthState::insert(conn, &row).map(|_| true)
        })
        .await?;
    if !stored {
        return Err(ApiError::TooManyRequests {
            code: "too_many_pending_connections",
            message: format!(
                "{cap} connections are already waiting for the platform's answer; finish or \
                 abandon them (they expire after {STATE_TTL_MINUTES} minutes) before starting another"
            ),
            retry_after_secs: 60,
        });
    }
    tracing::info!(%platform, owner = %owner, "authorization started");
    Ok(url)
}

/// Query of the platform's redirect to `GET /v1/oauth/{platform}/callback`.
#[derive(Debug, Default, Deserialize)]
pub struct CallbackQuery {
    /// The authorization code.
    pub code: Option<String>,
    /// Our state, echoed back.
    pub state: Option<String>,
    /// Set when the user denied or the platform failed.
    pub error: Option<String>,
}

/// Exchanges the code of an authorization, parks the result for the user who started it and
/// returns where to send the browser: the state's `redirect_to` with
/// `?platform=<platform>&ticket=<ticket>` (see [`complete`]), or `?error=<code>`. `caller` is
/// the bearer's owner when the request carries one: a state started by someone else is then
/// refused.
pub async fn callback(
    state: &AppState,
    platform: Platform,
    query: CallbackQuery,
    caller: Option<OwnerId>,
) -> String {
    let redirect = callback_unobserved(state, platform, query, caller).await;
    crate::observe::connect_outcome(platform, redirect)
}

async fn callback_unobserved(
    state: &AppState,
    platform: Platform,
    query: CallbackQuery,
    caller: Option<OwnerId>,
) -> String {
    let fail = |target: &str, code: &str| with_query(target, &[("error", code)]);
    let Some(state_value) = query.state.filter(|s| !s.is_empty() && s.len() <= 512) else {
        return fail(&state.default_redirect(), "invalid_state");
    };
    let state_hash = sha256(&state_value);
    let pending = match state
        .db
        .query(move |conn| OAuthState::consume(conn, &state_hash, Utc::now()))
        .await
    {
        Ok(Some(pending)) => pending,
        Ok(None) => {
            tracing::warn!(%platform, "callback with an unknown, expired or already used state");
            return fail(&state.default_redirect(), "invalid_state");
        }
        Err(err) => {
            tracing::error!(error = %err, "cannot read oauth state");
            return fail(&state.default_redirect(), "server_error");
        }
    };
    if pending.platform != platform || caller.as_ref().is_some_and(|c| *c != pending.owner_id) {
        tracing::warn!(%platform, state_platform = %pending.platform, "callback state belongs to another platform or user");
        return fail(&pending.redirect_to, "invalid_state");
    }
    if let Some(error) = query.error {
        tracing::info!(%platform, %error, "the user or platform declined the authorization");
        return fail(
            &pending.redirect_to,
            if error == "access_denied" {
                "access_denied"
            } else {
                "authorization_failed"
            },
        );
    }
    let Some(code) = query.code.filter(|c| !c.is_empty()) else {
        return fail(&pending.redirect_to, "authorization_failed");
    };
    match exchange(state, &pending, &code).await {
        Ok(ticket) => {
            tracing::info!(%platform, owner = %pending.owner_id, "authorization exchanged; waiting for the user to complete it");
            with_query(
                &pending.redirect_to,
                &[("platform", platform.as_str()), ("ticket", &ticket)],
            )
        }
        Err(err) => {
            let code = match &err {
                ApiError::Platform(
                    AdapterError::RateLimited { .. } | AdapterError::AppRateLimited { .. },
                ) => "platform_busy",
                ApiError::Platform(AdapterError::Transient { .. }) => "platform_unavailable",
                ApiError::Platform(AdapterError::Rejected { code, .. })
                    if code == "no_accounts" =>
                {
                    "no_accounts"
                }
                ApiError::Internal(_) => "server_error",
                ApiError::Unavailable(_) => "temporarily_unavailable",
                _ => "authorization_failed",
            };
            tracing::warn!(%platform, error = %err, "callback failed");
            fail(&pending.redirect_to, code)
        }
    }
}

/// Exchanges the code and parks the connections under a new ticket, which it returns.
async fn exchange(state: &AppState, pending: &OAuthState, code: &str) -> Result<String, ApiError> {
    let verifier = pending
        .pkce_verifier_enc
        .as_deref()
        .map(|enc| state.vault.decrypt(enc, &verifier_aad(&pending.state_hash)))
        .transpose()?;
    let redirect_uri = state.callback_uri(pending.platform);
    let exchange = CodeExchange {
        code,
        pkce_verifier: verifier.as_ref().map(|v| v.expose_secret()),
        redirect_uri: &redirect_uri,
    };
    let adapter = if state.adapters.instance_apps(pending.platform).is_some() {
        let instance = pending.instance.clone().ok_or_else(|| {
            ApiError::internal(anyhow::anyhow!(
                "{} state without instance",
                pending.platform
            ))
        })?;
        let credentials = instance_app(state, pending.platform, &instance).await?;
        state
            .adapters
            .for_account(pending.platform, Some(&instance), Some(credentials))?
    } else {
        state
            .adapters
            .for_connecting(pending.platform)
            .ok_or_else(|| {
                ApiError::internal(anyhow::anyhow!("no adapter for {}", pending.platform))
            })?
    };
    let connections = adapter.exchange_code(&exchange).await?;
    if connections.is_empty() {
        return Err(AdapterError::Rejected {
            code: "no_accounts".into(),
            message: "the platform returned no account to connect".into(),
        }
        .into());
    }
    park(
        state,
        pending.owner_id.clone(),
        pending.platform,
        pending.instance.clone(),
        connections,
    )
    .await
}

fn ticket_aad(ticket_hash: &[u8]) -> Aad {
    Aad::new("pending_connections", hex::encode(ticket_hash), "payload")
}

/// One exchanged connection as it waits in `pending_connections` (inside one ciphertext).
#[derive(Serialize, Deserialize)]
struct Parked {
    platform_account_id: String,
    account_kind: Option<AccountKind>,
    display_name: Option<String>,
    handle: Option<String>,
    avatar_url: Option<String>,
    profile_url: Option<String>,
    access_token: String,
    refresh_token: Option<String>,
    expires_at: Option<DateTime<Utc>>,
    refresh_expires_at: Option<DateTime<Utc>>,
    scopes: Vec<String>,
    followers_count: Option<i64>,
    following_count: Option<i64>,
    posts_count: Option<i64>,
}

impl From<&Connection> for Parked {
    fn from(c: &Connection) -> Self {
        let stats = c.stats.unwrap_or_default();
        Self {
            platform_account_id: c.profile.platform_account_id.clone(),
            account_kind: c.profile.account_kind,
            display_name: c.profile.display_name.clone(),
            handle: c.profile.handle.clone(),
            avatar_url: c.profile.avatar_url.clone(),
            profile_url: c.profile.profile_url.clone(),
            access_token: c.tokens.access_token.expose_secret().to_owned(),
            refresh_token: c
                .tokens
                .refresh_token
                .as_ref()
                .map(|t| t.expose_secret().to_owned()),
            expires_at: c.tokens.expires_at,
            refresh_expires_at: c.tokens.refresh_expires_at,
            scopes: c.tokens.scopes.clone(),
            followers_count: stats.followers_count,
            following_count: stats.following_count,
            posts_count: stats.posts_count,
        }
    }
}

impl From<Parked> for Connection {
    fn from(p: Parked) -> Self {
        let has_stats =
            p.followers_count.is_some() || p.following_count.is_some() || p.posts_count.is_some();
        Connection {
            profile: Profile {
                platform_account_id: p.platform_account_id,
                account_kind: p.account_kind,
                display_name: p.display_name,
                handle: p.handle,
                avatar_url: p.avatar_url,
                profile_url: p.profile_url,
            },
            tokens: TokenSet {
                access_token: SecretString::from(p.access_token),
                refresh_token: p.refresh_token.map(SecretString::from),
                expires_at: p.expires_at,
                refresh_expires_at: p.refresh_expires_at,
                scopes: p.scopes,
            },
            stats: has_stats.then_some(Stats {
                followers_count: p.followers_count,
                following_count: p.following_count,
                posts_count: p.posts_count,
            }),
        }
    }
}

/// Stores `connections` for `owner` under a fresh ticket, encrypted; returns the ticket.
async fn park(
    state: &AppState,
    owner: OwnerId,
    platform: Platform,
    instance_url: Option<String>,
    connections: Vec<Connection>,
) -> Result<String, ApiError> {
    let ticket = CsrfToken::new_random_len(32).secret().clone();
    let ticket_hash = sha256(&ticket);
    let parked: Vec<Parked> = connections.iter().map(Parked::from).collect();
    let plaintext = SecretString::from(serde_json::to_string(&parked).map_err(ApiError::internal)?);
    drop(parked);
    let payload_enc = state.vault.encrypt(&plaintext, &ticket_aad(&ticket_hash))?;
    let now = Utc::now();
    let row = PendingConnection {
        ticket_hash,
        owner_id: owner,
        platform,
        instance_url,
        payload_enc,
        created_at: now,
        expires_at: now + Duration::minutes(TICKET_TTL_MINUTES),
    };
    state
        .db
        .query(move |conn| PendingConnection::insert(conn, &row))
        .await?;
    Ok(ticket)
}

/// `POST /v1/connections/complete`: turns a parked authorization into accounts, for the user
/// who started it and nobody else. The ticket is consumed by the first attempt whoever makes
/// it; another user's attempt is answered exactly like an unknown ticket (404), and the
/// tokens are dropped unsaved, so a victim's frontend completing an attacker's flow connects
/// nothing and tells the attacker nothing.
pub async fn complete(
    state: &AppState,
    owner: OwnerId,
    ticket: &str,
) -> Result<(Platform, Vec<Account>), ApiError> {
    const NOT_FOUND: ApiError = ApiError::NotFound("pending connection");
    if ticket.is_empty() || ticket.len() > MAX_TICKET_LEN {
        return Err(NOT_FOUND);
    }
    let ticket_hash = sha256(ticket);
    let parked = state
        .db
        .query(move |conn| PendingConnection::consume(conn, &ticket_hash, Utc::now()))
        .await?
        .ok_or(NOT_FOUND)?;
    if parked.owner_id != owner {
        tracing::warn!(
            platform = %parked.platform,
            "a pending connection was presented by a user other than the one who started it; its tokens are discarded"
        );
        return Err(NOT_FOUND);
    }
    let plaintext = state
        .vault
        .decrypt(&parked.payload_enc, &ticket_aad(&parked.ticket_hash))?;
    let connections: Vec<Parked> =
        serde_json::from_str(plaintext.expose_secret()).map_err(ApiError::internal)?;
    drop(plaintext);
    let accounts = save_connections(
        state,
        owner,
        parked.platform,
        parked.instance_url,
        connections.into_iter().map(Connection::from).collect(),
    )
    .await?;
    tracing::info!(platform = %parked.platform, accounts = accounts.len(), "accounts connected");
    Ok((parked.platform, accounts))
}

/// Connects an account of an [`AuthKind::AppPassword`] platform at once, with the password the
/// user made for us.
async fn connect_with_password(
    state: &AppState,
    owner: OwnerId,
    platform: Platform,
    request: StartConnection,
) -> Result<Account, ApiError> {
    let identifier = request
        .identifier
        .filter(|i| !i.trim().is_empty())
        .ok_or_else(|| {
            ApiError::bad_request(
                "identifier_required",
                format!("{platform} needs `identifier` (your handle) and `app_password`"),
            )
        })?;
    let password = request
        .app_password
        .filter(|p| !p.expose_secret().is_empty())
        .ok_or_else(|| {
            ApiError::bad_request(
                "app_password_required",
                format!(
                    "{platform} needs `app_password`: create one under Settings → App passwords"
                ),
            )
        })?;
    let service = match request.service.as_deref().filter(|s| !s.is_empty()) {
        Some(service) => Some(state.adapters.normalize_host(service).await?),
        None => None,
    };
    let adapter = state
        .adapters
        .for_connecting(platform)
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("no adapter for {platform}")))?;
    let connection = adapter
        .connect_with_password(identifier.trim(), &password, service.as_deref())
        .await?;
    let mut saved = save_connections(state, owner, platform, service, vec![connection]).await?;
    saved
        .pop()
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("{platform} connection not saved")))
}

/// Our app on `instance` of a platform with an app per instance, registering it on first use.
async fn instance_app(
    state: &AppState,
    platform: Platform,
    instance: &str,
) -> Result<ClientCredentials, ApiError> {
    let apps = state
        .adapters
        .instance_apps(platform)
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("{platform} has no app per instance")))?;
    let lookup = instance.to_owned();
    let existing = state
        .db
        .query(move |conn| InstanceApp::find_by_instance(conn, &lookup))
        .await?;
    let app = match existing {
        Some(app) => app,
        None => {
            let redirect_uri = state.callback_uri(platform);
            let scopes = state.adapters.descriptor(platform).scopes.join(" ");
            let registered = apps.register(instance, &redirect_uri).await?;
            let row = InstanceApp {
                id: InstanceAppId::new(),
                instance: instance.to_owned(),
                client_id: registered.client_id,
                client_secret_enc: state.vault.encrypt(
                    &registered.client_secret,
                    &tokens::instance_app_secret_aad(instance),
                )?,
                key_id: state.vault.primary_key_id().to_owned(),
                redirect_uri,
                scopes,
                created_at: Utc::now(),
                // Read right after registering (see `remember_instance_limits`).
                max_characters: None,
                max_media_attachments: None,
                characters_reserved_per_url: None,
            };
            tracing::info!(%platform, %instance, "registered our app on an instance");
            state
                .db
                .query(move |conn| InstanceApp::insert_or_get(conn, &row))
                .await?
        }
    };
    if app.max_characters.is_none() {
        remember_instance_limits(state, apps, &app.instance).await;
    }
    let client_secret = state.vault.decrypt(
        &app.client_secret_enc,
        &tokens::instance_app_secret_aad(&app.instance),
    )?;
    Ok(ClientCredentials {
        client_id: app.client_id,
        client_secret,
    })
}

/// Reads the instance's own status limits (`GET /api/v2/instance`) so posts are checked
/// against them rather than Mastodon's defaults. Best effort: without them, the defaults apply
/// and the next connection tries again.
async fn remember_instance_limits(state: &AppState, apps: InstanceAppsOf<'_>, instance: &str) {
    match apps.limits(instance).await {
        Ok(limits) => {
            let instance = instance.to_owned();
            let as_i32 = |n: u32| i32::try_from(n).unwrap_or(i32::MAX);
            let stored = state
                .db
                .query(move |conn| {
                    InstanceApp::set_limits(
                        conn,
                        &instance,
                        as_i32(limits.max_characters),
                        as_i32(limits.max_media_attachments),
                        as_i32(limits.characters_reserved_per_url),
                    )
                })
                .await;
            if let Err(err) = stored {
                tracing::warn!(error = %err, "could not store an instance's limits");
            }
        }
        Err(err) => {
            tracing::info!(%instance, error = %err, "could not read an instance's limits; using the defaults");
        }
    }
}

/// Stores `connections` for `owner` in one transaction with their `account.connected` events.
/// A known account (same owner, platform and platform id) is updated in place, keeping its id;
/// its stored refresh token survives when the new grant has none.
pub async fn save_connections(
    state: &AppState,
    owner: OwnerId,
    platform: Platform,
    instance_url: Option<String>,
    connections: Vec<Connection>,
) -> Result<Vec<Account>, ApiError> {
    let vault = state.vault.clone();
    state
        .db
        .run(move |conn| {
            db::Connection::transaction(conn, |conn| {
                let mut saved = Vec::with_capacity(connections.len());
                for connection in connections {
                    let profile = connection.profile;
                    let existing = Account::find_for_connect(
                        conn,
                        &owner,
                        platform,
                        &profile.platform_account_id,
                    )?;
                    let id = existing.as_ref().map_or_else(AccountId::new, |a| a.id);
                    let access_token_enc =
                        tokens::seal(&vault, id, ACCESS_TOKEN, &connection.tokens.access_token)?;
                    let refresh_token_enc = match &connection.tokens.refresh_token {
                        Some(token) => Some(tokens::seal(&vault, id, REFRESH_TOKEN, token)?),
                        None => existing.as_ref().and_then(|a| a.refresh_token_enc.clone()),
                    };
                    let stats = connection.stats.unwrap_or_default();
                    let form = AccountConnectForm {
                        id,
                        owner_id: owner.clone(),
                        platform,
                        platform_account_id: profile.platform_account_id,
                        account_kind: profile.account_kind.unwrap_or(AccountKind::Profile),
                        display_name: profile.display_name,
                        handle: profile.handle,
                        avatar_url: profile.avatar_url,
                        profile_url: profile.profile_url,
                        instance_url: instance_url.clone(),
                        scopes: connection.tokens.scopes.into_iter().map(Some).collect(),
                        access_token_enc: Some(access_token_enc),
                        refresh_token_enc,
                        token_key_id: Some(vault.primary_key_id().to_owned()),
                        token_expires_at: connection.tokens.expires_at,
                        refresh_expires_at: connection.tokens.refresh_expires_at,
                        status: AccountStatus::Active,
                        last_error: None,
                        followers_count: stats.followers_count,
                        following_count: stats.following_count,
                        posts_count: stats.posts_count,
                        refresh_attempts: 0,
                        // token-refresher picks the account up when this time comes.
                        next_refresh_at: tokens::next_refresh_at(
                            Utc::now(),
                            connection.tokens.expires_at,
                        ),
                    };
                    let account = if existing.is_some() {
                        Account::update_connection(conn, &form)?
                    } else {
                        Account::insert(conn, &form)?
                    };
                    OUTBOX.write(
                        conn,
                        AccountConnected {
                            account_id: account.id,
                            owner_id: account.owner_id.clone(),
                            platform,
                            platform_account_id: account.platform_account_id.clone(),
                            account_kind: account.account_kind,
                            reconnected: existing.is_some(),
                        },
                    )?;
                    saved.push(account);
                }
                Ok::<_, ApiError>(saved)
            })
        })
        .await
}

/// `target` with `params` appended to its query.
pub fn with_query(target: &str, params: &[(&str, &str)]) -> String {
    match reqwest::Url::parse(target) {
        Ok(mut url) => {
            url.query_pairs_mut().extend_pairs(params);
            url.into()
        }
        Err(_) => target.to_owned(),
    }
}

/// The callback's query comes from whatever the browser was sent to: any query string parses
/// or is refused, never panics, and the parameters we read come back as sent.
#[cfg(test)]
mod properties {
    use actix_web::web::Query;
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn any_query_string_parses_or_is_refused(query in any::<String>()) {
            let _ = Query::<CallbackQuery>::from_query(&query);
        }

        #[test]
        fn code_state_and_error_come_back_as_sent(
            code in any::<String>(),
            state in any::<String>(),
            error in any::<String>(),
        ) {
            let query = reqwest::Url::parse_with_params(
                "http://x/cb",
                &[("code", &code), ("state", &state), ("error", &error), ("extra", &code)],
            )
            .unwrap();
            let parsed = Query::<CallbackQuery>::from_query(query.query().unwrap_or_default()).unwrap();
            prop_assert_eq!(parsed.code.as_deref(), Some(code.as_str()));
            prop_assert_eq!(parsed.state.as_deref(), Some(state.as_str()));
            prop_assert_eq!(parsed.error.as_deref(), Some(error.as_str()));
        }

    }

    #[test]
    fn a_ticket_is_always_a_url_safe_query_value_of_bounded_length() {
        for _ in 0..256 {
            let ticket = CsrfToken::new_random_len(32).secret().clone();
            assert!((43..=MAX_TICKET_LEN).contains(&ticket.len()), "{ticket}");
            assert!(ticket
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        }
    }
}
