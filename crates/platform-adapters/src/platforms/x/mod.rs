//! X (formerly Twitter): connecting accounts through OAuth 2.0 authorization code flow with PKCE.
//!
//! Postbridge is a *confidential* client (a "Web App" in the X developer console), so the token
//! and revoke endpoints are called with HTTP Basic client authentication; `client_id` is also
//! sent in the body, which X accepts and which keeps the request valid should the app ever be
//! switched to a public client. Reference:
//! <https://docs.x.com/fundamentals/authentication/oauth-2-0/user-access-token> and
//! <https://docs.x.com/fundamentals/authentication/oauth-2-0/authorization-code>.
//!
//! Two facts shape the rest of the system: access tokens live two hours, and a refresh token is
//! only issued with `offline.access` and works once (each refresh answers a new one), so a
//! refresh must never run twice for the same account, and its result must be stored before
//! anything else happens: losing the answer loses the grant.
//!
//! The refresh request (`grant_type=refresh_token`, `refresh_token`, `client_id`, Basic client
//! authentication) is the guide's "Step 5". The guide documents no error bodies; in practice X
//! reports bad grant values as a 400 `invalid_request` ("Value passed for the token was
//! invalid.", "… for the authorization code was invalid."), not the RFC 6749 `invalid_grant`,
//! so a refresh classifies both as "reconnect".
//!
//! Publishing follows the X API v2 OpenAPI description (`createPosts`, the media upload
//! operations) and <https://docs.x.com/x-api/posts/manage-tweets/introduction>,
//! <https://docs.x.com/x-api/media/quickstart/media-upload-chunked>: images go up in one
//! `POST /2/media/upload`, videos and GIFs through initialize / append / finalize and, while X
//! transcodes them, status polls; alt text through `POST /2/media/metadata`; then one
//! `POST /2/tweets` creates the post. Only that last call can leave a post behind, so only it
//! answers `OutcomeUnknown` when no answer comes back.

mod follow_ups;
mod rules;
pub mod text;

use std::time::Duration;

use chrono::{DateTime, Utc};
use domain::{AccountKind, AuthKind, Platform};
use futures_util::future::BoxFuture;
use reqwest::{
    header::HeaderMap,
    multipart::{Form, Part},
    Body, StatusCode,
};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::{
    classify_response, http,
    oauth::{self, ClientAuth, TokenEndpoint},
    AccountRef, AdapterError, AdapterSettings, AuthorizeParams, Capabilities, ClientCredentials,
    CodeExchange, Connection, Descriptor, Endpoints, MediaItem, MediaKind, PlatformAdapter,
    Profile, PublishLimit, PublishRequest, Published, Revocation, Stats, TextCounting, TokenSet,
};

/// X's transport: error answers read by `classify_x`.
const API: http::Api = http::Api::new("X", |s, h, b| classify_x(s, h, b, Utc::now().timestamp()));

/// Read the user and their posts, post, upload media, and `offline.access` for a refresh token
/// (without it X issues none and the account would need reconnecting every two hours).
const SCOPES: &[&str] = &[
    "tweet.read",
    "tweet.write",
    "users.read",
    "offline.access",
    "media.write",
];

/// `user.fields` asked of `GET /2/users/me`; `id`, `name` and `username` come by default but are
/// listed so the answer does not depend on X's defaults.
const USER_FIELDS: &str = "id,name,username,profile_image_url,public_metrics";

/// Bytes per `append` segment of a chunked upload. X takes segments of up to 5 MB; 4 MiB keeps
/// a margin and bounds how much one retried segment resends.
const SEGMENT_BYTES: usize = 4 * 1024 * 1024;

/// X's limit on alternative text; longer text is refused, so it is cut rather than losing the
/// whole post.
const ALT_TEXT_MAX_CHARS: usize = 1000;

/// How far back [`PlatformAdapter::find_published`] looks: an attempt whose answer was lost is
/// reconciled within hours, and an older post with the same text is someone else's (X would
/// have refused ours as a duplicate of a recent one anyway).
const LOOKBACK: Duration = Duration::from_secs(24 * 60 * 60);

/// How many of the account's latest posts are searched (the endpoint's maximum page).
const LOOKUP_PAGE: &str = "100";

/// How the adapter waits for X to process an uploaded video or GIF before it may be attached:
/// it follows X's `check_after_secs`, never pausing longer than `max_interval`, and gives up
/// (transient: nothing was posted) once `max_wait` is spent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcessingPolling {
    /// Longest pause between two status polls, whatever X suggests.
    pub max_interval: Duration,
    /// Total pause before giving up.
    pub max_wait: Duration,
}

impl Default for ProcessingPolling {
    /// Polls at most every 10 seconds for two minutes: short clips are ready in seconds, and the
    /// publisher's own deadline for the whole publish is four minutes.
    fn default() -> Self {
        Self {
            max_interval: Duration::from_secs(10),
            max_wait: Duration::from_secs(120),
        }
    }
}

/// X's static facts.
pub fn descriptor() -> Descriptor {
    Descriptor {
        platform: Platform::X,
        auth_kind: AuthKind::Oauth2,
        scopes: SCOPES.iter().map(|s| (*s).to_owned()).collect(),
        pkce: true,
        // "the access token ... will only stay valid for two hours".
        access_token_lifetime: Some(Duration::from_secs(2 * 60 * 60)),
        refresh_token_rotates: true,
        capabilities: Capabilities {
            text_limit: 280,
            text_counting: TextCounting::XWeighted,
            media_kinds: vec![MediaKind::Image, MediaKind::Video],
            // Four images, or one video/GIF: the publisher enforces the per-kind rule.
            max_media: 4,
            requires_media: false,
            // POST /2/tweets: 100 requests per 15 minutes per user.
            publish_limit: Some(PublishLimit {
                max: 100,
                window: std::time::Duration::from_secs(15 * 60),
            }),
            idempotent_publish: false,
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

/// Production URLs. The authorization page lives on `x.com`; every API call on `api.x.com`.
pub fn default_endpoints() -> Endpoints {
    Endpoints {
        authorize_url: "https://x.com/i/oauth2/authorize".into(),
        token_url: "https://api.x.com/2/oauth2/token".into(),
        revoke_url: Some("https://api.x.com/2/oauth2/revoke".into()),
        api_base: "https://api.x.com".into(),
        upload_base: "https://api.x.com".into(),
    }
}

/// X in the registry: one app of ours, configured in `[platforms.x]`.
pub const SPEC: crate::spec::PlatformSpec = crate::spec::PlatformSpec {
    descriptor,
    name: "X",
    rules: &rules::RULES,
    count_text: Some(text::count),
    default_endpoints,
    reach: crate::spec::Reach::App,
    build: |b| std::sync::Arc::new(XAdapter::new(b.http, b.settings)),
};

/// The X adapter.
#[derive(Debug)]
pub struct XAdapter {
    http: reqwest::Client,
    settings: AdapterSettings,
    descriptor: Descriptor,
    polling: ProcessingPolling,
}

impl XAdapter {
    /// An adapter on the shared HTTP client.
    pub fn new(http: reqwest::Client, settings: AdapterSettings) -> Self {
        Self {
            http,
            settings,
            descriptor: descriptor(),
            polling: ProcessingPolling::default(),
        }
    }

    /// Replaces how media processing is waited for (tests poll in milliseconds).
    pub fn with_processing_polling(mut self, polling: ProcessingPolling) -> Self {
        self.polling = polling;
        self
    }

    fn credentials(&self) -> Result<&ClientCredentials, AdapterError> {
        self.settings.require_credentials(Platform::X)
    }

    /// `GET /2/users/me`: who the token belongs to and their public counts, in one call.
    async fn me(&self, token: &SecretString) -> Result<(Profile, Stats), AdapterError> {
        let url = format!("{}/2/users/me", self.settings.endpoints.api_base);
        let request = http::bearer(
            self.http.get(url).query(&[("user.fields", USER_FIELDS)]),
            token,
        );
        let answer: UsersMe = http::json(request).await?;
        let Some(user) = answer.data else {
            // X answers 200 with only `errors` when it cannot produce the object.
            return Err(match answer.errors.into_iter().next() {
                Some(problem) => AdapterError::Rejected {
                    code: problem
                        .kind
                        .rsplit('/')
                        .next()
                        .unwrap_or_default()
                        .to_owned(),
                    message: problem.detail.or(problem.title).unwrap_or_default(),
                },
                None => AdapterError::Transient {
                    message: "X returned no user".into(),
                },
            });
        };
        let stats = user.public_metrics.map_or_else(Stats::default, |m| Stats {
            followers_count: m.followers_count,
            following_count: m.following_count,
            posts_count: m.post_count.or(m.tweet_count),
        });
        let profile = Profile {
            platform_account_id: user.id,
            account_kind: Some(AccountKind::Profile),
            display_name: user.name,
            profile_url: user.username.as_ref().map(|u| format!("https://x.com/{u}")),
            handle: user.username,
            avatar_url: user.profile_image_url,
        };
        Ok((profile, stats))
    }

    /// `POST token_url` with `grant_type=refresh_token`, the refresh token and `client_id`,
    /// authenticated with HTTP Basic like the code exchange. The answer holds a new access
    /// token *and* a new refresh token; the one sent is spent from now on, so the caller must
    /// persist the returned set at once (a lost answer means the user has to reconnect).
    async fn refresh_grant(&self, account: &AccountRef<'_>) -> Result<TokenSet, AdapterError> {
        let endpoint = self.token_endpoint()?;
        let refresh_token = account
            .refresh_token
            .ok_or_else(|| AdapterError::NeedsReauth {
                message:
                    "X did not grant a refresh token for this account: reconnect your X account"
                        .into(),
            })?;
        let tokens = endpoint
            .refresh(
                &[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", refresh_token.expose_secret()),
                    ("client_id", endpoint.credentials.client_id.as_str()),
                ],
                refresh_token,
                oauth::standard_refresh_failure("X"),
            )
            .await?;
        if tokens.refresh_token.is_none() {
            // Not seen from X with `offline.access`; the stored token is likely spent, so the
            // next refresh will ask the user to reconnect.
            tracing::warn!("X answered a refresh without a new refresh token");
        }
        Ok(tokens)
    }

    /// The token endpoint with our app's credentials, authenticated with HTTP Basic.
    fn token_endpoint(&self) -> Result<TokenEndpoint<'_>, AdapterError> {
        Ok(TokenEndpoint {
            platform: "X",
            http: &self.http,
            url: &self.settings.endpoints.token_url,
            credentials: self.credentials()?,
            auth: ClientAuth::Basic,
            lifetime: self.descriptor.access_token_lifetime,
        })
    }

    /// RFC 7009 revocation of one token, authenticated like the token endpoint.
    async fn revoke_token(
        &self,
        url: &str,
        token: &SecretString,
        hint: &str,
    ) -> Result<(), AdapterError> {
        let endpoint = self.token_endpoint()?;
        endpoint
            .revoke(
                url,
                &[
                    ("token", token.expose_secret()),
                    ("token_type_hint", hint),
                    ("client_id", endpoint.credentials.client_id.as_str()),
                ],
            )
            .await
    }
}

impl PlatformAdapter for XAdapter {
    fn descriptor(&self) -> &Descriptor {
        &self.descriptor
    }

    fn authorize_url(&self, params: &AuthorizeParams<'_>) -> Result<String, AdapterError> {
        let credentials = self.credentials()?;
        // X requires PKCE; a missing challenge is a caller bug, refused before it reaches X.
        let challenge = params
            .pkce_challenge
            .ok_or_else(|| AdapterError::Unsupported {
                what: "X authorization without a PKCE challenge".into(),
            })?;
        let scope = self.descriptor.scopes.join(" ");
        http::url_with_query(
            &self.settings.endpoints.authorize_url,
            &[
                ("response_type", "code"),
                ("client_id", &credentials.client_id),
                ("redirect_uri", params.redirect_uri),
                ("scope", &scope),
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
                ("grant_type", "authorization_code"),
                ("code", exchange.code),
                ("redirect_uri", exchange.redirect_uri),
                ("client_id", endpoint.credentials.client_id.as_str()),
            ];
            if let Some(verifier) = exchange.pkce_verifier {
                form.push(("code_verifier", verifier));
            }
            let tokens = endpoint.exchange(&form).await?;
            let (profile, stats) = self.me(&tokens.access_token).await?;
            Ok(vec![Connection {
                profile,
                tokens,
                stats: Some(stats),
            }])
        })
    }

    fn profile<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
    ) -> BoxFuture<'a, Result<Profile, AdapterError>> {
        Box::pin(async move { Ok(self.me(account.access_token).await?.0) })
    }

    fn stats<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
    ) -> BoxFuture<'a, Result<Stats, AdapterError>> {
        Box::pin(async move { Ok(self.me(account.access_token).await?.1) })
    }

    /// One call answers both.
    fn profile_and_stats<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
    ) -> BoxFuture<'a, Result<(Profile, Stats), AdapterError>> {
        Box::pin(self.me(account.access_token))
    }

    /// Exchanges the single-use refresh token for a new two-hour access token and a new refresh
    /// token (`POST /2/oauth2/token`, Basic client authentication). The caller must persist the
    /// returned set at once: the refresh token it sent no longer works, and losing the answer
    /// means the user has to reconnect.
    fn refresh<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
    ) -> BoxFuture<'a, Result<TokenSet, AdapterError>> {
        Box::pin(self.refresh_grant(account))
    }

    /// Revokes the refresh token (the long-lived grant) and then the access token, so neither
    /// outlives the disconnect: X does not document that revoking one revokes the other.
    fn revoke<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
    ) -> BoxFuture<'a, Result<Revocation, AdapterError>> {
        Box::pin(async move {
            let Some(url) = self.settings.endpoints.revoke_url.as_deref() else {
                return Ok(Revocation::NotSupported);
            };
            if let Some(refresh_token) = account.refresh_token {
                self.revoke_token(url, refresh_token, "refresh_token")
                    .await?;
            }
            self.revoke_token(url, account.access_token, "access_token")
                .await?;
            Ok(Revocation::Revoked)
        })
    }

    /// Uploads the media (in order: X shows them in the order of `media_ids`), sets their alt
    /// text, then creates the post with `POST /2/tweets`. X has no idempotency key, so the
    /// create call is made once: when its answer is lost the result is `OutcomeUnknown` and the
    /// caller looks the post up with [`PlatformAdapter::find_published`] instead of repeating
    /// it. Uploads are harmless to repeat (X deletes unattached media after a day).
    fn publish<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
        post: &'a PublishRequest<'a>,
    ) -> BoxFuture<'a, Result<Published, AdapterError>> {
        Box::pin(async move {
            let mut media_ids = Vec::with_capacity(post.media.len());
            for item in post.media {
                media_ids.push(self.upload_media(account.access_token, item).await?);
            }
            let body = NewPost {
                text: post.text,
                media: (!media_ids.is_empty()).then_some(PostMedia { media_ids }),
                reply: post.reply_to.map(|to| PostReply {
                    in_reply_to_tweet_id: to.parent.platform_post_id,
                }),
            };
            let request = http::bearer(
                self.http
                    .post(format!("{}/2/tweets", self.settings.endpoints.api_base)),
                account.access_token,
            )
            .json(&body);
            let created: Created = API.json_unsure(request).await?;
            let Some(data) = created.data else {
                // A 2xx without the post: X accepted something, but what is unknown.
                return Err(AdapterError::OutcomeUnknown {
                    message: "X answered the post creation without the post's id".into(),
                });
            };
            Ok(published(data.id))
        })
    }

    /// Looks for the post among the account's latest posts (`GET /2/users/:id/tweets`, which
    /// needs `tweet.read` and `users.read`, both granted), created within the last day, whose
    /// text is the request's. X rewrites text it returns: links become `t.co` links (expanded
    /// back from `entities.urls`), attached media add a trailing `t.co` link (dropped), `&`, `<`
    /// and `>` come HTML-escaped, and text beyond 280 characters lives in `note_tweet`. A post
    /// without text cannot be told apart from other media posts, so it is not looked for.
    fn find_published<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
        post: &'a PublishRequest<'a>,
    ) -> BoxFuture<'a, Result<Option<Published>, AdapterError>> {
        Box::pin(async move {
            let wanted = post.text.trim();
            if wanted.is_empty() {
                return Err(AdapterError::Unsupported {
                    what: "X posts without text cannot be told apart from one another".into(),
                });
            }
            let url = format!(
                "{}/2/users/{}/tweets",
                self.settings.endpoints.api_base, account.platform_account_id
            );
            let request = http::bearer(
                self.http.get(url).query(&[
                    ("max_results", LOOKUP_PAGE),
                    // A thread's part is a reply: look among replies too.
                    (
                        "exclude",
                        if post.reply_to.is_some() {
                            "retweets"
                        } else {
                            "replies,retweets"
                        },
                    ),
                    ("tweet.fields", "created_at,entities,note_tweet"),
                ]),
                account.access_token,
            );
            let timeline: Timeline = API.json(request).await?;
            let since = Utc::now() - chrono::Duration::from_std(LOOKBACK).unwrap_or_default();
            Ok(timeline
                .data
                .into_iter()
                .filter(|p| !matches!(p.created_at, Some(at) if at < since))
                .find(|p| p.plain_text(wanted) == wanted)
                .map(|p| published(p.id)))
        })
    }

    /// `GET /2/tweets?ids=` with `public_metrics`, 100 posts a request ([`follow_ups`]).
    fn post_metrics<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
        posts: &'a [crate::PostRef<'a>],
    ) -> BoxFuture<'a, Result<Vec<crate::PostMetrics>, AdapterError>> {
        Box::pin(self.read_post_metrics(account, posts))
    }

    /// `DELETE /2/tweets/:id` ([`follow_ups`]).
    fn delete_post<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
        post: &'a crate::PostRef<'a>,
    ) -> BoxFuture<'a, Result<crate::Deletion, AdapterError>> {
        Box::pin(self.delete(account, post))
    }
}

/// `GET /2/users/me` answer: the user, or `errors` when X could not produce it.
#[derive(Debug, Deserialize)]
struct UsersMe {
    data: Option<User>,
    #[serde(default)]
    errors: Vec<Problem>,
}

#[derive(Debug, Deserialize)]
struct User {
    id: String,
    name: Option<String>,
    username: Option<String>,
    profile_image_url: Option<String>,
    public_metrics: Option<PublicMetrics>,
}

#[derive(Debug, Deserialize)]
struct PublicMetrics {
    followers_count: Option<i64>,
    following_count: Option<i64>,
    /// The current OpenAPI description's name.
    post_count: Option<i64>,
    /// The name in the API reference and in answers seen so far; kept as a separate field (not
    /// an alias) so an answer carrying both during a rename still parses.
    tweet_count: Option<i64>,
}

/// An RFC 7807-style problem from X's `errors` array.
#[derive(Debug, Deserialize)]
struct Problem {
    #[serde(rename = "type", default)]
    kind: String,
    title: Option<String>,
    detail: Option<String>,
}

/// Publishing steps.
impl XAdapter {
    /// Uploads one item and returns its media id, ready to attach. Images go up in one call;
    /// videos and GIFs (which X transcodes) through the chunked flow.
    async fn upload_media(
        &self,
        token: &SecretString,
        item: &MediaItem,
    ) -> Result<String, AdapterError> {
        let category = media_category(item);
        let id = if category == "tweet_image" {
            self.upload_simple(token, item).await?
        } else {
            self.upload_chunked(token, item, category).await?
        };
        if item.kind == MediaKind::Image {
            if let Some(alt) = item.alt_text.as_deref().map(str::trim) {
                if !alt.is_empty() {
                    self.set_alt_text(token, &id, alt).await?;
                }
            }
        }
        Ok(id)
    }

    /// `POST /2/media/upload` (multipart `media` and `media_category`).
    async fn upload_simple(
        &self,
        token: &SecretString,
        item: &MediaItem,
    ) -> Result<String, AdapterError> {
        let form = Form::new()
            .text("media_category", "tweet_image")
            .part("media", file_part(item, item.bytes.clone())?);
        let request =
            http::bearer(self.http.post(self.upload_url("/2/media/upload")), token).multipart(form);
        let data = media_data(API.json(request).await?)?;
        self.wait_until_processed(token, &data.id, data.processing_info)
            .await?;
        Ok(data.id)
    }

    /// `POST /2/media/upload/initialize`, one `…/{id}/append` per segment, `…/{id}/finalize`,
    /// then status polls while X processes the file.
    async fn upload_chunked(
        &self,
        token: &SecretString,
        item: &MediaItem,
        category: &str,
    ) -> Result<String, AdapterError> {
        let request = http::bearer(
            self.http
                .post(self.upload_url("/2/media/upload/initialize")),
            token,
        )
        .json(&InitializeUpload {
            media_type: &item.mime_type,
            total_bytes: item.size(),
            media_category: category,
        });
        let id = media_data(API.json(request).await?)?.id;
        let mut start = 0;
        let mut segment_index = 0_u32;
        while start < item.bytes.len() {
            let end = (start + SEGMENT_BYTES).min(item.bytes.len());
            let form = Form::new()
                .text("segment_index", segment_index.to_string())
                .part("media", file_part(item, item.bytes.slice(start..end))?);
            let request = http::bearer(
                self.http
                    .post(self.upload_url(&format!("/2/media/upload/{id}/append"))),
                token,
            )
            .multipart(form);
            API.send(request).await?;
            start = end;
            segment_index += 1;
        }
        let request = http::bearer(
            self.http
                .post(self.upload_url(&format!("/2/media/upload/{id}/finalize"))),
            token,
        );
        let data = media_data(API.json(request).await?)?;
        self.wait_until_processed(token, &id, data.processing_info)
            .await?;
        Ok(id)
    }

    /// Polls `GET /2/media/upload?command=STATUS&media_id=…` until X reports the media
    /// `succeeded` (or answers without `processing_info`, meaning nothing is pending): a post
    /// naming media still in processing is refused. `failed` is a rejection carrying X's reason;
    /// running out of patience is transient, since nothing was posted.
    async fn wait_until_processed(
        &self,
        token: &SecretString,
        id: &str,
        mut info: Option<ProcessingInfo>,
    ) -> Result<(), AdapterError> {
        let floor = Duration::from_secs(1).min(self.polling.max_interval);
        let mut waited = Duration::ZERO;
        while let Some(current) = info {
            match current.state.as_str() {
                "succeeded" => return Ok(()),
                "failed" => return Err(current.failure()),
                // `pending`, `in_progress`, or a state X adds later: keep waiting.
                _ => {}
            }
            let pause = Duration::from_secs(current.check_after_secs.unwrap_or(1))
                .clamp(floor, self.polling.max_interval);
            if waited + pause > self.polling.max_wait {
                return Err(AdapterError::Transient {
                    message: format!(
                        "X was still processing media {id} after {}s",
                        waited.as_secs()
                    ),
                });
            }
            tokio::time::sleep(pause).await;
            waited += pause;
            let request = http::bearer(
                self.http
                    .get(self.upload_url("/2/media/upload"))
                    .query(&[("command", "STATUS"), ("media_id", id)]),
                token,
            );
            info = media_data(API.json(request).await?)?.processing_info;
        }
        Ok(())
    }

    /// `POST /2/media/metadata` with `alt_text`, cut to X's 1000 characters.
    async fn set_alt_text(
        &self,
        token: &SecretString,
        id: &str,
        alt: &str,
    ) -> Result<(), AdapterError> {
        let text: String = alt.chars().take(ALT_TEXT_MAX_CHARS).collect();
        let body = serde_json::json!({"id": id, "metadata": {"alt_text": {"text": text}}});
        let request =
            http::bearer(self.http.post(self.upload_url("/2/media/metadata")), token).json(&body);
        API.send(request).await.map(drop)
    }

    fn upload_url(&self, path: &str) -> String {
        format!("{}{path}", self.settings.endpoints.upload_base)
    }
}

/// X's media category: animated GIFs and videos are transcoded and must be uploaded in chunks
/// under their own category; any other image is a `tweet_image`.
fn media_category(item: &MediaItem) -> &'static str {
    match item.kind {
        MediaKind::Video => "tweet_video",
        MediaKind::Image if item.mime_type.eq_ignore_ascii_case("image/gif") => "tweet_gif",
        MediaKind::Image => "tweet_image",
    }
}

/// The multipart `media` part holding `bytes` of `item`.
fn file_part(item: &MediaItem, bytes: bytes::Bytes) -> Result<Part, AdapterError> {
    let length = bytes.len() as u64;
    Part::stream_with_length(Body::from(bytes), length)
        .file_name(item.id.to_string())
        .mime_str(&item.mime_type)
        .map_err(|_| AdapterError::Rejected {
            code: "unsupported_media".into(),
            message: format!("`{}` is not a media type", short(&item.mime_type)),
        })
}

/// The public URL of a post. `i/web/status` works without knowing the author's handle, which
/// may have changed since the account was connected.
fn published(id: String) -> Published {
    Published {
        url: Some(format!("https://x.com/i/web/status/{id}")),
        platform_post_id: id,
    }
}

/// The `data` of a media answer; X answers 200 with only `errors` when it refuses the media.
fn media_data(answer: MediaAnswer) -> Result<MediaData, AdapterError> {
    match (answer.data, answer.errors.into_iter().next()) {
        (Some(data), _) => Ok(data),
        (None, Some(problem)) => Err(problem.into_rejection()),
        (None, None) => Err(AdapterError::Transient {
            message: "X answered a media call without the media".into(),
        }),
    }
}

/// Reads an X error answer. On top of [`classify_response`]:
/// - a 429 waits for the bucket that is actually empty: X sends `x-rate-limit-*` for the
///   15-minute window and `x-user-limit-24hour-*` / `x-app-limit-24hour-*` for the daily caps
///   on posting, and the latest reset among those with `remaining: 0` is the one that matters
///   (otherwise `Retry-After`, then `x-rate-limit-reset`, as for every platform); when the
///   app's daily cap is the one used up, every account waits: `AppRateLimited`;
/// - rejections carry X's problem (`detail`, else `title`, plus the messages of its `errors`)
///   instead of raw JSON, and the problem type (`invalid-request`, …) as the code.
pub fn classify_x(status: StatusCode, headers: &HeaderMap, body: &str, now: i64) -> AdapterError {
    let problem = serde_json::from_str::<ErrorAnswer>(body).ok();
    match classify_response(status, headers, body) {
        AdapterError::RateLimited { retry_after } => {
            let retry_after = exhausted_reset(headers, now).or(retry_after);
            if remaining(headers, APP_DAILY.0) == Some(0) {
                AdapterError::AppRateLimited { retry_after }
            } else {
                AdapterError::RateLimited { retry_after }
            }
        }
        AdapterError::Rejected { code, message } => match problem {
            Some(problem) => AdapterError::Rejected {
                message: problem.sentence().unwrap_or(message),
                code: problem_code(problem.kind.as_deref()).unwrap_or(code),
            },
            None => AdapterError::Rejected { code, message },
        },
        AdapterError::NeedsReauth { message } => AdapterError::NeedsReauth {
            message: problem.and_then(|p| p.sentence()).unwrap_or(message),
        },
        other => other,
    }
}

/// The app's 24-hour posting cap: `(remaining, reset)` headers.
const APP_DAILY: (&str, &str) = ("x-app-limit-24hour-remaining", "x-app-limit-24hour-reset");

/// A numeric rate-limit header.
fn remaining(headers: &HeaderMap, name: &str) -> Option<i64> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok())
}

/// The wait until the latest reset among X's exhausted rate-limit buckets.
fn exhausted_reset(headers: &HeaderMap, now: i64) -> Option<Duration> {
    const BUCKETS: [(&str, &str); 3] = [
        ("x-rate-limit-remaining", "x-rate-limit-reset"),
        ("x-user-limit-24hour-remaining", "x-user-limit-24hour-reset"),
        APP_DAILY,
    ];
    BUCKETS
        .iter()
        .filter(|(left, _)| remaining(headers, left) == Some(0))
        .filter_map(|(_, reset)| remaining(headers, reset))
        .max()
        .map(|reset| Duration::from_secs(u64::try_from(reset - now).unwrap_or(0)))
}

/// At most 300 characters of platform text, on one line.
fn short(text: &str) -> String {
    crate::http::excerpt(text, 300)
}

/// `POST /2/tweets` body.
#[derive(Debug, Serialize)]
struct NewPost<'a> {
    /// Always sent (X defaults it to an empty string when media carry the post).
    text: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    media: Option<PostMedia>,
    /// A thread's next part answers the previous one (X's `CreatePostsReply`).
    #[serde(skip_serializing_if = "Option::is_none")]
    reply: Option<PostReply<'a>>,
}

#[derive(Debug, Serialize)]
struct PostMedia {
    media_ids: Vec<String>,
}

/// `reply` of `POST /2/tweets`: the post answered directly (X threads by parent only).
#[derive(Debug, Serialize)]
struct PostReply<'a> {
    in_reply_to_tweet_id: &'a str,
}

/// `POST /2/tweets` answer.
#[derive(Debug, Deserialize)]
struct Created {
    data: Option<CreatedPost>,
}

#[derive(Debug, Deserialize)]
struct CreatedPost {
    id: String,
}

/// `POST /2/media/upload/initialize` body.
#[derive(Debug, Serialize)]
struct InitializeUpload<'a> {
    media_type: &'a str,
    total_bytes: u64,
    media_category: &'a str,
}

/// Every media answer (upload, initialize, finalize, status) has this `data`.
#[derive(Debug, Deserialize)]
struct MediaAnswer {
    data: Option<MediaData>,
    #[serde(default)]
    errors: Vec<Problem>,
}

#[derive(Debug, Deserialize)]
struct MediaData {
    id: String,
    processing_info: Option<ProcessingInfo>,
}

#[derive(Debug, Deserialize)]
struct ProcessingInfo {
    /// `pending`, `in_progress`, `failed` or `succeeded`.
    #[serde(default)]
    state: String,
    check_after_secs: Option<u64>,
    /// Present when `state` is `failed` (not in the OpenAPI description, but sent).
    error: Option<ProcessingError>,
}

#[derive(Debug, Deserialize)]
struct ProcessingError {
    name: Option<String>,
    message: Option<String>,
}

impl ProcessingInfo {
    fn failure(self) -> AdapterError {
        let error = self.error;
        AdapterError::Rejected {
            code: error
                .as_ref()
                .and_then(|e| e.name.clone())
                .unwrap_or_else(|| "media_processing_failed".into()),
            message: error
                .and_then(|e| e.message)
                .map(|m| short(&m))
                .unwrap_or_else(|| "X could not process the media".into()),
        }
    }
}

/// An error answer: an RFC 7807 problem, with the individual `errors` of an invalid request.
#[derive(Debug, Deserialize)]
struct ErrorAnswer {
    #[serde(rename = "type")]
    kind: Option<String>,
    title: Option<String>,
    detail: Option<String>,
    /// The OpenAPI description's other error shape: `{code, message}`.
    message: Option<String>,
    #[serde(default)]
    errors: Vec<ErrorItem>,
}

#[derive(Debug, Deserialize)]
struct ErrorItem {
    message: Option<String>,
    detail: Option<String>,
}

impl ErrorAnswer {
    /// `detail` (else `title`, else `message`), followed by what the `errors` add.
    fn sentence(&self) -> Option<String> {
        let head = self
            .detail
            .as_deref()
            .or(self.title.as_deref())
            .or(self.message.as_deref())
            .map(str::trim)
            .filter(|s| !s.is_empty());
        let details: Vec<&str> = self
            .errors
            .iter()
            .filter_map(|e| e.message.as_deref().or(e.detail.as_deref()))
            .map(str::trim)
            .filter(|m| !m.is_empty() && Some(*m) != head)
            .collect();
        let text = match (head, details.is_empty()) {
            (Some(head), true) => head.to_owned(),
            (Some(head), false) => format!("{head} {}", details.join(" ")),
            (None, false) => details.join(" "),
            (None, true) => return None,
        };
        Some(short(&text))
    }
}

/// `invalid-request` of `https://api.x.com/2/problems/invalid-request`; `about:blank` names no
/// problem.
fn problem_code(kind: Option<&str>) -> Option<String> {
    let kind = kind?.trim();
    if kind.is_empty() || kind == "about:blank" {
        return None;
    }
    kind.rsplit('/')
        .next()
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
}

impl Problem {
    fn into_rejection(self) -> AdapterError {
        AdapterError::Rejected {
            code: problem_code(Some(&self.kind)).unwrap_or_else(|| "rejected".into()),
            message: self
                .detail
                .or(self.title)
                .map(|m| short(&m))
                .unwrap_or_else(|| "X refused the media".into()),
        }
    }
}

/// `GET /2/users/:id/tweets` answer.
#[derive(Debug, Deserialize)]
struct Timeline {
    #[serde(default)]
    data: Vec<TimelinePost>,
}

#[derive(Debug, Deserialize)]
struct TimelinePost {
    id: String,
    #[serde(default)]
    text: String,
    created_at: Option<DateTime<Utc>>,
    entities: Option<Entities>,
    /// The whole text of a post longer than 280 characters (`text` is then cut).
    note_tweet: Option<NoteTweet>,
}

#[derive(Debug, Deserialize)]
struct NoteTweet {
    text: String,
    entities: Option<Entities>,
}

#[derive(Debug, Default, Deserialize)]
struct Entities {
    #[serde(default)]
    urls: Vec<UrlEntity>,
}

#[derive(Debug, Deserialize)]
struct UrlEntity {
    /// The `t.co` link as it appears in the text.
    url: String,
    expanded_url: Option<String>,
    /// Present when the link stands for attached media.
    media_key: Option<String>,
}

impl TimelinePost {
    /// The text as its author typed it, as far as it can be recovered: `t.co` links expanded
    /// (written the way `typed` writes them, since X adds `http://` to bare domains), media
    /// links dropped, HTML entities decoded, surrounding whitespace trimmed.
    fn plain_text(&self, typed: &str) -> String {
        let (text, entities) = match &self.note_tweet {
            Some(note) => (note.text.as_str(), note.entities.as_ref()),
            None => (self.text.as_str(), self.entities.as_ref()),
        };
        let mut text = text.to_owned();
        for link in entities.map(|e| e.urls.as_slice()).unwrap_or_default() {
            if link.url.is_empty() {
                continue;
            }
            let replacement = match (&link.media_key, &link.expanded_url) {
                (Some(_), _) => "",
                (None, Some(expanded)) => {
                    let bare = expanded
                        .strip_prefix("https://")
                        .or_else(|| expanded.strip_prefix("http://"))
                        .unwrap_or(expanded);
                    if !typed.contains(expanded.as_str()) && typed.contains(bare) {
                        bare
                    } else {
                        expanded.as_str()
                    }
                }
                (None, None) => continue,
            };
            text = text.replace(&link.url, replacement);
        }
        text.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&")
            .trim()
            .to_owned()
    }
}
