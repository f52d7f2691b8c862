//! Instagram professional (business and creator) accounts through the "Instagram API with
//! Facebook Login": the user logs in with Facebook, and every Page they share that is linked
//! to an Instagram professional account yields one connection for that Instagram account.
//!
//! Sources (November 2026):
//! - overview (token types of this configuration: "Facebook User or Page"):
//!   <https://developers.facebook.com/documentation/instagram-platform/overview>
//! - IG User fields: <https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user>
//! - publishing limits (caption 2,200 characters, carousels of up to 10 items) and the flow
//!   (container → `status_code` → `media_publish`):
//!   <https://developers.facebook.com/docs/instagram-platform/content-publishing/>
//! - creating containers (`image_url`, `media_type=REELS` with `video_url`, carousel items with
//!   `is_carousel_item`, `media_type=CAROUSEL` with `children`):
//!   <https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/media>
//! - container states: <https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-container>
//! - reels replace `VIDEO` for single videos:
//!   <https://developers.facebook.com/docs/graph-api/changelog/out-of-cycle-changes/june-28-2022>
//! - IG Media fields (`caption`, `permalink`, `timestamp`):
//!   <https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-media>

mod follow_ups;
mod rules;

use std::{collections::HashSet, time::Duration};

use domain::{AccountKind, AuthKind, Platform};
use futures_util::future::BoxFuture;
use reqwest::Client;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::meta;
use crate::{
    AccountRef, AdapterError, AdapterSettings, AuthorizeParams, Capabilities, CodeExchange,
    Connection, Descriptor, Endpoints, MediaItem, MediaKind, PlatformAdapter, Profile,
    PublishLimit, PublishRequest, Published, Revocation, Stats, TextCounting, TokenSet,
};

/// Fields of each Page in `/me/accounts`: its token and its linked Instagram account, expanded.
const PAGE_FIELDS: &str = "id,name,access_token,instagram_business_account{id,username,name,profile_picture_url,followers_count,follows_count,media_count}";

/// Fields read for a stored Instagram account's profile.
const PROFILE_FIELDS: &str = "id,username,name,profile_picture_url";

/// Fields read for a stored Instagram account's counts.
const STATS_FIELDS: &str = "followers_count,follows_count,media_count";

/// Status fields of a media container: the state, and on `ERROR` the reason in `status`.
const CONTAINER_FIELDS: &str = "status_code,status";

/// Fields of the account's recent media, read to find a post whose publish went unanswered.
const MEDIA_FIELDS: &str = "id,caption,permalink,timestamp";

/// Most items of a carousel.
const MAX_CAROUSEL_ITEMS: usize = 10;

/// What the user sees when none of their Pages has an Instagram account linked.
const NO_ACCOUNT: &str = "no Instagram professional account is linked to your Facebook pages: link one to a Page (Instagram settings, Accounts Center) and connect again, sharing that Page";

/// Static facts about Instagram.
pub fn descriptor() -> Descriptor {
    Descriptor {
        platform: Platform::Instagram,
        auth_kind: AuthKind::Oauth2,
        scopes: [
            // Read the Instagram account's profile and counts.
            "instagram_basic",
            // Publish media.
            "instagram_content_publish",
            // List the Pages, whose links lead to the Instagram accounts.
            "pages_show_list",
            // Required by the IG User node alongside instagram_basic.
            "pages_read_engagement",
            // Pages reached through a Business Manager only appear with it.
            "business_management",
            // A first comment (`POST /{ig-media-id}/comments`).
            "instagram_manage_comments",
            // Reach, saves, shares and views of published media. Both are optional: the
            // connect reads what was granted and needs neither, so a user who declines them
            // (or an app not yet approved for them) still connects.
            "instagram_manage_insights",
        ]
        .map(String::from)
        .to_vec(),
        pkce: false,
        // Same Facebook Login as Facebook Pages: the long-lived user token's 60 days when a
        // grant omits `expires_in`; connections keep non-expiring Page tokens.
        access_token_lifetime: Some(meta::LONG_LIVED_TOKEN_LIFETIME),
        refresh_token_rotates: false,
        capabilities: Capabilities {
            text_limit: 2_200,
            text_counting: TextCounting::Chars,
            media_kinds: vec![MediaKind::Image, MediaKind::Video],
            max_media: 10,
            requires_media: true,
            // "100 API-published posts within a 24-hour moving period" (content publishing docs).
            publish_limit: Some(PublishLimit::per_day(100)),
            idempotent_publish: false,
            dedup_window: None,
            // No delete in the API; comments; 50 media per multiple-id read.
            follow_ups: crate::FollowUps {
                delete: false,
                threads: false,
                first_comment: true,
                metrics_batch: follow_ups::METRICS_BATCH,
            },
        },
    }
}

/// Production endpoints: Instagram with Facebook Login lives on the Graph API
/// (`graph.facebook.com`), not on `graph.instagram.com`.
pub fn default_endpoints() -> Endpoints {
    meta::graph_endpoints()
}

/// Instagram in the registry: one app of ours, configured in `[platforms.instagram]`.
pub const SPEC: crate::spec::PlatformSpec = crate::spec::PlatformSpec {
    descriptor,
    name: "Instagram",
    rules: &rules::RULES,
    count_text: None,
    default_endpoints,
    reach: crate::spec::Reach::App,
    build: |b| std::sync::Arc::new(InstagramAdapter::new(b.http, b.settings)),
};

/// The Instagram adapter.
///
/// A connection's token is the access token of the Page the Instagram account is linked to.
/// This API configuration accepts Facebook User or Page tokens; the Page token is the one that
/// does not expire, and it is scoped to exactly that Page and its Instagram account, whereas
/// the user token would reach all of the user's Pages and lapse after about 60 days.
/// Because the Page token does not expire, `refresh` keeps the trait's default
/// ([`AdapterError::Unsupported`]): there is nothing to refresh, and a token Meta invalidates
/// (Graph error 190) can only be replaced by the user reconnecting.
#[derive(Debug, Clone)]
pub struct InstagramAdapter {
    http: Client,
    settings: AdapterSettings,
    descriptor: Descriptor,
    polling: meta::ContainerPolling,
}

impl InstagramAdapter {
    /// An adapter calling `settings.endpoints` through `http`.
    pub fn new(http: Client, settings: AdapterSettings) -> Self {
        Self {
            http,
            settings,
            descriptor: descriptor(),
            polling: meta::ContainerPolling::default(),
        }
    }

    /// Replaces the pause between two checks of a media container that is still processing
    /// (10 seconds by default; tests wait milliseconds).
    pub fn with_poll_interval(mut self, interval: Duration) -> Self {
        self.polling.interval = interval;
        self
    }

    async fn connect(&self, exchange: &CodeExchange<'_>) -> Result<Vec<Connection>, AdapterError> {
        let user =
            meta::long_lived_user_token(&self.http, &self.settings, Platform::Instagram, exchange)
                .await?;
        let scopes =
            meta::granted_permissions(&self.http, &self.settings, &user.access_token).await?;
        let pages: Vec<Page> =
            meta::managed_pages(&self.http, &self.settings, &user.access_token, PAGE_FIELDS)
                .await?;
        let mut seen = HashSet::new();
        let connections: Vec<Connection> = pages
            .into_iter()
            // Pages without a linked Instagram account, or without a token, are skipped.
            .filter_map(|page| Some((page.access_token?, page.instagram_business_account?)))
            // One Instagram account, one connection, even if Graph lists it twice.
            .filter(|(_, account)| seen.insert(account.id.clone()))
            .map(|(token, account)| Connection {
                stats: Some(account.counts.stats()),
                profile: account.into_profile(),
                tokens: TokenSet {
                    access_token: token,
                    refresh_token: None,
                    expires_at: None,
                    refresh_expires_at: None,
                    scopes: scopes.clone(),
                },
            })
            .collect();
        if connections.is_empty() {
            return Err(AdapterError::Rejected {
                code: "no_instagram_account".into(),
                message: NO_ACCOUNT.into(),
            });
        }
        Ok(connections)
    }

    async fn account<T: for<'de> Deserialize<'de>>(
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

    /// Container, wait, `media_publish`, permalink. Only `media_publish` makes the post
    /// visible: containers that are never published expire after 24 hours, so every step
    /// before it can be repeated without a duplicate.
    async fn publish_post(
        &self,
        account: &AccountRef<'_>,
        post: &PublishRequest<'_>,
    ) -> Result<Published, AdapterError> {
        let token = account.access_token;
        let user = account.platform_account_id;
        let api_base = self.settings.endpoints.api_base.as_str();
        let caption = Some(post.text.trim()).filter(|t| !t.is_empty());
        let mut polls_left = self.polling.max_polls;
        let container = match post.media {
            [] => {
                return Err(AdapterError::Rejected {
                    code: "media_required".into(),
                    message: "an Instagram post needs at least one photo or video".into(),
                })
            }
            [item] => {
                let mut form = match item.kind {
                    MediaKind::Image => vec![("image_url", item.url.as_str())],
                    // Single videos are published as reels: `VIDEO` is no longer accepted.
                    MediaKind::Video => {
                        vec![("media_type", "REELS"), ("video_url", item.url.as_str())]
                    }
                };
                form.extend(caption.map(|c| ("caption", c)));
                self.create_container(user, &form, token).await?
            }
            items if items.len() > MAX_CAROUSEL_ITEMS => {
                return Err(AdapterError::Rejected {
                    code: "too_many_media".into(),
                    message: format!(
                        "an Instagram carousel holds at most {MAX_CAROUSEL_ITEMS} photos and videos, not {}",
                        items.len()
                    ),
                })
            }
            items => {
                self.carousel(user, caption, items, token, &mut polls_left)
                    .await?
            }
        };
        meta::wait_until_finished(
            &self.http,
            api_base,
            &container,
            token,
            CONTAINER_FIELDS,
            self.polling,
            &mut polls_left,
        )
        .await?;
        let url = meta::node_url(api_base, user, Some("media_publish"))?;
        let published: meta::Created = meta::json_unsure(
            self.http
                .post(url)
                .form(&meta::with_token(&[("creation_id", &container)], token)),
        )
        .await?;
        let permalink =
            meta::permalink(&self.http, api_base, &published.id, token, "permalink").await;
        Ok(Published {
            platform_post_id: published.id,
            url: permalink,
        })
    }

    /// One container per item (`is_carousel_item=true`; videos as `media_type=VIDEO`), each
    /// video waited for, then the `CAROUSEL` container naming them in order.
    async fn carousel(
        &self,
        user: &str,
        caption: Option<&str>,
        items: &[MediaItem],
        token: &SecretString,
        polls_left: &mut u32,
    ) -> Result<String, AdapterError> {
        let mut children = Vec::with_capacity(items.len());
        for item in items {
            let form = match item.kind {
                MediaKind::Image => vec![
                    ("image_url", item.url.as_str()),
                    ("is_carousel_item", "true"),
                ],
                MediaKind::Video => vec![
                    ("media_type", "VIDEO"),
                    ("video_url", item.url.as_str()),
                    ("is_carousel_item", "true"),
                ],
            };
            children.push(self.create_container(user, &form, token).await?);
        }
        // A carousel may only name items Instagram has finished processing.
        for (item, child) in items.iter().zip(&children) {
            if item.kind == MediaKind::Video {
                meta::wait_until_finished(
                    &self.http,
                    &self.settings.endpoints.api_base,
                    child,
                    token,
                    CONTAINER_FIELDS,
                    self.polling,
                    polls_left,
                )
                .await?;
            }
        }
        let children = children.join(",");
        let mut form = vec![("media_type", "CAROUSEL"), ("children", children.as_str())];
        form.extend(caption.map(|c| ("caption", c)));
        self.create_container(user, &form, token).await
    }

    /// `POST /{ig-user-id}/media`: a container, answering its id.
    async fn create_container(
        &self,
        user: &str,
        form: &[(&str, &str)],
        token: &SecretString,
    ) -> Result<String, AdapterError> {
        let url = meta::node_url(&self.settings.endpoints.api_base, user, Some("media"))?;
        meta::create(&self.http, url, form, token).await
    }

    /// The account's recent media (`GET /{ig-user-id}/media`), searched for the exact caption.
    async fn find_post(
        &self,
        account: &AccountRef<'_>,
        post: &PublishRequest<'_>,
    ) -> Result<Option<Published>, AdapterError> {
        let url = meta::node_url(
            &self.settings.endpoints.api_base,
            account.platform_account_id,
            Some("media"),
        )?;
        let found = meta::find_recent(
            &self.http,
            url,
            MEDIA_FIELDS,
            account.access_token,
            post.text,
        )
        .await?;
        Ok(found.map(|listed| Published {
            platform_post_id: listed.id,
            url: listed.permalink.filter(|l| !l.is_empty()),
        }))
    }
}

/// Secrets a publish error must never carry: the Page token and the signed media URLs.
fn secrets<'a>(account: &'a AccountRef<'_>, post: &'a PublishRequest<'_>) -> Vec<&'a str> {
    std::iter::once(account.access_token.expose_secret())
        .chain(post.media.iter().map(|m| m.url.as_str()))
        .collect()
}

impl PlatformAdapter for InstagramAdapter {
    fn descriptor(&self) -> &Descriptor {
        &self.descriptor
    }

    fn authorize_url(&self, params: &AuthorizeParams<'_>) -> Result<String, AdapterError> {
        meta::authorize_url(
            &self.settings,
            Platform::Instagram,
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
            let ig: IgUser = self.account(account, PROFILE_FIELDS).await?;
            Ok(ig.into_profile())
        })
    }

    fn stats<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
    ) -> BoxFuture<'a, Result<Stats, AdapterError>> {
        Box::pin(async move {
            let counts: IgCounts = self.account(account, STATS_FIELDS).await?;
            Ok(counts.stats())
        })
    }

    /// One call answers both.
    fn profile_and_stats<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
    ) -> BoxFuture<'a, Result<(Profile, Stats), AdapterError>> {
        Box::pin(async move {
            let both: IgUserWithCounts = self
                .account(account, &format!("{PROFILE_FIELDS},{STATS_FIELDS}"))
                .await?;
            Ok((both.user.into_profile(), both.counts.stats()))
        })
    }

    /// Not supported, for the reasons of Facebook Pages: revoking takes the user's token, which
    /// we do not keep, and would cut every Page and Instagram account of that login at once.
    fn revoke<'a>(
        &'a self,
        _account: &'a AccountRef<'a>,
    ) -> BoxFuture<'a, Result<Revocation, AdapterError>> {
        Box::pin(async { Ok(Revocation::NotSupported) })
    }

    /// One photo, one reel, or a carousel of up to ten: containers are created from the signed
    /// media URLs (Instagram fetches them), waited for until `FINISHED`, and published with
    /// `media_publish`; the answer carries the media's `permalink` when Graph gives it.
    /// Instagram posts need media; `options` do not apply to Instagram.
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

    /// Searches the account's recent media for the exact caption.
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

    /// `like_count`, `comments_count` and the insights (reach, saved, shares, views) of up to
    /// 50 media in two requests; insights `None` without `instagram_manage_insights`.
    fn post_metrics<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
        posts: &'a [crate::PostRef<'a>],
    ) -> BoxFuture<'a, Result<Vec<crate::PostMetrics>, AdapterError>> {
        Box::pin(async move {
            self.media_metrics(account, posts)
                .await
                .map_err(|err| meta::redact(err, &[account.access_token.expose_secret()]))
        })
    }

    /// The Instagram API cannot delete media: `Unsupported`, saying where to delete instead.
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

    /// `POST /{ig-media-id}/comments`: a comment under the media, as the account.
    fn comment<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
        on: &'a crate::PostRef<'a>,
        comment: &'a PublishRequest<'a>,
    ) -> BoxFuture<'a, Result<Published, AdapterError>> {
        Box::pin(self.comment_on_media(account, on, comment))
    }
}

/// A Page of the listing, with its linked Instagram account.
#[derive(Debug, Deserialize)]
struct Page {
    #[serde(default)]
    access_token: Option<SecretString>,
    #[serde(default)]
    instagram_business_account: Option<IgUser>,
}

/// An IG User (professional account) as Graph answers it.
#[derive(Debug, Deserialize)]
struct IgUser {
    id: String,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    profile_picture_url: Option<String>,
    #[serde(flatten)]
    counts: IgCounts,
}

impl IgUser {
    fn into_profile(self) -> Profile {
        let profile_url = self
            .username
            .as_deref()
            .map(|u| format!("https://www.instagram.com/{u}/"));
        Profile {
            platform_account_id: self.id,
            account_kind: Some(AccountKind::Business),
            // The profile name is optional on Instagram; the username always exists.
            display_name: self
                .name
                .filter(|n| !n.is_empty())
                .or_else(|| self.username.clone()),
            handle: self.username,
            avatar_url: self.profile_picture_url,
            profile_url,
        }
    }
}

/// An Instagram account's profile and counts, asked for in one request.
#[derive(Debug, Deserialize)]
struct IgUserWithCounts {
    #[serde(flatten)]
    user: IgUser,
    #[serde(flatten)]
    counts: IgCounts,
}

/// An IG User's counts.
#[derive(Debug, Default, Deserialize)]
struct IgCounts {
    #[serde(default)]
    followers_count: Option<i64>,
    #[serde(default)]
    follows_count: Option<i64>,
    #[serde(default)]
    media_count: Option<i64>,
}

impl IgCounts {
    fn stats(&self) -> Stats {
        Stats {
            followers_count: self.followers_count,
            following_count: self.follows_count,
            posts_count: self.media_count,
        }
    }
}
