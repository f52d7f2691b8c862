#![doc = include_str!("../README.md")]

mod classify;
mod descriptor;
mod error;

pub use classify::{classify_response, parse_retry_after};
pub use descriptor::{Capabilities, Descriptor, MediaKind, TextCounting};
pub use error::AdapterError;
use futures_util::future::BoxFuture;
use secrecy::SecretString;

/// Tokens as a platform returns them. Secret fields never print.
#[derive(Debug, Clone)]
pub struct TokenSet {
    /// Bearer token for API calls.
    pub access_token: SecretString,
    /// Refresh token, when the platform grants one.
    pub refresh_token: Option<SecretString>,
    /// When the access token expires; `None` only for platforms whose tokens do not expire.
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Scopes actually granted.
    pub scopes: Vec<String>,
}

/// What every platform adapter offers. Methods the platform lacks answer
/// [`AdapterError::Unsupported`].
pub trait PlatformAdapter: Send + Sync {
    /// Static facts about the platform.
    fn descriptor(&self) -> &Descriptor;

    /// Exchanges a refresh token for a new token set.
    fn refresh<'a>(
        &'a self,
        refresh_token: &'a SecretString,
    ) -> BoxFuture<'a, Result<TokenSet, AdapterError>>;

    /// Revokes a token at the platform, where it has an endpoint for that.
    fn revoke<'a>(&'a self, token: &'a SecretString) -> BoxFuture<'a, Result<(), AdapterError>>;
}
