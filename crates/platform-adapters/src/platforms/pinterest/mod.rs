//! Pinterest accounts through OAuth 2.0 and API v5.
//!
//! The token endpoint authenticates the client with HTTP Basic (`client_id:client_secret`) and
//! takes a form body; Pinterest documents no PKCE for its authorization code flow. Access tokens
//! live 30 days; refresh tokens are "continuous" (60 days, renewed by each refresh). References:
//! <https://developers.pinterest.com/docs/getting-started/set-up-authentication-and-authorization/>
//! and the v5 OpenAPI description (`POST /oauth/token`, `GET /user_account`,
//! `POST /oauth/token/revoke`).
//!
//! On continuous refresh, the v5 description of `POST /oauth/token` (5.23) says: apps created
//! before 25 September 2025 must send `continuous_refresh=true` to use the continuous refresh
//! token ("60-day expiration, refreshable indefinitely"), as Pinterest no longer supports the
//! legacy one (365 days, hard limit); apps activated since use it automatically. Postbridge
//! cannot know its app's creation date, so every refresh sends the parameter. A refresh then
//! answers a new refresh token with a fresh `refresh_token_expires_in`, which is what keeps the
//! grant alive: an account not refreshed for 60 days has to reconnect.
//!
//! Publishing creates one pin (`POST /pins`, schema `PinCreate`) on the board the post's
//! Pinterest options name. Images go by URL (Pinterest fetches the signed URLs itself): one as
//! `image_url`, two to five as a `multiple_image_urls` carousel. A video is first registered
//! (`POST /media`), sent to the returned upload URL as a multipart form with the returned
//! `upload_parameters`, and awaited (`GET /media/{media_id}` until `succeeded`) before the pin
//! refers to it as `video_id`. Only `POST /pins` creates anything visible. References: the v5
//! OpenAPI description (`PinCreate`, `PinMediaSource*`, `MediaUpload`, `Media`, `List Pins on
//! board`) and <https://developers.pinterest.com/docs/api-features/creating-boards-and-pins/>.

mod follow_ups;
mod rules;

use std::time::Duration;

use chrono::{DateTime, Utc};
use domain::{AccountKind, AuthKind, Platform};
use futures_util::future::BoxFuture;
use reqwest::{
    header::HeaderMap,
    multipart::{Form, Part},
    RequestBuilder, StatusCode,
};
use secrecy::{ExposeSecret, SecretString};
use serde::{de::DeserializeOwned, Deserialize};
use serde_json::{json, Map, Value};

use super::youtube::title_from_text;
use crate::http::Transmit;
use crate::{
    classify_response, http,
    oauth::{ClientAuth, TokenEndpoint},
    AccountRef, AdapterError, AdapterSettings, AuthorizeParams, Capabilities, ClientCredentials,
    CodeExchange, Connection, Descriptor, Endpoints, MediaItem, MediaKind, PlatformAdapter,
    Profile, PublishRequest, Published, Revocation, Stats, TextCounting, TokenSet,
};

/// Read boards (a pin is created on one), read and create pins, and read the account.
const SCOPES: &[&str] = &[
    "boards:read",
    "pins:read",
    "pins:write",
    "user_accounts:read",
];

/// Longest pin title (`PinCreate.title`: `maxLength: 100`).
const TITLE_LIMIT: usize = 100;

/// Longest alternative text (`PinCreate.alt_text`: `maxLength: 500`).
const ALT_TEXT_LIMIT: usize = 500;

/// Images in a carousel pin (`PinMediaSourceImagesURL.items`: 2 to 5).
const MAX_IMAGES: usize = 5;

/// Pins of the board read when looking for an earlier attempt's pin.
const LOOKUP_PAGE_SIZE: &str = "50";

/// How far back a pin found on the board may date to count as an earlier attempt of the same
/// post. Attempts are reconciled within minutes to hours; an identical pin older than this is a
/// separate, deliberate post.
const LOOKUP_WINDOW: chrono::Duration = chrono::Duration::days(7);

/// How `publish` waits for Pinterest to process an uploaded video: a check every `interval`,
/// at most `attempts` times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaPolling {
    /// Wait before each check.
    pub interval: Duration,
    /// Checks before giving up (transiently: no pin exists yet).
    pub attempts: u32,
}

impl Default for MediaPolling {
    /// Every 3 seconds for 2 minutes.
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(3),
            attempts: 40,
        }
    }
}

/// Pinterest's static facts.
pub fn descriptor() -> Descriptor {
    Descriptor {
        platform: Platform::Pinterest,
        auth_kind: AuthKind::Oauth2,
        scopes: SCOPES.iter().map(|s| (*s).to_owned()).collect(),
        pkce: false,
        // `expires_in` is 2592000 seconds: 30 days.
        access_token_lifetime: Some(Duration::from_secs(30 * 24 * 60 * 60)),
        refresh_token_rotates: false,
        capabilities: Capabilities {
            // The pin description.
            text_limit: 500,
            text_counting: TextCounting::Chars,
            media_kinds: vec![MediaKind::Image, MediaKind::Video],
            // A carousel pin holds up to 5 images; a video pin one video.
            max_media: 5,
            requires_media: true,
            publish_limit: None,
            idempotent_publish: false,
            dedup_window: None,
            // `DELETE /pins/{pin_id}`; no comment API; analytics one pin a request (the
            // batch `GET /pins/analytics` is a beta not open to every app).
            follow_ups: crate::FollowUps {
                delete: true,
                threads: false,
                first_comment: false,
                metrics_batch: 1,
            },
        },
    }
}

/// Production URLs. There is deliberately no revocation URL: see [`PinterestAdapter::revoke`].
pub fn default_endpoints() -> Endpoints {
    Endpoints {
        authorize_url: "https://www.pinterest.com/oauth/".into(),
        token_url: "https://api.pinterest.com/v5/oauth/token".into(),
        revoke_url: None,
        api_base: "https://api.pinterest.com/v5".into(),
        upload_base: "https://api.pinterest.com/v5".into(),
    }
}

/// Pinterest in the registry: one app of ours, configured in `[platforms.pinterest]`.
pub const SPEC: crate::spec::PlatformSpec = crate::spec::PlatformSpec {
    descriptor,
    name: "Pinterest",
    rules: &rules::RULES,
    count_text: None,
    default_endpoints,
    reach: crate::spec::Reach::App,
    build: |b| std::sync::Arc::new(PinterestAdapter::new(b.http, b.settings)),
};

/// The Pinterest adapter.
#[derive(Debug)]
pub struct PinterestAdapter {
    http: reqwest::Client,
    settings: AdapterSettings,
    descriptor: Descriptor,
    polling: MediaPolling,
}

impl PinterestAdapter {
    /// An adapter on the shared HTTP client.
    pub fn new(http: reqwest::Client, settings: AdapterSettings) -> Self {
        Self {
            http,
            settings,
            descriptor: descriptor(),
            polling: MediaPolling::default(),
        }
    }

    /// The same adapter waiting for video processing as `polling` says (tests check every few
    /// milliseconds).
    pub fn with_media_polling(mut self, polling: MediaPolling) -> Self {
        self.polling = polling;
        self
    }

    fn credentials(&self) -> Result<&ClientCredentials, AdapterError> {
        self.settings.require_credentials(Platform::Pinterest)
    }

    /// `GET /user_account`: the account and its counts in one call.
    async fn account(&self, token: &SecretString) -> Result<(Profile, Stats), AdapterError> {
        let url = format!("{}/user_account", self.settings.endpoints.api_base);
        let account: Account = http::json(http::bearer(self.http.get(url), token)).await?;
        let stats = Stats {
            followers_count: account.follower_count,
            following_count: account.following_count,
            posts_count: account.pin_count,
        };
        let profile = Profile {
            // The numeric id is stable; the username can be changed by its owner.
            platform_account_id: account.id,
            // Personal and business Pinterest accounts post the same way; `Business` is the
            // Instagram professional kind.
            account_kind: Some(AccountKind::Profile),
            display_name: account
                .business_name
                .filter(|n| !n.is_empty())
                .or_else(|| account.username.clone()),
            profile_url: account
                .username
                .as_ref()
                .map(|u| format!("https://www.pinterest.com/{u}/")),
            handle: account.username,
            avatar_url: account.profile_image,
        };
        Ok((profile, stats))
    }

    /// `POST token_url` (`{api_base}/oauth/token`) with HTTP Basic client authentication and
    /// the form `grant_type=refresh_token`, `refresh_token`, `continuous_refresh=true` (see the
    /// module documentation). The answer (`OauthAccessTokenResponseRefresh`) carries a new
    /// access token and, for continuous refresh, a new refresh token with its
    /// `refresh_token_expires_in`; when it carries none, the result's `refresh_token` is `None`:
    /// keep the stored one. A missing `expires_in` falls back to the documented 30 days.
    async fn refresh_grant(&self, account: &AccountRef<'_>) -> Result<TokenSet, AdapterError> {
        let endpoint = self.token_endpoint()?;
        let refresh_token = account
            .refresh_token
            .ok_or_else(|| AdapterError::NeedsReauth {
                message: "Pinterest did not grant a refresh token for this account: reconnect your Pinterest account before its 30-day token expires".into(),
            })?;
        endpoint
            .refresh(
                &[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", refresh_token.expose_secret()),
                    ("continuous_refresh", "true"),
                ],
                refresh_token,
                refresh_failure,
            )
            .await
    }

    /// The token endpoint with our app's credentials, authenticated with HTTP Basic.
    fn token_endpoint(&self) -> Result<TokenEndpoint<'_>, AdapterError> {
        Ok(TokenEndpoint {
            platform: "Pinterest",
            http: &self.http,
            url: &self.settings.endpoints.token_url,
            credentials: self.credentials()?,
            auth: ClientAuth::Basic,
            lifetime: self.descriptor.access_token_lifetime,
        })
    }

    /// Uploads a video if there is one, then creates the pin; see [`PlatformAdapter::publish`]
    /// on this type.
    async fn publish_pin(
        &self,
        account: &AccountRef<'_>,
        post: &PublishRequest<'_>,
    ) -> Result<Published, AdapterError> {
        // Everything that can refuse the post is checked before a video is uploaded.
        let board_id = board_id(post)?;
        let title = pin_title(post)?;
        let media = pin_media(post.media)?;
        let token = account.access_token;
        let media_source = match media {
            PinMedia::Images(images) => image_source(&images),
            PinMedia::Video { video, cover } => {
                let media_id = self.upload_video(token, video).await?;
                video_source(&media_id, cover)
            }
        };
        let mut pin = Map::new();
        pin.insert("board_id".into(), board_id.into());
        pin.insert("media_source".into(), media_source);
        if let Some(title) = title {
            pin.insert("title".into(), title.into());
        }
        if !post.text.trim().is_empty() {
            pin.insert("description".into(), post.text.into());
        }
        if let Some(link) = post.options.link.as_deref().filter(|l| !l.is_empty()) {
            pin.insert("link".into(), link.into());
        }
        if let Some(alt_text) = alt_text(post.media) {
            pin.insert("alt_text".into(), alt_text.into());
        }
        let url = format!("{}/pins", self.settings.endpoints.api_base);
        let request = http::bearer(self.http.post(url), token).json(&pin);
        let created: Pin = api_json(request, Certainty::Unsure).await?;
        Ok(published(created.id))
    }

    /// Registers, uploads and awaits a video; answers its `media_id`. No pin exists yet, so
    /// every failure here is safe to retry from scratch (a registered upload that is never
    /// used simply lapses).
    async fn upload_video(
        &self,
        token: &SecretString,
        video: &MediaItem,
    ) -> Result<String, AdapterError> {
        let url = format!("{}/media", self.settings.endpoints.api_base);
        let request =
            http::bearer(self.http.post(url), token).json(&json!({"media_type": "video"}));
        let upload: MediaUpload = api_json(request, Certainty::Sure).await?;
        let (Some(upload_url), Some(parameters)) = (upload.upload_url, upload.upload_parameters)
        else {
            return Err(AdapterError::Transient {
                message: "Pinterest registered the video upload without an upload URL".into(),
            });
        };
        self.send_video(&upload_url, parameters, video).await?;
        self.await_processing(token, &upload.media_id).await?;
        Ok(upload.media_id)
    }

    /// The multipart `POST` to `upload_url` (a pre-signed storage form, answering 204): every
    /// `upload_parameters` pair as a field, then the file as `file`, last, as such forms
    /// require. The URL is signed for this one upload; Pinterest's token is not sent there.
    async fn send_video(
        &self,
        upload_url: &str,
        parameters: Map<String, Value>,
        video: &MediaItem,
    ) -> Result<(), AdapterError> {
        let mut form = Form::new();
        for (name, value) in parameters {
            let value = match value {
                Value::String(text) => text,
                other => other.to_string(),
            };
            form = form.text(name, value);
        }
        let file = Part::stream_with_length(reqwest::Body::from(video.bytes.clone()), video.size())
            .file_name(video_file_name(&video.mime_type))
            .mime_str(&video.mime_type)
            .map_err(|e| AdapterError::Rejected {
                code: "invalid_mime_type".into(),
                message: format!("`{}` is not a MIME type: {e}", video.mime_type),
            })?;
        form = form.part("file", file);
        http::send(self.http.post(upload_url).multipart(form)).await?;
        Ok(())
    }

    /// Polls `GET /media/{media_id}` until Pinterest reports `succeeded`. `failed` is a
    /// rejection (the file is unusable); still processing after every check is transient.
    async fn await_processing(
        &self,
        token: &SecretString,
        media_id: &str,
    ) -> Result<(), AdapterError> {
        let url = format!("{}/media/{media_id}", self.settings.endpoints.api_base);
        for _ in 0..self.polling.attempts {
            tokio::time::sleep(self.polling.interval).await;
            let media: Media =
                api_json(http::bearer(self.http.get(&url), token), Certainty::Sure).await?;
            match media.status.as_deref() {
                Some("succeeded") => return Ok(()),
                Some("failed") => {
                    return Err(AdapterError::Rejected {
                        code: "video_processing_failed".into(),
                        message: "Pinterest could not process the video".into(),
                    })
                }
                // `registered`, `processing`.
                _ => {}
            }
        }
        Err(AdapterError::Transient {
            message: format!(
                "Pinterest had not finished processing the video after {} checks",
                self.polling.attempts
            ),
        })
    }

    /// Looks for the pin an unanswered attempt may have made: the first page of the board's
    /// pins (`GET /boards/{board_id}/pins`, newest first), matched on the title and description
    /// this post would have, created within [`LOOKUP_WINDOW`]. Pinterest has no idempotency
    /// key, so an identical pin made on purpose in that window would be taken for this one.
    async fn find_pin(
        &self,
        account: &AccountRef<'_>,
        post: &PublishRequest<'_>,
    ) -> Result<Option<Published>, AdapterError> {
        let board_id = board_id(post)?;
        let title = pin_title(post)?;
        let description = Some(post.text).filter(|t| !t.trim().is_empty());
        let url = format!(
            "{}/boards/{board_id}/pins",
            self.settings.endpoints.api_base
        );
        let request = http::bearer(
            self.http.get(url).query(&[("page_size", LOOKUP_PAGE_SIZE)]),
            account.access_token,
        );
        let page: PinPage = api_json(request, Certainty::Sure).await?;
        let since = Utc::now() - LOOKUP_WINDOW;
        Ok(page
            .items
            .into_iter()
            .find(|pin| {
                pin.title.as_deref() == title.as_deref()
                    && pin.description.as_deref() == description
                    && pin.created_since(since)
            })
            .map(|pin| published(pin.id)))
    }
}

impl PlatformAdapter for PinterestAdapter {
    fn descriptor(&self) -> &Descriptor {
        &self.descriptor
    }

    fn authorize_url(&self, params: &AuthorizeParams<'_>) -> Result<String, AdapterError> {
        let credentials = self.credentials()?;
        let scope = self.descriptor.scopes.join(",");
        http::url_with_query(
            &self.settings.endpoints.authorize_url,
            &[
                ("response_type", "code"),
                ("client_id", &credentials.client_id),
                ("redirect_uri", params.redirect_uri),
                ("scope", &scope),
                ("state", params.state),
            ],
        )
    }

    fn exchange_code<'a>(
        &'a self,
        exchange: &'a CodeExchange<'a>,
    ) -> BoxFuture<'a, Result<Vec<Connection>, AdapterError>> {
        Box::pin(async move {
            let tokens = self
                .token_endpoint()?
                .exchange(&[
                    ("grant_type", "authorization_code"),
                    ("code", exchange.code),
                    ("redirect_uri", exchange.redirect_uri),
                ])
                .await?;
            let (profile, stats) = self.account(&tokens.access_token).await?;
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
        Box::pin(async move { Ok(self.account(account.access_token).await?.0) })
    }

    fn stats<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
    ) -> BoxFuture<'a, Result<Stats, AdapterError>> {
        Box::pin(async move { Ok(self.account(account.access_token).await?.1) })
    }

    /// One call answers both.
    fn profile_and_stats<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
    ) -> BoxFuture<'a, Result<(Profile, Stats), AdapterError>> {
        Box::pin(self.account(account.access_token))
    }

    /// Exchanges the continuous refresh token for a new 30-day access token and, normally, a new
    /// 60-day refresh token (`POST /oauth/token`, Basic client authentication,
    /// `continuous_refresh=true`). An answer without a refresh token returns `None`: keep the
    /// stored one.
    fn refresh<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
    ) -> BoxFuture<'a, Result<TokenSet, AdapterError>> {
        Box::pin(self.refresh_grant(account))
    }

    /// Pinterest's `POST /oauth/token/revoke` "only supports tokens issued for system users",
    /// not the user tokens of this flow, so there is nothing to call: the tokens are forgotten
    /// and the user can remove the app under their Pinterest security settings.
    fn revoke<'a>(
        &'a self,
        _account: &'a AccountRef<'a>,
    ) -> BoxFuture<'a, Result<Revocation, AdapterError>> {
        Box::pin(async { Ok(Revocation::NotSupported) })
    }

    /// Pins the post's media to the board named in its Pinterest options (`board_id`, required)
    /// with the text as description, `options.title` (else one derived from the text) as title,
    /// `options.link` as destination and the first item's alt text. Only `POST /pins` creates
    /// anything, so only its unanswered call is [`AdapterError::OutcomeUnknown`].
    fn publish<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
        post: &'a PublishRequest<'a>,
    ) -> BoxFuture<'a, Result<Published, AdapterError>> {
        Box::pin(self.publish_pin(account, post))
    }

    /// See `find_pin`: the board's newest pins, matched on title and description.
    fn find_published<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
        post: &'a PublishRequest<'a>,
    ) -> BoxFuture<'a, Result<Option<Published>, AdapterError>> {
        Box::pin(self.find_pin(account, post))
    }

    /// `GET /pins/{pin_id}/analytics` per pin: impressions and saves of the last 89 days,
    /// reactions and comments over the pin's life.
    fn post_metrics<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
        posts: &'a [crate::PostRef<'a>],
    ) -> BoxFuture<'a, Result<Vec<crate::PostMetrics>, AdapterError>> {
        Box::pin(self.pin_metrics(account, posts))
    }

    /// `DELETE /pins/{pin_id}`; a pin already gone (404) is [`crate::Deletion::AlreadyGone`].
    fn delete_post<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
        post: &'a crate::PostRef<'a>,
    ) -> BoxFuture<'a, Result<crate::Deletion, AdapterError>> {
        Box::pin(self.delete_pin(account, post))
    }
}

/// The board to pin to: required, and a numeric id (`^\d+$`), which also keeps it safe in a
/// URL path.
fn board_id<'p>(post: &PublishRequest<'p>) -> Result<&'p str, AdapterError> {
    let Some(board_id) = post
        .options
        .board_id
        .as_deref()
        .map(str::trim)
        .filter(|b| !b.is_empty())
    else {
        return Err(AdapterError::Rejected {
            code: "board_required".into(),
            message:
                "a Pinterest pin goes on a board: give its board_id in the post's Pinterest options"
                    .into(),
        });
    };
    if !board_id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AdapterError::Rejected {
            code: "invalid_board_id".into(),
            message: format!("`{board_id}` is not a Pinterest board id (digits only)"),
        });
    }
    Ok(board_id)
}

/// `options.title` (refused beyond Pinterest's 100 characters), else the text's first line cut
/// to fit; `None` for a text without a visible line.
fn pin_title(post: &PublishRequest<'_>) -> Result<Option<String>, AdapterError> {
    match post.options.title.as_deref().map(str::trim) {
        Some(title) if !title.is_empty() => {
            if title.chars().count() > TITLE_LIMIT {
                return Err(AdapterError::Rejected {
                    code: "title_too_long".into(),
                    message: format!("a Pinterest title has at most {TITLE_LIMIT} characters"),
                });
            }
            Ok(Some(title.to_owned()))
        }
        _ => Ok(title_from_text(post.text, TITLE_LIMIT)),
    }
}

/// The first item's alternative text, cut to Pinterest's 500 characters (a carousel has one for
/// the whole pin).
fn alt_text(media: &[MediaItem]) -> Option<String> {
    let alt = media.first()?.alt_text.as_deref()?.trim();
    (!alt.is_empty()).then(|| alt.chars().take(ALT_TEXT_LIMIT).collect())
}

/// What a pin can hold: 1 to 5 images, or one video with at most one image as its cover.
#[derive(Debug)]
enum PinMedia<'m> {
    Images(Vec<&'m MediaItem>),
    Video {
        video: &'m MediaItem,
        cover: Option<&'m MediaItem>,
    },
}

fn pin_media(media: &[MediaItem]) -> Result<PinMedia<'_>, AdapterError> {
    let (videos, images): (Vec<&MediaItem>, Vec<&MediaItem>) =
        media.iter().partition(|m| m.kind == MediaKind::Video);
    match (videos.as_slice(), images.as_slice()) {
        ([], []) => Err(AdapterError::Rejected {
            code: "media_required".into(),
            message: "a Pinterest pin needs an image or a video".into(),
        }),
        ([], images) if images.len() <= MAX_IMAGES => Ok(PinMedia::Images(images.to_vec())),
        ([], _) => Err(AdapterError::Rejected {
            code: "too_many_images".into(),
            message: format!("a Pinterest pin holds at most {MAX_IMAGES} images"),
        }),
        ([video], []) => Ok(PinMedia::Video { video, cover: None }),
        ([video], [cover]) => Ok(PinMedia::Video {
            video,
            cover: Some(cover),
        }),
        _ => Err(AdapterError::Rejected {
            code: "unsupported_media_mix".into(),
            message: "a Pinterest video pin holds one video and at most one image, its cover"
                .into(),
        }),
    }
}

/// `image_url` for one image, `multiple_image_urls` for a carousel.
fn image_source(images: &[&MediaItem]) -> Value {
    match images {
        [image] => json!({"source_type": "image_url", "url": image.url}),
        _ => json!({
            "source_type": "multiple_image_urls",
            "items": images.iter().map(|i| json!({"url": i.url})).collect::<Vec<_>>(),
        }),
    }
}

/// `video_id` with its cover: the post's image when it has one, else the first frame
/// (`cover_image_key_frame_time: 0`), since Pinterest wants one or the other.
fn video_source(media_id: &str, cover: Option<&MediaItem>) -> Value {
    match cover {
        Some(cover) => json!({
            "source_type": "video_id",
            "media_id": media_id,
            "cover_image_url": cover.url,
        }),
        None => json!({
            "source_type": "video_id",
            "media_id": media_id,
            "cover_image_key_frame_time": 0,
        }),
    }
}

/// A file name for the upload form, from the MIME type: storage forms want one, and
/// Pinterest's media is always a video.
fn video_file_name(mime_type: &str) -> &'static str {
    match mime_type {
        "video/quicktime" => "video.mov",
        "video/webm" => "video.webm",
        "video/x-m4v" => "video.m4v",
        _ => "video.mp4",
    }
}

fn published(id: String) -> Published {
    Published {
        url: Some(format!("https://www.pinterest.com/pin/{id}/")),
        platform_post_id: id,
    }
}

/// Whether a request creates the pin: see [`api_json`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Certainty {
    /// Nothing visible is created: a lost answer is transient.
    Sure,
    /// `POST /pins`: a lost answer leaves the outcome unknown.
    Unsure,
}

/// Sends a v5 API request and decodes its JSON answer. Failures are classified by
/// [`api_failure`]; for [`Certainty::Unsure`], a network failure after sending, or a success
/// whose answer cannot be read, is [`AdapterError::OutcomeUnknown`].
async fn api_json<T: DeserializeOwned>(
    request: RequestBuilder,
    certainty: Certainty,
) -> Result<T, AdapterError> {
    let unsure = certainty == Certainty::Unsure;
    let response = request.transmit().await.map_err(|e| {
        if unsure {
            AdapterError::from_transport_unsure(&e)
        } else {
            AdapterError::from_transport(&e)
        }
    })?;
    let status = response.status();
    if !status.is_success() {
        let headers = response.headers().clone();
        let body = response.text().await.unwrap_or_default();
        return Err(api_failure(status, &headers, &body));
    }
    let lost = |message: String| {
        if unsure {
            AdapterError::OutcomeUnknown { message }
        } else {
            AdapterError::Transient { message }
        }
    };
    let bytes = response
        .bytes()
        .await
        .map_err(|e| lost(format!("reading Pinterest's answer: {e}")))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| lost(format!("unexpected answer from Pinterest: {e}")))
}

/// The shared classification (401 → reconnect, 429 → rate limited, 5xx → transient, other 4xx →
/// a rejection keyed by the status), with Pinterest's `message` (`{"code": 1, "message":
/// "Invalid parameters."}`) as the explanation rather than the whole body.
fn api_failure(status: StatusCode, headers: &HeaderMap, body: &str) -> AdapterError {
    let explanation = error_message(body, "");
    match classify_response(status, headers, body) {
        AdapterError::Rejected { code, message } => AdapterError::Rejected {
            code,
            message: explanation.unwrap_or(message),
        },
        AdapterError::NeedsReauth { message } => AdapterError::NeedsReauth {
            message: explanation.unwrap_or(message),
        },
        other => other,
    }
}

/// `MediaUpload`: the registered upload.
#[derive(Debug, Deserialize)]
struct MediaUpload {
    media_id: String,
    upload_url: Option<String>,
    upload_parameters: Option<Map<String, Value>>,
}

/// `Media`: an upload's processing status.
#[derive(Debug, Deserialize)]
struct Media {
    status: Option<String>,
}

/// The part of a `Pin` publishing reads.
#[derive(Debug, Deserialize)]
struct Pin {
    id: String,
    title: Option<String>,
    description: Option<String>,
    /// RFC 3339 (`2020-01-01T20:10:40-00:00`); read leniently, see [`Pin::created_since`].
    created_at: Option<String>,
}

impl Pin {
    /// Whether the pin was created at or after `since`; a missing or unreadable date does not
    /// exclude it.
    fn created_since(&self, since: DateTime<Utc>) -> bool {
        self.created_at
            .as_deref()
            .and_then(|at| DateTime::parse_from_rfc3339(at).ok())
            .is_none_or(|at| at >= since)
    }
}

/// A page of `List Pins on board`.
#[derive(Debug, Deserialize)]
struct PinPage {
    #[serde(default)]
    items: Vec<Pin>,
}

/// `GET /user_account` (schema `Account`); counts are nullable.
#[derive(Debug, Deserialize)]
struct Account {
    id: String,
    username: Option<String>,
    business_name: Option<String>,
    profile_image: Option<String>,
    follower_count: Option<i64>,
    following_count: Option<i64>,
    pin_count: Option<i64>,
}

/// Classifies a failed refresh. Pinterest answers its v5 `Error` shape (`{"code": 2,
/// "message": "Authentication failed."}`), which carries no OAuth `error` string, so the
/// shared classification decides by status (401 → reconnect, 429 → rate limited, 5xx →
/// transient, other 4xx → a rejection keyed by the status), and an RFC 6749 `invalid_grant`
/// is understood too. Messages quote Pinterest's `message` (or `error_description`) only, never
/// the body, with `sent` (the refresh token) blanked out should it ever be echoed.
fn refresh_failure(
    status: StatusCode,
    headers: &HeaderMap,
    body: &str,
    sent: &str,
) -> AdapterError {
    let explanation = error_message(body, sent);
    match classify_response(status, headers, body) {
        AdapterError::NeedsReauth { .. } => AdapterError::NeedsReauth {
            message: match explanation {
                Some(why) => format!(
                    "Pinterest no longer accepts this account's refresh token ({why}): reconnect your Pinterest account"
                ),
                None => "Pinterest no longer accepts this account's refresh token: reconnect your Pinterest account".into(),
            },
        },
        AdapterError::Transient { .. } => AdapterError::Transient {
            message: format!("HTTP {} from the Pinterest token endpoint", status.as_u16()),
        },
        AdapterError::Rejected { code, .. } => AdapterError::Rejected {
            code,
            message: explanation.unwrap_or_else(|| format!("HTTP {}", status.as_u16())),
        },
        other => other,
    }
}

/// The explanation of an error body: Pinterest's `message`, or an OAuth `error_description`;
/// on one line, at most 300 characters, with `sent` replaced should the platform echo it.
fn error_message(body: &str, sent: &str) -> Option<String> {
    let value = serde_json::from_str::<serde_json::Value>(body).ok()?;
    let text = value
        .get("message")
        .or_else(|| value.get("error_description"))?
        .as_str()?;
    let text = if sent.is_empty() {
        text.to_owned()
    } else {
        text.replace(sent, "[redacted]")
    };
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(300)
        .collect();
    Some(one_line.trim().to_owned()).filter(|m| !m.is_empty())
}
