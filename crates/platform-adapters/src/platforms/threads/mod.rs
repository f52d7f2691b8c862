//! Threads profiles. OAuth 2.0 with Threads' own app id: the code buys a short-lived token
//! (one hour), which is exchanged at once for a long-lived one (60 days, refreshable with
//! `th_refresh_token`). Threads answers errors in the Graph shape, so `meta` classifies them.
//!
//! Threads has no refresh token: the long-lived access token refreshes itself. A refresh is
//! accepted once the token is at least 24 hours old and while it has not expired; it makes the
//! token valid for 60 days from then. A token left unrefreshed for 60 days is dead, and the
//! user has to reconnect.
//!
//! Sources (November 2026):
//! - authorization window and code exchange (now on `threads.com` / `graph.threads.com`):
//!   <https://developers.facebook.com/documentation/threads/get-started/get-access-tokens-and-permissions>
//! - long-lived tokens and their refresh (`GET /refresh_access_token`):
//!   <https://developers.facebook.com/docs/threads/get-started/long-lived-tokens/>
//! - hosts ("accessed by either graph.threads.com or graph.threads.net"), rate limits:
//!   <https://developers.facebook.com/documentation/threads/overview>
//! - profile fields: <https://developers.facebook.com/documentation/threads/threads-profiles>
//! - insights (`followers_count`, needs `threads_manage_insights`):
//!   <https://developers.facebook.com/documentation/threads/insights>
//! - post limits (500 characters, carousels of 2 to 20 items) and publishing (container with
//!   `media_type` TEXT/IMAGE/VIDEO/CAROUSEL, `text`, `image_url`/`video_url`, `children`,
//!   `link_attachment`; then `threads_publish` with `creation_id`):
//!   <https://developers.facebook.com/documentation/threads/posts> and
//!   <https://developers.facebook.com/documentation/threads/reference/publishing>
//! - alt text (`alt_text`, images and videos only):
//!   <https://developers.facebook.com/documentation/threads/posts/accessibility>
//! - container status (`status`, `error_message`):
//!   <https://developers.facebook.com/docs/threads/troubleshooting>
//! - a user's posts and a post's fields (`text`, `permalink`, `timestamp`):
//!   <https://developers.facebook.com/documentation/threads/retrieve-and-discover-posts/retrieve-posts>

mod follow_ups;
mod rules;

use std::time::Duration;

use domain::{AccountKind, AuthKind, Platform};
use futures_util::future::BoxFuture;
use reqwest::Client;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::meta;
use crate::{
    http::TokenResponse, AccountRef, AdapterError, AdapterSettings, AuthorizeParams, Capabilities,
    CodeExchange, Connection, Descriptor, Endpoints, MediaItem, MediaKind, PlatformAdapter,
    Profile, PublishLimit, PublishRequest, Published, Revocation, Stats, TextCounting, TokenSet,
};

/// The Threads API version in every API URL.
const THREADS_API_VERSION: &str = "v1.0";

/// Profile fields of a Threads user.
const PROFILE_FIELDS: &str = "id,username,name,threads_profile_picture_url,threads_biography";

/// Status fields of a media container: the state, and on `ERROR` the reason.
const CONTAINER_FIELDS: &str = "status,error_message";

/// Fields of the user's recent posts, read to find a post whose publish went unanswered.
const THREADS_FIELDS: &str = "id,text,permalink,timestamp";

/// Most items of a carousel.
const MAX_CAROUSEL_ITEMS: usize = 20;

/// Static facts about Threads.
pub fn descriptor() -> Descriptor {
    Descriptor {
        platform: Platform::Threads,
        auth_kind: AuthKind::Oauth2,
        scopes: [
            // Required for every Threads endpoint.
            "threads_basic",
            // Publish posts.
            "threads_content_publish",
            // The follower count lives in the insights API only.
            "threads_manage_insights",
        ]
        .map(String::from)
        .to_vec(),
        // The authorization window documents no PKCE parameters.
        pkce: false,
        access_token_lifetime: Some(meta::LONG_LIVED_TOKEN_LIFETIME),
        refresh_token_rotates: false,
        capabilities: Capabilities {
            // Threads counts emoji as their UTF-8 bytes, which `Chars` undercounts: texts near
            // the limit with many emoji may still be refused by Threads.
            text_limit: 500,
            text_counting: TextCounting::Chars,
            media_kinds: vec![MediaKind::Image, MediaKind::Video],
            max_media: 20,
            requires_media: false,
            // "250 API-published posts within a 24-hour moving period".
            publish_limit: Some(PublishLimit::per_day(250)),
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

/// Production endpoints, on the `threads.com` hosts the current documentation uses.
pub fn default_endpoints() -> Endpoints {
    let api_base = format!("https://graph.threads.com/{THREADS_API_VERSION}");
    Endpoints {
        authorize_url: "https://threads.com/oauth/authorize".into(),
        token_url: "https://graph.threads.com/oauth/access_token".into(),
        // Threads has no revocation endpoint; users remove apps in their Threads settings.
        revoke_url: None,
        // Threads fetches media from public URLs; nothing is uploaded to it directly.
        upload_base: api_base.clone(),
        api_base,
    }
}

/// Threads in the registry: one app of ours, configured in `[platforms.threads]`.
pub const SPEC: crate::spec::PlatformSpec = crate::spec::PlatformSpec {
    descriptor,
    name: "Threads",
    rules: &rules::RULES,
    count_text: None,
    default_endpoints,
    reach: crate::spec::Reach::App,
    build: |b| std::sync::Arc::new(ThreadsAdapter::new(b.http, b.settings)),
};

/// The Threads adapter.
#[derive(Debug, Clone)]
pub struct ThreadsAdapter {
    http: Client,
    settings: AdapterSettings,
    descriptor: Descriptor,
    polling: meta::ContainerPolling,
}

impl ThreadsAdapter {
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
        let credentials = meta::credentials(&self.settings, Platform::Threads)?;
        let secret = credentials.client_secret.expose_secret();
        let short: TokenResponse =
            meta::json(self.http.post(&self.settings.endpoints.token_url).form(&[
                ("client_id", credentials.client_id.as_str()),
                ("client_secret", secret),
                ("grant_type", "authorization_code"),
                ("redirect_uri", exchange.redirect_uri),
                ("code", exchange.code),
            ]))
            .await?;
        let long: TokenResponse = meta::json(
            self.http
                .get(long_lived_exchange_url(&self.settings)?)
                .query(&[
                    ("grant_type", "th_exchange_token"),
                    ("client_secret", secret),
                    ("access_token", short.access_token.expose_secret()),
                ]),
        )
        .await?;
        let tokens = long.into_token_set(Some(meta::LONG_LIVED_TOKEN_LIFETIME));
        let user: ThreadsUser = self.user("me", &tokens.access_token).await?;
        // The code is spent by now: a failure of the optional counts must not lose the tokens.
        // account-registry reads the counts again on its first sync.
        let stats = match self.followers(&user.id, &tokens.access_token).await {
            Ok(stats) => Some(stats),
            Err(err) => {
                tracing::warn!(error = %err, "Threads follower count unavailable while connecting");
                None
            }
        };
        Ok(vec![Connection {
            profile: user.into_profile(),
            tokens,
            stats,
        }])
    }

    async fn user(&self, id: &str, token: &SecretString) -> Result<ThreadsUser, AdapterError> {
        let url = meta::node_url(&self.settings.endpoints.api_base, id, None)?;
        meta::json(self.http.get(url).query(&[
            ("fields", PROFILE_FIELDS),
            ("access_token", token.expose_secret()),
        ]))
        .await
    }

    /// The follower count from the user insights. Threads exposes no following or post count.
    /// Without `threads_manage_insights` (not granted, or the app not approved for it) the
    /// count is unknown rather than a reason to reconnect.
    async fn followers(&self, id: &str, token: &SecretString) -> Result<Stats, AdapterError> {
        let url = meta::node_url(
            &self.settings.endpoints.api_base,
            id,
            Some("threads_insights"),
        )?;
        let insights: Option<Insights> = meta::json_if_permitted(self.http.get(url).query(&[
            ("metric", "followers_count"),
            ("access_token", token.expose_secret()),
        ]))
        .await?;
        Ok(Stats {
            followers_count: insights.and_then(|i| i.value_of("followers_count")),
            following_count: None,
            posts_count: None,
        })
    }

    /// `GET /refresh_access_token?grant_type=th_refresh_token&access_token=…`: the current
    /// long-lived token buys a new one for another 60 days (no app secret is involved). The
    /// answer (`access_token`, `token_type`, `expires_in`) carries no refresh token, so the
    /// result's `refresh_token` is `None`: there is nothing stored to keep or replace.
    ///
    /// An expired or revoked token answers Graph error 190: [`AdapterError::NeedsReauth`], with
    /// Graph's explanation and the request to reconnect.
    /// A token younger than 24 hours is refused as well; that answer is not a reason to
    /// reconnect and surfaces as a rejection, which the refresher retries later.
    async fn refresh_long_lived(&self, account: &AccountRef<'_>) -> Result<TokenSet, AdapterError> {
        let url = token_host_url(&self.settings, "/refresh_access_token")?;
        let answer: TokenResponse = meta::json(self.http.get(url).query(&[
            ("grant_type", "th_refresh_token"),
            ("access_token", account.access_token.expose_secret()),
        ]))
        .await
        .map_err(|err| match err {
            AdapterError::NeedsReauth { message } => AdapterError::NeedsReauth {
                message: format!(
                    "Threads no longer accepts this account's token ({message}): reconnect your Threads account"
                ),
            },
            other => other,
        })?;
        let mut tokens = answer.into_token_set(self.descriptor.access_token_lifetime);
        // Threads never issues a refresh token; `None` also tells the caller to keep whatever
        // it stored.
        tokens.refresh_token = None;
        Ok(tokens)
    }

    /// Container, wait (posts with media), `threads_publish`, permalink. Only
    /// `threads_publish` makes the post visible; unpublished containers expire after 24
    /// hours, so every step before it can be repeated without a duplicate.
    async fn publish_post(
        &self,
        account: &AccountRef<'_>,
        post: &PublishRequest<'_>,
    ) -> Result<Published, AdapterError> {
        let token = account.access_token;
        let user = account.platform_account_id;
        let api_base = self.settings.endpoints.api_base.as_str();
        let text = Some(post.text.trim()).filter(|t| !t.is_empty());
        let link = post
            .options
            .link
            .as_deref()
            .map(str::trim)
            .filter(|l| !l.is_empty());
        if link.is_some() && !post.media.is_empty() {
            return Err(AdapterError::Rejected {
                code: "link_with_media".into(),
                message: "a Threads link preview is for text-only posts: put the link in the text, or remove the media".into(),
            });
        }
        // A thread's next part: its container answers the previous part (`reply_to_id`).
        let reply = post
            .reply_to
            .map(|to| ("reply_to_id", to.parent.platform_post_id));
        let mut polls_left = self.polling.max_polls;
        let container = match post.media {
            [] => {
                let Some(text) = text else {
                    return Err(AdapterError::Rejected {
                        code: "empty_post".into(),
                        message: "a Threads post needs text or media".into(),
                    });
                };
                let mut form = vec![("media_type", "TEXT"), ("text", text)];
                form.extend(link.map(|l| ("link_attachment", l)));
                form.extend(reply);
                // Text is ready at once: nothing to wait for.
                self.create_container(user, &form, token).await?
            }
            [item] => {
                let mut form = media_form(item);
                form.extend(text.map(|t| ("text", t)));
                form.extend(reply);
                let id = self.create_container(user, &form, token).await?;
                self.wait(&id, token, &mut polls_left).await?;
                id
            }
            items if items.len() > MAX_CAROUSEL_ITEMS => {
                return Err(AdapterError::Rejected {
                    code: "too_many_media".into(),
                    message: format!(
                        "a Threads carousel holds at most {MAX_CAROUSEL_ITEMS} photos and videos, not {}",
                        items.len()
                    ),
                })
            }
            items => {
                let id = self
                    .carousel(user, text, reply, items, token, &mut polls_left)
                    .await?;
                self.wait(&id, token, &mut polls_left).await?;
                id
            }
        };
        let url = meta::node_url(api_base, user, Some("threads_publish"))?;
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

    /// One container per item (`is_carousel_item=true`), each video waited for, then the
    /// `CAROUSEL` container naming them in order.
    async fn carousel(
        &self,
        user: &str,
        text: Option<&str>,
        reply: Option<(&'static str, &str)>,
        items: &[MediaItem],
        token: &SecretString,
        polls_left: &mut u32,
    ) -> Result<String, AdapterError> {
        let mut children = Vec::with_capacity(items.len());
        for item in items {
            let mut form = media_form(item);
            form.push(("is_carousel_item", "true"));
            children.push(self.create_container(user, &form, token).await?);
        }
        // A carousel may only name items Threads has finished processing.
        for (item, child) in items.iter().zip(&children) {
            if item.kind == MediaKind::Video {
                self.wait(child, token, polls_left).await?;
            }
        }
        let children = children.join(",");
        let mut form = vec![("media_type", "CAROUSEL"), ("children", children.as_str())];
        form.extend(text.map(|t| ("text", t)));
        form.extend(reply);
        self.create_container(user, &form, token).await
    }

    /// `POST /{threads-user-id}/threads`: a container, answering its id.
    async fn create_container(
        &self,
        user: &str,
        form: &[(&str, &str)],
        token: &SecretString,
    ) -> Result<String, AdapterError> {
        let url = meta::node_url(&self.settings.endpoints.api_base, user, Some("threads"))?;
        meta::create(&self.http, url, form, token).await
    }

    async fn wait(
        &self,
        container: &str,
        token: &SecretString,
        polls_left: &mut u32,
    ) -> Result<(), AdapterError> {
        meta::wait_until_finished(
            &self.http,
            &self.settings.endpoints.api_base,
            container,
            token,
            CONTAINER_FIELDS,
            self.polling,
            polls_left,
        )
        .await
    }

    /// The user's recent posts (`GET /{threads-user-id}/threads`), searched for the exact text.
    async fn find_post(
        &self,
        account: &AccountRef<'_>,
        post: &PublishRequest<'_>,
    ) -> Result<Option<Published>, AdapterError> {
        let url = meta::node_url(
            &self.settings.endpoints.api_base,
            account.platform_account_id,
            Some("threads"),
        )?;
        let found = meta::find_recent(
            &self.http,
            url,
            THREADS_FIELDS,
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

/// The container fields of one image or video: its type, its signed URL and its alt text.
fn media_form(item: &MediaItem) -> Vec<(&'static str, &str)> {
    let mut form = match item.kind {
        MediaKind::Image => vec![("media_type", "IMAGE"), ("image_url", item.url.as_str())],
        MediaKind::Video => vec![("media_type", "VIDEO"), ("video_url", item.url.as_str())],
    };
    let alt = item.alt_text.as_deref().map(str::trim);
    form.extend(alt.filter(|a| !a.is_empty()).map(|a| ("alt_text", a)));
    form
}

/// Secrets a publish error must never carry: the token and the signed media URLs.
fn secrets<'a>(account: &'a AccountRef<'_>, post: &'a PublishRequest<'_>) -> Vec<&'a str> {
    std::iter::once(account.access_token.expose_secret())
        .chain(post.media.iter().map(|m| m.url.as_str()))
        .collect()
}

/// Where the long-lived exchange lives: `/access_token` at the root of the token endpoint's
/// host (`graph.threads.com/access_token`), so one configured token URL serves both steps.
fn long_lived_exchange_url(settings: &AdapterSettings) -> Result<reqwest::Url, AdapterError> {
    token_host_url(settings, "/access_token")
}

/// `path` at the root of the token endpoint's host: the long-lived exchange and the refresh
/// live there (`graph.threads.com/access_token`, `graph.threads.com/refresh_access_token`), not
/// under the versioned API base.
fn token_host_url(settings: &AdapterSettings, path: &str) -> Result<reqwest::Url, AdapterError> {
    let token_url = settings.endpoints.token_url.as_str();
    reqwest::Url::parse(token_url)
        .and_then(|url| url.join(path))
        .map_err(|e| AdapterError::Unsupported {
            what: format!("invalid URL `{token_url}`: {e}"),
        })
}

impl PlatformAdapter for ThreadsAdapter {
    fn descriptor(&self) -> &Descriptor {
        &self.descriptor
    }

    fn authorize_url(&self, params: &AuthorizeParams<'_>) -> Result<String, AdapterError> {
        meta::authorize_url(
            &self.settings,
            Platform::Threads,
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
            let user = self
                .user(account.platform_account_id, account.access_token)
                .await?;
            Ok(user.into_profile())
        })
    }

    fn stats<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
    ) -> BoxFuture<'a, Result<Stats, AdapterError>> {
        Box::pin(async move {
            self.followers(account.platform_account_id, account.access_token)
                .await
        })
    }

    /// Extends the long-lived access token for another 60 days (`GET /refresh_access_token`
    /// with `grant_type=th_refresh_token`): Threads has no separate refresh token, so the
    /// result's `refresh_token` is `None`. The token must be at least 24 hours old and not
    /// expired.
    fn refresh<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
    ) -> BoxFuture<'a, Result<TokenSet, AdapterError>> {
        Box::pin(self.refresh_long_lived(account))
    }

    /// Not supported: the Threads API documents no revocation endpoint. The tokens are
    /// forgotten; they lapse within 60 days unless refreshed.
    fn revoke<'a>(
        &'a self,
        _account: &'a AccountRef<'a>,
    ) -> BoxFuture<'a, Result<Revocation, AdapterError>> {
        Box::pin(async { Ok(Revocation::NotSupported) })
    }

    /// Text, one image or video, or a carousel of up to twenty: a container (media fetched by
    /// Threads from the signed URLs, with their alt text), waited for until `FINISHED` when it
    /// carries media, then `threads_publish`; the answer carries the post's `permalink` when
    /// Threads gives it. `options.link` becomes the link preview of a text-only post.
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

    /// Searches the user's recent posts for the exact text. A thread's reply cannot be
    /// looked up: replies are listed only by `GET /{user}/replies`, which needs
    /// `threads_read_replies` (not requested), so it is `Unsupported` rather than a "not there"
    /// that would post it twice.
    fn find_published<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
        post: &'a PublishRequest<'a>,
    ) -> BoxFuture<'a, Result<Option<Published>, AdapterError>> {
        Box::pin(async move {
            if post.reply_to.is_some() {
                return Err(AdapterError::Unsupported {
                    what: "a Threads reply can be looked up only with threads_read_replies, which Postbridge does not request".into(),
                });
            }
            self.find_post(account, post)
                .await
                .map_err(|err| meta::redact(err, &secrets(account, post)))
        })
    }

    /// `GET /{threads-media-id}/insights`, one post a request ([`follow_ups`]).
    fn post_metrics<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
        posts: &'a [crate::PostRef<'a>],
    ) -> BoxFuture<'a, Result<Vec<crate::PostMetrics>, AdapterError>> {
        Box::pin(self.read_post_metrics(account, posts))
    }

    /// `DELETE /{threads-media-id}` ([`follow_ups`]).
    fn delete_post<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
        post: &'a crate::PostRef<'a>,
    ) -> BoxFuture<'a, Result<crate::Deletion, AdapterError>> {
        Box::pin(self.delete(account, post))
    }
}

/// A Threads user's profile.
#[derive(Debug, Deserialize)]
struct ThreadsUser {
    id: String,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    threads_profile_picture_url: Option<String>,
}

impl ThreadsUser {
    fn into_profile(self) -> Profile {
        let profile_url = self
            .username
            .as_deref()
            .map(|u| format!("https://www.threads.com/@{u}"));
        Profile {
            platform_account_id: self.id,
            account_kind: Some(AccountKind::Profile),
            display_name: self
                .name
                .filter(|n| !n.is_empty())
                .or_else(|| self.username.clone()),
            handle: self.username,
            avatar_url: self.threads_profile_picture_url,
            profile_url,
        }
    }
}

/// `GET /{user-id}/threads_insights`: `{"data": [{"name": "followers_count", "total_value":
/// {"value": 42}, …}]}`. Time-series metrics answer `values` instead; the latest one counts.
#[derive(Debug, Deserialize)]
struct Insights {
    data: Vec<Metric>,
}

#[derive(Debug, Deserialize)]
struct Metric {
    name: String,
    #[serde(default)]
    total_value: Option<MetricValue>,
    #[serde(default)]
    values: Vec<MetricValue>,
}

#[derive(Debug, Deserialize)]
struct MetricValue {
    value: i64,
}

impl Insights {
    fn value_of(&self, name: &str) -> Option<i64> {
        let metric = self.data.iter().find(|m| m.name == name)?;
        metric
            .total_value
            .as_ref()
            .or(metric.values.last())
            .map(|v| v.value)
    }
}
