//! Facebook Pages. A user connects through Facebook Login and shares one or more Pages; each
//! Page becomes its own account holding the Page's access token, because Pages publish with
//! Page tokens and a Page token taken with a long-lived user token does not expire.
//!
//! Publishing as the Page: a text or link post on `/{page-id}/feed`, one photo on
//! `/{page-id}/photos` (by URL, published at once), several photos uploaded unpublished and
//! attached to one `/feed` post, one video on `/{page-id}/videos` (by `file_url`).
//!
//! Sources (November 2026): the Facebook Login and error references listed in `meta.rs`, and
//! - the Page node <https://developers.facebook.com/docs/graph-api/reference/page/>;
//! - posts, links, photos and videos: <https://developers.facebook.com/docs/pages-api/posts>
//!   and <https://developers.facebook.com/docs/pages/publishing>;
//! - the feed edge (publishing with `attached_media`, reading `message`, `created_time`,
//!   `permalink_url`): <https://developers.facebook.com/docs/graph-api/reference/page/feed>;
//! - Page photos (`url`, `message`, `published`; answer `id` and `post_id`):
//!   <https://developers.facebook.com/docs/graph-api/reference/page/photos>;
//! - Page videos (`file_url`, `description`, `title`):
//!   <https://developers.facebook.com/docs/graph-api/reference/page/videos>.

mod follow_ups;
mod rules;

use domain::{AccountKind, AuthKind, Platform};
use futures_util::future::BoxFuture;
use reqwest::Client;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::meta;
use crate::{
    AccountRef, AdapterError, AdapterSettings, AuthorizeParams, Capabilities, CodeExchange,
    Connection, Descriptor, Endpoints, MediaItem, MediaKind, PlatformAdapter, Profile,
    PublishRequest, Published, Revocation, Stats, TextCounting, TokenSet,
};

/// Fields of each Page in the `/me/accounts` listing: who the Page is, its counts and its
/// Page access token.
const PAGE_FIELDS: &str =
    "id,name,username,link,picture{url},followers_count,fan_count,access_token";

/// Fields read for a stored Page's profile.
const PROFILE_FIELDS: &str = "id,name,username,link,picture{url}";

/// Fields read for a stored Page's counts.
const STATS_FIELDS: &str = "followers_count,fan_count";

/// Fields of the Page's recent posts, read to find a post whose publish went unanswered.
const FEED_FIELDS: &str = "id,message,created_time,permalink_url";

/// Where Facebook posts, photos and videos are seen; Graph's video permalinks are relative.
const WEB_ORIGIN: &str = "https://www.facebook.com";

/// Static facts about Facebook Pages.
pub fn descriptor() -> Descriptor {
    Descriptor {
        platform: Platform::Facebook,
        auth_kind: AuthKind::Oauth2,
        scopes: [
            // List the Pages the user manages (and get their Page tokens).
            "pages_show_list",
            // Read Page fields such as followers; also required to publish.
            "pages_read_engagement",
            // Publish as the Page.
            "pages_manage_posts",
            // Pages the user reaches through a Business Manager only appear with it.
            "business_management",
            // Comment as the Page (a first comment). Connecting needs it not: the connect
            // keeps whatever the user granted, and a comment without it is refused alone.
            "pages_manage_engagement",
        ]
        .map(String::from)
        .to_vec(),
        // Facebook Login documents PKCE only for its OIDC flow, which is still in testing.
        pkce: false,
        // The long-lived user token's "about 60 days", for a grant without `expires_in`. The
        // Page tokens the connections keep do not expire (see `FacebookAdapter`).
        access_token_lifetime: Some(meta::LONG_LIVED_TOKEN_LIFETIME),
        refresh_token_rotates: false,
        capabilities: Capabilities {
            // Facebook's long-standing post length limit.
            text_limit: 63_206,
            text_counting: TextCounting::Chars,
            media_kinds: vec![MediaKind::Image, MediaKind::Video],
            // Graph documents no cap on photos attached to one Page post; ten is our own
            // conservative bound.
            max_media: 10,
            requires_media: false,
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

/// Production Graph API endpoints, version pinned in one place (`meta::GRAPH_API_VERSION`).
pub fn default_endpoints() -> Endpoints {
    meta::graph_endpoints()
}

/// Facebook Pages in the registry: one app of ours, configured in `[platforms.facebook]`.
pub const SPEC: crate::spec::PlatformSpec = crate::spec::PlatformSpec {
    descriptor,
    name: "Facebook",
    rules: &rules::RULES,
    count_text: None,
    default_endpoints,
    reach: crate::spec::Reach::App,
    build: |b| std::sync::Arc::new(FacebookAdapter::new(b.http, b.settings)),
};

/// The Facebook Pages adapter.
///
/// A connection's token is the Page access token listed with the long-lived user token. Meta
/// documents such Page tokens as having no expiration date, so connections carry no
/// `expires_at`: they stay valid until Meta invalidates them (password change, lost Page role,
/// app removed), which surfaces as Graph error 190, i.e. [`AdapterError::NeedsReauth`].
/// For the same reason `refresh` keeps the trait's default ([`AdapterError::Unsupported`]):
/// there is nothing to refresh, and an invalidated Page token can only be replaced by the user
/// reconnecting.
#[derive(Debug, Clone)]
pub struct FacebookAdapter {
    http: Client,
    settings: AdapterSettings,
    descriptor: Descriptor,
}

impl FacebookAdapter {
    /// An adapter calling `settings.endpoints` through `http`.
    pub fn new(http: Client, settings: AdapterSettings) -> Self {
        Self {
            http,
            settings,
            descriptor: descriptor(),
        }
    }

    async fn connect(&self, exchange: &CodeExchange<'_>) -> Result<Vec<Connection>, AdapterError> {
        let user =
            meta::long_lived_user_token(&self.http, &self.settings, Platform::Facebook, exchange)
                .await?;
        let scopes =
            meta::granted_permissions(&self.http, &self.settings, &user.access_token).await?;
        let pages: Vec<Page> =
            meta::managed_pages(&self.http, &self.settings, &user.access_token, PAGE_FIELDS)
                .await?;
        let connections: Vec<Connection> = pages
            .into_iter()
            // A Page listed without a token is one the user cannot act for: nothing to connect.
            .filter_map(|page| {
                let token = page.access_token.clone()?;
                Some(Connection {
                    stats: Some(page.stats()),
                    profile: page.into_profile(),
                    tokens: TokenSet {
                        access_token: token,
                        refresh_token: None,
                        expires_at: None,
                        refresh_expires_at: None,
                        scopes: scopes.clone(),
                    },
                })
            })
            .collect();
        if connections.is_empty() {
            return Err(AdapterError::Rejected {
                code: "no_pages".into(),
                message: "no Facebook Page was shared: choose at least one Page you manage when connecting".into(),
            });
        }
        Ok(connections)
    }

    async fn page<T: for<'de> Deserialize<'de>>(
        &self,
        account: &AccountRef<'_>,
        fields: &str,
    ) -> Result<T, AdapterError> {
        let url = meta::node_url(
            &self.settings.endpoints.api_base,
            account.platform_account_id,
            None,
        )?;
        meta::json(self.http.get(url).query(&[
            ("fields", fields),
            ("access_token", account.access_token.expose_secret()),
        ]))
        .await
    }

    /// Publishes `post` as the Page. Everything before the call that makes the post visible
    /// (unpublished photos of a multi-photo post) may be repeated safely; that last call is
    /// sent "unsure" (see [`meta::json_unsure`]).
    async fn publish_post(
        &self,
        account: &AccountRef<'_>,
        post: &PublishRequest<'_>,
    ) -> Result<Published, AdapterError> {
        let token = account.access_token;
        let page = account.platform_account_id;
        let message = Some(post.text.trim()).filter(|t| !t.is_empty());
        let link = post
            .options
            .link
            .as_deref()
            .map(str::trim)
            .filter(|l| !l.is_empty());
        if link.is_some() && !post.media.is_empty() {
            return Err(AdapterError::Rejected {
                code: "link_with_media".into(),
                message: "a Facebook post shows either a link preview or photos and videos, not both: put the link in the text, or remove the media".into(),
            });
        }
        let created = match post.media {
            [] => {
                if message.is_none() && link.is_none() {
                    return Err(AdapterError::Rejected {
                        code: "empty_post".into(),
                        message: "a Facebook post needs text, a link or media".into(),
                    });
                }
                let mut form = Vec::new();
                form.extend(message.map(|m| ("message", m)));
                form.extend(link.map(|l| ("link", l)));
                self.create_post(page, "feed", &form, token).await?
            }
            [photo] if photo.kind == MediaKind::Image => {
                let mut form = vec![("url", photo.url.as_str())];
                form.extend(message.map(|m| ("message", m)));
                let created: PhotoCreated =
                    self.send_creating(page, "photos", &form, token).await?;
                // `post_id` is the feed story; the photo id alone is what older versions answer.
                Published {
                    platform_post_id: created.post_id.unwrap_or(created.id),
                    url: None,
                }
            }
            [video] if video.kind == MediaKind::Video => {
                let mut form = vec![("file_url", video.url.as_str())];
                form.extend(message.map(|m| ("description", m)));
                let title = post.options.title.as_deref().map(str::trim);
                form.extend(title.filter(|t| !t.is_empty()).map(|t| ("title", t)));
                self.create_post(page, "videos", &form, token).await?
            }
            items => self.publish_photos(page, message, items, token).await?,
        };
        let url = meta::permalink(
            &self.http,
            &self.settings.endpoints.api_base,
            &created.platform_post_id,
            token,
            "permalink_url",
        )
        .await
        .map(|link| absolute(&link))
        .unwrap_or_else(|| format!("{WEB_ORIGIN}/{}", created.platform_post_id));
        Ok(Published {
            url: Some(url),
            ..created
        })
    }

    /// Several photos in one post: each uploaded with `published=false` (invisible, and so
    /// safe to repeat), then attached to one `/feed` post as `attached_media[i]`. Facebook
    /// attaches photos only: a video goes in a post of its own.
    async fn publish_photos(
        &self,
        page: &str,
        message: Option<&str>,
        items: &[MediaItem],
        token: &SecretString,
    ) -> Result<Published, AdapterError> {
        if items.iter().any(|item| item.kind != MediaKind::Image) {
            return Err(AdapterError::Rejected {
                code: "video_with_other_media".into(),
                message:
                    "a Facebook post holds several photos or one video: post the video on its own"
                        .into(),
            });
        }
        let photos = meta::node_url(&self.settings.endpoints.api_base, page, Some("photos"))?;
        let mut attached = Vec::with_capacity(items.len());
        for item in items {
            let id = meta::create(
                &self.http,
                photos.clone(),
                &[("url", item.url.as_str()), ("published", "false")],
                token,
            )
            .await?;
            let media = serde_json::json!({ "media_fbid": id }).to_string();
            attached.push((format!("attached_media[{}]", attached.len()), media));
        }
        let mut form: Vec<(&str, &str)> = message.map(|m| ("message", m)).into_iter().collect();
        form.extend(attached.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        self.create_post(page, "feed", &form, token).await
    }

    /// The creating `POST /{page-id}/{edge}`, answering `{"id"}`.
    async fn create_post(
        &self,
        page: &str,
        edge: &str,
        form: &[(&str, &str)],
        token: &SecretString,
    ) -> Result<Published, AdapterError> {
        let created: meta::Created = self.send_creating(page, edge, form, token).await?;
        Ok(Published {
            platform_post_id: created.id,
            url: None,
        })
    }

    async fn send_creating<T: for<'de> Deserialize<'de>>(
        &self,
        page: &str,
        edge: &str,
        form: &[(&str, &str)],
        token: &SecretString,
    ) -> Result<T, AdapterError> {
        let url = meta::node_url(&self.settings.endpoints.api_base, page, Some(edge))?;
        meta::json_unsure(self.http.post(url).form(&meta::with_token(form, token))).await
    }

    /// The Page's recent posts (`GET /{page-id}/feed`), searched for one with the post's
    /// exact message.
    async fn find_post(
        &self,
        account: &AccountRef<'_>,
        post: &PublishRequest<'_>,
    ) -> Result<Option<Published>, AdapterError> {
        let url = meta::node_url(
            &self.settings.endpoints.api_base,
            account.platform_account_id,
            Some("feed"),
        )?;
        let found = meta::find_recent(
            &self.http,
            url,
            FEED_FIELDS,
            account.access_token,
            post.text,
        )
        .await?;
        Ok(found.map(|listed| Published {
            url: Some(
                listed
                    .permalink
                    .as_deref()
                    .filter(|l| !l.is_empty())
                    .map_or_else(|| format!("{WEB_ORIGIN}/{}", listed.id), absolute),
            ),
            platform_post_id: listed.id,
        }))
    }
}

/// `/{page}/videos/{id}/` (how Graph gives video permalinks) on facebook.com; absolute links
/// stay as they are.
fn absolute(link: &str) -> String {
    if link.starts_with('/') {
        format!("{WEB_ORIGIN}{link}")
    } else {
        link.to_owned()
    }
}

/// `POST /{page-id}/photos` answers the photo and, when published, its feed story.
#[derive(Debug, Deserialize)]
struct PhotoCreated {
    id: String,
    #[serde(default)]
    post_id: Option<String>,
}

/// Secrets a publish error must never carry: the Page token and the signed media URLs.
fn secrets<'a>(account: &'a AccountRef<'_>, post: &'a PublishRequest<'_>) -> Vec<&'a str> {
    std::iter::once(account.access_token.expose_secret())
        .chain(post.media.iter().map(|m| m.url.as_str()))
        .collect()
}

impl PlatformAdapter for FacebookAdapter {
    fn descriptor(&self) -> &Descriptor {
        &self.descriptor
    }

    fn authorize_url(&self, params: &AuthorizeParams<'_>) -> Result<String, AdapterError> {
        meta::authorize_url(
            &self.settings,
            Platform::Facebook,
            &self.descriptor.scopes,
            params,
        )
    }

    fn exchange_code<'a>(
        &'a self,
        exchange: &'a CodeExchange<'a>,
    ) -> BoxFuture<'a, Result<Vec<Connection>, AdapterError>> {
        Box::pin(async move { self.connect(exchange).await })
    }

    fn profile<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
    ) -> BoxFuture<'a, Result<Profile, AdapterError>> {
        Box::pin(async move {
            let page: Page = self.page(account, PROFILE_FIELDS).await?;
            Ok(page.into_profile())
        })
    }

    fn stats<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
    ) -> BoxFuture<'a, Result<Stats, AdapterError>> {
        Box::pin(async move {
            let counts: PageCounts = self.page(account, STATS_FIELDS).await?;
            Ok(counts.stats())
        })
    }

    /// One call answers both.
    fn profile_and_stats<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
    ) -> BoxFuture<'a, Result<(Profile, Stats), AdapterError>> {
        Box::pin(async move {
            let both: PageWithCounts = self
                .page(account, &format!("{PROFILE_FIELDS},{STATS_FIELDS}"))
                .await?;
            Ok((both.page.into_profile(), both.counts.stats()))
        })
    }

    /// Not supported: Meta revokes a grant with `DELETE /{user-id}/permissions`, which takes a
    /// user (or app) token, and we keep only Page tokens. Revoking the user's grant would also
    /// disconnect every other Page the user connected through the same login. The Page token is
    /// simply forgotten; the user can remove the app in their Facebook settings.
    fn revoke<'a>(
        &'a self,
        _account: &'a AccountRef<'a>,
    ) -> BoxFuture<'a, Result<Revocation, AdapterError>> {
        Box::pin(async { Ok(Revocation::NotSupported) })
    }

    /// Text and links go to `/feed`, one photo to `/photos`, several photos to `/photos`
    /// unpublished and then `/feed` with `attached_media`, one video to `/videos`; the answer
    /// carries the post's permalink (`permalink_url`, or `facebook.com/{id}` when reading it
    /// fails). `options.link` makes a link post (text posts only), `options.title` titles a
    /// video.
    fn publish<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
        post: &'a PublishRequest<'a>,
    ) -> BoxFuture<'a, Result<Published, AdapterError>> {
        Box::pin(async move {
            self.publish_post(account, post)
                .await
                .map_err(|err| meta::redact(err, &secrets(account, post)))
        })
    }

    /// Searches the Page's recent feed for a post with the exact message. A video is found as
    /// its feed story, whose id differs from the video id `publish` answers.
    fn find_published<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
        post: &'a PublishRequest<'a>,
    ) -> BoxFuture<'a, Result<Option<Published>, AdapterError>> {
        Box::pin(async move {
            self.find_post(account, post)
                .await
                .map_err(|err| meta::redact(err, &secrets(account, post)))
        })
    }

    /// Reactions, comments and shares through Graph's multiple-id read, 50 posts a request
    /// ([`follow_ups`]).
    fn post_metrics<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
        posts: &'a [crate::PostRef<'a>],
    ) -> BoxFuture<'a, Result<Vec<crate::PostMetrics>, AdapterError>> {
        Box::pin(self.read_post_metrics(account, posts))
    }

    /// `DELETE /{post-id}` ([`follow_ups`]).
    fn delete_post<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
        post: &'a crate::PostRef<'a>,
    ) -> BoxFuture<'a, Result<crate::Deletion, AdapterError>> {
        Box::pin(self.delete(account, post))
    }

    /// `POST /{post-id}/comments` as the Page ([`follow_ups`]).
    fn comment<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
        on: &'a crate::PostRef<'a>,
        comment: &'a PublishRequest<'a>,
    ) -> BoxFuture<'a, Result<Published, AdapterError>> {
        Box::pin(self.comment_redacted(account, on, comment))
    }
}

/// A Page as Graph answers it.
#[derive(Debug, Deserialize)]
struct Page {
    id: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    link: Option<String>,
    #[serde(default)]
    picture: Option<Picture>,
    #[serde(flatten)]
    counts: PageCounts,
    #[serde(default)]
    access_token: Option<SecretString>,
}

impl Page {
    fn stats(&self) -> Stats {
        self.counts.stats()
    }

    fn into_profile(self) -> Profile {
        Profile {
            platform_account_id: self.id,
            account_kind: Some(AccountKind::Page),
            display_name: self.name,
            handle: self.username,
            avatar_url: self.picture.and_then(|p| p.data).and_then(|d| d.url),
            profile_url: self.link,
        }
    }
}

/// A Page's profile and counts, asked for in one request.
#[derive(Debug, Deserialize)]
struct PageWithCounts {
    #[serde(flatten)]
    page: Page,
    #[serde(flatten)]
    counts: PageCounts,
}

/// A Page's audience counts.
#[derive(Debug, Default, Deserialize)]
struct PageCounts {
    #[serde(default)]
    followers_count: Option<i64>,
    #[serde(default)]
    fan_count: Option<i64>,
}

impl PageCounts {
    /// Followers are the audience a Page post reaches; `fan_count` (likes) is the fallback for
    /// Pages that do not report followers. Pages have no following, and Graph has no cheap
    /// post count.
    fn stats(&self) -> Stats {
        Stats {
            followers_count: self.followers_count.or(self.fan_count),
            following_count: None,
            posts_count: None,
        }
    }
}

/// `picture{url}`: `{"data": {"url": "…"}}`.
#[derive(Debug, Deserialize)]
struct Picture {
    #[serde(default)]
    data: Option<PictureData>,
}

#[derive(Debug, Deserialize)]
struct PictureData {
    #[serde(default)]
    url: Option<String>,
}
