//! Every platform's adapter, built once from configuration.

use std::{collections::BTreeMap, sync::Arc};

use domain::Platform;
use secrecy::SecretString;
use serde::Deserialize;

use crate::{
    platforms::{
        bluesky, facebook, instagram, linkedin, mastodon, pinterest, sandbox, threads, tiktok, x,
        youtube,
    },
    AdapterSettings, ClientCredentials, Descriptor, Endpoints, PlatformAdapter,
};

/// `[platforms.<name>]`: credentials and, optionally, endpoint overrides of one platform.
/// Every URL can be pointed elsewhere (a test server, platform-sim, a proxy).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlatformConfig {
    /// OAuth client id (TikTok: client key). Unset means the platform is not configured.
    #[serde(default)]
    pub client_id: Option<String>,
    /// OAuth client secret.
    #[serde(default)]
    pub client_secret: Option<SecretString>,
    /// Override of the authorization page URL.
    #[serde(default)]
    pub authorize_url: Option<String>,
    /// Override of the token endpoint.
    #[serde(default)]
    pub token_url: Option<String>,
    /// Override of the revocation endpoint.
    #[serde(default)]
    pub revoke_url: Option<String>,
    /// Override of the REST API base.
    #[serde(default)]
    pub api_base: Option<String>,
    /// Override of the upload API base.
    #[serde(default)]
    pub upload_base: Option<String>,
}

impl PlatformConfig {
    fn settings(&self, defaults: Endpoints) -> AdapterSettings {
        let credentials = match (&self.client_id, &self.client_secret) {
            (Some(id), Some(secret)) if !id.is_empty() => Some(ClientCredentials {
                client_id: id.clone(),
                client_secret: secret.clone(),
            }),
            _ => None,
        };
        let pick = |over: &Option<String>, default: String| {
            over.clone().filter(|u| !u.is_empty()).unwrap_or(default)
        };
        AdapterSettings {
            credentials,
            endpoints: Endpoints {
                authorize_url: pick(&self.authorize_url, defaults.authorize_url),
                token_url: pick(&self.token_url, defaults.token_url),
                revoke_url: self
                    .revoke_url
                    .clone()
                    .filter(|u| !u.is_empty())
                    .or(defaults.revoke_url),
                api_base: pick(&self.api_base, defaults.api_base),
                upload_base: pick(&self.upload_base, defaults.upload_base),
            },
        }
    }
}

/// `[platforms]`: one optional table per platform, keyed by its wire name (`x`, `facebook`, …).
pub type PlatformsConfig = BTreeMap<String, PlatformConfig>;

/// The adapters of every platform plus whether each is configured.
#[derive(Clone)]
pub struct Registry {
    oauth: BTreeMap<Platform, (Arc<dyn PlatformAdapter>, bool)>,
    bluesky: Arc<bluesky::BlueskyAdapter>,
    bluesky_settings: AdapterSettings,
    /// For hosts users choose (Mastodon instances, Bluesky services): its resolver drops
    /// private addresses, so a name that passed the SSRF check cannot re-resolve to an
    /// internal host later (DNS rebinding).
    user_hosts_http: reqwest::Client,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("platforms", &self.oauth.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Registry {
    /// Builds every adapter on one shared HTTP client. Unknown platform names in `config` are
    /// an error, so a typo does not silently leave a platform unconfigured.
    pub fn from_config(http: reqwest::Client, config: &PlatformsConfig) -> Result<Self, String> {
        if let Some(unknown) = config.keys().find(|name| name.parse::<Platform>().is_err()) {
            return Err(format!(
                "unknown platform `[platforms.{unknown}]`; known: {}",
                Platform::ALL
                    .iter()
                    .map(|p| p.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        let cfg = |p: Platform| config.get(p.as_str()).cloned().unwrap_or_default();
        let mut oauth: BTreeMap<Platform, (Arc<dyn PlatformAdapter>, bool)> = BTreeMap::new();
        let mut add =
            |platform: Platform,
             settings: AdapterSettings,
             build: &dyn Fn(AdapterSettings) -> Arc<dyn PlatformAdapter>| {
                let configured = settings.credentials.is_some();
                oauth.insert(platform, (build(settings), configured));
            };
        let h = http.clone();
        add(
            Platform::Facebook,
            cfg(Platform::Facebook).settings(facebook::default_endpoints()),
            &|s| Arc::new(facebook::FacebookAdapter::new(h.clone(), s)),
        );
        add(
            Platform::Instagram,
            cfg(Platform::Instagram).settings(instagram::default_endpoints()),
            &|s| Arc::new(instagram::InstagramAdapter::new(h.clone(), s)),
        );
        add(
            Platform::Threads,
            cfg(Platform::Threads).settings(threads::default_endpoints()),
            &|s| Arc::new(threads::ThreadsAdapter::new(h.clone(), s)),
        );
        add(
            Platform::X,
            cfg(Platform::X).settings(x::default_endpoints()),
            &|s| Arc::new(x::XAdapter::new(h.clone(), s)),
        );
        add(
            Platform::Linkedin,
            cfg(Platform::Linkedin).settings(linkedin::default_endpoints()),
            &|s| Arc::new(linkedin::LinkedinAdapter::new(h.clone(), s)),
        );
        add(
            Platform::Youtube,
            cfg(Platform::Youtube).settings(youtube::default_endpoints()),
            &|s| Arc::new(youtube::YoutubeAdapter::new(h.clone(), s)),
        );
        add(
            Platform::Tiktok,
            cfg(Platform::Tiktok).settings(tiktok::default_endpoints()),
            &|s| Arc::new(tiktok::TiktokAdapter::new(h.clone(), s)),
        );
        add(
            Platform::Pinterest,
            cfg(Platform::Pinterest).settings(pinterest::default_endpoints()),
            &|s| Arc::new(pinterest::PinterestAdapter::new(h.clone(), s)),
        );
        add(
            Platform::Sandbox,
            cfg(Platform::Sandbox).settings(sandbox::default_endpoints()),
            &|s| Arc::new(sandbox::SandboxAdapter::new(h.clone(), s)),
        );
        let user_hosts_http = mastodon::public_only_client();
        let bluesky_settings = cfg(Platform::Bluesky).settings(bluesky::default_endpoints());
        let bluesky = Arc::new(bluesky::BlueskyAdapter::new(
            user_hosts_http.clone(),
            bluesky_settings.clone(),
        ));
        Ok(Self {
            oauth,
            bluesky,
            bluesky_settings,
            user_hosts_http,
        })
    }

    /// The static facts of `platform`.
    pub fn descriptor(&self, platform: Platform) -> Descriptor {
        match platform {
            Platform::Bluesky => bluesky::descriptor(),
            Platform::Mastodon => mastodon::descriptor(),
            other => self
                .oauth
                .get(&other)
                .map(|(a, _)| a.descriptor().clone())
                .unwrap_or_else(sandbox::descriptor),
        }
    }

    /// Whether users can start connecting `platform`: OAuth platforms need client credentials;
    /// Bluesky and Mastodon need none (app passwords; an app registered per instance).
    pub fn is_configured(&self, platform: Platform) -> bool {
        match platform {
            Platform::Bluesky | Platform::Mastodon => true,
            other => self
                .oauth
                .get(&other)
                .is_some_and(|(_, configured)| *configured),
        }
    }

    /// The OAuth adapter of a platform with one global app (not Bluesky or Mastodon).
    pub fn oauth(&self, platform: Platform) -> Option<Arc<dyn PlatformAdapter>> {
        self.oauth
            .get(&platform)
            .map(|(adapter, _)| adapter.clone())
    }

    /// The Bluesky adapter.
    pub fn bluesky(&self) -> Arc<bluesky::BlueskyAdapter> {
        self.bluesky.clone()
    }

    /// A Mastodon adapter for one instance, with the app registered there.
    pub fn mastodon(
        &self,
        instance_origin: String,
        credentials: ClientCredentials,
    ) -> mastodon::MastodonAdapter {
        mastodon::MastodonAdapter::for_instance(
            self.user_hosts_http.clone(),
            instance_origin,
            credentials,
        )
    }

    /// The adapter that publishes for an account of `platform` (on `instance_url`, for
    /// Mastodon). Posting needs only the account's own token, never the app's credentials.
    /// `None` for a platform this deployment does not configure.
    pub fn for_publishing(
        &self,
        platform: Platform,
        instance_url: Option<&str>,
    ) -> Option<Arc<dyn PlatformAdapter>> {
        match platform {
            Platform::Bluesky => Some(self.bluesky.clone()),
            Platform::Mastodon => Some(Arc::new(mastodon::MastodonAdapter::for_publishing(
                self.user_hosts_http.clone(),
                instance_url?.to_owned(),
            ))),
            other => self
                .oauth
                .get(&other)
                .filter(|(_, configured)| *configured)
                .map(|(adapter, _)| adapter.clone()),
        }
    }

    /// The client for hosts users choose (Mastodon app registration).
    pub fn user_hosts_http(&self) -> &reqwest::Client {
        &self.user_hosts_http
    }

    /// Lets user-chosen hosts resolve to private addresses too (tests and local setups whose
    /// Mastodon or Bluesky server runs on a private network); never in production.
    pub fn allow_private_user_hosts(mut self, http: reqwest::Client) -> Self {
        self.bluesky = Arc::new(bluesky::BlueskyAdapter::new(
            http.clone(),
            self.bluesky_settings.clone(),
        ));
        self.user_hosts_http = http;
        self
    }
}
