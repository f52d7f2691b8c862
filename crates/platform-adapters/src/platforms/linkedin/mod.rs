//! LinkedIn members: "Sign In with LinkedIn using OpenID Connect" plus "Share on LinkedIn".
//!
//! Identity comes from the OIDC `userinfo` endpoint (the legacy `r_liteprofile` sign-in was
//! deprecated on 1 August 2023); posting needs `w_member_social`. LinkedIn's 3-legged flow
//! for web apps has no PKCE (its PKCE variant is a separately approved native-app flow), so the
//! client secret goes in the token request body, as LinkedIn documents. References:
//! <https://learn.microsoft.com/en-us/linkedin/shared/authentication/authorization-code-flow>,
//! <https://learn.microsoft.com/en-us/linkedin/consumer/integrations/self-serve/sign-in-with-linkedin-v2>,
//! <https://learn.microsoft.com/en-us/linkedin/shared/authentication/programmatic-refresh-tokens>.
//!
//! Access tokens live 60 days. Programmatic refresh tokens are only granted to approved
//! Marketing Developer Platform partners; everyone else reconnects before the token expires.
//! A refresh token lives 365 days from the first authorization: refreshing gives a new 60-day
//! access token but never extends the refresh token (its `refresh_token_expires_in` counts
//! down), so even partners' members reconnect once a year.
//!
//! Publishing uses the versioned Community Management APIs under `/rest` (every call names
//! [`LINKEDIN_VERSION`] and Rest.li protocol 2.0.0), while the sign-in side keeps its unversioned
//! `/v2/userinfo`. References:
//! <https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/posts-api>,
//! <https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/images-api>,
//! <https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/videos-api>,
//! <https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/little-text-format>.
//! A member posts as `urn:li:person:{sub}` (the id kept at connection), an organization as
//! `urn:li:organization:{id}`. Media are registered (`initializeUpload`) for that author and
//! their bytes PUT to the URLs LinkedIn hands out; `POST /rest/posts` then creates the post and
//! answers its URN in `x-restli-id`.

mod follow_ups;
mod rules;

use std::time::Duration;

use chrono::Utc;
use domain::{AccountKind, AuthKind, Platform};
use futures_util::future::BoxFuture;
use reqwest::{header::HeaderMap, RequestBuilder, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::http::Transmit;
use crate::{
    classify_response, http,
    oauth::{self, ClientAuth, TokenEndpoint},
    AccountRef, AdapterError, AdapterSettings, AuthorizeParams, Capabilities, ClientCredentials,
    CodeExchange, Connection, Descriptor, Endpoints, MediaItem, MediaKind, PlatformAdapter,
    Profile, PublishRequest, Published, Revocation, Stats, TextCounting, TokenSet,
};

/// LinkedIn's transport: error answers read by `classify_linkedin`.
const API: http::Api = http::Api::new("LinkedIn", classify_linkedin);

/// What a member without a programmatic refresh token must do: LinkedIn grants them to
/// approved partner apps only, so for everyone else the 60-day token simply runs out.
const NO_REFRESH_TOKEN: &str = "LinkedIn did not grant a refresh token: reconnect your LinkedIn account before the 60-day token expires";

/// OIDC identity (`openid profile email`) plus member posting (`w_member_social`).
const SCOPES: &[&str] = &["openid", "profile", "email", "w_member_social"];

/// The `LinkedIn-Version` every `/rest` call sends (YYYYMM). LinkedIn refuses a missing or
/// sunset version, and supports each monthly version for at least a year after its release:
/// 202607 (July 2026) works until about July 2027. Move it forward before then, after reading
/// the Posts, Images and Videos API migration notes of the versions in between.
pub const LINKEDIN_VERSION: &str = "202607";

/// The Rest.li protocol the `/rest` APIs require (`X-Restli-Protocol-Version`).
const RESTLI_PROTOCOL_VERSION: &str = "2.0.0";

/// A multi-image post carries 2 to 20 images.
const MAX_IMAGES: usize = 20;

/// How far back [`PlatformAdapter::find_published`] looks: an unanswered attempt is
/// reconciled within hours, and an older post with the same text is not ours.
const LOOKBACK: Duration = Duration::from_secs(24 * 60 * 60);

/// How many of the author's latest posts are searched.
const LOOKUP_PAGE: &str = "50";

/// LinkedIn's static facts.
pub fn descriptor() -> Descriptor {
    Descriptor {
        platform: Platform::Linkedin,
        auth_kind: AuthKind::Oauth2,
        scopes: SCOPES.iter().map(|s| (*s).to_owned()).collect(),
        pkce: false,
        // "By default, access tokens are valid for 60 days."
        access_token_lifetime: Some(Duration::from_secs(60 * 24 * 60 * 60)),
        // A refresh keeps the refresh token and its original one-year deadline.
        refresh_token_rotates: false,
        capabilities: Capabilities {
            text_limit: 3000,
            text_counting: TextCounting::Chars,
            media_kinds: vec![MediaKind::Image, MediaKind::Video],
            // A multi-image post carries up to 20 images; a video post one video.
            max_media: 20,
            requires_media: false,
            publish_limit: None,
            idempotent_publish: false,
            dedup_window: None,
            // `DELETE /rest/posts/{urn}` with `w_member_social`; counts through the
            // `socialMetadata` batch get (which needs `r_member_social_feed`, else unknown). No
            // first comments: commenting needs `w_member_social_feed` (Community Management),
            // which is not requested (see `follow_ups.rs`).
            follow_ups: crate::FollowUps {
                delete: true,
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
        authorize_url: "https://www.linkedin.com/oauth/v2/authorization".into(),
        token_url: "https://www.linkedin.com/oauth/v2/accessToken".into(),
        revoke_url: Some("https://www.linkedin.com/oauth/v2/revoke".into()),
        api_base: "https://api.linkedin.com".into(),
        upload_base: "https://api.linkedin.com".into(),
    }
}

/// LinkedIn in the registry: one app of ours, configured in `[platforms.linkedin]`.
pub const SPEC: crate::spec::PlatformSpec = crate::spec::PlatformSpec {
    descriptor,
    name: "LinkedIn",
    rules: &rules::RULES,
    count_text: None,
    default_endpoints,
    reach: crate::spec::Reach::App,
    build: |b| std::sync::Arc::new(LinkedinAdapter::new(b.http, b.settings)),
};

/// The LinkedIn adapter.
#[derive(Debug)]
pub struct LinkedinAdapter {
    http: reqwest::Client,
    settings: AdapterSettings,
    descriptor: Descriptor,
}

impl LinkedinAdapter {
    /// An adapter on the shared HTTP client.
    pub fn new(http: reqwest::Client, settings: AdapterSettings) -> Self {
        Self {
            http,
            settings,
            descriptor: descriptor(),
        }
    }

    fn credentials(&self) -> Result<&ClientCredentials, AdapterError> {
        self.settings.require_credentials(Platform::Linkedin)
    }

    /// `GET /v2/userinfo` (OIDC). `sub` is the member id that posts are authored by
    /// (`urn:li:person:{sub}`). The OIDC profile carries no vanity name, so neither a handle
    /// nor a profile URL is known.
    async fn userinfo(&self, token: &SecretString) -> Result<Profile, AdapterError> {
        let url = format!("{}/v2/userinfo", self.settings.endpoints.api_base);
        let info: UserInfo = http::json(http::bearer(self.http.get(url), token)).await?;
        let display_name = info.name.or_else(|| {
            let joined = [info.given_name, info.family_name]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            (!joined.is_empty()).then_some(joined)
        });
        Ok(Profile {
            platform_account_id: info.sub,
            account_kind: Some(AccountKind::Profile),
            display_name,
            handle: None,
            avatar_url: info.picture,
            profile_url: None,
        })
    }

    /// `POST /oauth/v2/accessToken` with `grant_type=refresh_token`, the refresh token and the
    /// client credentials in the form, as LinkedIn documents for programmatic refresh tokens.
    /// The answer (`access_token`, `expires_in`, `refresh_token`, `refresh_token_expires_in`)
    /// carries the refresh token's remaining lifetime, which becomes
    /// [`TokenSet::refresh_expires_at`]; a missing `expires_in` falls back to 60 days.
    async fn refresh_grant(&self, account: &AccountRef<'_>) -> Result<TokenSet, AdapterError> {
        let endpoint = self.token_endpoint()?;
        let refresh_token = account
            .refresh_token
            .ok_or_else(|| AdapterError::NeedsReauth {
                message: NO_REFRESH_TOKEN.into(),
            })?;
        endpoint
            .refresh(
                &[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", refresh_token.expose_secret()),
                ],
                refresh_token,
                oauth::standard_refresh_failure("LinkedIn"),
            )
            .await
    }

    /// The token endpoint with our app's credentials in the form body.
    fn token_endpoint(&self) -> Result<TokenEndpoint<'_>, AdapterError> {
        Ok(TokenEndpoint {
            platform: "LinkedIn",
            http: &self.http,
            url: &self.settings.endpoints.token_url,
            credentials: self.credentials()?,
            auth: ClientAuth::Body,
            lifetime: self.descriptor.access_token_lifetime,
        })
    }
}

impl PlatformAdapter for LinkedinAdapter {
    fn descriptor(&self) -> &Descriptor {
        &self.descriptor
    }

    fn authorize_url(&self, params: &AuthorizeParams<'_>) -> Result<String, AdapterError> {
        let credentials = self.credentials()?;
        let scope = self.descriptor.scopes.join(" ");
        http::url_with_query(
            &self.settings.endpoints.authorize_url,
            &[
                ("response_type", "code"),
                ("client_id", &credentials.client_id),
                ("redirect_uri", params.redirect_uri),
                ("state", params.state),
                ("scope", &scope),
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
            let profile = self.userinfo(&tokens.access_token).await?;
            Ok(vec![Connection {
                profile,
                tokens,
                stats: Some(Stats::default()),
            }])
        })
    }

    fn profile<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
    ) -> BoxFuture<'a, Result<Profile, AdapterError>> {
        Box::pin(self.userinfo(account.access_token))
    }

    /// The self-serve products (OIDC sign-in, Share on LinkedIn) expose no follower, connection
    /// or post count of a member; those need partner products Postbridge does not assume. Every
    /// count is therefore unknown rather than a misleading zero, and no request is made.
    fn stats<'a>(
        &'a self,
        _account: &'a AccountRef<'a>,
    ) -> BoxFuture<'a, Result<Stats, AdapterError>> {
        Box::pin(async { Ok(Stats::default()) })
    }

    /// Exchanges the programmatic refresh token for a new 60-day access token (`POST
    /// /oauth/v2/accessToken`, client credentials in the form); the refresh token keeps its
    /// original one-year deadline. Without one (most apps), the member is asked to reconnect
    /// before the 60-day token runs out.
    fn refresh<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
    ) -> BoxFuture<'a, Result<TokenSet, AdapterError>> {
        Box::pin(self.refresh_grant(account))
    }

    /// `POST /oauth/v2/revoke` with the client credentials in the form, as for the token
    /// endpoint. The member access token is the grant (refresh tokens are rare on LinkedIn and
    /// expire with it).
    fn revoke<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
    ) -> BoxFuture<'a, Result<Revocation, AdapterError>> {
        Box::pin(async move {
            let Some(url) = self.settings.endpoints.revoke_url.as_deref() else {
                return Ok(Revocation::NotSupported);
            };
            let credentials = self.credentials()?;
            let request = self.http.post(url).form(&[
                ("client_id", credentials.client_id.as_str()),
                ("client_secret", credentials.client_secret.expose_secret()),
                ("token", account.access_token.expose_secret()),
            ]);
            http::send(request).await?;
            Ok(Revocation::Revoked)
        })
    }

    /// Registers and uploads the media for the post's author, then creates the post with one
    /// `POST /rest/posts`. Posts are always `PUBLIC` on the main feed. The media decide the
    /// content: one image or one video as `media`, 2 to 20 images as `multiImage`; without
    /// media, `options.link` becomes an `article` (titled `options.title`, else the link). The
    /// combination is checked before anything is uploaded.
    ///
    /// LinkedIn has no idempotency key, so the create call is made once: when its answer (the
    /// `x-restli-id` header) is lost the result is `OutcomeUnknown`, for the caller to look the
    /// post up rather than post twice. Uploads are harmless to repeat.
    fn publish<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
        post: &'a PublishRequest<'a>,
    ) -> BoxFuture<'a, Result<Published, AdapterError>> {
        Box::pin(async move {
            let author = author_urn(account, post.account_kind)?;
            let token = account.access_token;
            let content = match attachments(post.media)? {
                Attachments::None => post.options.link.as_ref().map(|link| {
                    Content::Article(Article {
                        source: link.clone(),
                        title: post.options.title.clone().unwrap_or_else(|| link.clone()),
                    })
                }),
                Attachments::Video(item) => Some(Content::Media(MediaRef {
                    id: self.upload_video(token, &author, item).await?,
                    alt_text: None,
                    title: post.options.title.clone(),
                })),
                Attachments::Images(items) => {
                    let mut images = Vec::with_capacity(items.len());
                    for item in items {
                        images.push(MediaRef {
                            id: self.upload_image(token, &author, item).await?,
                            alt_text: alt_text(item),
                            title: None,
                        });
                    }
                    match <[MediaRef; 1]>::try_from(images) {
                        Ok([image]) => Some(Content::Media(image)),
                        Err(images) => Some(Content::MultiImage(MultiImage { images })),
                    }
                }
            };
            let body = NewPost {
                author: &author,
                commentary: little_text(post.text),
                visibility: "PUBLIC",
                distribution: Distribution {
                    feed_distribution: "MAIN_FEED",
                    target_entities: Vec::new(),
                    third_party_distribution_channels: Vec::new(),
                },
                lifecycle_state: "PUBLISHED",
                is_reshare_disabled_by_author: false,
                content,
            };
            let request = self
                .rest(
                    self.http
                        .post(format!("{}/rest/posts", self.settings.endpoints.api_base)),
                    token,
                )
                .json(&body);
            let response = API.send_unsure(request).await?;
            let urn = response
                .headers()
                .get("x-restli-id")
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .ok_or_else(|| AdapterError::OutcomeUnknown {
                    message: "LinkedIn accepted the post but sent no x-restli-id with its URN"
                        .into(),
                })?;
            Ok(published(urn.to_owned()))
        })
    }

    /// Looks for the post among the author's latest posts (`GET /rest/posts?q=author`), created
    /// within the last day, whose commentary (read back from little text) is the request's text.
    /// Reading posts needs `r_member_social` (a restricted permission LinkedIn grants few apps)
    /// or, for organizations, `r_organization_social`; without it LinkedIn answers 403, which
    /// is `Unsupported`: the post cannot be looked up, so a person has to check. A post without
    /// text cannot be told apart from other media posts, so it is not looked for.
    fn find_published<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
        post: &'a PublishRequest<'a>,
    ) -> BoxFuture<'a, Result<Option<Published>, AdapterError>> {
        Box::pin(async move {
            let wanted = post.text.trim();
            if wanted.is_empty() {
                return Err(AdapterError::Unsupported {
                    what: "LinkedIn posts without text cannot be told apart from one another"
                        .into(),
                });
            }
            let author = author_urn(account, post.account_kind)?;
            let request = self.rest(
                self.http
                    .get(format!("{}/rest/posts", self.settings.endpoints.api_base))
                    .query(&[
                        ("author", author.as_str()),
                        ("q", "author"),
                        ("count", LOOKUP_PAGE),
                        ("sortBy", "CREATED"),
                    ]),
                account.access_token,
            );
            let response = request
                .transmit()
                .await
                .map_err(|e| AdapterError::from_transport(&e))?;
            if response.status() == StatusCode::FORBIDDEN {
                return Err(AdapterError::Unsupported {
                    what: "LinkedIn does not let this app read the account's posts (it needs r_member_social or r_organization_social)".into(),
                });
            }
            let posts: Posts = API.decode(API.checked(response).await?).await?;
            let since = Utc::now().timestamp_millis()
                - i64::try_from(LOOKBACK.as_millis()).unwrap_or(i64::MAX);
            Ok(posts
                .elements
                .into_iter()
                .filter(|p| !matches!(p.created_at, Some(at) if at < since))
                .find(|p| plain_text(&p.commentary) == wanted)
                .map(|p| published(p.id)))
        })
    }

    /// Reactions and comments through the `socialMetadata` batch get; every figure `None`
    /// without `r_member_social` / `r_organization_social`.
    fn post_metrics<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
        posts: &'a [crate::PostRef<'a>],
    ) -> BoxFuture<'a, Result<Vec<crate::PostMetrics>, AdapterError>> {
        Box::pin(self.post_engagement(account, posts))
    }

    /// `DELETE /rest/posts/{urn}`; a post already gone is [`crate::Deletion::AlreadyGone`].
    fn delete_post<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
        post: &'a crate::PostRef<'a>,
    ) -> BoxFuture<'a, Result<crate::Deletion, AdapterError>> {
        Box::pin(self.delete_linkedin_post(account, post))
    }

    /// A comment under the post, by its author (`socialActions/{urn}/comments`): works for an
    /// app granted `w_member_social_feed`; otherwise a rejection naming that permission.
    fn comment<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
        on: &'a crate::PostRef<'a>,
        comment: &'a PublishRequest<'a>,
    ) -> BoxFuture<'a, Result<Published, AdapterError>> {
        Box::pin(self.comment_on_post(account, on, comment))
    }
}

/// The OIDC `userinfo` claims LinkedIn returns (`email` is requested for sign-in parity but not
/// kept: Postbridge stores no member e-mail).
#[derive(Debug, Deserialize)]
struct UserInfo {
    sub: String,
    name: Option<String>,
    given_name: Option<String>,
    family_name: Option<String>,
    picture: Option<String>,
}

/// Publishing steps.
impl LinkedinAdapter {
    /// Adds what every `/rest` call needs: the bearer token, `LinkedIn-Version` and the Rest.li
    /// protocol version.
    fn rest(&self, request: RequestBuilder, token: &SecretString) -> RequestBuilder {
        http::bearer(request, token)
            .header("LinkedIn-Version", LINKEDIN_VERSION)
            .header("X-Restli-Protocol-Version", RESTLI_PROTOCOL_VERSION)
    }

    /// `POST /rest/images?action=initializeUpload` for `owner`, then the bytes PUT to the
    /// returned `uploadUrl` with the bearer token, as LinkedIn's example does. Returns the
    /// `urn:li:image:…`.
    async fn upload_image(
        &self,
        token: &SecretString,
        owner: &str,
        item: &MediaItem,
    ) -> Result<String, AdapterError> {
        let request = self
            .rest(
                self.http
                    .post(format!(
                        "{}/rest/images",
                        self.settings.endpoints.upload_base
                    ))
                    .query(&[("action", "initializeUpload")]),
                token,
            )
            .json(&serde_json::json!({"initializeUploadRequest": {"owner": owner}}));
        let upload = API.json::<Value<ImageUpload>>(request).await?.value;
        let put = http::bearer(self.http.put(&upload.upload_url), token)
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(item.bytes.clone());
        API.send(put).await?;
        Ok(upload.image)
    }

    /// `POST /rest/videos?action=initializeUpload` (no captions, no thumbnail), each byte range
    /// of `uploadInstructions` PUT to its URL (which carries its own signature; LinkedIn's
    /// example sends no token) collecting the `ETag`s in order, then `finalizeUpload` with them.
    /// The post is created right away: LinkedIn shows it once the video is processed.
    async fn upload_video(
        &self,
        token: &SecretString,
        owner: &str,
        item: &MediaItem,
    ) -> Result<String, AdapterError> {
        let base = &self.settings.endpoints.upload_base;
        let request = self
            .rest(
                self.http
                    .post(format!("{base}/rest/videos"))
                    .query(&[("action", "initializeUpload")]),
                token,
            )
            .json(&serde_json::json!({"initializeUploadRequest": {
                "owner": owner,
                "fileSizeBytes": item.size(),
                "uploadCaptions": false,
                "uploadThumbnail": false,
            }}));
        let upload = API.json::<Value<VideoUpload>>(request).await?.value;
        if upload.upload_instructions.is_empty() {
            return Err(AdapterError::Transient {
                message: "LinkedIn gave no upload instructions for the video".into(),
            });
        }
        let mut part_ids = Vec::with_capacity(upload.upload_instructions.len());
        for part in &upload.upload_instructions {
            let range = part.range(item.bytes.len())?;
            let put = self
                .http
                .put(&part.upload_url)
                .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
                .body(item.bytes.slice(range));
            let response = API.send(put).await?;
            let etag = response
                .headers()
                .get(reqwest::header::ETAG)
                .and_then(|v| v.to_str().ok())
                .filter(|v| !v.is_empty())
                .ok_or_else(|| AdapterError::Transient {
                    message: "LinkedIn answered a video part upload without an ETag".into(),
                })?;
            part_ids.push(etag.to_owned());
        }
        let request = self
            .rest(
                self.http
                    .post(format!("{base}/rest/videos"))
                    .query(&[("action", "finalizeUpload")]),
                token,
            )
            .json(&serde_json::json!({"finalizeUploadRequest": {
                "video": upload.video,
                "uploadToken": upload.upload_token,
                "uploadedPartIds": part_ids,
            }}));
        API.send(request).await?;
        Ok(upload.video)
    }
}

/// Who a post is by: `urn:li:person:{id}` for a member's own profile (the OIDC `sub` kept at
/// connection), `urn:li:organization:{id}` for an organization. An id that already is a URN is
/// used as it is.
fn author_urn(account: &AccountRef<'_>, kind: AccountKind) -> Result<String, AdapterError> {
    let id = account.platform_account_id.trim();
    if id.starts_with("urn:li:person:") || id.starts_with("urn:li:organization:") {
        return Ok(id.to_owned());
    }
    match kind {
        AccountKind::Profile => Ok(format!("urn:li:person:{id}")),
        AccountKind::Organization => Ok(format!("urn:li:organization:{id}")),
        other => Err(AdapterError::Unsupported {
            what: format!("LinkedIn posts are made by members or organizations, not by a {other}"),
        }),
    }
}

/// What a post's media amount to on LinkedIn.
#[derive(Debug)]
enum Attachments<'a> {
    None,
    Video(&'a MediaItem),
    Images(&'a [MediaItem]),
}

/// One video alone, or 1 to 20 images: LinkedIn has no post mixing them.
fn attachments(media: &[MediaItem]) -> Result<Attachments<'_>, AdapterError> {
    let rejected = |message: String| AdapterError::Rejected {
        code: "unsupported_media_combination".into(),
        message,
    };
    match media {
        [] => Ok(Attachments::None),
        [video] if video.kind == MediaKind::Video => Ok(Attachments::Video(video)),
        _ if media.iter().any(|m| m.kind == MediaKind::Video) => Err(rejected(
            "a LinkedIn post carries one video alone, without other media".into(),
        )),
        _ if media.len() > MAX_IMAGES => Err(rejected(format!(
            "a LinkedIn post carries at most {MAX_IMAGES} images, not {}",
            media.len()
        ))),
        _ => Ok(Attachments::Images(media)),
    }
}

fn alt_text(item: &MediaItem) -> Option<String> {
    item.alt_text
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(str::to_owned)
}

/// A post's public URL: the feed update of its URN.
fn published(urn: String) -> Published {
    Published {
        url: Some(format!("https://www.linkedin.com/feed/update/{urn}")),
        platform_post_id: urn,
    }
}

/// Characters `little` text reserves: unescaped, LinkedIn reads them as markup, and a post is
/// silently cut at the first one it cannot parse.
const RESERVED: [char; 15] = [
    '\\', '|', '{', '}', '@', '[', ']', '(', ')', '<', '>', '#', '*', '_', '~',
];

/// Punctuation that ends a sentence rather than a link it follows.
const LINK_TRAILERS: [char; 14] = [
    ')', ']', '}', '>', '|', '*', '~', '.', ',', ';', ':', '!', '?', '\'',
];

/// The plain `text` as `little` text (LinkedIn's commentary format): reserved characters are
/// backslash-escaped, except the `#` of a hashtag (`#word`, kept clickable) and links, which are
/// copied as they are so that LinkedIn still recognises them (punctuation closing a sentence
/// after a link is not part of it). Mentions need URNs that plain text does not have, so `@` is
/// always literal.
pub fn little_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    let mut rest = text;
    let mut previous: Option<char> = None;
    while let Some(c) = rest.chars().next() {
        let starts_word = !previous.is_some_and(char::is_alphanumeric);
        if starts_word && (rest.starts_with("https://") || rest.starts_with("http://")) {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            let link = link_prefix(&rest[..end]);
            out.push_str(link);
            previous = link.chars().next_back();
            rest = &rest[link.len()..];
            continue;
        }
        let next = rest[c.len_utf8()..].chars().next();
        let hashtag = c == '#' && starts_word && next.is_some_and(char::is_alphanumeric);
        if RESERVED.contains(&c) && !hashtag {
            out.push('\\');
        }
        out.push(c);
        previous = Some(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// The link at the start of `token` (which has no whitespace): without the punctuation that
/// closes the sentence after it, but with a closing parenthesis that balances one in the link
/// (`…/wiki/Rust_(language)`).
fn link_prefix(token: &str) -> &str {
    let mut link = token;
    while let Some(last) = link.chars().next_back() {
        let balanced = last == ')' && link.matches('(').count() >= link.matches(')').count();
        if !LINK_TRAILERS.contains(&last) || balanced {
            break;
        }
        link = &link[..link.len() - last.len_utf8()];
    }
    link
}

/// Commentary as LinkedIn returns it, back to plain text: `{hashtag|\#|word}` templates become
/// `#word`, escapes are dropped, surrounding whitespace trimmed.
fn plain_text(little: &str) -> String {
    const HASHTAG: &str = "{hashtag|\\#|";
    let mut out = String::with_capacity(little.len());
    let mut rest = little;
    while let Some(c) = rest.chars().next() {
        if let Some(tail) = rest.strip_prefix(HASHTAG) {
            if let Some(close) = tail.find('}') {
                out.push('#');
                out.push_str(&tail[..close]);
                rest = &tail[close + 1..];
                continue;
            }
        }
        rest = &rest[c.len_utf8()..];
        if c == '\\' {
            if let Some(escaped) = rest.chars().next() {
                out.push(escaped);
                rest = &rest[escaped.len_utf8()..];
                continue;
            }
        }
        out.push(c);
    }
    out.trim().to_owned()
}

/// Reads a LinkedIn error answer (`{"status", "serviceErrorCode", "code", "message"}`, with
/// `errorDetails.inputErrors` on a 422) into the class [`classify_response`] gives its status,
/// carrying LinkedIn's sentence and its `code` (else `serviceErrorCode`) instead of raw JSON.
pub fn classify_linkedin(status: StatusCode, headers: &HeaderMap, body: &str) -> AdapterError {
    let answer = serde_json::from_str::<ErrorAnswer>(body).ok();
    match classify_response(status, headers, body) {
        AdapterError::Rejected { code, message } => match answer {
            Some(answer) => AdapterError::Rejected {
                message: answer.sentence().unwrap_or(message),
                code: answer.code().unwrap_or(code),
            },
            None => AdapterError::Rejected { code, message },
        },
        AdapterError::NeedsReauth { message } => AdapterError::NeedsReauth {
            message: answer.and_then(|a| a.sentence()).unwrap_or(message),
        },
        other => other,
    }
}

/// At most 300 characters of platform text, on one line.
fn short(text: &str) -> String {
    crate::http::excerpt(text, 300)
}

/// `POST /rest/posts` body.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct NewPost<'a> {
    author: &'a str,
    commentary: String,
    visibility: &'static str,
    distribution: Distribution,
    lifecycle_state: &'static str,
    is_reshare_disabled_by_author: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    content: Option<Content>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Distribution {
    feed_distribution: &'static str,
    target_entities: Vec<String>,
    third_party_distribution_channels: Vec<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
enum Content {
    Media(MediaRef),
    MultiImage(MultiImage),
    Article(Article),
}

/// One image or video of a post.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct MediaRef {
    id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    alt_text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<String>,
}

#[derive(Debug, Serialize)]
struct MultiImage {
    images: Vec<MediaRef>,
}

#[derive(Debug, Serialize)]
struct Article {
    source: String,
    title: String,
}

/// Rest.li action answers wrap their result in `value`.
#[derive(Debug, Deserialize)]
struct Value<T> {
    value: T,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ImageUpload {
    upload_url: String,
    image: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct VideoUpload {
    video: String,
    /// Empty for a single-part upload; echoed in `finalizeUpload` either way.
    #[serde(default)]
    upload_token: String,
    #[serde(default)]
    upload_instructions: Vec<UploadInstruction>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UploadInstruction {
    upload_url: String,
    first_byte: u64,
    last_byte: u64,
}

impl UploadInstruction {
    /// The instruction's inclusive byte range as a slice range of a file of `len` bytes.
    fn range(&self, len: usize) -> Result<std::ops::Range<usize>, AdapterError> {
        let first = usize::try_from(self.first_byte).ok();
        let end = usize::try_from(self.last_byte)
            .ok()
            .and_then(|l| l.checked_add(1));
        match (first, end) {
            (Some(first), Some(end)) if first < end && end <= len => Ok(first..end),
            _ => Err(AdapterError::Transient {
                message: format!(
                    "LinkedIn asked for bytes {}..={} of a {len}-byte video",
                    self.first_byte, self.last_byte
                ),
            }),
        }
    }
}

/// `GET /rest/posts?q=author` answer.
#[derive(Debug, Deserialize)]
struct Posts {
    #[serde(default)]
    elements: Vec<PostElement>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PostElement {
    id: String,
    #[serde(default)]
    commentary: String,
    /// Epoch milliseconds.
    created_at: Option<i64>,
}

/// A LinkedIn error answer.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ErrorAnswer {
    message: Option<String>,
    code: Option<String>,
    service_error_code: Option<i64>,
    error_details: Option<ErrorDetails>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ErrorDetails {
    #[serde(default)]
    input_errors: Vec<InputError>,
}

#[derive(Debug, Deserialize)]
struct InputError {
    description: Option<String>,
}

impl ErrorAnswer {
    /// `message`, followed by the descriptions of the input errors it does not repeat.
    fn sentence(&self) -> Option<String> {
        let head = self
            .message
            .as_deref()
            .map(str::trim)
            .filter(|m| !m.is_empty());
        let details: Vec<&str> = self
            .error_details
            .iter()
            .flat_map(|d| &d.input_errors)
            .filter_map(|e| e.description.as_deref().map(str::trim))
            .filter(|d| !d.is_empty() && Some(*d) != head)
            .collect();
        let text = match (head, details.is_empty()) {
            (Some(head), true) => head.to_owned(),
            (Some(head), false) => format!("{head}: {}", details.join("; ")),
            (None, false) => details.join("; "),
            (None, true) => return None,
        };
        Some(short(&text))
    }

    fn code(&self) -> Option<String> {
        self.code
            .clone()
            .filter(|c| !c.trim().is_empty())
            .or_else(|| self.service_error_code.map(|c| c.to_string()))
    }
}
