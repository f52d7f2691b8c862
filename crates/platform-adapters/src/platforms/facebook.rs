//! Facebook Pages. A user connects through Facebook Login and shares one or more Pages; each
//! Page becomes its own account holding the Page's access token, because Pages publish with
//! Page tokens and a Page token taken with a long-lived user token does not expire.
//!
//! Sources (November 2026): the Facebook Login and error references listed in `meta.rs`, and
//! the Page node <https://developers.facebook.com/docs/graph-api/reference/page/>.

use domain::{AccountKind, AuthKind, Platform};
use futures_util::future::BoxFuture;
use reqwest::Client;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::meta;
use crate::{
    AccountRef, AdapterError, AdapterSettings, AuthorizeParams, Capabilities, CodeExchange,
    Connection, Descriptor, Endpoints, MediaKind, PlatformAdapter, Profile, Revocation, Stats,
    TextCounting, TokenSet,
};

/// Fields of each Page in the `/me/accounts` listing: who the Page is, its counts and its
/// Page access token.
const PAGE_FIELDS: &str =
    "id,name,username,link,picture{url},followers_count,fan_count,access_token";

/// Fields read for a stored Page's profile.
const PROFILE_FIELDS: &str = "id,name,username,link,picture{url}";

/// Fields read for a stored Page's counts.
const STATS_FIELDS: &str = "followers_count,fan_count";

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
        },
    }
}

/// Production Graph API endpoints, version pinned in one place (`meta::GRAPH_API_VERSION`).
pub fn default_endpoints() -> Endpoints {
    meta::graph_endpoints()
}

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
