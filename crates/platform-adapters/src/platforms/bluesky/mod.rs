//! Bluesky (AT Protocol). Accounts connect with a handle and an *app password*: Postbridge calls
//! `com.atproto.server.createSession` on the user's PDS (`https://bsky.social` unless they name
//! another service), keeps the access/refresh JWT pair, and reads the profile with
//! `app.bsky.actor.getProfile`. There is no OAuth redirect, so [`PlatformAdapter::authorize_url`]
//! and [`PlatformAdapter::exchange_code`] answer [`AdapterError::Unsupported`].
//!
//! References (checked against the official lexicons and the reference PDS):
//! - <https://docs.bsky.app/docs/api/com-atproto-server-create-session> (lexicon
//!   `lexicons/com/atproto/server/createSession.json`: errors `AccountTakedown`,
//!   `AuthFactorTokenRequired`)
//! - <https://docs.bsky.app/docs/api/com-atproto-server-refresh-session> (lexicon
//!   `lexicons/com/atproto/server/refreshSession.json`: output `accessJwt`, `refreshJwt`,
//!   `handle`, `did`; error `AccountTakedown`)
//! - <https://docs.bsky.app/docs/api/com-atproto-server-delete-session> ("Requires auth using the
//!   'refreshJwt' (not the 'accessJwt')")
//! - <https://docs.bsky.app/docs/api/app-bsky-actor-get-profile> (`profileViewDetailed`)
//! - <https://docs.bsky.app/docs/advanced-guides/rate-limits> (429 with `RateLimit-*` headers)
//! - <https://docs.bsky.app/docs/advanced-guides/posts> (`com.atproto.repo.uploadBlob`,
//!   `createRecord` of an `app.bsky.feed.post`, `app.bsky.embed.images` with `alt` and
//!   `aspectRatio`)
//! - <https://docs.bsky.app/docs/advanced-guides/post-richtext> (facets: UTF-8 byte ranges,
//!   `#link`, `#mention` and `#tag`, handles resolved with `com.atproto.identity.resolveHandle`;
//!   what counts as a link or tag: [`richtext`])
//! - <https://atproto.com/specs/record-key> and <https://atproto.com/specs/tid> (record keys of
//!   type `tid`: 13 base32-sortable characters, top bit 0, 53 bits of microseconds, 10 bits of
//!   clock id; ours: [`tid`])
//! - <https://docs.bsky.app/docs/api/com-atproto-repo-get-record> (400 `RecordNotFound`)
//!
//! Why app passwords only: the reference PDS answers a main-password login of an account with
//! email two-factor enabled with 401 `AuthFactorTokenRequired` ("A sign in code has been sent to
//! your email address"), and a main-password session carries the full-access scope
//! `com.atproto.access` (an app password yields `com.atproto.appPass`). A full-access session can
//! change the account's email, password and identity; a publishing tool has no business holding
//! one, and the user can revoke an app password on its own without touching anything else.

mod follow_ups;
mod replies;
mod richtext;
mod rules;
pub mod tid;

use std::{collections::HashMap, time::Duration};

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use chrono::{DateTime, Utc};
use domain::{AccountKind, AuthKind, Platform};
use futures_util::future::BoxFuture;
use reqwest::{header::HeaderMap, Client, RequestBuilder, Response, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use serde_json::{json, Value};

use crate::http::Transmit;
use crate::{
    classify_response, http, parse_retry_after, AccountRef, AdapterError, AdapterSettings,
    AuthorizeParams, Capabilities, CodeExchange, Connection, Descriptor, Endpoints, MediaItem,
    MediaKind, PlatformAdapter, Profile, PublishLimit, PublishRequest, Published, Revocation,
    Stats, TextCounting, TokenSet,
};
use richtext::{find_spans, SpanKind};
pub use tid::{is_valid_tid, record_key, record_keys};

/// The PDS (entryway) most accounts live on, and the default service.
pub const DEFAULT_SERVICE: &str = "https://bsky.social";

/// Public profile pages: `https://bsky.app/profile/<handle or DID>`.
pub const PROFILE_WEB_BASE: &str = "https://bsky.app/profile";

/// Lifetime of an access JWT on the reference PDS (`expiresIn = '120mins'`), used when the token's
/// own `exp` claim cannot be read.
pub const ACCESS_JWT_LIFETIME: Duration = Duration::from_secs(2 * 60 * 60);

/// The scope claim of a session created with the account's main password (full access). App
/// passwords yield `com.atproto.appPass` or `com.atproto.appPassPrivileged`.
const FULL_ACCESS_SCOPE: &str = "com.atproto.access";

const CREATE_SESSION: &str = "/xrpc/com.atproto.server.createSession";
const REFRESH_SESSION: &str = "/xrpc/com.atproto.server.refreshSession";
const DELETE_SESSION: &str = "/xrpc/com.atproto.server.deleteSession";
const GET_PROFILE: &str = "/xrpc/app.bsky.actor.getProfile";
const UPLOAD_BLOB: &str = "/xrpc/com.atproto.repo.uploadBlob";
const CREATE_RECORD: &str = "/xrpc/com.atproto.repo.createRecord";
const GET_RECORD: &str = "/xrpc/com.atproto.repo.getRecord";
const RESOLVE_HANDLE: &str = "/xrpc/com.atproto.identity.resolveHandle";

/// The collection (and `$type`) of posts.
pub const POST_COLLECTION: &str = "app.bsky.feed.post";

/// Images per post (`app.bsky.embed.images`: `maxLength: 4`).
const MAX_IMAGES: usize = 4;

/// Largest image blob an `app.bsky.embed.images#image` accepts (`maxSize: 1000000`).
const MAX_IMAGE_BYTES: usize = 1_000_000;

/// Static facts: app-password auth, 300 graphemes (the `app.bsky.feed.post` lexicon's
/// `maxGraphemes`), up to 4 images (`app.bsky.embed.images`), rotating refresh JWTs.
pub fn descriptor() -> Descriptor {
    Descriptor {
        platform: Platform::Bluesky,
        auth_kind: AuthKind::AppPassword,
        // App passwords carry no OAuth scopes; what a session may do is fixed by the password kind.
        scopes: Vec::new(),
        pkce: false,
        access_token_lifetime: Some(ACCESS_JWT_LIFETIME),
        // refreshSession returns a new refresh JWT and retires the old one (after a short grace
        // period): a second refresh with the old token fails, so refreshes must never run twice.
        refresh_token_rotates: true,
        capabilities: Capabilities {
            text_limit: 300,
            text_counting: TextCounting::Graphemes,
            media_kinds: vec![MediaKind::Image],
            max_media: 4,
            requires_media: false,
            // A PDS allows 5,000 write points an hour; a createRecord costs 3.
            publish_limit: Some(PublishLimit::per_hour(1666)),
            idempotent_publish: true,
            dedup_window: None,
            follow_ups: crate::FollowUps {
                delete: true,
                threads: true,
                first_comment: true,
                metrics_batch: follow_ups::METRICS_BATCH,
            },
        },
    }
}

/// Endpoints on the default service. Only `api_base` (the default PDS origin) drives requests:
/// each account's calls go to its own service (`instance_url`), so the other URLs are the
/// session endpoints on the default service, listed for operators and documentation.
pub fn default_endpoints() -> Endpoints {
    endpoints_for(DEFAULT_SERVICE)
}

/// Bluesky in the registry: one adapter, accounts on the service their user chose.
pub const SPEC: crate::spec::PlatformSpec = crate::spec::PlatformSpec {
    descriptor,
    name: "Bluesky",
    rules: &rules::RULES,
    count_text: None,
    default_endpoints,
    reach: crate::spec::Reach::UserHost,
    build: |b| std::sync::Arc::new(BlueskyAdapter::new(b.http, b.settings)),
};

fn endpoints_for(service: &str) -> Endpoints {
    Endpoints {
        authorize_url: format!("{service}{CREATE_SESSION}"),
        token_url: format!("{service}{REFRESH_SESSION}"),
        revoke_url: Some(format!("{service}{DELETE_SESSION}")),
        api_base: service.to_owned(),
        upload_base: service.to_owned(),
    }
}

/// Whether `password` has the shape of a Bluesky app password: four groups of four letters or
/// digits joined by dashes (`xxxx-xxxx-xxxx-xxxx`), which is how the PDS generates them.
pub fn looks_like_app_password(password: &str) -> bool {
    let groups: Vec<&str> = password.split('-').collect();
    groups.len() == 4
        && groups
            .iter()
            .all(|g| g.len() == 4 && g.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// The public web address of a post: `https://bsky.app/profile/<did>/post/<rkey>`, from its
/// `at://<did>/app.bsky.feed.post/<rkey>` URI.
pub fn post_web_url(at_uri: &str) -> Option<String> {
    let rest = at_uri.strip_prefix("at://")?;
    let mut parts = rest.split('/');
    let (repo, collection, rkey) = (parts.next()?, parts.next()?, parts.next()?);
    if collection != POST_COLLECTION || repo.is_empty() || rkey.is_empty() || parts.next().is_some()
    {
        return None;
    }
    Some(format!("{PROFILE_WEB_BASE}/{repo}/post/{rkey}"))
}

/// The adapter: one per process, shared by every Bluesky account whatever its service.
#[derive(Debug, Clone)]
pub struct BlueskyAdapter {
    http: Client,
    default_service: String,
    descriptor: Descriptor,
}

impl BlueskyAdapter {
    /// `settings.endpoints.api_base` is the default service (`https://bsky.social` in production,
    /// a wiremock server or platform-sim in tests). Bluesky needs no client credentials.
    pub fn new(http: Client, settings: AdapterSettings) -> Self {
        let default_service = settings.endpoints.api_base.trim_end_matches('/').to_owned();
        Self {
            http,
            default_service,
            descriptor: descriptor(),
        }
    }

    /// The default service origin.
    pub fn default_service(&self) -> &str {
        &self.default_service
    }

    /// Logs in with `identifier` (handle, DID or email) and an app password, then reads the
    /// profile. `service` is the user's PDS when it is not the default one.
    ///
    /// Refusals are [`AdapterError::Rejected`], never `NeedsReauth`: the user is at the keyboard
    /// and typed something wrong.
    /// - `app_password_required`: the password is not shaped like an app password (it is then
    ///   never sent anywhere), the PDS asks for an email sign-in code (only main passwords get
    ///   one), or the session has full-access scope (a main password; the session is deleted).
    /// - `invalid_credentials`: the PDS answered 401 "Invalid identifier or password".
    /// - `invalid_service`: `service` is not an `https` origin (see [`Self::service_origin`]).
    /// - `account_takedown`, `account_inactive`: the account cannot post.
    ///
    /// The caller decides which addresses a user-supplied service may resolve to (the gateway
    /// runs [`super::mastodon::resolve_public`] first); this method checks its shape only.
    pub async fn create_session(
        &self,
        identifier: &str,
        app_password: &SecretString,
        service: Option<&str>,
    ) -> Result<Connection, AdapterError> {
        let service = self.service_origin(service)?;
        let identifier = identifier.trim().trim_start_matches('@');
        if identifier.is_empty() {
            return Err(AdapterError::Rejected {
                code: "invalid_credentials".into(),
                message: "enter your Bluesky handle".into(),
            });
        }
        if !looks_like_app_password(app_password.expose_secret().trim()) {
            // Checked before any request: a main password must not leave this process at all.
            return Err(app_password_required());
        }

        let body = CreateSessionInput {
            identifier,
            password: app_password.expose_secret().trim(),
        };
        let session: Session = match json(
            self.http
                .post(format!("{service}{CREATE_SESSION}"))
                .json(&body),
        )
        .await
        {
            Ok(session) => session,
            Err(failure) => return Err(create_session_failure(failure)),
        };

        let access_claims = jwt_claims(session.access_jwt.expose_secret());
        if access_claims.as_ref().and_then(|c| c.scope.as_deref()) == Some(FULL_ACCESS_SCOPE) {
            // A main password that happens to look like an app password: do not keep (or leave
            // behind) a full-access session.
            self.delete_session_quietly(&service, &session.refresh_jwt)
                .await;
            return Err(app_password_required());
        }
        if session.active == Some(false) {
            let status = session.status.as_deref().unwrap_or("inactive");
            return Err(AdapterError::Rejected {
                code: "account_inactive".into(),
                message: format!("this Bluesky account is {status} at its host and cannot post; reactivate it first"),
            });
        }

        let view = self
            .get_profile(&service, &session.did, &session.access_jwt)
            .await?;
        let fallback_handle = Some(session.handle);
        Ok(Connection {
            stats: Some(view.stats()),
            profile: view.into_profile(fallback_handle),
            tokens: session_tokens(session.access_jwt, session.refresh_jwt),
        })
    }

    /// The origin of `service`, or the default service when `None`. The rule is deliberately
    /// simple: an origin only (no path beyond `/`, no query, no credentials), `https` always,
    /// and plain `http` only when the configured default service is itself `http` (a local setup:
    /// tests, platform-sim), so production never sends an app password in clear text. A bare
    /// host (`pds.example`) means `https://pds.example`.
    pub fn service_origin(&self, service: Option<&str>) -> Result<String, AdapterError> {
        let Some(raw) = service.map(str::trim).filter(|s| !s.is_empty()) else {
            return Ok(self.default_service.clone());
        };
        let invalid = || AdapterError::Rejected {
            code: "invalid_service".into(),
            message: "the Bluesky service must be an https origin such as https://bsky.social"
                .into(),
        };
        let with_scheme = if raw.contains("://") {
            raw.to_owned()
        } else {
            format!("https://{raw}")
        };
        let url = reqwest::Url::parse(&with_scheme).map_err(|_| invalid())?;
        let http_allowed = self.default_service.starts_with("http://");
        let scheme_ok = url.scheme() == "https" || (http_allowed && url.scheme() == "http");
        let origin_only = url.username().is_empty()
            && url.password().is_none()
            && url.query().is_none()
            && url.fragment().is_none()
            && matches!(url.path(), "" | "/");
        if !scheme_ok || !origin_only || url.host_str().unwrap_or_default().is_empty() {
            return Err(invalid());
        }
        Ok(url.origin().ascii_serialization())
    }

    fn account_service(&self, account: &AccountRef<'_>) -> String {
        account
            .instance_url
            .map(|s| s.trim().trim_end_matches('/'))
            .filter(|s| !s.is_empty())
            .unwrap_or(&self.default_service)
            .to_owned()
    }

    async fn get_profile(
        &self,
        service: &str,
        actor: &str,
        access_jwt: &SecretString,
    ) -> Result<ProfileView, AdapterError> {
        let url = http::url_with_query(&format!("{service}{GET_PROFILE}"), &[("actor", actor)])?;
        Ok(json(http::bearer(self.http.get(url), access_jwt)).await?)
    }

    async fn delete_session(
        &self,
        service: &str,
        refresh_jwt: &SecretString,
    ) -> Result<(), Failure> {
        send(http::bearer(
            self.http.post(format!("{service}{DELETE_SESSION}")),
            refresh_jwt,
        ))
        .await
        .map(drop)
    }

    async fn delete_session_quietly(&self, service: &str, refresh_jwt: &SecretString) {
        if let Err(failure) = self.delete_session(service, refresh_jwt).await {
            tracing::warn!(error = %failure.class, "could not delete a full-access Bluesky session; it expires on its own");
        }
    }

    /// Uploads, resolves and creates; see [`PlatformAdapter::publish`] on this type.
    async fn publish_post(
        &self,
        account: &AccountRef<'_>,
        post: &PublishRequest<'_>,
    ) -> Result<Published, AdapterError> {
        check_media(post.media)?;
        let service = self.account_service(account);

        let facets = self.facets(&service, post.text).await?;
        let mut images = Vec::with_capacity(post.media.len());
        for item in post.media {
            let blob = self
                .upload_image(&service, account.access_token, item)
                .await?;
            images.push(image_embed(item, blob));
        }

        let mut record = serde_json::Map::new();
        record.insert("$type".into(), POST_COLLECTION.into());
        record.insert("text".into(), post.text.into());
        record.insert(
            "createdAt".into(),
            Utc::now()
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
                .into(),
        );
        if !facets.is_empty() {
            record.insert("facets".into(), Value::Array(facets));
        }
        if !images.is_empty() {
            record.insert(
                "embed".into(),
                json!({"$type": "app.bsky.embed.images", "images": images}),
            );
        }
        if let Some(to) = &post.reply_to {
            let reply = self.reply_refs(&service, account, to).await?;
            record.insert("reply".into(), reply);
        }
        let record = Value::Object(record);
        for rkey in record_keys(post.created_at, post.idempotency_key) {
            if let Some(published) = self.create_post(&service, account, &rkey, &record).await? {
                return Ok(published);
            }
        }
        Err(record_keys_taken())
    }

    /// Writes `record` at `rkey`: the post, or `None` when another post holds the key (the
    /// caller moves on to the next one).
    ///
    /// When the create fails in a way an existing record explains, the record at `rkey` is read:
    /// the reference PDS answers a create at a taken key with a bare 500 (its repository tree
    /// refuses the duplicate with an untyped error, which XRPC never details); other
    /// implementations say "already exists". A record with this post's text is this very post
    /// from an earlier attempt; a record with other text is another post that drew the same key
    /// ([`tid`]). Nothing there, or no answer, leaves the create's own failure.
    async fn create_post(
        &self,
        service: &str,
        account: &AccountRef<'_>,
        rkey: &str,
        record: &Value,
    ) -> Result<Option<Published>, AdapterError> {
        let body = json!({
            "repo": account.platform_account_id,
            "collection": POST_COLLECTION,
            "rkey": rkey,
            "record": record,
        });
        let request = http::bearer(
            self.http.post(format!("{service}{CREATE_RECORD}")),
            account.access_token,
        )
        .json(&body);
        match json_unsure::<CreatedRecord>(request).await {
            Ok(created) => Ok(Some(published(created.uri))),
            Err(failure) if failure.may_mean_the_record_exists() => {
                let text = record["text"].as_str().unwrap_or_default();
                match self.find_post(service, account, rkey).await {
                    Ok(Some(existing)) if existing.is_post(text) => {
                        tracing::info!(
                            bluesky.rkey = %rkey,
                            "the Bluesky post already exists: an earlier attempt created it"
                        );
                        Ok(Some(published(existing.uri)))
                    }
                    Ok(Some(_)) => {
                        tracing::warn!(
                            bluesky.rkey = %rkey,
                            "another Bluesky post holds this post's record key; trying the next key"
                        );
                        Ok(None)
                    }
                    Ok(None) | Err(_) => Err(failure.class),
                }
            }
            Err(failure) => Err(failure.class),
        }
    }

    /// Uploads one image and answers its blob reference, which goes into the record untouched
    /// (the PDS matches it against the blob it stored).
    async fn upload_image(
        &self,
        service: &str,
        access_jwt: &SecretString,
        image: &MediaItem,
    ) -> Result<Value, AdapterError> {
        let uploaded: UploadedBlob = json(
            http::bearer(
                self.http.post(format!("{service}{UPLOAD_BLOB}")),
                access_jwt,
            )
            .header(reqwest::header::CONTENT_TYPE, image.mime_type.as_str())
            .body(image.bytes.clone()),
        )
        .await?;
        Ok(uploaded.blob)
    }

    /// The facets of `text` ([`richtext`]): its links, its tags, and its mentions whose handles
    /// resolve. Each handle is resolved once however often it appears.
    async fn facets(&self, service: &str, text: &str) -> Result<Vec<Value>, AdapterError> {
        let mut dids: HashMap<String, Option<String>> = HashMap::new();
        let mut facets = Vec::new();
        for span in find_spans(text) {
            let feature = match &span.kind {
                SpanKind::Link(uri) => json!({"$type": "app.bsky.richtext.facet#link", "uri": uri}),
                SpanKind::Tag(tag) => json!({"$type": "app.bsky.richtext.facet#tag", "tag": tag}),
                SpanKind::Mention(handle) => {
                    let did = match dids.get(handle) {
                        Some(known) => known.clone(),
                        None => {
                            let resolved = self.resolve_handle(service, handle).await?;
                            dids.insert(handle.clone(), resolved.clone());
                            resolved
                        }
                    };
                    let Some(did) = did else { continue };
                    json!({"$type": "app.bsky.richtext.facet#mention", "did": did})
                }
            };
            facets.push(json!({
                "index": {"byteStart": span.start, "byteEnd": span.end},
                "features": [feature],
            }));
        }
        Ok(facets)
    }

    /// The DID behind `handle`, or `None` when the service answers that it does not resolve
    /// (400): the mention then stays plain text. Any other failure is returned, so the post
    /// waits rather than losing its mentions for good to a service that was briefly down.
    async fn resolve_handle(
        &self,
        service: &str,
        handle: &str,
    ) -> Result<Option<String>, AdapterError> {
        let url =
            http::url_with_query(&format!("{service}{RESOLVE_HANDLE}"), &[("handle", handle)])?;
        match json::<ResolvedHandle>(self.http.get(url)).await {
            Ok(resolved) if resolved.did.starts_with("did:") => Ok(Some(resolved.did)),
            Ok(_) => Ok(None),
            Err(failure) if failure.status == Some(StatusCode::BAD_REQUEST) => Ok(None),
            Err(failure) => Err(failure.class),
        }
    }

    /// The post at `rkey` in the account's repository, if there is one. Asked with the
    /// account's token so that an entryway (`bsky.social`) routes the read to the account's
    /// own PDS, which knows the record the moment it is committed.
    async fn find_post(
        &self,
        service: &str,
        account: &AccountRef<'_>,
        rkey: &str,
    ) -> Result<Option<RecordView>, AdapterError> {
        let url = http::url_with_query(
            &format!("{service}{GET_RECORD}"),
            &[
                ("repo", account.platform_account_id),
                ("collection", POST_COLLECTION),
                ("rkey", rkey),
            ],
        )?;
        match json::<RecordView>(http::bearer(self.http.get(url), account.access_token)).await {
            Ok(record) => Ok(Some(record)),
            Err(failure) if failure.is_record_not_found() => Ok(None),
            Err(failure) => Err(failure.class),
        }
    }
}

impl PlatformAdapter for BlueskyAdapter {
    fn descriptor(&self) -> &Descriptor {
        &self.descriptor
    }

    fn connect_with_password<'a>(
        &'a self,
        identifier: &'a str,
        password: &'a SecretString,
        service: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Connection, AdapterError>> {
        Box::pin(self.create_session(identifier, password, service))
    }

    fn authorize_url(&self, _params: &AuthorizeParams<'_>) -> Result<String, AdapterError> {
        Err(unsupported_oauth())
    }

    fn exchange_code<'a>(
        &'a self,
        _exchange: &'a CodeExchange<'a>,
    ) -> BoxFuture<'a, Result<Vec<Connection>, AdapterError>> {
        Box::pin(async { Err(unsupported_oauth()) })
    }

    fn profile<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
    ) -> BoxFuture<'a, Result<Profile, AdapterError>> {
        Box::pin(async move {
            let service = self.account_service(account);
            let view = self
                .get_profile(&service, account.platform_account_id, account.access_token)
                .await?;
            Ok(view.into_profile(None))
        })
    }

    fn stats<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
    ) -> BoxFuture<'a, Result<Stats, AdapterError>> {
        Box::pin(async move {
            let service = self.account_service(account);
            let view = self
                .get_profile(&service, account.platform_account_id, account.access_token)
                .await?;
            Ok(view.stats())
        })
    }

    /// `getProfile` answers both.
    fn profile_and_stats<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
    ) -> BoxFuture<'a, Result<(Profile, Stats), AdapterError>> {
        Box::pin(async move {
            let service = self.account_service(account);
            let view = self
                .get_profile(&service, account.platform_account_id, account.access_token)
                .await?;
            let stats = view.stats();
            Ok((view.into_profile(None), stats))
        })
    }

    /// `com.atproto.server.refreshSession` on the account's service, authenticated with the
    /// refresh JWT (the lexicon: "Requires auth using the 'refreshJwt' (not the 'accessJwt')").
    /// Both JWTs rotate: the PDS retires the refresh JWT it was sent (after a short grace
    /// period), so the caller must store the returned pair before anything else. Expiries come
    /// from the JWTs' own `exp` claims, as at session creation.
    ///
    /// The new pair is returned even when the answer says the account is no longer active:
    /// the old refresh JWT is already spent, and dropping the new one would lose the session for
    /// good; publishing then fails on its own terms.
    ///
    /// No stored refresh JWT, `ExpiredToken` and `InvalidToken` (expired, revoked with its app
    /// password, or not a refresh JWT) are [`AdapterError::NeedsReauth`]: the user must sign in
    /// again with an app password. `AccountTakedown`, the lexicon's one declared error, is a
    /// rejection: signing in again cannot help a taken-down account.
    fn refresh<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
    ) -> BoxFuture<'a, Result<TokenSet, AdapterError>> {
        Box::pin(async move {
            let refresh_jwt = account.refresh_token.ok_or_else(|| AdapterError::NeedsReauth {
                message: "no Bluesky refresh token is stored for this account: reconnect your Bluesky account with an app password".into(),
            })?;
            let service = self.account_service(account);
            let session: Session = json(http::bearer(
                self.http.post(format!("{service}{REFRESH_SESSION}")),
                refresh_jwt,
            ))
            .await
            .map_err(refresh_session_failure)?;
            Ok(session_tokens(session.access_jwt, session.refresh_jwt))
        })
    }

    /// `deleteSession` with the refresh JWT ends the whole session (the access JWT dies with
    /// it). A session that is already expired or invalid is as good as revoked: disconnecting
    /// must not fail because the grant is already gone.
    fn revoke<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
    ) -> BoxFuture<'a, Result<Revocation, AdapterError>> {
        Box::pin(async move {
            let Some(refresh_jwt) = account.refresh_token else {
                // Without the refresh JWT there is no session handle to delete; the access JWT
                // expires within hours on its own.
                return Ok(Revocation::NotSupported);
            };
            let service = self.account_service(account);
            match self.delete_session(&service, refresh_jwt).await {
                Ok(()) => Ok(Revocation::Revoked),
                Err(failure)
                    if matches!(
                        failure.xrpc_error.as_deref(),
                        Some("ExpiredToken" | "InvalidToken")
                    ) =>
                {
                    Ok(Revocation::Revoked)
                }
                Err(failure) => Err(failure.class),
            }
        })
    }

    /// Publishes with a record key derived from the target's creation time and idempotency key
    /// ([`record_key`]), so every attempt of one post writes the same repository path and a
    /// repeat can never add a second post: images go up with `uploadBlob` (re-uploading an
    /// identical blob is harmless), links, tags and resolvable mentions become facets, then
    /// `createRecord` writes the post. When that create fails in a way an existing record
    /// explains, the record is looked up: if it is this post (the same text) it is answered as
    /// published; if it is another post that drew the same key, the next of the target's
    /// [`record_keys`] is tried, and when all are taken the post is refused.
    /// `ExpiredToken` is [`AdapterError::NeedsReauth`] (the caller refreshes the session and
    /// tries again).
    fn publish<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
        post: &'a PublishRequest<'a>,
    ) -> BoxFuture<'a, Result<Published, AdapterError>> {
        Box::pin(self.publish_post(account, post))
    }

    /// `getRecord` along the post's [`record_keys`], as `publish` walks them: the first record
    /// with the post's text, passing over records of other posts, and `None` at the first key
    /// with no record (`RecordNotFound`: `publish` would have written there). A wrong `None`
    /// (say, a lagging replica) cannot cause a duplicate: the repeated create fails on the
    /// existing key and is answered from the record.
    fn find_published<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
        post: &'a PublishRequest<'a>,
    ) -> BoxFuture<'a, Result<Option<Published>, AdapterError>> {
        Box::pin(async move {
            let service = self.account_service(account);
            for rkey in record_keys(post.created_at, post.idempotency_key) {
                match self.find_post(&service, account, &rkey).await? {
                    None => return Ok(None),
                    Some(record) if record.is_post(post.text) => {
                        return Ok(Some(published(record.uri)))
                    }
                    Some(_) => {}
                }
            }
            Ok(None)
        })
    }

    /// `app.bsky.feed.getPosts`, 25 posts a request ([`follow_ups`]).
    fn post_metrics<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
        posts: &'a [crate::PostRef<'a>],
    ) -> BoxFuture<'a, Result<Vec<crate::PostMetrics>, AdapterError>> {
        Box::pin(self.read_post_metrics(account, posts))
    }

    /// `com.atproto.repo.deleteRecord` ([`follow_ups`]).
    fn delete_post<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
        post: &'a crate::PostRef<'a>,
    ) -> BoxFuture<'a, Result<crate::Deletion, AdapterError>> {
        Box::pin(self.delete(account, post))
    }
}

/// Refuses, before any upload, media the post cannot carry: videos (not supported here yet),
/// more than four images, and images over the lexicon's 1,000,000 bytes.
fn check_media(media: &[MediaItem]) -> Result<(), AdapterError> {
    if media.iter().any(|item| item.kind != MediaKind::Image) {
        return Err(AdapterError::Rejected {
            code: "unsupported_media".into(),
            message: "Postbridge publishes images to Bluesky, not videos".into(),
        });
    }
    if media.len() > MAX_IMAGES {
        return Err(AdapterError::Rejected {
            code: "too_many_media".into(),
            message: format!(
                "a Bluesky post carries at most {MAX_IMAGES} images, not {}",
                media.len()
            ),
        });
    }
    if let Some(large) = media.iter().find(|item| item.bytes.len() > MAX_IMAGE_BYTES) {
        return Err(AdapterError::Rejected {
            code: "media_too_large".into(),
            message: format!(
                "Bluesky takes images of at most {MAX_IMAGE_BYTES} bytes; this one has {}",
                large.bytes.len()
            ),
        });
    }
    Ok(())
}

/// One `app.bsky.embed.images#image`: the blob, its alt text (required by the lexicon, empty
/// when the user gave none) and, where the size is known, its aspect ratio, without which the
/// app shows the image in a square crop until it has loaded.
fn image_embed(item: &MediaItem, blob: Value) -> Value {
    let mut image = serde_json::Map::new();
    image.insert(
        "alt".into(),
        item.alt_text.clone().unwrap_or_default().into(),
    );
    image.insert("image".into(), blob);
    if let (Some(width), Some(height)) = (
        item.width.filter(|w| *w > 0),
        item.height.filter(|h| *h > 0),
    ) {
        image.insert(
            "aspectRatio".into(),
            json!({"width": width, "height": height}),
        );
    }
    Value::Object(image)
}

fn published(uri: String) -> Published {
    Published {
        url: post_web_url(&uri),
        platform_post_id: uri,
    }
}

/// Classifies an XRPC error answer. XRPC errors are JSON `{"error": "<Name>", "message": "…"}`:
/// `ExpiredToken` and `InvalidToken` mean the JWT is no good (refresh, or ask the user to
/// reconnect) whatever the status (the PDS answers them with 400 as well as 401); a 429 (or
/// `RateLimitExceeded`) waits for `Retry-After` or `RateLimit-Reset`; the rest follows
/// [`classify_response`].
pub fn classify_xrpc(status: StatusCode, headers: &HeaderMap, body: &str) -> AdapterError {
    let parsed: XrpcErrorBody = serde_json::from_str(body).unwrap_or_default();
    if status == StatusCode::TOO_MANY_REQUESTS
        || parsed.error.as_deref() == Some("RateLimitExceeded")
    {
        return AdapterError::RateLimited {
            retry_after: rate_limit_wait(headers, Utc::now().timestamp()),
        };
    }
    if let Some(name @ ("ExpiredToken" | "InvalidToken")) = parsed.error.as_deref() {
        let message = parsed.message.as_deref().map(short).unwrap_or_default();
        return AdapterError::NeedsReauth {
            message: format!("{name}: {message}"),
        };
    }
    classify_response(status, headers, body)
}

/// How long a 429 asks us to wait: `Retry-After` (seconds) when present, else `RateLimit-Reset`.
/// The Bluesky PDS sends `RateLimit-Reset` as the epoch second the window ends; the IETF draft it
/// comes from uses seconds-from-now, so a value too small to be a timestamp is read that way.
pub fn rate_limit_wait(headers: &HeaderMap, now_epoch_secs: i64) -> Option<Duration> {
    if let Some(wait) = parse_retry_after(headers, now_epoch_secs) {
        return Some(wait);
    }
    let reset = headers
        .get("ratelimit-reset")?
        .to_str()
        .ok()?
        .trim()
        .parse::<i64>()
        .ok()?;
    let secs = if reset >= 1_000_000_000 {
        reset - now_epoch_secs
    } else {
        reset
    };
    Some(Duration::from_secs(u64::try_from(secs).unwrap_or(0)))
}

fn create_session_failure(failure: Failure) -> AdapterError {
    match failure.xrpc_error.as_deref() {
        Some("AuthFactorTokenRequired") => app_password_required(),
        Some("AccountTakedown") => account_takedown(),
        // 401 AuthenticationRequired "Invalid identifier or password": the PDS says the same for
        // an unknown handle and a wrong password (on purpose, against account enumeration).
        _ if failure.status == Some(StatusCode::UNAUTHORIZED) => AdapterError::Rejected {
            code: "invalid_credentials".into(),
            message: "invalid handle or app password".into(),
        },
        _ => failure.class,
    }
}

/// A failed `refreshSession`: the user is not at the keyboard, so a "reauthorize" says what they
/// must do when they next look.
fn refresh_session_failure(failure: Failure) -> AdapterError {
    match (failure.xrpc_error.as_deref(), failure.class) {
        (Some("AccountTakedown"), _) => account_takedown(),
        (_, AdapterError::NeedsReauth { message }) => AdapterError::NeedsReauth {
            message: format!(
                "the Bluesky session has ended: reconnect your Bluesky account with an app password ({message})"
            ),
        },
        (_, class) => class,
    }
}

/// A session's JWT pair as a [`TokenSet`]. The access JWT's `exp` is its expiry (the documented
/// two hours when it cannot be read: never "does not expire"), the refresh JWT's `exp` the
/// session's end, and the access JWT's `scope` claim the one scope (what the app password may
/// do).
fn session_tokens(access_jwt: SecretString, refresh_jwt: SecretString) -> TokenSet {
    let now = Utc::now();
    let access_claims = jwt_claims(access_jwt.expose_secret());
    let refresh_claims = jwt_claims(refresh_jwt.expose_secret());
    TokenSet {
        expires_at: Some(
            access_claims
                .as_ref()
                .and_then(|c| c.expires_at(now))
                .unwrap_or_else(|| {
                    now + chrono::Duration::from_std(ACCESS_JWT_LIFETIME).unwrap_or_default()
                }),
        ),
        refresh_expires_at: refresh_claims.as_ref().and_then(|c| c.expires_at(now)),
        scopes: access_claims.and_then(|c| c.scope).into_iter().collect(),
        access_token: access_jwt,
        refresh_token: Some(refresh_jwt),
    }
}

fn account_takedown() -> AdapterError {
    AdapterError::Rejected {
        code: "account_takedown".into(),
        message: "this Bluesky account has been taken down by its host".into(),
    }
}

fn app_password_required() -> AdapterError {
    AdapterError::Rejected {
        code: "app_password_required".into(),
        message: "use an app password (Settings → App passwords, format xxxx-xxxx-xxxx-xxxx), not your main password".into(),
    }
}

/// Every key a target may use holds another post ([`tid::PROBES`] of them, all created in the
/// target's microsecond): trying again walks the same keys, so the refusal is permanent.
fn record_keys_taken() -> AdapterError {
    AdapterError::Rejected {
        code: "record_key_collision".into(),
        message: format!(
            "every Bluesky record key this post may use ({} of them) already holds another post",
            tid::PROBES
        ),
    }
}

fn unsupported_oauth() -> AdapterError {
    AdapterError::Unsupported {
        what: "Bluesky accounts connect with an app password, not an OAuth redirect".into(),
    }
}

/// A failed XRPC call: its classification plus what callers with more context (session
/// creation, revocation) need to refine it.
#[derive(Debug)]
struct Failure {
    status: Option<StatusCode>,
    xrpc_error: Option<String>,
    xrpc_message: Option<String>,
    class: AdapterError,
}

impl From<Failure> for AdapterError {
    fn from(failure: Failure) -> Self {
        failure.class
    }
}

impl Failure {
    fn other(class: AdapterError) -> Self {
        Self {
            status: None,
            xrpc_error: None,
            xrpc_message: None,
            class,
        }
    }

    /// Whether a failed `createRecord` may be the refusal of a key that is already taken: a
    /// server error (how the reference PDS refuses it) or an answer that says so.
    fn may_mean_the_record_exists(&self) -> bool {
        let says_so = self.xrpc_message.as_deref().is_some_and(|message| {
            let message = message.to_ascii_lowercase();
            message.contains("already exists") || message.contains("already a value")
        });
        says_so || self.status.is_some_and(|s| s.is_server_error())
    }

    /// `getRecord`'s answer for a missing record: 400 `RecordNotFound` from a PDS, or a bare
    /// "Could not locate record" where the read went to an App View.
    fn is_record_not_found(&self) -> bool {
        self.status == Some(StatusCode::BAD_REQUEST)
            && (self.xrpc_error.as_deref() == Some("RecordNotFound")
                || self
                    .xrpc_message
                    .as_deref()
                    .is_some_and(|m| m.starts_with("Could not locate record")))
    }
}

async fn send(request: RequestBuilder) -> Result<Response, Failure> {
    let response = request
        .transmit()
        .await
        .map_err(|e| Failure::other(AdapterError::from_transport(&e)))?;
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    Err(failure_of(response).await)
}

/// Sends the one request that creates the post: a network failure after it left leaves the
/// outcome unknown (see [`http::send_unsure`]).
async fn send_unsure(request: RequestBuilder) -> Result<Response, Failure> {
    let response = request
        .transmit()
        .await
        .map_err(|e| Failure::other(AdapterError::from_transport_unsure(&e)))?;
    if response.status().is_success() {
        return Ok(response);
    }
    Err(failure_of(response).await)
}

/// [`send_unsure`] and decode the answer; a 2xx whose body is lost or unreadable leaves the
/// outcome unknown too.
async fn json_unsure<T: DeserializeOwned>(request: RequestBuilder) -> Result<T, Failure> {
    let response = send_unsure(request).await?;
    let unknown = |message: String| Failure::other(AdapterError::OutcomeUnknown { message });
    let bytes = response
        .bytes()
        .await
        .map_err(|e| unknown(format!("reading the answer: {e}")))?;
    serde_json::from_slice(&bytes).map_err(|e| {
        unknown(format!(
            "the PDS accepted the record but answered an unexpected shape: {e}"
        ))
    })
}

async fn failure_of(response: Response) -> Failure {
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.text().await.unwrap_or_default();
    let parsed = serde_json::from_str::<XrpcErrorBody>(&body).unwrap_or_default();
    Failure {
        status: Some(status),
        xrpc_error: parsed.error,
        xrpc_message: parsed.message.as_deref().map(short),
        class: classify_xrpc(status, &headers, &body),
    }
}

async fn json<T: DeserializeOwned>(request: RequestBuilder) -> Result<T, Failure> {
    let response = send(request).await?;
    let bytes = response
        .bytes()
        .await
        .map_err(|e| Failure::other(AdapterError::from_transport(&e)))?;
    serde_json::from_slice(&bytes).map_err(|e| {
        Failure::other(AdapterError::Transient {
            message: format!("unexpected response shape: {e}"),
        })
    })
}

/// At most 300 characters on one line: server messages end up in our errors and logs.
fn short(text: &str) -> String {
    crate::http::excerpt(text, 300)
}

#[derive(Debug, Default, Deserialize)]
struct XrpcErrorBody {
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

/// `com.atproto.repo.uploadBlob` output.
#[derive(Debug, Deserialize)]
struct UploadedBlob {
    blob: Value,
}

/// `com.atproto.repo.createRecord` output (the field we use).
#[derive(Debug, Deserialize)]
struct CreatedRecord {
    uri: String,
}

/// `com.atproto.repo.getRecord` output (the fields we use).
#[derive(Debug, Deserialize)]
struct RecordView {
    uri: String,
    /// The record's CID (a reply's strong reference needs it; see `replies.rs`).
    #[serde(default)]
    cid: Option<String>,
    #[serde(default)]
    value: PostValue,
}

/// The part of an `app.bsky.feed.post` record that tells one post from another.
#[derive(Debug, Default, Deserialize)]
struct PostValue {
    #[serde(default)]
    text: Option<String>,
}

impl RecordView {
    /// Whether this record is the post whose text is `text`. Text equality is the check: the
    /// PDS stores the text we sent byte for byte, and two posts that share a record key (one
    /// account, one microsecond, one clock id) *and* a text are indistinguishable to the user
    /// too. `createdAt` is no help: it is the moment of each attempt.
    fn is_post(&self, text: &str) -> bool {
        self.value.text.as_deref() == Some(text)
    }
}

/// `com.atproto.identity.resolveHandle` output.
#[derive(Debug, Deserialize)]
struct ResolvedHandle {
    did: String,
}

#[derive(Serialize)]
struct CreateSessionInput<'a> {
    identifier: &'a str,
    password: &'a str,
}

/// `com.atproto.server.createSession` and `refreshSession` output (the fields we use).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Session {
    access_jwt: SecretString,
    refresh_jwt: SecretString,
    handle: String,
    did: String,
    #[serde(default)]
    active: Option<bool>,
    #[serde(default)]
    status: Option<String>,
}

/// The claims of a session JWT we read. The signature is not checked, on purpose: the PDS signs
/// with its own key, which a client neither has nor needs; the token reached us straight from the
/// PDS over TLS; and the claims only steer scheduling (when to refresh) and one safety refusal.
/// A wrong `exp` at worst makes a refresh early or late, and a late one is caught by the 401
/// `ExpiredToken` path. Authorization stays with the PDS, which verifies every token it gets.
#[derive(Debug, Default, Deserialize)]
struct JwtClaims {
    #[serde(default)]
    exp: Option<f64>,
    #[serde(default)]
    scope: Option<String>,
}

impl JwtClaims {
    /// `exp` as a time, when it is present and still in the future.
    fn expires_at(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        // NumericDate may carry a fraction; whole seconds are plenty for scheduling.
        let secs = self.exp?.floor() as i64;
        DateTime::from_timestamp(secs, 0).filter(|at| *at > now)
    }
}

fn jwt_claims(token: &str) -> Option<JwtClaims> {
    let payload = token.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// `app.bsky.actor.defs#profileViewDetailed` (the fields we use).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProfileView {
    did: String,
    #[serde(default)]
    handle: Option<String>,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    avatar: Option<String>,
    #[serde(default)]
    followers_count: Option<i64>,
    #[serde(default)]
    follows_count: Option<i64>,
    #[serde(default)]
    posts_count: Option<i64>,
}

impl ProfileView {
    fn stats(&self) -> Stats {
        Stats {
            followers_count: self.followers_count,
            following_count: self.follows_count,
            posts_count: self.posts_count,
        }
    }

    fn into_profile(self, fallback_handle: Option<String>) -> Profile {
        let handle = self.handle.or(fallback_handle).filter(|h| !h.is_empty());
        // `handle.invalid` is what the network shows when a handle no longer verifies; the DID
        // is the link that always works.
        let path = handle
            .as_deref()
            .filter(|h| *h != "handle.invalid")
            .unwrap_or(&self.did);
        Profile {
            profile_url: Some(format!("{PROFILE_WEB_BASE}/{path}")),
            platform_account_id: self.did,
            account_kind: Some(AccountKind::Profile),
            display_name: self.display_name.filter(|n| !n.trim().is_empty()),
            handle,
            avatar_url: self.avatar.filter(|a| !a.is_empty()),
        }
    }
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, HeaderValue::from_static(v));
        }
        map
    }

    #[test]
    fn app_password_shape_is_four_groups_of_four() {
        assert!(looks_like_app_password("abcd-ef23-ghij-kl45"));
        assert!(!looks_like_app_password("hunter2"));
        assert!(!looks_like_app_password("abcd-efgh-ijkl"));
        assert!(!looks_like_app_password("abcd-efgh-ijkl-mnop-qrst"));
        assert!(!looks_like_app_password("abcd-efgh-ijkl-mn!p"));
        assert!(!looks_like_app_password("correct horse battery staple"));
    }

    #[test]
    fn rate_limit_reset_is_read_as_an_epoch_or_as_seconds() {
        let now = 1_700_000_000;
        assert_eq!(
            rate_limit_wait(&headers(&[("ratelimit-reset", "1700000030")]), now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            rate_limit_wait(&headers(&[("ratelimit-reset", "45")]), now),
            Some(Duration::from_secs(45))
        );
        assert_eq!(
            rate_limit_wait(&headers(&[("ratelimit-reset", "1600000000")]), now),
            Some(Duration::ZERO)
        );
        assert_eq!(
            rate_limit_wait(
                &headers(&[("retry-after", "7"), ("ratelimit-reset", "1700000030")]),
                now
            ),
            Some(Duration::from_secs(7))
        );
        assert_eq!(rate_limit_wait(&HeaderMap::new(), now), None);
    }

    #[test]
    fn expired_and_invalid_tokens_need_reauth_whatever_the_status() {
        for (status, body) in [
            (
                StatusCode::BAD_REQUEST,
                r#"{"error":"ExpiredToken","message":"Token has expired"}"#,
            ),
            (
                StatusCode::UNAUTHORIZED,
                r#"{"error":"InvalidToken","message":"Token could not be verified"}"#,
            ),
        ] {
            assert!(matches!(
                classify_xrpc(status, &HeaderMap::new(), body),
                AdapterError::NeedsReauth { .. }
            ));
        }
    }

    #[test]
    fn jwt_claims_are_read_without_a_signature_check() {
        let payload = URL_SAFE_NO_PAD
            .encode(br#"{"scope":"com.atproto.appPass","sub":"did:plc:x","exp":4102444800}"#);
        let claims =
            jwt_claims(&format!("eyJhbGciOiJFUzI1NksifQ.{payload}.c2ln")).unwrap_or_default();
        assert_eq!(claims.scope.as_deref(), Some("com.atproto.appPass"));
        assert_eq!(
            claims.expires_at(Utc::now()).map(|t| t.timestamp()),
            Some(4_102_444_800)
        );
        assert!(jwt_claims("not-a-jwt").is_none());
    }

    #[test]
    fn post_urls_are_built_from_at_uris() {
        assert_eq!(
            post_web_url("at://did:plc:abc/app.bsky.feed.post/3k4duaz5vfs2b").as_deref(),
            Some("https://bsky.app/profile/did:plc:abc/post/3k4duaz5vfs2b")
        );
        assert_eq!(
            post_web_url("at://did:plc:abc/app.bsky.feed.like/3k4duaz5vfs2b"),
            None
        );
        assert_eq!(post_web_url("https://bsky.app/"), None);
    }

    #[test]
    fn an_exp_in_the_past_is_ignored() {
        let claims = JwtClaims {
            exp: Some(1_000.0),
            scope: None,
        };
        assert_eq!(claims.expires_at(Utc::now()), None);
    }
}
