//! The simulated platform: clients, pending consents, authorization codes, grants and tokens,
//! all in memory, plus the counters tests read; posts and uploads live in [`crate::posts`].
//!
//! One mutex guards the whole OAuth state (posts have their own). Every operation is a handful of hash-map lookups, far
//! cheaper than the HTTP request around it, and a single lock makes "use a refresh token
//! exactly once" and "spend a code exactly once" atomic without any further thought.

use std::{
    collections::{BTreeSet, HashMap},
    sync::{Mutex, MutexGuard, PoisonError, RwLock},
    time::{Duration, Instant},
};

use std::borrow::Borrow;

use chrono::Utc;
use serde::Serialize;

use crate::{
    error::{ApiError, OAuthError},
    knobs::{Fault, Knobs, KnobsUpdate},
    posts::{self, Created, NewPost, SimMedia, SimPost, Upload},
    secrets::{self, ACCESS_TOKEN_PREFIX, CODE_PREFIX, REFRESH_TOKEN_PREFIX},
    urlenc, users,
};

/// Scopes the sandbox knows, in the order they are listed back.
pub const KNOWN_SCOPES: [&str; 2] = ["profile", "publish"];

/// How long an authorization code can be exchanged (RFC 6749 §4.1.2 recommends at most 10
/// minutes; real platforms use 30 s to 10 min).
const CODE_TTL: Duration = Duration::from_secs(60);
/// How long a consent page can be answered.
const CONSENT_TTL: Duration = Duration::from_secs(600);
/// How long a spent or expired code is remembered, so a replay is recognised as a replay
/// (and its tokens revoked) rather than answered as "unknown".
const CODE_MEMORY: Duration = Duration::from_secs(600);

/// Counters of what the sim has done since it started; `GET /_sim/stats`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SimStats {
    /// Authorization codes issued (approved authorizations).
    pub authorizations: u64,
    /// Authorizations the user denied on the consent page.
    pub consent_denials: u64,
    /// Successful code exchanges.
    pub code_exchanges: u64,
    /// Codes presented a second time (each also revokes the grant the first use produced).
    pub code_reuse_rejections: u64,
    /// Successful refreshes.
    pub refreshes: u64,
    /// Rotated refresh tokens presented again: a client refreshed twice with one token.
    pub refresh_reuse_rejections: u64,
    /// Accepted revocation requests (whether or not the token was still live).
    pub revocations: u64,
    /// Bearer-authenticated API calls, successful or not.
    pub api_calls: u64,
    /// Calls answered 503 by fault injection.
    pub injected_errors: u64,
    /// Calls answered 429 by fault injection.
    pub injected_rate_limits: u64,
    /// Posts created (a replayed idempotency key creates none).
    pub posts_created: u64,
    /// Create calls answered with an existing post because their idempotency key was used
    /// before: each one is a duplicate the key prevented.
    pub posts_deduplicated: u64,
    /// Media uploads accepted.
    pub media_uploads: u64,
    /// Post creations whose answer was held back by the `accept_then_stall_rate` knob.
    pub injected_stalls: u64,
    /// Refresh grants whose answer was held back (after rotating) by the `refresh_hold_ms` knob.
    pub held_refreshes: u64,
    /// Batched engagement reads (`GET /api/v1/metrics`), and the posts they named.
    pub metrics_reads: u64,
    pub metrics_posts_read: u64,
}

/// A successful token response (RFC 6749 §5.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenGrant {
    /// `simat_…`.
    pub access_token: String,
    /// Always `bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// `simrt_…`, valid for exactly one refresh.
    pub refresh_token: String,
    /// Granted scopes, space-separated.
    pub scope: String,
}

/// The query of `GET /oauth/authorize`, as received: everything optional so that each missing
/// parameter gets the error RFC 6749 prescribes instead of a generic extractor failure.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub(crate) struct AuthorizeRequest {
    pub response_type: Option<String>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub state: Option<String>,
    pub scope: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub login_hint: Option<String>,
}

/// What the browser gets for a valid authorization request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AuthorizeOutcome {
    /// Approved (or denied): send the browser to this URL.
    Redirect(String),
    /// Consent-page mode: show this.
    Consent(ConsentView),
}

/// A failed authorization request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AuthorizeError {
    /// The client or redirect URI cannot be trusted: show the message, never redirect.
    Page(&'static str),
    /// Report to the client: send the browser to this URL (carrying `error` and `state`).
    Redirect(String),
}

/// What the consent page shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ConsentView {
    pub request_id: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub scopes: Vec<String>,
    pub user: String,
}

/// Who a valid access token acts for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Principal {
    pub user: String,
    pub scopes: Vec<String>,
}

impl Principal {
    /// Refuses with `insufficient_scope` unless the token was granted `scope`.
    pub fn require(&self, scope: &'static str) -> Result<(), OAuthError> {
        if self.scopes.iter().any(|s| s == scope) {
            Ok(())
        } else {
            Err(OAuthError::InsufficientScope(scope))
        }
    }
}

/// A validated authorization request waiting for a decision (consent page) or about to be
/// approved (auto-approval).
#[derive(Debug, Clone)]
struct Authorization {
    client_id: String,
    redirect_uri: String,
    state: Option<String>,
    scopes: Vec<String>,
    code_challenge: String,
    user: String,
}

#[derive(Debug)]
struct Pending {
    authorization: Authorization,
    expires_at: Instant,
}

#[derive(Debug)]
struct CodeRecord {
    authorization: Authorization,
    expires_at: Instant,
    /// Presented once already; any later presentation is a replay.
    spent: bool,
    /// The grant the first presentation produced, revoked if the code is replayed.
    grant: Option<usize>,
}

/// One user's consent to one client: the family every token of one connection belongs to.
#[derive(Debug)]
struct Grant {
    user: String,
    client_id: String,
    scopes: Vec<String>,
    revoked: bool,
}

#[derive(Debug)]
struct AccessRecord {
    grant: usize,
    expires_at: Instant,
    revoked: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RefreshState {
    /// Can be exchanged once.
    Active,
    /// Already exchanged for a successor; presenting it again is a reuse.
    Rotated,
}

#[derive(Debug)]
struct RefreshRecord {
    grant: usize,
    state: RefreshState,
    /// Times presented by its own client, successful or not.
    presented: u32,
}

#[derive(Debug, Default)]
struct State {
    clients: HashMap<String, BTreeSet<String>>,
    pending: HashMap<String, Pending>,
    codes: HashMap<String, CodeRecord>,
    grants: Vec<Grant>,
    access: HashMap<String, AccessRecord>,
    refresh: HashMap<String, RefreshRecord>,
    issued: Vec<String>,
    revoked: Vec<String>,
    stats: SimStats,
}

/// The simulated platform's state and knobs. Shared by every worker of the HTTP server and by
/// the [`crate::SimHandle`] tests hold.
#[derive(Debug)]
pub struct Sim {
    state: Mutex<State>,
    posts: Mutex<posts::Store>,
    /// Which post answers which, and injected post failures (see [`crate::replies`]).
    pub(crate) replies: crate::replies::Replies,
    /// Deleted posts and delete calls (see [`crate::deletion`]).
    pub(crate) deletions: crate::deletion::Deletions,
    knobs: RwLock<Knobs>,
    public_url: Option<String>,
}

impl Sim {
    /// A fresh platform. `public_url` is the origin put into profile and avatar URLs; `None`
    /// derives it from each request's `Host`.
    pub fn new(knobs: Knobs, public_url: Option<String>) -> Self {
        Self {
            state: Mutex::new(State::default()),
            posts: Mutex::new(posts::Store::default()),
            replies: crate::replies::Replies::default(),
            deletions: crate::deletion::Deletions::default(),
            knobs: RwLock::new(knobs),
            public_url: public_url
                .map(|u| u.trim_end_matches('/').to_owned())
                .filter(|u| !u.is_empty()),
        }
    }

    /// A poisoned lock only means another request panicked mid-update; the maps are still
    /// consistent enough for a simulator, and refusing every later request would be worse.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The posts' lock; never taken while holding [`Sim::lock`]'s, or the other way round.
    fn posts_lock(&self) -> MutexGuard<'_, posts::Store> {
        self.posts.lock().unwrap_or_else(PoisonError::into_inner)
    }

    // ----- knobs -------------------------------------------------------------------------

    /// The current knobs.
    pub fn knobs(&self) -> Knobs {
        *self.knobs.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Replaces the knobs after checking them.
    pub fn set_knobs(&self, knobs: Knobs) -> Result<(), String> {
        knobs.validate()?;
        *self.knobs.write().unwrap_or_else(PoisonError::into_inner) = knobs;
        Ok(())
    }

    /// Applies a partial change atomically (two concurrent updates cannot lose each other's
    /// fields) and answers the resulting knobs. Takes the update by value or by reference.
    pub fn update_knobs(&self, update: impl Borrow<KnobsUpdate>) -> Result<Knobs, String> {
        let mut knobs = self.knobs.write().unwrap_or_else(PoisonError::into_inner);
        let next = knobs.with(update.borrow());
        next.validate()?;
        *knobs = next;
        Ok(next)
    }

    /// The configured public origin, if any.
    pub(crate) fn public_url(&self) -> Option<&str> {
        self.public_url.as_deref()
    }

    /// Draws a fault for one server-to-server call and counts it.
    pub(crate) fn draw_fault(&self) -> Option<Fault> {
        let fault = self.knobs().draw_fault()?;
        let mut state = self.lock();
        match fault {
            Fault::RateLimited => state.stats.injected_rate_limits += 1,
            Fault::Unavailable => state.stats.injected_errors += 1,
        }
        Some(fault)
    }

    /// How long to hold back the answer of one successful refresh grant, if at all; counted.
    pub(crate) fn draw_refresh_hold(&self) -> Option<Duration> {
        let hold = self.knobs().refresh_hold_ms;
        if hold == 0 {
            return None;
        }
        self.lock().stats.held_refreshes += 1;
        Some(Duration::from_millis(hold))
    }

    /// Draws whether to hold back the answer of one successful post creation, and counts it.
    pub(crate) fn draw_stall(&self) -> Option<Duration> {
        let stall = self.knobs().draw_stall()?;
        self.lock().stats.injected_stalls += 1;
        Some(stall)
    }

    // ----- authorization endpoint ----------------------------------------------------------

    /// Validates an authorization request (RFC 6749 §4.1.1 plus mandatory PKCE S256) and either
    /// approves it at once or parks it behind the consent page, depending on the knobs.
    pub(crate) fn authorize(
        &self,
        request: AuthorizeRequest,
    ) -> Result<AuthorizeOutcome, AuthorizeError> {
        let authorization = validate(request)?;
        let consent = self.knobs().consent_page;
        let mut state = self.lock();
        state.purge(Instant::now());
        state
            .clients
            .entry(authorization.client_id.clone())
            .or_default()
            .insert(authorization.redirect_uri.clone());
        if !consent {
            return Ok(AuthorizeOutcome::Redirect(state.issue_code(authorization)));
        }
        let request_id = secrets::random_id();
        let view = ConsentView {
            request_id: request_id.clone(),
            client_id: authorization.client_id.clone(),
            redirect_uri: authorization.redirect_uri.clone(),
            scopes: authorization.scopes.clone(),
            user: authorization.user.clone(),
        };
        state.pending.insert(
            request_id,
            Pending {
                authorization,
                expires_at: Instant::now() + CONSENT_TTL,
            },
        );
        Ok(AuthorizeOutcome::Consent(view))
    }

    /// Answers a consent page: approval issues a code for `username` (the page lets the
    /// person switch user), denial reports `access_denied`. Either way the request is used up.
    pub(crate) fn decide(
        &self,
        request_id: &str,
        approve: bool,
        username: Option<&str>,
    ) -> Result<String, AuthorizeError> {
        let mut state = self.lock();
        let pending = state
            .pending
            .remove(request_id)
            .filter(|p| p.expires_at > Instant::now())
            .ok_or(AuthorizeError::Page("This authorization request is unknown or has expired. Start again from the application."))?;
        let mut authorization = pending.authorization;
        if !approve {
            state.stats.consent_denials += 1;
            return Err(error_redirect(
                &authorization.redirect_uri,
                "access_denied",
                authorization.state.as_deref(),
            ));
        }
        if let Some(raw) = username.filter(|u| !u.trim().is_empty()) {
            authorization.user = users::normalize(raw).ok_or(AuthorizeError::Page(
                "User names are 1 to 32 letters, digits, '_', '.' or '-'.",
            ))?;
        }
        Ok(state.issue_code(authorization))
    }

    // ----- token endpoint ------------------------------------------------------------------

    /// `grant_type=authorization_code`. Any presentation by the right client spends the code,
    /// even a failing one, so a verifier cannot be guessed by retrying; a second presentation
    /// also revokes the tokens the first one produced (RFC 6749 §4.1.2).
    pub(crate) fn exchange_code(
        &self,
        client_id: &str,
        code: &str,
        redirect_uri: &str,
        verifier: &str,
    ) -> Result<TokenGrant, OAuthError> {
        let ttl = self.knobs().access_token_ttl_secs;
        let now = Instant::now();
        let mut guard = self.lock();
        let state = &mut *guard;
        let Some(record) = state.codes.get_mut(code) else {
            return Err(OAuthError::InvalidGrant("unknown authorization code"));
        };
        if record.authorization.client_id != client_id {
            return Err(OAuthError::InvalidGrant(
                "the code was issued to another client",
            ));
        }
        if record.spent {
            let replayed = record.grant.take();
            state.stats.code_reuse_rejections += 1;
            if let Some(grant) = replayed.and_then(|g| state.grants.get_mut(g)) {
                grant.revoked = true;
            }
            return Err(OAuthError::InvalidGrant("the code was already used"));
        }
        record.spent = true;
        if record.expires_at <= now {
            return Err(OAuthError::InvalidGrant("the code has expired"));
        }
        if record.authorization.redirect_uri != redirect_uri {
            return Err(OAuthError::InvalidGrant(
                "redirect_uri does not match the authorization request",
            ));
        }
        if !secrets::s256_matches(verifier, &record.authorization.code_challenge) {
            return Err(OAuthError::InvalidGrant("PKCE verification failed"));
        }
        let authorization = record.authorization.clone();
        let grant = state.new_grant(
            authorization.user,
            authorization.client_id,
            authorization.scopes,
        );
        if let Some(record) = state.codes.get_mut(code) {
            record.grant = Some(grant);
        }
        state.stats.code_exchanges += 1;
        Ok(state.issue_tokens(grant, ttl))
    }

    /// `grant_type=refresh_token`. Refresh tokens rotate: each one works exactly once and is
    /// replaced by the new one in the answer. Presenting a rotated token again is refused and
    /// counted in [`SimStats::refresh_reuse_rejections`]: that is how tests catch a client that
    /// refreshed one account twice (two replicas, a retry after a lost answer, …). The
    /// family survives a reuse, as at X; the tokens already handed out stay valid.
    pub(crate) fn refresh(
        &self,
        client_id: &str,
        refresh_token: &str,
    ) -> Result<TokenGrant, OAuthError> {
        let ttl = self.knobs().access_token_ttl_secs;
        let mut state = self.lock();
        let State {
            refresh,
            grants,
            stats,
            ..
        } = &mut *state;
        let Some(record) = refresh.get_mut(refresh_token) else {
            return Err(OAuthError::InvalidGrant("unknown refresh token"));
        };
        let Some(grant) = grants.get(record.grant) else {
            return Err(OAuthError::InvalidGrant("unknown refresh token"));
        };
        if grant.client_id != client_id {
            return Err(OAuthError::InvalidGrant(
                "the refresh token was issued to another client",
            ));
        }
        record.presented += 1;
        if grant.revoked {
            return Err(OAuthError::InvalidGrant("the grant has been revoked"));
        }
        if record.state == RefreshState::Rotated {
            stats.refresh_reuse_rejections += 1;
            return Err(OAuthError::InvalidGrant(
                "the refresh token was already used",
            ));
        }
        record.state = RefreshState::Rotated;
        let grant = record.grant;
        stats.refreshes += 1;
        Ok(state.issue_tokens(grant, ttl))
    }

    /// RFC 7009. Revoking a refresh token ends the whole grant (every access and refresh token
    /// of the connection); revoking an access token ends only that token. Tokens that are
    /// unknown or belong to another client are silently left alone (§2.2: the answer is the
    /// same, so it reveals nothing).
    pub(crate) fn revoke(&self, client_id: &str, token: &str) {
        let mut state = self.lock();
        state.stats.revocations += 1;
        let State {
            refresh,
            access,
            grants,
            revoked,
            ..
        } = &mut *state;
        if let Some(record) = refresh.get(token) {
            if let Some(grant) = grants
                .get_mut(record.grant)
                .filter(|g| g.client_id == client_id)
            {
                grant.revoked = true;
                revoked.push(token.to_owned());
            }
        } else if let Some(record) = access.get_mut(token) {
            if grants
                .get(record.grant)
                .is_some_and(|g| g.client_id == client_id)
            {
                record.revoked = true;
                revoked.push(token.to_owned());
            }
        }
    }

    // ----- resource server ---------------------------------------------------------------

    /// Resolves a bearer token to its user, counting the call.
    pub(crate) fn authenticate(&self, access_token: Option<&str>) -> Result<Principal, OAuthError> {
        let now = Instant::now();
        let mut state = self.lock();
        state.stats.api_calls += 1;
        let token = access_token.ok_or(OAuthError::InvalidToken(
            "a bearer access token is required",
        ))?;
        let record = state
            .access
            .get(token)
            .ok_or(OAuthError::InvalidToken("unknown access token"))?;
        let grant = state
            .grants
            .get(record.grant)
            .ok_or(OAuthError::InvalidToken("unknown access token"))?;
        if record.revoked || grant.revoked {
            return Err(OAuthError::InvalidToken(
                "the access token has been revoked",
            ));
        }
        if record.expires_at <= now {
            return Err(OAuthError::InvalidToken("the access token has expired"));
        }
        Ok(Principal {
            user: grant.user.clone(),
            scopes: grant.scopes.clone(),
        })
    }

    // ----- posting API -------------------------------------------------------------------

    /// Records an upload by `user` (already authenticated).
    pub(crate) fn upload_media(&self, user: &str, upload: Upload) -> Result<SimMedia, ApiError> {
        self.posts_lock().upload(user, upload)
    }

    /// Creates a post by `user`, or finds the one its idempotency key created before.
    pub(crate) fn create_post(&self, user: &str, new: NewPost<'_>) -> Result<Created, ApiError> {
        self.posts_lock().create(user, new, Utc::now())
    }

    /// The post with `id`.
    pub(crate) fn find_post(&self, id: &str) -> Option<SimPost> {
        let post = self.posts_lock().get(id)?;
        (!self.deletions.is_deleted(&post.id)).then_some(post)
    }

    /// `user`'s post created with idempotency key `key`.
    pub(crate) fn find_post_by_key(&self, user: &str, key: &str) -> Option<SimPost> {
        self.posts_lock().by_key(user, key)
    }

    /// Counts one batched engagement read of `posts` posts.
    pub(crate) fn count_metrics_read(&self, posts: usize) {
        let mut state = self.lock();
        state.stats.metrics_reads += 1;
        state.stats.metrics_posts_read += posts as u64;
    }

    /// `user`'s latest `limit` posts, newest first.
    pub(crate) fn recent_posts(&self, user: &str, limit: usize) -> Vec<SimPost> {
        let recent = self.posts_lock().recent(user, limit);
        recent
            .into_iter()
            .filter(|p| !self.deletions.is_deleted(&p.id))
            .collect()
    }

    // ----- test and benchmark access -------------------------------------------------------

    /// Posts as `user` with idempotency key `idempotency_key`, exactly as `POST /api/v1/posts`
    /// would (same rules, same deduplication): the post id. How a test puts the platform in the
    /// state a publisher that died mid-call leaves behind.
    pub fn publish_as(
        &self,
        user: &str,
        text: &str,
        idempotency_key: &str,
    ) -> Result<String, ApiError> {
        let user = users::normalize(user)
            .ok_or_else(|| ApiError::InvalidRequest("invalid user name".into()))?;
        let new = NewPost {
            text,
            media_ids: &[],
            idempotency_key: Some(idempotency_key),
        };
        match self.create_post(&user, new)? {
            Created::New(post) | Created::Replayed(post) => Ok(post.id),
        }
    }

    /// Every post, oldest first.
    pub fn posts(&self) -> Vec<SimPost> {
        self.posts_lock().all()
    }

    /// Number of posts.
    pub fn post_count(&self) -> usize {
        self.posts_lock().len()
    }

    /// Every upload, oldest first.
    pub fn media(&self) -> Vec<SimMedia> {
        self.posts_lock().all_media()
    }

    /// Creates a grant directly, as if `user` had authorized `client_id` for `scopes`, without
    /// the browser round trip: how benchmarks seed thousands of connected accounts.
    pub fn mint_grant(
        &self,
        user: &str,
        client_id: &str,
        scopes: &[&str],
    ) -> Result<TokenGrant, OAuthError> {
        let user = users::normalize(user).ok_or(OAuthError::InvalidRequest("invalid user name"))?;
        if client_id.is_empty() {
            return Err(OAuthError::InvalidRequest("client_id is required"));
        }
        let scopes = parse_scopes(&scopes.join(" "))
            .map_err(|_| OAuthError::InvalidScope("unknown scope"))?;
        let ttl = self.knobs().access_token_ttl_secs;
        let mut state = self.lock();
        state.clients.entry(client_id.to_owned()).or_default();
        let grant = state.new_grant(user, client_id.to_owned(), scopes);
        Ok(state.issue_tokens(grant, ttl))
    }

    /// Counters since start.
    pub fn stats(&self) -> SimStats {
        let stats = self.lock().stats;
        let posting = self.posts_lock().counters;
        SimStats {
            posts_created: posting.posts_created,
            posts_deduplicated: posting.posts_deduplicated,
            media_uploads: posting.media_uploads,
            ..stats
        }
    }

    /// How many times `refresh_token` was presented to the token endpoint by its client: 1
    /// after a normal refresh, 2 or more when a client refreshed twice with it.
    pub fn refresh_count(&self, refresh_token: &str) -> u32 {
        self.lock()
            .refresh
            .get(refresh_token)
            .map_or(0, |r| r.presented)
    }

    /// Every token named in a revocation that took effect, oldest first.
    pub fn revoked_tokens(&self) -> Vec<String> {
        self.lock().revoked.clone()
    }

    /// Every secret the sim ever handed out (codes, access and refresh tokens), oldest first:
    /// scan logs, events and API answers for these to prove nothing leaked.
    pub fn issued_tokens(&self) -> Vec<String> {
        self.lock().issued.clone()
    }

    /// Whether `token` (access or refresh) would be accepted right now.
    pub fn is_token_active(&self, token: &str) -> bool {
        let now = Instant::now();
        let state = self.lock();
        let grant_live = |g: usize| state.grants.get(g).is_some_and(|g| !g.revoked);
        if let Some(r) = state.refresh.get(token) {
            return r.state == RefreshState::Active && grant_live(r.grant);
        }
        state
            .access
            .get(token)
            .is_some_and(|a| !a.revoked && a.expires_at > now && grant_live(a.grant))
    }

    /// Client ids seen so far, sorted.
    pub fn clients(&self) -> Vec<String> {
        let mut clients: Vec<String> = self.lock().clients.keys().cloned().collect();
        clients.sort();
        clients
    }

    /// Makes every access token issued so far expire now, so the next API call with one
    /// answers 401 (refresh paths without waiting an hour). Refresh tokens are untouched.
    pub fn expire_access_tokens(&self) {
        let now = Instant::now();
        for record in self.lock().access.values_mut() {
            record.expires_at = record.expires_at.min(now);
        }
    }
}

impl State {
    fn issue_code(&mut self, authorization: Authorization) -> String {
        let code = secrets::random_secret(CODE_PREFIX);
        let redirect = urlenc::with_query(
            &authorization.redirect_uri,
            &[("code", code.as_str())]
                .into_iter()
                .chain(authorization.state.as_deref().map(|s| ("state", s)))
                .collect::<Vec<_>>(),
        );
        self.issued.push(code.clone());
        self.codes.insert(
            code,
            CodeRecord {
                authorization,
                expires_at: Instant::now() + CODE_TTL,
                spent: false,
                grant: None,
            },
        );
        self.stats.authorizations += 1;
        redirect
    }

    fn new_grant(&mut self, user: String, client_id: String, scopes: Vec<String>) -> usize {
        self.grants.push(Grant {
            user,
            client_id,
            scopes,
            revoked: false,
        });
        self.grants.len() - 1
    }

    fn issue_tokens(&mut self, grant: usize, ttl_secs: u64) -> TokenGrant {
        let access_token = secrets::random_secret(ACCESS_TOKEN_PREFIX);
        let refresh_token = secrets::random_secret(REFRESH_TOKEN_PREFIX);
        let now = Instant::now();
        let expires_at = now
            .checked_add(Duration::from_secs(ttl_secs))
            .unwrap_or(now);
        self.access.insert(
            access_token.clone(),
            AccessRecord {
                grant,
                expires_at,
                revoked: false,
            },
        );
        self.refresh.insert(
            refresh_token.clone(),
            RefreshRecord {
                grant,
                state: RefreshState::Active,
                presented: 0,
            },
        );
        self.issued.push(access_token.clone());
        self.issued.push(refresh_token.clone());
        let scope = self
            .grants
            .get(grant)
            .map(|g| g.scopes.join(" "))
            .unwrap_or_default();
        TokenGrant {
            access_token,
            token_type: "bearer",
            expires_in: ttl_secs,
            refresh_token,
            scope,
        }
    }

    /// Forgets consents and codes nobody can use any more.
    fn purge(&mut self, now: Instant) {
        self.pending.retain(|_, p| p.expires_at > now);
        self.codes.retain(|_, c| c.expires_at + CODE_MEMORY > now);
    }
}

/// RFC 6749 §4.1.1 and RFC 7636 §4.3, in the order §4.1.2.1 implies: first what decides
/// whether redirecting is safe, then everything reported through the redirect.
fn validate(request: AuthorizeRequest) -> Result<Authorization, AuthorizeError> {
    let client_id = request
        .client_id
        .filter(|c| !c.is_empty())
        .ok_or(AuthorizeError::Page("The request has no client_id."))?;
    let redirect_uri = request
        .redirect_uri
        .filter(|u| is_acceptable_redirect(u))
        .ok_or(AuthorizeError::Page(
            "The request has no valid redirect_uri (an absolute http(s) URL without a fragment).",
        ))?;
    let state = request.state;
    let fail = |error: &str| Err(error_redirect(&redirect_uri, error, state.as_deref()));

    if request.response_type.as_deref() != Some("code") {
        return fail("unsupported_response_type");
    }
    let Some(code_challenge) = request
        .code_challenge
        .filter(|c| secrets::is_s256_challenge(c))
    else {
        return fail("invalid_request");
    };
    if request.code_challenge_method.as_deref() != Some("S256") {
        return fail("invalid_request");
    }
    let Ok(scopes) = parse_scopes(request.scope.as_deref().unwrap_or_default()) else {
        return fail("invalid_scope");
    };
    let user = match request.login_hint.as_deref() {
        None | Some("") => users::DEFAULT_USER.to_owned(),
        Some(hint) => match users::normalize(hint) {
            Some(user) => user,
            None => return fail("invalid_request"),
        },
    };
    Ok(Authorization {
        client_id,
        redirect_uri,
        state,
        scopes,
        code_challenge,
        user,
    })
}

/// Space-separated scopes (RFC 6749 §3.3), each known; none requested means `profile`.
/// Answered in [`KNOWN_SCOPES`] order, without duplicates.
fn parse_scopes(raw: &str) -> Result<Vec<String>, ()> {
    let requested: BTreeSet<&str> = raw.split(' ').filter(|s| !s.is_empty()).collect();
    if requested.iter().any(|s| !KNOWN_SCOPES.contains(s)) {
        return Err(());
    }
    if requested.is_empty() {
        return Ok(vec!["profile".to_owned()]);
    }
    Ok(KNOWN_SCOPES
        .iter()
        .filter(|s| requested.contains(*s))
        .map(|s| (*s).to_owned())
        .collect())
}

fn is_acceptable_redirect(uri: &str) -> bool {
    let rest = uri
        .strip_prefix("http://")
        .or_else(|| uri.strip_prefix("https://"));
    rest.is_some_and(|r| !r.is_empty() && !r.starts_with('/'))
        && !uri.contains('#')
        && !uri.contains(char::is_whitespace)
}

fn error_redirect(redirect_uri: &str, error: &str, state: Option<&str>) -> AuthorizeError {
    let params: Vec<(&str, &str)> = [("error", error)]
        .into_iter()
        .chain(state.map(|s| ("state", s)))
        .collect();
    AuthorizeError::Redirect(urlenc::with_query(redirect_uri, &params))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_default_to_profile_and_unknown_ones_are_refused() {
        assert_eq!(parse_scopes(""), Ok(vec!["profile".to_owned()]));
        assert_eq!(
            parse_scopes("publish profile publish"),
            Ok(vec!["profile".to_owned(), "publish".to_owned()])
        );
        assert_eq!(parse_scopes("profile admin"), Err(()));
    }

    #[test]
    fn redirect_uris_must_be_absolute_http_without_fragment() {
        assert!(is_acceptable_redirect(
            "http://127.0.0.1:8080/v1/oauth/sandbox/callback"
        ));
        assert!(is_acceptable_redirect("https://app.example/cb?x=1"));
        assert!(!is_acceptable_redirect("/relative"));
        assert!(!is_acceptable_redirect("javascript:alert(1)"));
        assert!(!is_acceptable_redirect("http://a/cb#frag"));
        assert!(!is_acceptable_redirect("http:///nohost"));
    }

    #[test]
    fn a_minted_grant_refreshes_once_and_its_reuse_is_counted() {
        let sim = Sim::new(Knobs::default(), None);
        let first = sim.mint_grant("alice", "c1", &["profile"]).unwrap();
        assert!(
            sim.refresh("c2", &first.refresh_token).is_err(),
            "another client cannot use it"
        );
        let second = sim.refresh("c1", &first.refresh_token).unwrap();
        assert_eq!(
            sim.refresh("c1", &first.refresh_token),
            Err(OAuthError::InvalidGrant(
                "the refresh token was already used"
            ))
        );
        assert_eq!(sim.refresh_count(&first.refresh_token), 2);
        assert_eq!(sim.stats().refresh_reuse_rejections, 1);
        assert!(sim.is_token_active(&second.refresh_token));
        assert!(!sim.is_token_active(&first.refresh_token));
    }
}
