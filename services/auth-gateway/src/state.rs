//! What every handler shares.

use std::sync::Arc;

use db::{domain::Platform, Db};
use events::Outbox;
use media_store::{BlobStore, MediaSettings, UrlSigner};
use platform_adapters::Registry;
use tokio::sync::Semaphore;
use vault::Vault;

use crate::{configuration::AuthGatewaySettings, error::ApiError, limits::PerUserLimit};

/// The outbox of this service.
pub const OUTBOX: Outbox = Outbox::new(crate::SERVICE);

/// Shared, cheaply cloneable state of the gateway.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The database.
    pub db: Db,
    /// Token encryption.
    pub vault: Arc<Vault>,
    /// Every platform adapter.
    pub adapters: Registry,
    /// `[auth_gateway]`.
    pub settings: Arc<AuthGatewaySettings>,
    /// Where uploaded media bytes live.
    pub blobs: Arc<dyn BlobStore>,
    /// Signs and checks the content URLs of uploads.
    pub signer: UrlSigner,
    /// `[media]`: upload size limits.
    pub media: Arc<MediaSettings>,
    /// One permit per upload being received (`media.max_concurrent_uploads`).
    pub uploads: Arc<Semaphore>,
    /// `auth_gateway.connection_starts_per_minute`, per user.
    pub connection_starts: PerUserLimit,
    /// `env_account.allow_publishing`: whether posts may go to the env account (the gateway
    /// needs nothing else of `[env_account]`; the token stays with account-registry).
    pub env_account_publishing: bool,
}

impl AppState {
    /// The callback URL registered with `platform`.
    pub fn callback_uri(&self, platform: Platform) -> String {
        format!(
            "{}/v1/oauth/{platform}/callback",
            self.settings.public_url.trim_end_matches('/')
        )
    }

    /// `redirect_to` when its origin is on the allow-list, or the first allowed URL when absent.
    pub fn allowed_redirect(&self, redirect_to: Option<&str>) -> Result<String, ApiError> {
        let Some(requested) = redirect_to.filter(|r| !r.is_empty()) else {
            return self
                .settings
                .redirect_allow_list
                .first()
                .cloned()
                .ok_or_else(|| {
                    ApiError::bad_request(
                        "redirect_not_allowed",
                        "no frontend URL is allowed: set auth_gateway.redirect_allow_list",
                    )
                });
        };
        let origin_of = |url: &str| {
            reqwest::Url::parse(url)
                .ok()
                .map(|u| u.origin().ascii_serialization())
        };
        let requested_origin = origin_of(requested).ok_or_else(|| {
            ApiError::bad_request(
                "redirect_not_allowed",
                "`redirect_to` must be an absolute URL",
            )
        })?;
        if self
            .settings
            .redirect_allow_list
            .iter()
            .any(|allowed| origin_of(allowed).as_deref() == Some(requested_origin.as_str()))
        {
            Ok(requested.to_owned())
        } else {
            Err(ApiError::bad_request("redirect_not_allowed", format!("`redirect_to` origin {requested_origin} is not in auth_gateway.redirect_allow_list")))
        }
    }

    /// The first allowed frontend URL, where failed callbacks without a usable state go.
    pub fn default_redirect(&self) -> String {
        self.settings
            .redirect_allow_list
            .first()
            .cloned()
            .unwrap_or_else(|| "/".into())
    }
}
