//! YouTube channels through Google OAuth 2.0 for web server applications.
//!
//! `access_type=offline` is what makes Google issue a refresh token, and `prompt=consent` makes
//! it issue one again on a reconnect (Google otherwise returns a refresh token only on the very
//! first consent, and a reconnect would leave us with a token that dies within the hour).
//! Google accepts PKCE (S256) from confidential clients as well, so it is used. References:
//! <https://developers.google.com/identity/protocols/oauth2/web-server>,
//! <https://developers.google.com/youtube/v3/docs/channels/list>,
//! <https://developers.google.com/youtube/v3/docs/errors>.
//!
//! The account is the *channel* the user picked on Google's consent screen (a Google account
//! can own several, through brand accounts), identified by its `UC…` channel id.
//!
//! Refresh tokens do not rotate: a refresh answers a new access token and, normally, no refresh
//! token, and the stored one keeps working. It stops working when the user revokes access, after
//! six months unused, when the account exceeds Google's per-client refresh-token limit, and after
//! seven days when the OAuth app is still in the "Testing" publishing status
//! (<https://developers.google.com/identity/protocols/oauth2#expiration>). Google then answers
//! `invalid_grant`, and only a new consent helps.
//!
//! Publishing is a resumable upload (`videos.insert`): a `POST` with the video resource opens an
//! upload session, whose URI comes back in `Location`, and one `PUT` of the bytes to it creates
//! the video. Only that `PUT` can create anything, so it alone may end in
//! [`AdapterError::OutcomeUnknown`]. References:
//! <https://developers.google.com/youtube/v3/guides/using_resumable_upload_protocol>,
//! <https://developers.google.com/youtube/v3/docs/videos/insert>,
//! <https://developers.google.com/youtube/v3/docs/videos#resource> (title: at most 100
//! characters; `privacyStatus`; `selfDeclaredMadeForKids`),
//! <https://developers.google.com/youtube/v3/determine_quota_cost> (the daily quota resets at
//! midnight Pacific time).
//!
//! Videos uploaded by an API project that has not passed Google's audit (projects created after
//! 28 July 2020) are locked to private whatever `privacyStatus` says; YouTube reports no error
//! for that.

mod follow_ups;
mod rules;

use std::time::Duration;

use chrono::{DateTime, Utc};
use domain::{AccountKind, AuthKind, Platform};
use futures_util::future::BoxFuture;
use reqwest::{
    header::{HeaderMap, CONTENT_RANGE, CONTENT_TYPE, LOCATION},
    Response, StatusCode,
};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;
use unicode_segmentation::UnicodeSegmentation;

use crate::http::Transmit;
use crate::{
    classify_response, http,
    oauth::{ClientAuth, TokenEndpoint},
    parse_retry_after, AccountRef, AdapterError, AdapterSettings, AuthorizeParams, Capabilities,
    ClientCredentials, CodeExchange, Connection, Descriptor, Endpoints, MediaItem, MediaKind,
    PlatformAdapter, Profile, PublishRequest, Published, Revocation, Stats, TextCounting, TokenSet,
};

/// Google's transport: error answers read by [`classify`] (quota reasons, client errors).
const API: http::Api = http::Api::new("YouTube", classify);

/// Upload videos, and read the channel (id, title, counts). `youtube.upload` alone cannot call
/// `channels.list`. `youtube.force-ssl` is what `videos.delete` and `commentThreads.insert`
/// accept (a first comment, deleting a published video); Google's granular consent lets a user
/// leave it unticked, and connecting still works (those two calls are then refused).
const SCOPES: &[&str] = &[
    "https://www.googleapis.com/auth/youtube.upload",
    "https://www.googleapis.com/auth/youtube.readonly",
    "https://www.googleapis.com/auth/youtube.force-ssl",
];

/// OAuth errors that blame Postbridge's client registration, not the user's grant: a wrong or
/// rotated client secret, a deleted client, a client not allowed this grant type.
const CLIENT_ERRORS: &[&str] = &["invalid_client", "unauthorized_client", "deleted_client"];

/// Google API error reasons that mean "too fast" rather than "this request is wrong". YouTube
/// answers them with 403, which would otherwise classify as a rejection.
const RATE_LIMIT_REASONS: &[&str] = &["rateLimitExceeded", "userRateLimitExceeded"];

/// Reasons that mean the project's daily quota is spent: nothing works until it resets at
/// midnight Pacific time.
const DAILY_QUOTA_REASONS: &[&str] = &["quotaExceeded", "dailyLimitExceeded"];

/// The channel uploaded as many videos as YouTube allows in 24 hours (a 400): "try again in 24
/// hours" (YouTube Data API revision history, and the `videos.insert` errors).
const UPLOAD_LIMIT_REASON: &str = "uploadLimitExceeded";

/// Longest video title, in characters.
const TITLE_LIMIT: usize = 100;

/// The `status.privacyStatus` values.
const PRIVACY_STATUSES: &[&str] = &["public", "unlisted", "private"];

/// YouTube's static facts.
pub fn descriptor() -> Descriptor {
    Descriptor {
        platform: Platform::Youtube,
        auth_kind: AuthKind::Oauth2,
        scopes: SCOPES.iter().map(|s| (*s).to_owned()).collect(),
        pkce: true,
        // Google access tokens live one hour (`expires_in` is normally 3599).
        access_token_lifetime: Some(Duration::from_secs(60 * 60)),
        refresh_token_rotates: false,
        capabilities: Capabilities {
            // The text of a post is the video description: at most 5000 bytes per the Data API
            // (the title, 100 characters, is derived by the publisher). Counting is by chars
            // here; multi-byte text can still hit the byte limit, which YouTube then rejects.
            text_limit: 5000,
            text_counting: TextCounting::Chars,
            media_kinds: vec![MediaKind::Video],
            max_media: 1,
            requires_media: true,
            publish_limit: None,
            idempotent_publish: false,
            dedup_window: None,
            follow_ups: crate::FollowUps {
                delete: true,
                threads: false,
                first_comment: true,
                metrics_batch: follow_ups::METRICS_BATCH,
            },
        },
    }
}

/// Production URLs: Google's OAuth endpoints, the Data API v3 and its upload host.
pub fn default_endpoints() -> Endpoints {
    Endpoints {
        authorize_url: "https://accounts.google.com/o/oauth2/v2/auth".into(),
        token_url: "https://oauth2.googleapis.com/token".into(),
        revoke_url: Some("https://oauth2.googleapis.com/revoke".into()),
        api_base: "https://www.googleapis.com/youtube/v3".into(),
        upload_base: "https://www.googleapis.com/upload/youtube/v3".into(),
    }
}

/// YouTube in the registry: one app of ours, configured in `[platforms.youtube]`.
pub const SPEC: crate::spec::PlatformSpec = crate::spec::PlatformSpec {
    descriptor,
    name: "YouTube",
    rules: &rules::RULES,
    count_text: None,
    default_endpoints,
    reach: crate::spec::Reach::App,
    build: |b| std::sync::Arc::new(YoutubeAdapter::new(b.http, b.settings)),
};

/// The YouTube adapter.
#[derive(Debug)]
pub struct YoutubeAdapter {
    http: reqwest::Client,
    settings: AdapterSettings,
    descriptor: Descriptor,
}

impl YoutubeAdapter {
    /// An adapter on the shared HTTP client.
    pub fn new(http: reqwest::Client, settings: AdapterSettings) -> Self {
        Self {
            http,
            settings,
            descriptor: descriptor(),
        }
    }

    fn credentials(&self) -> Result<&ClientCredentials, AdapterError> {
        self.settings.require_credentials(Platform::Youtube)
    }

    /// Google's token endpoint, with the client credentials in the form body (its documented
    /// client authentication for web servers).
    fn token_endpoint(&self) -> Result<TokenEndpoint<'_>, AdapterError> {
        Ok(TokenEndpoint {
            platform: "YouTube",
            http: &self.http,
            url: &self.settings.endpoints.token_url,
            credentials: self.credentials()?,
            auth: ClientAuth::Body,
            lifetime: self.descriptor.access_token_lifetime,
        })
    }

    /// `channels.list?part=snippet,statistics&mine=true`: the authorized channel and its counts.
    async fn channel(&self, token: &SecretString) -> Result<(Profile, Stats), AdapterError> {
        let url = format!("{}/channels", self.settings.endpoints.api_base);
        let request = http::bearer(
            self.http
                .get(url)
                .query(&[("part", "snippet,statistics"), ("mine", "true")]),
            token,
        );
        let list: ChannelList = API.json(request).await?;
        // A Google account without a channel answers 200 with no items: nothing to publish to.
        let channel = list
            .items
            .into_iter()
            .next()
            .ok_or_else(|| AdapterError::Rejected {
                code: "no_channel".into(),
                message: "this Google account has no YouTube channel".into(),
            })?;
        let snippet = channel.snippet.unwrap_or_default();
        let statistics = channel.statistics.unwrap_or_default();
        // Only an `@handle` is a handle; a legacy custom URL is not one and is not linked to.
        let handle = snippet
            .custom_url
            .as_deref()
            .and_then(|u| u.strip_prefix('@'))
            .map(str::to_owned);
        let profile_url = match &handle {
            Some(handle) => format!("https://www.youtube.com/@{handle}"),
            None => format!("https://www.youtube.com/channel/{}", channel.id),
        };
        let avatar_url = snippet
            .thumbnails
            .and_then(|t| t.high.or(t.medium).or(t.default))
            .map(|t| t.url);
        let stats = Stats {
            // A hidden count is not zero; `subscriberCount` is meaningless then.
            followers_count: if statistics.hidden_subscriber_count {
                None
            } else {
                count(statistics.subscriber_count)
            },
            following_count: None,
            posts_count: count(statistics.video_count),
        };
        let profile = Profile {
            platform_account_id: channel.id,
            account_kind: Some(AccountKind::Channel),
            display_name: snippet.title,
            handle,
            avatar_url,
            profile_url: Some(profile_url),
        };
        Ok((profile, stats))
    }

    /// Opens an upload session and uploads the video into it; see [`PlatformAdapter::publish`]
    /// on this type.
    async fn publish_video(
        &self,
        account: &AccountRef<'_>,
        post: &PublishRequest<'_>,
    ) -> Result<Published, AdapterError> {
        let video = single_video(post.media)?;
        let title = video_title(post)?;
        let privacy = privacy_status(post.options.privacy.as_deref())?;
        let token = account.access_token;
        let session = self
            .open_upload_session(token, video, &title, post.text, &privacy)
            .await?;
        let uploaded = self.upload_into_session(&session, token, video).await?;
        if let Some(refusal) = uploaded.refusal() {
            return Err(refusal);
        }
        Ok(Published {
            url: Some(format!("https://www.youtube.com/watch?v={}", uploaded.id)),
            platform_post_id: uploaded.id,
        })
    }

    /// `POST {upload_base}/videos?uploadType=resumable&part=snippet,status` with the video
    /// resource; answers the session URI from `Location`. Nothing is created yet, so a timeout
    /// here is merely transient. The session URI must be on the upload host: the bytes and the
    /// account's token go there next, and they go nowhere else.
    async fn open_upload_session(
        &self,
        token: &SecretString,
        video: &MediaItem,
        title: &str,
        description: &str,
        privacy: &str,
    ) -> Result<String, AdapterError> {
        let upload_base = &self.settings.endpoints.upload_base;
        let resource = json!({
            "snippet": {"title": title, "description": description},
            "status": {"privacyStatus": privacy, "selfDeclaredMadeForKids": false},
        });
        let request = http::bearer(
            self.http
                .post(format!("{upload_base}/videos"))
                .query(&[("uploadType", "resumable"), ("part", "snippet,status")]),
            token,
        )
        .header(CONTENT_TYPE, "application/json; charset=UTF-8")
        .header("X-Upload-Content-Length", video.size().to_string())
        .header("X-Upload-Content-Type", video.mime_type.as_str())
        .json(&resource);
        let response = API.send(request).await?;
        let session = response
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .ok_or_else(|| AdapterError::Transient {
                message: "YouTube opened no upload session (no Location header)".into(),
            })?;
        if !same_origin(&session, upload_base) {
            return Err(AdapterError::Rejected {
                code: "unexpected_upload_url".into(),
                message:
                    "YouTube answered an upload session on another host; the video was not sent"
                        .into(),
            });
        }
        Ok(session)
    }

    /// `PUT` of the whole file to the session: the call that creates the video, hence
    /// [`AdapterError::OutcomeUnknown`] when it goes unanswered. A `308 Resume Incomplete`
    /// means YouTube kept only part of the file and created nothing. A 5xx interrupted the
    /// upload, but the last bytes may have landed all the same, so the session is asked (see
    /// [`Self::upload_status`]) before anything is concluded.
    async fn upload_into_session(
        &self,
        session: &str,
        token: &SecretString,
        video: &MediaItem,
    ) -> Result<Video, AdapterError> {
        let request = http::bearer(self.http.put(session), token)
            .header(CONTENT_TYPE, video.mime_type.as_str())
            .body(video.bytes.clone());
        let response = request
            .transmit()
            .await
            .map_err(|e| AdapterError::from_transport_unsure(&e))?;
        let status = response.status();
        if status.is_success() {
            return created_video(response).await;
        }
        let headers = response.headers().clone();
        let body = response.text().await.unwrap_or_default();
        if status == StatusCode::PERMANENT_REDIRECT {
            return Err(incomplete_upload());
        }
        if status.is_server_error() {
            return self.upload_status(session, token, video.size()).await;
        }
        Err(classify(status, &headers, &body))
    }

    /// Asks an interrupted session how far it got (`PUT` with `Content-Range: bytes */size`
    /// and no body, per the resumable upload guide): 200/201 answer the finished video, 308
    /// says the file is incomplete (nothing was created: a new upload is safe), 404 says the
    /// session expired unfinished. Anything else leaves the outcome unknown.
    async fn upload_status(
        &self,
        session: &str,
        token: &SecretString,
        size: u64,
    ) -> Result<Video, AdapterError> {
        let request = http::bearer(self.http.put(session), token)
            .header(CONTENT_RANGE, format!("bytes */{size}"))
            .body(Vec::new());
        let response = request
            .transmit()
            .await
            .map_err(|e| AdapterError::OutcomeUnknown {
                message: format!(
                    "the upload was interrupted and asking YouTube about it failed: {e}"
                ),
            })?;
        let status = response.status();
        if status.is_success() {
            return created_video(response).await;
        }
        if status == StatusCode::PERMANENT_REDIRECT {
            return Err(incomplete_upload());
        }
        if status == StatusCode::NOT_FOUND {
            return Err(AdapterError::Transient {
                message: "the YouTube upload session expired before the video was complete".into(),
            });
        }
        Err(AdapterError::OutcomeUnknown {
            message: format!(
                "the upload was interrupted and YouTube answered HTTP {} when asked whether it completed",
                status.as_u16()
            ),
        })
    }
}

impl PlatformAdapter for YoutubeAdapter {
    fn descriptor(&self) -> &Descriptor {
        &self.descriptor
    }

    fn authorize_url(&self, params: &AuthorizeParams<'_>) -> Result<String, AdapterError> {
        let credentials = self.credentials()?;
        let challenge = params
            .pkce_challenge
            .ok_or_else(|| AdapterError::Unsupported {
                what: "Google authorization without a PKCE challenge".into(),
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
                ("access_type", "offline"),
                ("prompt", "consent"),
                ("include_granted_scopes", "true"),
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
            let mut form = vec![
                ("grant_type", "authorization_code"),
                ("code", exchange.code),
                ("redirect_uri", exchange.redirect_uri),
            ];
            if let Some(verifier) = exchange.pkce_verifier {
                form.push(("code_verifier", verifier));
            }
            // Failures read through Google's classifier, so a refused client registration is
            // a rejection here too.
            let tokens = self
                .token_endpoint()?
                .grant(&form, exchange.code, |status, headers, body, _| {
                    classify(status, headers, body)
                })
                .await?;
            let (profile, stats) = self.channel(&tokens.access_token).await?;
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
        Box::pin(async move { Ok(self.channel(account.access_token).await?.0) })
    }

    fn stats<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
    ) -> BoxFuture<'a, Result<Stats, AdapterError>> {
        Box::pin(async move { Ok(self.channel(account.access_token).await?.1) })
    }

    /// One call answers both.
    fn profile_and_stats<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
    ) -> BoxFuture<'a, Result<(Profile, Stats), AdapterError>> {
        Box::pin(self.channel(account.access_token))
    }

    /// `POST token_url` with `grant_type=refresh_token`, the refresh token and the client
    /// credentials in the form body (Google's documented client authentication for web servers,
    /// as at the code exchange). The answer's `refresh_token` is normally absent, so the returned
    /// set says `None`: keep the stored one. A missing `expires_in` falls back to the documented
    /// hour.
    ///
    /// No stored refresh token, and `invalid_grant` (revoked, expired, unused for six months, or
    /// the seven-day limit of an app in testing), are [`AdapterError::NeedsReauth`] telling the
    /// user to reconnect; a refused client registration is a rejection (see `classify`), since
    /// no reconnect can fix the operator's credentials.
    fn refresh<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
    ) -> BoxFuture<'a, Result<TokenSet, AdapterError>> {
        Box::pin(async move {
            let endpoint = self.token_endpoint()?;
            let refresh_token = account
                .refresh_token
                .ok_or_else(|| AdapterError::NeedsReauth {
                    message: "no Google refresh token is stored for this channel: reconnect your YouTube account".into(),
                })?;
            let form = [
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token.expose_secret()),
            ];
            endpoint
                .refresh(&form, refresh_token, |status, headers, body, _| {
                    match classify(status, headers, body) {
                        AdapterError::NeedsReauth { message } => AdapterError::NeedsReauth {
                            message: format!(
                                "Google no longer accepts this channel's grant: reconnect your YouTube account ({message})"
                            ),
                        },
                        other => other,
                    }
                })
                .await
        })
    }

    /// Revokes the refresh token when there is one (that ends the whole grant, access tokens
    /// included), else the access token (which also revokes its refresh token). The token goes
    /// in the form body (RFC 7009), not the query string Google's curl sample uses, so it cannot
    /// end up in an access log. A token Google already considers invalid (`invalid_token`) has
    /// nothing left to revoke.
    fn revoke<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
    ) -> BoxFuture<'a, Result<Revocation, AdapterError>> {
        Box::pin(async move {
            let Some(url) = self.settings.endpoints.revoke_url.as_deref() else {
                return Ok(Revocation::NotSupported);
            };
            let token = account.refresh_token.unwrap_or(account.access_token);
            let request = self
                .http
                .post(url)
                .form(&[("token", token.expose_secret())]);
            let response = request
                .transmit()
                .await
                .map_err(|e| AdapterError::from_transport(&e))?;
            let status = response.status();
            if status.is_success() {
                return Ok(Revocation::Revoked);
            }
            let headers = response.headers().clone();
            let body = response.text().await.unwrap_or_default();
            if status == StatusCode::BAD_REQUEST
                && oauth_error(&body).as_deref() == Some("invalid_token")
            {
                return Ok(Revocation::Revoked);
            }
            Err(classify(status, &headers, &body))
        })
    }

    /// Uploads the post's one video with the resumable protocol: its title is
    /// `options.title`, else the text's first line cut to 100 characters; its description the
    /// text; its privacy `options.privacy` (`public`, `unlisted` or `private`; `public` when
    /// not given). YouTube does not deduplicate uploads, so an unanswered `PUT` is
    /// [`AdapterError::OutcomeUnknown`]. A spent daily quota is
    /// [`AdapterError::RateLimited`] until the quota resets (see `classify`).
    fn publish<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
        post: &'a PublishRequest<'a>,
    ) -> BoxFuture<'a, Result<Published, AdapterError>> {
        Box::pin(self.publish_video(account, post))
    }

    /// `videos.list?part=statistics`, 50 videos a request: views, likes, comments.
    fn post_metrics<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
        posts: &'a [crate::PostRef<'a>],
    ) -> BoxFuture<'a, Result<Vec<crate::PostMetrics>, AdapterError>> {
        Box::pin(self.video_metrics(account, posts))
    }

    /// `videos.delete`; a video already gone (404) is [`crate::Deletion::AlreadyGone`].
    fn delete_post<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
        post: &'a crate::PostRef<'a>,
    ) -> BoxFuture<'a, Result<crate::Deletion, AdapterError>> {
        Box::pin(self.delete_video(account, post))
    }

    /// `commentThreads.insert`: a top-level comment under the video.
    fn comment<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
        on: &'a crate::PostRef<'a>,
        comment: &'a PublishRequest<'a>,
    ) -> BoxFuture<'a, Result<Published, AdapterError>> {
        Box::pin(self.comment_on_video(account, on, comment))
    }
}

/// The post's one video: YouTube takes exactly one, and nothing else.
fn single_video(media: &[MediaItem]) -> Result<&MediaItem, AdapterError> {
    match media {
        [video] if video.kind == MediaKind::Video => Ok(video),
        _ => Err(AdapterError::Rejected {
            code: "video_required".into(),
            message: "a YouTube post needs exactly one video and no other media".into(),
        }),
    }
}

/// `options.title`, checked against YouTube's limit (refused here rather than by an
/// `invalidTitle` after the session is opened), or one derived from the text.
fn video_title(post: &PublishRequest<'_>) -> Result<String, AdapterError> {
    match post.options.title.as_deref().map(str::trim) {
        Some(title) if !title.is_empty() => {
            if title.chars().count() > TITLE_LIMIT {
                return Err(AdapterError::Rejected {
                    code: "title_too_long".into(),
                    message: format!("a YouTube title has at most {TITLE_LIMIT} characters"),
                });
            }
            Ok(title.to_owned())
        }
        _ => title_from_text(post.text, TITLE_LIMIT).ok_or_else(|| AdapterError::Rejected {
            code: "title_required".into(),
            message: "a YouTube video needs a title: give one in the post's YouTube options or start the text with it".into(),
        }),
    }
}

/// A title derived from a post's text: its first non-blank line, cut to `limit` characters at
/// a grapheme boundary (so no accent or emoji is split). YouTube refuses `<` and `>` in titles,
/// so they are left out of a title we make up. `None` when the text has no visible line.
pub(crate) fn title_from_text(text: &str, limit: usize) -> Option<String> {
    let line = text.lines().map(str::trim).find(|l| !l.is_empty())?;
    let mut title = String::new();
    let mut chars = 0;
    for grapheme in line.graphemes(true) {
        if grapheme.contains(['<', '>']) {
            continue;
        }
        let width = grapheme.chars().count();
        if chars + width > limit {
            break;
        }
        chars += width;
        title.push_str(grapheme);
    }
    let title = title.trim();
    (!title.is_empty()).then(|| title.to_owned())
}

/// `options.privacy`, lowercased, when it is one of YouTube's; `public` when not given.
fn privacy_status(asked: Option<&str>) -> Result<String, AdapterError> {
    let Some(asked) = asked.map(str::trim).filter(|p| !p.is_empty()) else {
        return Ok("public".into());
    };
    let privacy = asked.to_ascii_lowercase();
    if PRIVACY_STATUSES.contains(&privacy.as_str()) {
        Ok(privacy)
    } else {
        Err(AdapterError::Rejected {
            code: "invalid_privacy".into(),
            message: format!("YouTube privacy must be public, unlisted or private, not `{asked}`"),
        })
    }
}

/// Whether `url` has the scheme, host and port of `base`.
fn same_origin(url: &str, base: &str) -> bool {
    match (reqwest::Url::parse(url), reqwest::Url::parse(base)) {
        (Ok(url), Ok(base)) => url.origin() == base.origin(),
        _ => false,
    }
}

fn incomplete_upload() -> AdapterError {
    AdapterError::Transient {
        message: "YouTube received only part of the video and created nothing".into(),
    }
}

/// The video resource a finished upload answers. The video exists by now, so an unreadable
/// answer leaves its id unknown: [`AdapterError::OutcomeUnknown`], never a retry.
async fn created_video(response: Response) -> Result<Video, AdapterError> {
    let bytes = response
        .bytes()
        .await
        .map_err(|e| AdapterError::OutcomeUnknown {
            message: format!("YouTube took the video but its answer was lost: {e}"),
        })?;
    serde_json::from_slice(&bytes).map_err(|e| AdapterError::OutcomeUnknown {
        message: format!("YouTube took the video but answered an unexpected shape: {e}"),
    })
}

/// Google's errors: quota and rate reasons are [`AdapterError::RateLimited`] whatever the status
/// (YouTube uses 403 for quota, 400 for the channel's upload limit). A spent daily quota waits
/// until it resets at midnight Pacific time (see [`until_quota_reset`]), a reached upload limit
/// the 24 hours YouTube asks for, a rate reason the `Retry-After` if any (else the caller's
/// default wait); a rejection carries the first `reason` as its code. The token endpoint's
/// client errors (`invalid_client`, which Google sends with a 401) are rejections with that
/// code: they mean the operator's client id or secret is wrong, and classifying them as
/// "reauthorize" would send every user through a reconnect that cannot succeed either.
/// Everything else is the shared classification (401 and `invalid_grant` → reauthorize, 429 →
/// rate limited, 5xx → transient).
fn classify(status: StatusCode, headers: &HeaderMap, body: &str) -> AdapterError {
    let reasons = api_error_reasons(body);
    let now = Utc::now();
    let stated = parse_retry_after(headers, now.timestamp());
    let any_of = |list: &[&str]| reasons.iter().any(|r| list.contains(&r.as_str()));
    if any_of(DAILY_QUOTA_REASONS) {
        // The quota belongs to the Google Cloud project: every channel waits for the reset.
        return AdapterError::AppRateLimited {
            retry_after: stated.or(Some(until_quota_reset(now))),
        };
    }
    if any_of(&[UPLOAD_LIMIT_REASON]) {
        return AdapterError::RateLimited {
            retry_after: stated.or(Some(Duration::from_secs(24 * 60 * 60))),
        };
    }
    if any_of(RATE_LIMIT_REASONS) {
        return AdapterError::RateLimited {
            retry_after: stated,
        };
    }
    if let Some(code) = oauth_error(body).filter(|e| CLIENT_ERRORS.contains(&e.as_str())) {
        return AdapterError::Rejected {
            code,
            message: "Google refused Postbridge's OAuth client: check the configured YouTube client id and secret".into(),
        };
    }
    match (
        classify_response(status, headers, body),
        reasons.into_iter().next(),
    ) {
        (AdapterError::Rejected { message, .. }, Some(reason)) => AdapterError::Rejected {
            code: reason,
            message,
        },
        // The token endpoint explains an `invalid_grant` in `error_description` ("Token has
        // been expired or revoked."): that sentence, not the JSON around it, reaches the user.
        (AdapterError::NeedsReauth { message }, _) => AdapterError::NeedsReauth {
            message: oauth_description(body).unwrap_or(message),
        },
        (other, _) => other,
    }
}

/// How long until the Data API's daily quota resets: midnight Pacific time. Pacific is taken as
/// UTC−8 all year (midnight PST is 08:00 UTC); under daylight saving time the real reset is an
/// hour earlier, so the wait errs an hour long, never short.
fn until_quota_reset(now: DateTime<Utc>) -> Duration {
    let reset_today = now.date_naive().and_hms_opt(8, 0, 0).map(|t| t.and_utc());
    let next = match reset_today {
        Some(reset) if reset > now => reset,
        Some(reset) => reset + chrono::Duration::days(1),
        None => now + chrono::Duration::days(1),
    };
    (next - now)
        .to_std()
        .unwrap_or(Duration::from_secs(24 * 60 * 60))
}

/// The `error_description` of an OAuth error body, on one line and at most 300 characters.
fn oauth_description(body: &str) -> Option<String> {
    let value = serde_json::from_str::<serde_json::Value>(body).ok()?;
    value.get("error")?.as_str()?;
    let description: String = value
        .get("error_description")?
        .as_str()?
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(300)
        .collect();
    Some(description.trim().to_owned()).filter(|d| !d.is_empty())
}

/// `error.errors[].reason` of a Google API error body.
fn api_error_reasons(body: &str) -> Vec<String> {
    serde_json::from_str::<GoogleErrorBody>(body)
        .ok()
        .and_then(|b| b.error)
        .map(|e| e.errors.into_iter().filter_map(|d| d.reason).collect())
        .unwrap_or_default()
}

/// The OAuth `error` string of a token-endpoint error body.
fn oauth_error(body: &str) -> Option<String> {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()?
        .get("error")?
        .as_str()
        .map(str::to_owned)
}

/// The Data API sends counts as decimal strings (they are `unsigned long`).
fn count(value: Option<String>) -> Option<i64> {
    value.and_then(|v| v.parse().ok())
}

#[derive(Debug, Deserialize)]
struct ChannelList {
    #[serde(default)]
    items: Vec<Channel>,
}

#[derive(Debug, Deserialize)]
struct Channel {
    id: String,
    snippet: Option<Snippet>,
    statistics: Option<Statistics>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Snippet {
    title: Option<String>,
    /// The channel's handle, `@name` today (older channels: a legacy custom URL).
    custom_url: Option<String>,
    thumbnails: Option<Thumbnails>,
}

#[derive(Debug, Deserialize)]
struct Thumbnails {
    default: Option<Thumbnail>,
    medium: Option<Thumbnail>,
    high: Option<Thumbnail>,
}

#[derive(Debug, Deserialize)]
struct Thumbnail {
    url: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Statistics {
    subscriber_count: Option<String>,
    #[serde(default)]
    hidden_subscriber_count: bool,
    video_count: Option<String>,
}

#[derive(Debug, Deserialize)]
struct GoogleErrorBody {
    /// An object for API errors; a string for OAuth errors, which then fails to parse here and
    /// yields no reasons.
    error: Option<GoogleError>,
}

#[derive(Debug, Deserialize)]
struct GoogleError {
    #[serde(default)]
    errors: Vec<GoogleErrorDetail>,
}

#[derive(Debug, Deserialize)]
struct GoogleErrorDetail {
    reason: Option<String>,
}

/// The part of a `youtube#video` resource publishing reads.
#[derive(Debug, Deserialize)]
struct Video {
    id: String,
    status: Option<VideoStatus>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct VideoStatus {
    upload_status: Option<String>,
    failure_reason: Option<String>,
    rejection_reason: Option<String>,
}

impl Video {
    /// A video YouTube already marks `rejected` (e.g. a duplicate, a copyright claim) or
    /// `failed` (e.g. a corrupt file) at upload time is a refusal, not a publication. Any other
    /// `uploadStatus` (`uploaded`, `processed`) is a video that exists.
    fn refusal(&self) -> Option<AdapterError> {
        let status = self.status.as_ref()?;
        let (kind, reason) = match status.upload_status.as_deref()? {
            "rejected" => ("rejected", status.rejection_reason.as_deref()),
            "failed" => ("failed", status.failure_reason.as_deref()),
            _ => return None,
        };
        let reason = reason.unwrap_or("unspecified");
        Some(AdapterError::Rejected {
            code: reason.to_owned(),
            message: format!("YouTube {kind} the upload ({reason})"),
        })
    }
}
