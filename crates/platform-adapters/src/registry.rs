//! Every platform's adapter, built once from configuration.

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use domain::Platform;
use reqwest::Client;
use secrecy::SecretString;
use serde::{Deserialize, Deserializer};

use crate::{
    hosts::{self, HostPolicy},
    spec::{Build, InstanceLimits, PlatformSpec, Reach},
    AdapterError, AdapterSettings, ClientCredentials, Descriptor, Endpoints, PlatformAdapter,
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
        AdapterSettings {
            credentials: self.credentials(),
            endpoints: self.endpoints(defaults),
        }
    }

    fn credentials(&self) -> Option<ClientCredentials> {
        match (&self.client_id, &self.client_secret) {
            (Some(id), Some(secret)) if !id.is_empty() => Some(ClientCredentials {
                client_id: id.clone(),
                client_secret: secret.clone(),
            }),
            _ => None,
        }
    }

    /// `defaults` with every URL this table sets in its place.
    fn endpoints(&self, defaults: Endpoints) -> Endpoints {
        let pick = |over: &Option<String>, default: String| {
            over.clone().filter(|u| !u.is_empty()).unwrap_or(default)
        };
        Endpoints {
            authorize_url: pick(&self.authorize_url, defaults.authorize_url),
            token_url: pick(&self.token_url, defaults.token_url),
            revoke_url: self
                .revoke_url
                .clone()
                .filter(|u| !u.is_empty())
                .or(defaults.revoke_url),
            api_base: pick(&self.api_base, defaults.api_base),
            upload_base: pick(&self.upload_base, defaults.upload_base),
        }
    }
}

/// `[platforms]`: settings every service that builds adapters reads alike, and one optional
/// table per platform keyed by its wire name (`x`, `facebook`, …).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PlatformsConfig {
    /// Lets user-chosen hosts (Mastodon instances, Bluesky services) be on loopback, private
    /// or reserved addresses, and Mastodon instances be named with `http://`: tests and local
    /// setups only, never production (the guard against server-side request forgery is off).
    #[serde(default, deserialize_with = "flexible_bool")]
    pub allow_private_instances: bool,
    /// PEM files of certificate authorities the client for user-chosen hosts trusts besides
    /// the built-in roots: a test Mastodon instance or Bluesky PDS with its own CA. (Global
    /// platforms are pointed at test servers through their URL overrides, over plain HTTP.)
    #[serde(default)]
    pub extra_root_certificates: Vec<String>,
    /// One table per platform.
    #[serde(flatten)]
    pub platforms: BTreeMap<String, PlatformConfig>,
}

impl PlatformsConfig {
    /// The table of `platform`, or an empty one.
    pub fn of(&self, platform: Platform) -> PlatformConfig {
        self.platforms
            .get(platform.as_str())
            .cloned()
            .unwrap_or_default()
    }

    /// Sets the table of `platform`.
    pub fn set(&mut self, platform: Platform, config: PlatformConfig) {
        self.platforms.insert(platform.as_str().to_owned(), config);
    }

    /// The host policy these settings ask for.
    pub fn host_policy(&self) -> HostPolicy {
        HostPolicy {
            allow_private: self.allow_private_instances,
        }
    }

    fn root_certificates(&self) -> Result<Vec<reqwest::Certificate>, String> {
        self.extra_root_certificates
            .iter()
            .map(|path| {
                let problem = |e: &dyn std::fmt::Display| {
                    format!("`platforms.extra_root_certificates`: {path}: {e}")
                };
                let pem = std::fs::read(path).map_err(|e| problem(&e))?;
                let certificates =
                    reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| problem(&e))?;
                if certificates.is_empty() {
                    return Err(problem(&"no PEM certificate in the file"));
                }
                Ok(certificates)
            })
            .collect::<Result<Vec<_>, _>>()
            .map(|files| files.into_iter().flatten().collect())
    }
}

/// A boolean written as one (TOML) or as a string (an environment variable, which reaches a
/// flattened table as text).
fn flexible_bool<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Flexible {
        Bool(bool),
        Text(String),
    }
    match Flexible::deserialize(deserializer)? {
        Flexible::Bool(b) => Ok(b),
        Flexible::Text(t) => t
            .trim()
            .parse()
            .map_err(|_| serde::de::Error::custom(format!("`{t}` is not true or false"))),
    }
}

/// One built platform.
#[derive(Clone)]
struct Entry {
    spec: PlatformSpec,
    config: PlatformConfig,
    /// The shared adapter: every [`Reach::App`] and [`Reach::UserHost`] platform has one;
    /// [`Reach::InstanceApp`] platforms are built per account.
    shared: Option<Arc<dyn PlatformAdapter>>,
}

/// Every platform's adapter, built once from configuration and the list of
/// [`crate::platforms::ALL`] specs.
#[derive(Clone)]
pub struct Registry {
    entries: BTreeMap<Platform, Entry>,
    policy: HostPolicy,
    /// For hosts users choose: unless private hosts are allowed, its resolver drops private
    /// addresses, so a name that passed the check when connecting cannot re-resolve to an
    /// internal host later (DNS rebinding).
    user_hosts_http: Client,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("platforms", &self.entries.keys().collect::<Vec<_>>())
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl Registry {
    /// Builds every adapter, on `http` for platforms with one global service and on a client
    /// for user-chosen hosts for the others. Unknown platform names in `config` are an error,
    /// so a typo does not silently leave a platform unconfigured.
    pub fn from_config(http: Client, config: &PlatformsConfig) -> Result<Self, String> {
        if let Some(unknown) = config
            .platforms
            .keys()
            .find(|name| name.parse::<Platform>().is_err())
        {
            return Err(format!(
                "unknown platform `[platforms.{unknown}]`; known: {}",
                Platform::ALL
                    .iter()
                    .map(|p| p.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        let policy = config.host_policy();
        let roots = config.root_certificates()?;
        let user_hosts_http = policy
            .client(Duration::from_secs(30), &roots)
            .map_err(|e| format!("the client for user-chosen hosts: {e}"))?;
        let entries = crate::platforms::ALL
            .iter()
            .map(|spec| {
                let platform = spec.platform();
                let config = config.of(platform);
                let client = match spec.reach {
                    Reach::App => http.clone(),
                    Reach::UserHost | Reach::InstanceApp(_) => user_hosts_http.clone(),
                };
                let shared = match spec.reach {
                    Reach::InstanceApp(_) => None,
                    Reach::App | Reach::UserHost => Some((spec.build)(Build {
                        http: client,
                        settings: config.settings((spec.default_endpoints)()),
                        instance: None,
                    })),
                };
                (
                    platform,
                    Entry {
                        spec: *spec,
                        config,
                        shared,
                    },
                )
            })
            .collect();
        Ok(Self {
            entries,
            policy,
            user_hosts_http,
        })
    }

    fn entry(&self, platform: Platform) -> Result<&Entry, AdapterError> {
        self.entries
            .get(&platform)
            .ok_or_else(|| AdapterError::Unsupported {
                what: format!("{platform} has no adapter"),
            })
    }

    /// The static facts of `platform`.
    pub fn descriptor(&self, platform: Platform) -> Descriptor {
        match self.entries.get(&platform) {
            Some(entry) => (entry.spec.descriptor)(),
            None => crate::platforms::sandbox::descriptor(),
        }
    }

    /// Whether users can start connecting `platform`: [`Reach::App`] platforms need client
    /// credentials; the others need none (app passwords; an app registered per instance).
    pub fn is_configured(&self, platform: Platform) -> bool {
        self.entries
            .get(&platform)
            .is_some_and(|entry| match entry.spec.reach {
                Reach::App => entry.config.credentials().is_some(),
                Reach::UserHost | Reach::InstanceApp(_) => true,
            })
    }

    /// The policy for user-chosen hosts (`[platforms] allow_private_instances`).
    pub fn host_policy(&self) -> HostPolicy {
        self.policy
    }

    /// The per-instance steps of `platform`, when it is a [`Reach::InstanceApp`] platform.
    pub fn instance_apps(&self, platform: Platform) -> Option<InstanceAppsOf<'_>> {
        let entry = self.entries.get(&platform)?;
        match entry.spec.reach {
            Reach::InstanceApp(apps) => Some(InstanceAppsOf {
                apps,
                registry: self,
                config: &entry.config,
            }),
            Reach::App | Reach::UserHost => None,
        }
    }

    /// The adapter for an account of `platform` on `instance_url` (where its platform lets
    /// users choose hosts), with `app`, the credentials of our app on that instance, for
    /// [`Reach::InstanceApp`] platforms (`None`: the adapter publishes and reads only).
    /// Reading, refreshing and revoking an account of an [`Reach::App`] platform work with the
    /// account's own tokens, so they are offered even where the app's credentials are not
    /// configured (any more). Refused: a host off the public internet unless the
    /// [`HostPolicy`] allows it (`instance_not_allowed`).
    pub fn for_account(
        &self,
        platform: Platform,
        instance_url: Option<&str>,
        app: Option<ClientCredentials>,
    ) -> Result<Arc<dyn PlatformAdapter>, AdapterError> {
        let entry = self.entry(platform)?;
        match entry.spec.reach {
            Reach::App => entry
                .shared
                .clone()
                .ok_or_else(|| AdapterError::Unsupported {
                    what: format!("{platform} has no adapter"),
                }),
            Reach::UserHost => {
                self.check_host(platform, instance_url)?;
                entry
                    .shared
                    .clone()
                    .ok_or_else(|| AdapterError::Unsupported {
                        what: format!("{platform} has no adapter"),
                    })
            }
            Reach::InstanceApp(apps) => {
                let instance = instance_url.ok_or_else(|| AdapterError::Rejected {
                    code: "instance_required".into(),
                    message: format!("a {platform} account without its instance"),
                })?;
                self.policy.check_url(instance)?;
                let instance = instance.trim().trim_end_matches('/').to_owned();
                Ok((entry.spec.build)(Build {
                    http: self.user_hosts_http.clone(),
                    settings: AdapterSettings {
                        credentials: app,
                        endpoints: entry.config.endpoints(apps.endpoints(&instance)),
                    },
                    instance: Some(instance),
                }))
            }
        }
    }

    /// Refuses the host an account of `platform` on `instance_url` lives on when it is an IP
    /// literal off the public internet and the [`HostPolicy`] does not allow that (names are
    /// judged when the client connects). Platforms with one global service pass.
    pub fn check_host(
        &self,
        platform: Platform,
        instance_url: Option<&str>,
    ) -> Result<(), AdapterError> {
        let entry = self.entry(platform)?;
        match entry.spec.reach {
            Reach::App => Ok(()),
            Reach::UserHost | Reach::InstanceApp(_) => {
                let host = instance_url.map(str::to_owned).unwrap_or_else(|| {
                    entry
                        .config
                        .endpoints((entry.spec.default_endpoints)())
                        .api_base
                });
                self.policy.check_url(&host)
            }
        }
    }

    /// The adapter that publishes for an account of `platform` (on `instance_url` where the
    /// platform has instances). Posting needs only the account's own token, never an app's, but
    /// a platform this deployment does not configure is not published to (`Unsupported`).
    pub fn for_publishing(
        &self,
        platform: Platform,
        instance_url: Option<&str>,
    ) -> Result<Arc<dyn PlatformAdapter>, AdapterError> {
        if !self.is_configured(platform) {
            return Err(AdapterError::Unsupported {
                what: format!("{platform} is not configured on this deployment"),
            });
        }
        self.for_account(platform, instance_url, None)
    }

    /// The adapter users connect `platform` through, for platforms with one service
    /// ([`Reach::App`], [`Reach::UserHost`]); `None` for per-instance platforms
    /// (use [`Self::for_account`] with the instance's app) and unconfigured ones.
    pub fn for_connecting(&self, platform: Platform) -> Option<Arc<dyn PlatformAdapter>> {
        let entry = self.entries.get(&platform)?;
        match entry.spec.reach {
            Reach::App => entry
                .shared
                .clone()
                .filter(|_| entry.config.credentials().is_some()),
            Reach::UserHost => entry.shared.clone(),
            Reach::InstanceApp(_) => None,
        }
    }

    /// The adapter that refreshes tokens of `platform`, where its tokens expire and can be
    /// refreshed with one app (`None` otherwise: those accounts are never scheduled).
    pub fn for_refreshing(&self, platform: Platform) -> Option<Arc<dyn PlatformAdapter>> {
        self.entries.get(&platform)?.shared.clone()
    }

    /// What a user typed as their server (`mastodon.social`, `https://bsky.social/`), as an
    /// origin, refused when it is off the public internet and the policy does not allow that.
    pub async fn normalize_host(&self, input: &str) -> Result<String, AdapterError> {
        let origin =
            hosts::normalize_origin(input, self.policy, "a server address", "example.social")?;
        self.resolve_public(&origin).await?;
        Ok(origin)
    }

    /// The client for hosts users choose.
    pub fn user_hosts_http(&self) -> &Client {
        &self.user_hosts_http
    }

    /// Refuses `instance_origin` when it is off the public internet and the policy does not
    /// allow that (see [`hosts::resolve_public`]).
    pub async fn resolve_public(&self, instance_origin: &str) -> Result<(), AdapterError> {
        hosts::resolve_public(instance_origin, self.policy.allow_private).await
    }
}

/// The per-instance steps of one [`Reach::InstanceApp`] platform, on the registry's client for
/// user-chosen hosts and with `[platforms.<name>]` URL overrides applied.
#[derive(Clone, Copy)]
pub struct InstanceAppsOf<'a> {
    apps: &'static dyn crate::spec::InstanceApps,
    registry: &'a Registry,
    config: &'a PlatformConfig,
}

impl std::fmt::Debug for InstanceAppsOf<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InstanceAppsOf").finish_non_exhaustive()
    }
}

impl InstanceAppsOf<'_> {
    /// What the user typed, as an instance origin (`http://` kept only where the policy allows
    /// private hosts), checked against the host policy.
    pub async fn normalize(&self, input: &str) -> Result<String, AdapterError> {
        let instance = self.apps.normalize(input, self.registry.policy)?;
        self.registry.resolve_public(&instance).await?;
        Ok(instance)
    }

    fn api_base(&self, instance: &str) -> String {
        self.config
            .endpoints(self.apps.endpoints(instance))
            .api_base
    }

    /// Registers our app on `instance`.
    pub async fn register(
        &self,
        instance: &str,
        redirect_uri: &str,
    ) -> Result<ClientCredentials, AdapterError> {
        let api_base = self.api_base(instance);
        self.apps
            .register(&self.registry.user_hosts_http, &api_base, redirect_uri)
            .await
    }

    /// The instance's own limits for a post.
    pub async fn limits(&self, instance: &str) -> Result<InstanceLimits, AdapterError> {
        let api_base = self.api_base(instance);
        self.apps
            .limits(&self.registry.user_hosts_http, &api_base)
            .await
    }
}
