//! What the rest of the system knows about one platform, in one value: a [`PlatformSpec`]. Each
//! platform folder (`platforms/<name>/mod.rs`) defines its `SPEC`; [`crate::platforms::ALL`]
//! lists them, and the [`crate::Registry`] builds every adapter from that list, so adding a
//! platform adds no line outside its folder (see the crate README).

use std::sync::Arc;

use domain::Platform;
use futures_util::future::BoxFuture;
use reqwest::Client;

use crate::{
    hosts::HostPolicy,
    validate::{AccountLimits, Rules, TextCount},
    AdapterError, AdapterSettings, ClientCredentials, Descriptor, Endpoints, PlatformAdapter,
};

/// One platform: its static facts, its endpoints, who may reach which hosts, and how its
/// adapter is built.
#[derive(Clone, Copy)]
pub struct PlatformSpec {
    /// Static facts: auth kind, scopes, text counting, media, limits, deduplication window.
    pub descriptor: fn() -> Descriptor,
    /// The platform's name as its users know it, for messages ("LinkedIn", "The sandbox").
    pub name: &'static str,
    /// What a post may hold beyond the descriptor (`platforms/<name>/rules.rs`).
    pub rules: &'static Rules,
    /// How the platform counts a text, where [`crate::TextCounting`] alone does not say
    /// (X's weighted count, Mastodon's links and mentions); `None`: the descriptor's counting.
    pub count_text: Option<fn(&str, &AccountLimits) -> TextCount>,
    /// Production URLs, which `[platforms.<name>]` may override one by one.
    pub default_endpoints: fn() -> Endpoints,
    /// Where accounts live and what connecting needs.
    pub reach: Reach,
    /// Builds the adapter from the HTTP client `reach` calls for and the settings.
    pub build: fn(Build) -> Arc<dyn PlatformAdapter>,
}

impl std::fmt::Debug for PlatformSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlatformSpec")
            .field("platform", &(self.descriptor)().platform)
            .finish_non_exhaustive()
    }
}

impl PlatformSpec {
    /// Which platform this is.
    pub fn platform(&self) -> Platform {
        (self.descriptor)().platform
    }
}

/// Where a platform's accounts live.
#[derive(Clone, Copy)]
pub enum Reach {
    /// One global service and one app of ours there: connecting needs `client_id` and
    /// `client_secret` in `[platforms.<name>]`.
    App,
    /// One adapter, but each account may live on a host its user chose (a Bluesky PDS): no app
    /// credentials, and every host is subject to the [`HostPolicy`].
    UserHost,
    /// Every instance is its own service with an app of ours registered there on first use
    /// (Mastodon): adapters are built per account, with that instance's app.
    InstanceApp(&'static dyn InstanceApps),
}

impl std::fmt::Debug for Reach {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::App => "App",
            Self::UserHost => "UserHost",
            Self::InstanceApp(_) => "InstanceApp",
        })
    }
}

/// What a service needs to build an adapter.
#[derive(Debug, Clone)]
pub struct Build {
    /// The shared client; for [`Reach::UserHost`] and [`Reach::InstanceApp`], the one for
    /// user-chosen hosts.
    pub http: Client,
    /// Credentials and endpoints (for [`Reach::InstanceApp`], the instance's, with any
    /// configured override applied).
    pub settings: AdapterSettings,
    /// The instance origin, for [`Reach::InstanceApp`].
    pub instance: Option<String>,
}

/// The per-instance steps of a [`Reach::InstanceApp`] platform, called by the gateway when a
/// user connects an account on an instance.
pub trait InstanceApps: Send + Sync {
    /// Turns what a user typed into an instance origin.
    fn normalize(&self, input: &str, policy: HostPolicy) -> Result<String, AdapterError>;

    /// The instance's endpoints (before `[platforms.<name>]` overrides).
    fn endpoints(&self, instance: &str) -> Endpoints;

    /// Registers our app on `instance` (whose API base is `api_base`) with `redirect_uri` and
    /// the descriptor's scopes.
    fn register<'a>(
        &'a self,
        http: &'a Client,
        api_base: &'a str,
        redirect_uri: &'a str,
    ) -> BoxFuture<'a, Result<ClientCredentials, AdapterError>>;

    /// The instance's own limits for a post (characters, media, what a URL counts as).
    fn limits<'a>(
        &'a self,
        http: &'a Client,
        api_base: &'a str,
    ) -> BoxFuture<'a, Result<InstanceLimits, AdapterError>>;
}

/// What a status may hold on one instance, to validate a post before accepting it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InstanceLimits {
    /// Characters per post.
    pub max_characters: u32,
    /// Media attachments per post.
    pub max_media_attachments: u32,
    /// What every URL counts as, whatever its length.
    pub characters_reserved_per_url: u32,
}
