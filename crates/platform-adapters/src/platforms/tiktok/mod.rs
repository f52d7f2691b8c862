//! TikTok creators through Login Kit for Web (OAuth 2.0 v2) and the Display API.
//!
//! TikTok differs from plain OAuth in ways that matter here:
//! - the client is named `client_key` (not `client_id`) everywhere, and scopes are
//!   comma-separated;
//! - PKCE: the web flow takes the standard S256 challenge (base64url of SHA-256). TikTok's
//!   *desktop* flow instead wants the SHA-256 hex-encoded; Postbridge is a web client with an
//!   https redirect, so the standard form is used, and the matching `code_verifier` is sent at
//!   the exchange (the token endpoint documents it as required for mobile/desktop only; the
//!   widely used `arctic` client does the same for web);
//! - API answers carry `{"error": {"code": "ok" | "<code>", "message", "log_id"}}` even on
//!   success, and a failure may come with any status, so classification reads the body
//!   instead of relying on the status alone;
//! - a refresh answers a new refresh token and the previous one stops working (single use),
//!   with its own lifetime (`refresh_expires_in`: 365 days in older guides, 180 in newer ones);
//! - OAuth errors (token endpoint) are RFC 6749 strings: `{"error": "invalid_grant",
//!   "error_description", "log_id"}`, documented under "OAuth error handling".
//!
//! Publishing uses the Content Posting API's Direct Post with `FILE_UPLOAD`: query the creator's
//! options, initialize the post, `PUT` the bytes to the returned `upload_url`, then poll the
//! post's status until TikTok publishes it or gives up. See [`TiktokAdapter::publish`] for which
//! of those calls may leave the outcome unknown, and why. References:
//! <https://developers.tiktok.com/doc/content-posting-api-get-started>,
//! <https://developers.tiktok.com/doc/content-posting-api-reference-query-creator-info>,
//! <https://developers.tiktok.com/doc/content-posting-api-reference-direct-post>,
//! <https://developers.tiktok.com/doc/content-posting-api-media-transfer-guide> (chunk rules),
//! <https://developers.tiktok.com/doc/content-posting-api-reference-get-video-status>.
//!
//! Posts of an app that has not passed TikTok's audit are forced to private (`SELF_ONLY`), and
//! private posts never get a public post id: such a publication is recorded by its
//! `publish_id`, without a URL.
//!
//! References: <https://developers.tiktok.com/doc/login-kit-web>,
//! <https://developers.tiktok.com/doc/oauth-user-access-token-management>,
//! <https://developers.tiktok.com/docs/en/oauth-refresh-a-user-access-token>,
//! <https://developers.tiktok.com/doc/tiktok-api-v2-get-user-info>,
//! <https://developers.tiktok.com/doc/tiktok-api-v2-error-handling>,
//! <https://developers.tiktok.com/doc/oauth-error-handling>.

mod follow_ups;
mod rules;

use std::{ops::Range, time::Duration};

use domain::{AccountKind, AuthKind, Platform};
use futures_util::future::BoxFuture;
use reqwest::{
    header::{HeaderMap, CONTENT_RANGE, CONTENT_TYPE},
    RequestBuilder, StatusCode,
};
use secrecy::{ExposeSecret, SecretString};
use serde::{de::DeserializeOwned, Deserialize};
use serde_json::{json, Value};

use crate::http::Transmit;
use crate::{
    classify_response,
    http::{self, TokenResponse},
    oauth::{ClientAuth, TokenEndpoint},
    parse_retry_after, AccountRef, AdapterError, AdapterSettings, AuthorizeParams, Capabilities,
    ClientCredentials, CodeExchange, Connection, Descriptor, Endpoints, MediaItem, MediaKind,
    PlatformAdapter, Profile, PublishLimit, PublishRequest, Published, Revocation, Stats,
    TextCounting, TokenSet,
};

/// Profile basics, handle and profile link (`user.info.profile`: `username` needs it), counts
/// (`user.info.stats`), and both posting modes: direct post and upload to the inbox.
const SCOPES: &[&str] = &[
    "user.info.basic",
    "user.info.profile",
    "user.info.stats",
    "video.publish",
    "video.upload",
];

/// `user.info.basic` fields.
const BASIC_FIELDS: &str = "open_id,avatar_url,display_name";
/// `user.info.profile` fields.
const PROFILE_FIELDS: &str = "username,profile_deep_link";
/// `user.info.stats` fields.
const STATS_FIELDS: &str = "follower_count,following_count,video_count";

/// The body type every Content Posting call declares.
const JSON_UTF8: &str = "application/json; charset=UTF-8";

/// Largest video sent in one piece. The media transfer guide allows a single chunk up to 64 MB
/// (and requires one below 5 MB); decimal megabytes keep this under either reading of "MB".
const SINGLE_CHUNK_MAX: usize = 64_000_000;

/// Chunk size of larger videos: inside the guide's 5–64 MB, and small enough for each `PUT` to
/// finish within the HTTP client's timeout on an ordinary link.
const CHUNK_SIZE: usize = 10_000_000;

/// The guide's limit on chunks per upload.
const MAX_CHUNKS: usize = 1000;

/// How `publish` waits for TikTok to finish a post once the video is uploaded: a status check
/// every `interval`, at most `attempts` times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusPolling {
    /// Wait before each check.
    pub interval: Duration,
    /// Checks before the outcome is declared unknown.
    pub attempts: u32,
}

impl Default for StatusPolling {
    /// Every 5 seconds for 2½ minutes: well under the status endpoint's 30 requests per minute,
    /// and inside the publisher's time budget for one publish (TikTok processes a 512 MB video
    /// in under half a minute, and moderation "usually finishes within one minute").
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(5),
            attempts: 30,
        }
    }
}

/// TikTok's static facts.
pub fn descriptor() -> Descriptor {
    Descriptor {
        platform: Platform::Tiktok,
        auth_kind: AuthKind::Oauth2,
        scopes: SCOPES.iter().map(|s| (*s).to_owned()).collect(),
        pkce: true,
        // The current token guide gives access tokens 2 hours (earlier revisions said 24);
        // the shorter figure is the safe fallback: an early refresh costs nothing.
        access_token_lifetime: Some(Duration::from_secs(2 * 60 * 60)),
        refresh_token_rotates: true,
        capabilities: Capabilities {
            // The post caption (`title`): at most 2200 UTF-16 code units.
            text_limit: 2200,
            text_counting: TextCounting::Chars,
            // One video per post (photo posts are a separate Content Posting flow, not offered).
            media_kinds: vec![MediaKind::Video],
            max_media: 1,
            requires_media: true,
            // Direct Post allows about 15 posts a day per creator.
            publish_limit: Some(PublishLimit::per_day(15)),
            idempotent_publish: false,
            dedup_window: None,
            // No delete and no comment endpoint; `/v2/video/query/` reads 20 videos a request.
            follow_ups: crate::FollowUps {
                delete: false,
                threads: false,
                first_comment: false,
                metrics_batch: follow_ups::METRICS_BATCH,
            },
        },
    }
}

/// Production URLs.
pub fn default_endpoints() -> Endpoints {
    Endpoints {
        authorize_url: "https://www.tiktok.com/v2/auth/authorize/".into(),
        token_url: "https://open.tiktokapis.com/v2/oauth/token/".into(),
        revoke_url: Some("https://open.tiktokapis.com/v2/oauth/revoke/".into()),
        api_base: "https://open.tiktokapis.com".into(),
        // Content Posting init calls live on the API host; the bytes go to the `upload_url`
        // TikTok returns (on `open-upload.tiktokapis.com`).
        upload_base: "https://open.tiktokapis.com".into(),
    }
}

/// TikTok in the registry: one app of ours, configured in `[platforms.tiktok]`.
pub const SPEC: crate::spec::PlatformSpec = crate::spec::PlatformSpec {
    descriptor,
    name: "TikTok",
    rules: &rules::RULES,
    count_text: None,
    default_endpoints,
    reach: crate::spec::Reach::App,
    build: |b| std::sync::Arc::new(TiktokAdapter::new(b.http, b.settings)),
};

/// The TikTok adapter.
#[derive(Debug)]
pub struct TiktokAdapter {
    http: reqwest::Client,
    settings: AdapterSettings,
    descriptor: Descriptor,
    polling: StatusPolling,
}

impl TiktokAdapter {
    /// An adapter on the shared HTTP client.
    pub fn new(http: reqwest::Client, settings: AdapterSettings) -> Self {
        Self {
            http,
            settings,
            descriptor: descriptor(),
            polling: StatusPolling::default(),
        }
    }

    /// The same adapter waiting for posts as `polling` says (tests check every few
    /// milliseconds).
    pub fn with_status_polling(mut self, polling: StatusPolling) -> Self {
        self.polling = polling;
        self
    }

    fn credentials(&self) -> Result<&ClientCredentials, AdapterError> {
        self.settings.require_credentials(Platform::Tiktok)
    }

    /// The token endpoint with our app's credentials in the form body, the client id as
    /// `client_key`. Only the requests go through it: the answers are read by [`call`] and
    /// [`classify`], since TikTok wraps its own errors in an envelope and answers OAuth errors
    /// with a 200, and the code exchange's answer carries the `open_id` beside the tokens.
    fn token_endpoint(&self) -> Result<TokenEndpoint<'_>, AdapterError> {
        Ok(TokenEndpoint {
            platform: "TikTok",
            http: &self.http,
            url: &self.settings.endpoints.token_url,
            credentials: self.credentials()?,
            auth: ClientAuth::BodyAs("client_key"),
            lifetime: self.descriptor.access_token_lifetime,
        })
    }

    /// `GET /v2/user/info/?fields=…`. Users may grant only some of the requested scopes, and
    /// each field needs its scope, so callers ask only for fields they expect to be granted.
    async fn user(&self, token: &SecretString, fields: &str) -> Result<User, AdapterError> {
        let url = format!("{}/v2/user/info/", self.settings.endpoints.api_base);
        let request = http::bearer(self.http.get(url).query(&[("fields", fields)]), token);
        let info: UserInfo = decode(&call(request).await?)?;
        info.data
            .and_then(|d| d.user)
            .ok_or_else(|| AdapterError::Transient {
                message: "TikTok returned no user".into(),
            })
    }

    /// Creator options, init, upload, status checks; see [`PlatformAdapter::publish`] here.
    async fn publish_video(
        &self,
        account: &AccountRef<'_>,
        post: &PublishRequest<'_>,
    ) -> Result<Published, AdapterError> {
        let video = single_video(post.media)?;
        let token = account.access_token;
        let creator = self.creator_info(token).await?;
        let privacy = privacy_level(
            post.options.privacy.as_deref(),
            &creator.privacy_level_options,
        )?;
        check_duration(video, creator.max_video_post_duration_sec)?;
        let plan = UploadPlan::for_size(video.bytes.len())?;
        let init = self
            .init_post(token, post.text, &privacy, &creator, &plan)
            .await?;
        self.upload(&init.upload_url, video, &plan).await?;
        self.await_publication(token, &init.publish_id, creator.creator_username.as_deref())
            .await
    }

    /// `POST /v2/post/publish/creator_info/query/`: the privacy levels this creator may post
    /// with, their interaction settings and longest allowed video. TikTok requires a fresh
    /// query before every post.
    async fn creator_info(&self, token: &SecretString) -> Result<CreatorInfo, AdapterError> {
        let url = format!(
            "{}/v2/post/publish/creator_info/query/",
            self.settings.endpoints.api_base
        );
        let request = http::bearer(self.http.post(url), token).header(CONTENT_TYPE, JSON_UTF8);
        let answer: Answer<CreatorInfo> = decode(&call(request).await?)?;
        answer.data.ok_or_else(|| AdapterError::Transient {
            message: "TikTok returned no creator info".into(),
        })
    }

    /// `POST /v2/post/publish/video/init/` (Direct Post, `FILE_UPLOAD`). The interaction
    /// switches follow the creator's own settings: a creator who turned duets off keeps them
    /// off, everything else stays allowed.
    async fn init_post(
        &self,
        token: &SecretString,
        caption: &str,
        privacy: &str,
        creator: &CreatorInfo,
        plan: &UploadPlan,
    ) -> Result<InitData, AdapterError> {
        let url = format!(
            "{}/v2/post/publish/video/init/",
            self.settings.endpoints.upload_base
        );
        let body = json!({
            "post_info": {
                "title": caption,
                "privacy_level": privacy,
                "disable_duet": creator.duet_disabled,
                "disable_comment": creator.comment_disabled,
                "disable_stitch": creator.stitch_disabled,
            },
            "source_info": {
                "source": "FILE_UPLOAD",
                "video_size": plan.video_size,
                "chunk_size": plan.chunk_size,
                "total_chunk_count": plan.chunks.len(),
            },
        });
        let request = http::bearer(self.http.post(url), token)
            .header(CONTENT_TYPE, JSON_UTF8)
            .json(&body);
        let answer: Answer<InitData> = decode(&call(request).await?)?;
        answer.data.ok_or_else(|| AdapterError::Transient {
            message: "TikTok initialized no post".into(),
        })
    }

    /// `PUT upload_url` once per chunk, in order, with `Content-Range: bytes first-last/total`.
    /// The URL is TikTok's own signed upload address: the account's token is not sent there.
    /// Only the last chunk can complete the upload, so only its call is unsure.
    async fn upload(
        &self,
        upload_url: &str,
        video: &MediaItem,
        plan: &UploadPlan,
    ) -> Result<(), AdapterError> {
        let total = plan.video_size;
        for (index, chunk) in plan.chunks.iter().enumerate() {
            let request = self
                .http
                .put(upload_url)
                .header(CONTENT_TYPE, video.mime_type.as_str())
                .header(
                    CONTENT_RANGE,
                    format!("bytes {}-{}/{total}", chunk.start, chunk.end - 1),
                )
                .body(video.bytes.slice(chunk.clone()));
            if index + 1 == plan.chunks.len() {
                call_unsure(request).await?;
            } else {
                call(request).await?;
            }
        }
        Ok(())
    }

    /// Polls `POST /v2/post/publish/status/fetch/` until TikTok says `PUBLISH_COMPLETE` or
    /// `FAILED`. The video is on TikTok by now and will go live on its own, so no failure here
    /// may invite a new attempt: a status that cannot be read, or a post still processing after
    /// every check (moderation can take hours), is [`AdapterError::OutcomeUnknown`], naming the
    /// `publish_id` for whoever looks into it. Throttled or failed checks are simply repeated.
    async fn await_publication(
        &self,
        token: &SecretString,
        publish_id: &str,
        username: Option<&str>,
    ) -> Result<Published, AdapterError> {
        let mut last_problem = None;
        for _ in 0..self.polling.attempts {
            tokio::time::sleep(self.polling.interval).await;
            match self.publish_status(token, publish_id).await {
                Ok(status) => match status.status.as_str() {
                    // `SEND_TO_USER_INBOX` ends the upload-to-inbox flow, not Direct Post; should
                    // it come, the video is with the creator and must not be sent again.
                    "PUBLISH_COMPLETE" | "SEND_TO_USER_INBOX" => {
                        return Ok(published(publish_id, &status.post_ids, username));
                    }
                    "FAILED" => return Err(publish_failure(status.fail_reason.as_deref())),
                    // `PROCESSING_UPLOAD`, `PROCESSING_DOWNLOAD`: not done yet.
                    _ => last_problem = None,
                },
                Err(problem) if problem.is_retryable() => last_problem = Some(problem),
                Err(problem) => {
                    return Err(AdapterError::OutcomeUnknown {
                        message: format!(
                            "TikTok accepted the video (publish_id {publish_id}) but its status could not be read: {problem}"
                        ),
                    })
                }
            }
        }
        let why = last_problem.map_or_else(
            || "TikTok was still processing it".to_owned(),
            |p| format!("the last check failed: {p}"),
        );
        Err(AdapterError::OutcomeUnknown {
            message: format!(
                "TikTok accepted the video (publish_id {publish_id}) but had not published it after {} checks ({why})",
                self.polling.attempts
            ),
        })
    }

    /// `POST /v2/post/publish/status/fetch/` with `{"publish_id"}`.
    async fn publish_status(
        &self,
        token: &SecretString,
        publish_id: &str,
    ) -> Result<PublishStatus, AdapterError> {
        let url = format!(
            "{}/v2/post/publish/status/fetch/",
            self.settings.endpoints.api_base
        );
        let request = http::bearer(self.http.post(url), token)
            .header(CONTENT_TYPE, JSON_UTF8)
            .json(&json!({ "publish_id": publish_id }));
        let answer: Answer<PublishStatus> = decode(&call(request).await?)?;
        answer.data.ok_or_else(|| AdapterError::Transient {
            message: "TikTok returned no publish status".into(),
        })
    }
}

impl PlatformAdapter for TiktokAdapter {
    fn descriptor(&self) -> &Descriptor {
        &self.descriptor
    }

    fn authorize_url(&self, params: &AuthorizeParams<'_>) -> Result<String, AdapterError> {
        let credentials = self.credentials()?;
        let challenge = params
            .pkce_challenge
            .ok_or_else(|| AdapterError::Unsupported {
                what: "TikTok authorization without a PKCE challenge".into(),
            })?;
        let scope = self.descriptor.scopes.join(",");
        http::url_with_query(
            &self.settings.endpoints.authorize_url,
            &[
                ("client_key", &credentials.client_id),
                ("response_type", "code"),
                ("scope", &scope),
                ("redirect_uri", params.redirect_uri),
                ("state", params.state),
                ("code_challenge", challenge),
                ("code_challenge_method", "S256"),
            ],
        )
    }

    fn exchange_code<'a>(
        &'a self,
        exchange: &'a CodeExchange<'a>,
    ) -> BoxFuture<'a, Result<Vec<Connection>, AdapterError>> {
        Box::pin(async move {
            let endpoint = self.token_endpoint()?;
            let mut form = vec![
                ("code", exchange.code),
                ("grant_type", "authorization_code"),
                ("redirect_uri", exchange.redirect_uri),
            ];
            if let Some(verifier) = exchange.pkce_verifier {
                form.push(("code_verifier", verifier));
            }
            let request = endpoint.post(endpoint.url, &form);
            let grant: TokenGrant = decode(&call(request).await?)?;
            let tokens = grant
                .token
                .into_token_set(self.descriptor.access_token_lifetime);
            // Ask only for what was granted: a declined `user.info.stats` must not fail the
            // whole connection.
            let granted = |scope: &str| tokens.scopes.iter().any(|s| s == scope);
            let mut fields = BASIC_FIELDS.to_owned();
            if granted("user.info.profile") {
                fields = format!("{fields},{PROFILE_FIELDS}");
            }
            let with_stats = granted("user.info.stats");
            if with_stats {
                fields = format!("{fields},{STATS_FIELDS}");
            }
            let user = self.user(&tokens.access_token, &fields).await?;
            let stats = with_stats.then(|| user.stats());
            let mut profile = user.into_profile();
            if profile.platform_account_id.is_empty() {
                profile.platform_account_id = grant.open_id;
            }
            Ok(vec![Connection {
                profile,
                tokens,
                stats,
            }])
        })
    }

    /// Basic and profile fields; without `user.info.profile` granted, basic fields only.
    fn profile<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
    ) -> BoxFuture<'a, Result<Profile, AdapterError>> {
        Box::pin(async move {
            let token = account.access_token;
            let user = match self
                .user(token, &format!("{BASIC_FIELDS},{PROFILE_FIELDS}"))
                .await
            {
                Err(AdapterError::Rejected { code, .. }) if code == "scope_not_authorized" => {
                    self.user(token, BASIC_FIELDS).await?
                }
                other => other?,
            };
            Ok(user.into_profile())
        })
    }

    /// Follower, following and video counts; all unknown when the user declined
    /// `user.info.stats` (the platform does not expose them to us then).
    fn stats<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
    ) -> BoxFuture<'a, Result<Stats, AdapterError>> {
        Box::pin(async move {
            match self
                .user(account.access_token, &format!("open_id,{STATS_FIELDS}"))
                .await
            {
                Ok(user) => Ok(user.stats()),
                Err(AdapterError::Rejected { code, .. }) if code == "scope_not_authorized" => {
                    Ok(Stats::default())
                }
                Err(e) => Err(e),
            }
        })
    }

    /// Profile and counts in one `user/info` call asking every field; where a scope was
    /// declined (`scope_not_authorized`), the two calls above, each falling back on its own.
    fn profile_and_stats<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
    ) -> BoxFuture<'a, Result<(Profile, Stats), AdapterError>> {
        Box::pin(async move {
            let fields = format!("{BASIC_FIELDS},{PROFILE_FIELDS},{STATS_FIELDS}");
            match self.user(account.access_token, &fields).await {
                Ok(user) => {
                    let stats = user.stats();
                    Ok((user.into_profile(), stats))
                }
                Err(AdapterError::Rejected { code, .. }) if code == "scope_not_authorized" => {
                    futures_util::future::try_join(self.profile(account), self.stats(account)).await
                }
                Err(e) => Err(e),
            }
        })
    }

    /// `POST /v2/oauth/token/` with `client_key`, `client_secret`, `grant_type=refresh_token`
    /// and the refresh token, form-encoded. TikTok rotates: the answer's refresh token replaces
    /// the one sent, which stops working, so the caller must store the returned set before
    /// anything else (`refresh_expires_in` becomes [`TokenSet::refresh_expires_at`]). A missing
    /// `expires_in` falls back to the documented two hours.
    ///
    /// No stored refresh token, and `invalid_grant` (expired, revoked, or already rotated away),
    /// are [`AdapterError::NeedsReauth`] telling the user to reconnect; errors arrive in TikTok's
    /// shapes, with any status, and `classify` reads them.
    fn refresh<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
    ) -> BoxFuture<'a, Result<TokenSet, AdapterError>> {
        Box::pin(async move {
            let endpoint = self.token_endpoint()?;
            let refresh_token = account
                .refresh_token
                .ok_or_else(|| AdapterError::NeedsReauth {
                    message: "no TikTok refresh token is stored for this account: reconnect your TikTok account".into(),
                })?;
            let request = endpoint.post(
                endpoint.url,
                &[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", refresh_token.expose_secret()),
                ],
            );
            let body = call(request).await.map_err(|error| match error {
                AdapterError::NeedsReauth { message } => AdapterError::NeedsReauth {
                    message: format!(
                        "TikTok no longer accepts this account's refresh token: reconnect your TikTok account ({message})"
                    ),
                },
                other => other,
            })?;
            let grant: TokenGrant = decode(&body)?;
            Ok(grant
                .token
                .into_token_set(self.descriptor.access_token_lifetime))
        })
    }

    /// `POST /v2/oauth/revoke/` with the access token: TikTok then drops the user's whole
    /// authorization of the app, refresh token included.
    fn revoke<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
    ) -> BoxFuture<'a, Result<Revocation, AdapterError>> {
        Box::pin(async move {
            let Some(url) = self.settings.endpoints.revoke_url.as_deref() else {
                return Ok(Revocation::NotSupported);
            };
            let request = self
                .token_endpoint()?
                .post(url, &[("token", account.access_token.expose_secret())]);
            call(request).await?;
            Ok(Revocation::Revoked)
        })
    }

    /// Direct-posts the post's one video with its text as the caption, at `options.privacy`
    /// when the creator may use it (asking for a level they may not is a rejection), else at
    /// the first level TikTok offers them.
    ///
    /// Which call is unsure: the init creates a pending post, but nothing goes live until its
    /// video is uploaded, and an init whose upload never comes simply expires (its upload URL
    /// is valid for an hour), so a timed-out init is merely transient and a new attempt starts
    /// afresh. The `PUT` of the last chunk is different: once TikTok has the whole file the post
    /// proceeds to publication by itself, so that call is the one that may leave the outcome
    /// unknown, and so does every status check after it (see `await_publication`).
    fn publish<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
        post: &'a PublishRequest<'a>,
    ) -> BoxFuture<'a, Result<Published, AdapterError>> {
        Box::pin(self.publish_video(account, post))
    }

    /// `POST /v2/video/query/`, 20 videos a request: likes, comments, shares, views (scope
    /// `video.list`; without it every figure is `None`).
    fn post_metrics<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
        posts: &'a [crate::PostRef<'a>],
    ) -> BoxFuture<'a, Result<Vec<crate::PostMetrics>, AdapterError>> {
        Box::pin(self.video_metrics(account, posts))
    }

    /// TikTok's API has no delete: `Unsupported`, saying where the user can delete it.
    fn delete_post<'a>(
        &'a self,
        _account: &'a AccountRef<'a>,
        _post: &'a crate::PostRef<'a>,
    ) -> BoxFuture<'a, Result<crate::Deletion, AdapterError>> {
        Box::pin(async {
            Err(AdapterError::Unsupported {
                what: follow_ups::NO_DELETE.into(),
            })
        })
    }
}

/// The post's one video: Direct Post of a video takes exactly one (photo posts are another
/// flow, not offered).
fn single_video(media: &[MediaItem]) -> Result<&MediaItem, AdapterError> {
    match media {
        [video] if video.kind == MediaKind::Video => Ok(video),
        _ => Err(AdapterError::Rejected {
            code: "video_required".into(),
            message: "a TikTok post needs exactly one video and no other media".into(),
        }),
    }
}

/// The privacy level to post with: the one asked for, if the creator may use it; else the first
/// the creator is offered. TikTok's lists depend on the account (a private account has no
/// `PUBLIC_TO_EVERYONE`).
fn privacy_level(asked: Option<&str>, allowed: &[String]) -> Result<String, AdapterError> {
    match asked.map(str::trim).filter(|a| !a.is_empty()) {
        Some(asked) => {
            let wanted = asked.to_ascii_uppercase();
            if allowed.contains(&wanted) {
                Ok(wanted)
            } else {
                Err(AdapterError::Rejected {
                    code: "privacy_level_not_allowed".into(),
                    message: format!(
                        "this TikTok account cannot post with privacy `{asked}`; it may use: {}",
                        allowed.join(", ")
                    ),
                })
            }
        }
        None => allowed
            .first()
            .cloned()
            .ok_or_else(|| AdapterError::Rejected {
                code: "no_privacy_level".into(),
                message: "TikTok offers this account no privacy level to post with".into(),
            }),
    }
}

/// Refuses a video longer than the creator may post, before anything is uploaded.
fn check_duration(video: &MediaItem, max_secs: Option<u64>) -> Result<(), AdapterError> {
    match (video.duration_ms, max_secs) {
        (Some(ms), Some(max)) if u64::from(ms) > max.saturating_mul(1000) => {
            Err(AdapterError::Rejected {
                code: "video_too_long".into(),
                message: format!("this TikTok account may post videos of at most {max} seconds"),
            })
        }
        _ => Ok(()),
    }
}

/// How a video is cut into chunks, per the media transfer guide: one chunk up to
/// [`SINGLE_CHUNK_MAX`]; beyond, `floor(size / chunk_size)` chunks of [`CHUNK_SIZE`], the last
/// one taking the trailing bytes too (the guide lets it exceed `chunk_size`, up to 128 MB).
#[derive(Debug, Clone, PartialEq, Eq)]
struct UploadPlan {
    video_size: usize,
    chunk_size: usize,
    chunks: Vec<Range<usize>>,
}

impl UploadPlan {
    fn for_size(video_size: usize) -> Result<Self, AdapterError> {
        if video_size == 0 {
            return Err(AdapterError::Rejected {
                code: "empty_video".into(),
                message: "the video file is empty".into(),
            });
        }
        if video_size <= SINGLE_CHUNK_MAX {
            return Ok(Self {
                video_size,
                chunk_size: video_size,
                chunks: std::iter::once(0..video_size).collect(),
            });
        }
        let count = video_size / CHUNK_SIZE;
        if count > MAX_CHUNKS {
            return Err(AdapterError::Rejected {
                code: "video_too_large".into(),
                message: "the video is too large for TikTok".into(),
            });
        }
        let chunks = (0..count)
            .map(|i| {
                let end = if i + 1 == count {
                    video_size
                } else {
                    (i + 1) * CHUNK_SIZE
                };
                i * CHUNK_SIZE..end
            })
            .collect();
        Ok(Self {
            video_size,
            chunk_size: CHUNK_SIZE,
            chunks,
        })
    }
}

/// A completed post: its public id when TikTok gives one, with its URL when the creator's
/// username is known; else (private posts get no public id) the `publish_id`, without a URL.
fn published(publish_id: &str, post_ids: &[Value], username: Option<&str>) -> Published {
    let public_id = post_ids.iter().find_map(|id| match id {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    });
    match public_id {
        Some(id) => Published {
            url: username
                .filter(|u| !u.is_empty())
                .map(|u| format!("https://www.tiktok.com/@{u}/video/{id}")),
            platform_post_id: id,
        },
        None => Published {
            platform_post_id: publish_id.to_owned(),
            url: None,
        },
    }
}

/// A `FAILED` post: a rejection carrying TikTok's `fail_reason`. Nothing was published, so a
/// later new attempt is safe, but repeating the same post would most likely fail alike.
fn publish_failure(fail_reason: Option<&str>) -> AdapterError {
    let reason = fail_reason.filter(|r| !r.is_empty()).unwrap_or("unknown");
    AdapterError::Rejected {
        code: reason.to_owned(),
        message: format!("TikTok did not publish the video: {reason}"),
    }
}

/// Sends a TikTok request that publishes nothing and returns the body of a successful answer;
/// see [`classify`].
async fn call(request: RequestBuilder) -> Result<String, AdapterError> {
    exchange(request, false).await
}

/// [`call`] for the request that completes a post: a network failure after it was sent, or a
/// success whose answer is lost, leaves the outcome unknown.
async fn call_unsure(request: RequestBuilder) -> Result<String, AdapterError> {
    exchange(request, true).await
}

async fn exchange(request: RequestBuilder, unsure: bool) -> Result<String, AdapterError> {
    let response = request.transmit().await.map_err(|e| {
        if unsure {
            AdapterError::from_transport_unsure(&e)
        } else {
            AdapterError::from_transport(&e)
        }
    })?;
    let status = response.status();
    let headers = response.headers().clone();
    let body = match response.text().await {
        Ok(body) => body,
        Err(e) if unsure && status.is_success() => {
            return Err(AdapterError::OutcomeUnknown {
                message: format!("TikTok took the request but its answer was lost: {e}"),
            })
        }
        Err(e) => return Err(AdapterError::from_transport(&e)),
    };
    match classify(status, &headers, &body) {
        Some(error) => Err(error),
        None => Ok(body),
    }
}

fn decode<T: DeserializeOwned>(body: &str) -> Result<T, AdapterError> {
    serde_json::from_str(body).map_err(|e| AdapterError::Transient {
        message: format!("unexpected response shape: {e}"),
    })
}

/// Whether a TikTok answer failed, and how. API errors are `{"error": {"code": …}}` objects
/// (`"ok"` on success); the OAuth endpoints use the RFC 6749 `{"error": "invalid_grant"}` form,
/// which the shared classification already understands, even when it arrives with a 200.
/// Of those, `invalid_client` and `unauthorized_client` blame Postbridge's app credentials, not
/// the user's grant: they are rejections carrying that code, since sending users through a
/// reconnect cannot fix a wrong client secret.
///
/// - `access_token_invalid` (expired, revoked or unknown token) → [`AdapterError::NeedsReauth`];
/// - `rate_limit_exceeded`, and the posting caps `spam_risk_too_many_posts` (the creator's daily
///   posts), `spam_risk_too_many_pending_share` and `reached_active_user_cap` (the app's daily
///   publishing users) → [`AdapterError::RateLimited`] with the `Retry-After`, if any (else the
///   caller's default wait);
/// - `internal_error` → [`AdapterError::Transient`];
/// - `scope_not_authorized` → a rejection: the token is fine, the user did not grant the scope,
///   so refreshing cannot help (callers degrade, the user may reconnect to grant it);
/// - any other code → the status decides (401 reauth, 5xx transient), rejections keep the code.
fn classify(status: StatusCode, headers: &HeaderMap, body: &str) -> Option<AdapterError> {
    let error = serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|mut v| v.get_mut("error").map(Value::take));
    let (code, message) = match error {
        Some(Value::Object(object)) => {
            let text = |key: &str| {
                object
                    .get(key)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned()
            };
            (text("code"), excerpt(&text("message")))
        }
        Some(Value::String(code))
            if matches!(code.as_str(), "invalid_client" | "unauthorized_client") =>
        {
            return Some(AdapterError::Rejected {
                code,
                message: "TikTok refused Postbridge's app credentials: check the configured client key and secret".into(),
            });
        }
        // OAuth errors: the shared classification, with TikTok's `error_description` ("Refresh
        // token is invalid or expired.") as the reason a user may read, not the JSON around it.
        Some(Value::String(_)) => {
            return Some(match classify_response(status, headers, body) {
                AdapterError::NeedsReauth { message } => AdapterError::NeedsReauth {
                    message: oauth_description(body).unwrap_or(message),
                },
                other => other,
            });
        }
        _ => (String::new(), String::new()),
    };
    if code.is_empty() || code == "ok" {
        return (!status.is_success()).then(|| classify_response(status, headers, body));
    }
    Some(match code.as_str() {
        "access_token_invalid" => AdapterError::NeedsReauth { message },
        "rate_limit_exceeded"
        | "spam_risk_too_many_posts"
        | "spam_risk_too_many_pending_share"
        | "reached_active_user_cap" => AdapterError::RateLimited {
            retry_after: parse_retry_after(headers, chrono::Utc::now().timestamp()),
        },
        "internal_error" => AdapterError::Transient { message },
        "scope_not_authorized" => AdapterError::Rejected { code, message },
        _ => match classify_response(status, headers, body) {
            AdapterError::Rejected { .. } => AdapterError::Rejected { code, message },
            other => other,
        },
    })
}

/// The non-empty `error_description` of an OAuth error body, as an excerpt.
fn oauth_description(body: &str) -> Option<String> {
    let value = serde_json::from_str::<Value>(body).ok()?;
    Some(excerpt(value.get("error_description")?.as_str()?)).filter(|d| !d.is_empty())
}

/// At most 300 characters of a platform message, on one line.
fn excerpt(text: &str) -> String {
    crate::http::excerpt(text, 300)
}

/// The `data` of a Content Posting answer (absent, or `{}`, on errors).
#[derive(Debug, Deserialize)]
struct Answer<T> {
    data: Option<T>,
}

/// `creator_info/query` data.
#[derive(Debug, Deserialize)]
struct CreatorInfo {
    #[serde(default)]
    privacy_level_options: Vec<String>,
    creator_username: Option<String>,
    #[serde(default)]
    comment_disabled: bool,
    #[serde(default)]
    duet_disabled: bool,
    #[serde(default)]
    stitch_disabled: bool,
    max_video_post_duration_sec: Option<u64>,
}

/// `video/init` data.
#[derive(Debug, Deserialize)]
struct InitData {
    publish_id: String,
    upload_url: String,
}

/// `status/fetch` data.
#[derive(Debug, Deserialize)]
struct PublishStatus {
    status: String,
    fail_reason: Option<String>,
    /// TikTok's spelling. Documented as `list<int64>`; strings are read too.
    #[serde(default, rename = "publicaly_available_post_id")]
    post_ids: Vec<Value>,
}

/// The token answer: the standard fields plus the user's `open_id`.
#[derive(Debug, Deserialize)]
struct TokenGrant {
    #[serde(flatten)]
    token: TokenResponse,
    #[serde(default)]
    open_id: String,
}

#[derive(Debug, Deserialize)]
struct UserInfo {
    data: Option<UserData>,
}

#[derive(Debug, Deserialize)]
struct UserData {
    user: Option<User>,
}

#[derive(Debug, Deserialize)]
struct User {
    #[serde(default)]
    open_id: String,
    display_name: Option<String>,
    avatar_url: Option<String>,
    username: Option<String>,
    profile_deep_link: Option<String>,
    follower_count: Option<i64>,
    following_count: Option<i64>,
    video_count: Option<i64>,
}

impl User {
    fn stats(&self) -> Stats {
        Stats {
            followers_count: self.follower_count,
            following_count: self.following_count,
            posts_count: self.video_count,
        }
    }

    /// `open_id` is the account id: it is what TikTok scopes tokens and posts to (`union_id`,
    /// shared across one developer's apps, is not asked for).
    fn into_profile(self) -> Profile {
        let profile_url = match &self.username {
            Some(username) => Some(format!("https://www.tiktok.com/@{username}")),
            None => self.profile_deep_link,
        };
        Profile {
            platform_account_id: self.open_id,
            account_kind: Some(AccountKind::Profile),
            display_name: self.display_name,
            handle: self.username,
            avatar_url: self.avatar_url,
            profile_url,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_video_up_to_64_mb_goes_in_one_chunk() {
        for size in [1, 4_999_999, SINGLE_CHUNK_MAX] {
            let plan = UploadPlan::for_size(size).ok();
            assert_eq!(
                plan,
                Some(UploadPlan {
                    video_size: size,
                    chunk_size: size,
                    chunks: std::iter::once(0..size).collect(),
                })
            );
        }
    }

    #[test]
    fn a_larger_video_is_cut_into_chunks_whose_last_takes_the_remainder() {
        let size = 105_000_123;
        let Ok(plan) = UploadPlan::for_size(size) else {
            panic!("a plan");
        };
        assert_eq!(plan.chunk_size, CHUNK_SIZE);
        assert_eq!(plan.chunks.len(), size / CHUNK_SIZE);
        assert_eq!(plan.chunks[0], 0..CHUNK_SIZE);
        assert_eq!(plan.chunks[9], 90_000_000..size);
        assert!(plan.chunks.windows(2).all(|w| w[0].end == w[1].start));
    }

    #[test]
    fn an_empty_video_is_refused() {
        assert!(matches!(
            UploadPlan::for_size(0),
            Err(AdapterError::Rejected { ref code, .. }) if code == "empty_video"
        ));
    }
}
