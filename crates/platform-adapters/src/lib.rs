#![doc = include_str!("../README.md")]

mod after_publish;
mod classify;
mod descriptor;
mod error;
pub mod hosts;
pub mod http;
pub mod oauth;
pub mod platforms;
mod registry;
pub mod spec;
mod types;
pub mod validate;

use futures_util::future::BoxFuture;
use secrecy::SecretString;

pub use after_publish::{Deletion, FollowUps, PostMetrics, PostRef, ReplyTo};
pub use classify::{classify_response, parse_retry_after};
pub use descriptor::{Capabilities, Descriptor, MediaKind, PublishLimit, TextCounting};
pub use error::AdapterError;
pub use registry::{InstanceAppsOf, PlatformConfig, PlatformsConfig, Registry};
pub use types::*;

/// What every OAuth platform adapter offers for connecting accounts. Methods a platform lacks
/// answer [`AdapterError::Unsupported`]. Bluesky (app passwords) and Mastodon (an app per
/// instance) add their own entry points on their concrete types.
pub trait PlatformAdapter: Send + Sync {
    /// Static facts about the platform.
    fn descriptor(&self) -> &Descriptor;

    /// The URL the user's browser is sent to. `params.pkce_challenge` is the S256 challenge,
    /// present when [`Descriptor::pkce`] is true.
    fn authorize_url(&self, params: &AuthorizeParams<'_>) -> Result<String, AdapterError>;

    /// Exchanges an authorization code for tokens and fetches who they belong to. Meta returns
    /// one connection per Facebook page (or Instagram business account); others return one.
    fn exchange_code<'a>(
        &'a self,
        exchange: &'a CodeExchange<'a>,
    ) -> BoxFuture<'a, Result<Vec<Connection>, AdapterError>>;

    /// Connects an account with a password the user made for us (Bluesky's app passwords),
    /// on `service` where the user named one. Only [`domain::AuthKind::AppPassword`] platforms
    /// offer it; the rest keep this default, `Unsupported`.
    fn connect_with_password<'a>(
        &'a self,
        _identifier: &'a str,
        _password: &'a SecretString,
        _service: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Connection, AdapterError>> {
        let platform = self.descriptor().platform;
        Box::pin(async move {
            Err(AdapterError::Unsupported {
                what: format!("{platform} accounts are not connected with a password"),
            })
        })
    }

    /// The account's current profile.
    fn profile<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
    ) -> BoxFuture<'a, Result<Profile, AdapterError>>;

    /// The account's follower, following and post counts (what the platform exposes).
    fn stats<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
    ) -> BoxFuture<'a, Result<Stats, AdapterError>>;

    /// The account's profile and counts together: what a sync reads. Platforms that answer
    /// both in one response (X's `GET /2/users/me` with `public_metrics`, YouTube's channel,
    /// Mastodon's `verify_credentials`, …) override it with that one call, so a sync costs one
    /// request of the per-user rate limit instead of two.
    fn profile_and_stats<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
    ) -> BoxFuture<'a, Result<(Profile, Stats), AdapterError>> {
        Box::pin(futures_util::future::try_join(
            self.profile(account),
            self.stats(account),
        ))
    }

    /// Exchanges the account's refresh token (or, on Meta, its long-lived token) for a fresh
    /// token set. The caller persists the result before anything else: on platforms whose
    /// refresh tokens rotate (X, TikTok, Bluesky, sandbox) the old one is dead from now on.
    /// A returned `refresh_token` of `None` means "keep the stored one". Platforms whose tokens
    /// never expire (Mastodon, Facebook Page tokens) keep this default: `Unsupported`.
    fn refresh<'a>(
        &'a self,
        _account: &'a AccountRef<'a>,
    ) -> BoxFuture<'a, Result<TokenSet, AdapterError>> {
        let platform = self.descriptor().platform;
        Box::pin(async move {
            Err(AdapterError::Unsupported {
                what: format!("{platform} tokens are not refreshed"),
            })
        })
    }

    /// Revokes the account's grant at the platform, where it has an endpoint for that.
    fn revoke<'a>(
        &'a self,
        account: &'a AccountRef<'a>,
    ) -> BoxFuture<'a, Result<Revocation, AdapterError>>;

    /// Publishes one post. Only the final, creating call may answer
    /// [`AdapterError::OutcomeUnknown`] (use [`http::send_unsure`] for it): uploads and
    /// containers that time out are merely `Transient`, since repeating them creates no post.
    fn publish<'a>(
        &'a self,
        _account: &'a AccountRef<'a>,
        _post: &'a PublishRequest<'a>,
    ) -> BoxFuture<'a, Result<Published, AdapterError>> {
        let platform = self.descriptor().platform;
        Box::pin(async move {
            Err(AdapterError::Unsupported {
                what: format!("publishing to {platform} is not available yet"),
            })
        })
    }

    /// Looks for a post made by an earlier attempt whose outcome is unknown, so it is
    /// recorded rather than posted twice. `Ok(None)`: certainly not there, safe to publish.
    /// Platforms that cannot look posts up keep this default (`Unsupported`), and the target
    /// stays `unknown` for a person to check.
    fn find_published<'a>(
        &'a self,
        _account: &'a AccountRef<'a>,
        _post: &'a PublishRequest<'a>,
    ) -> BoxFuture<'a, Result<Option<Published>, AdapterError>> {
        let platform = self.descriptor().platform;
        Box::pin(async move {
            Err(AdapterError::Unsupported {
                what: format!("{platform} posts cannot be looked up"),
            })
        })
    }
    /// Reads the engagement of up to [`FollowUps::metrics_batch`] of the account's published
    /// posts in as few requests as the platform allows. A post missing from the answer is one
    /// the platform no longer shows (deleted, hidden); it is left out rather than reported as
    /// zeros. Platforms without per-post engagement keep this default, `Unsupported`.
    fn post_metrics<'a>(
        &'a self,
        _account: &'a AccountRef<'a>,
        _posts: &'a [PostRef<'a>],
    ) -> BoxFuture<'a, Result<Vec<PostMetrics>, AdapterError>> {
        let platform = self.descriptor().platform;
        Box::pin(async move {
            Err(AdapterError::Unsupported {
                what: format!("{platform} does not report engagement per post"),
            })
        })
    }

    /// Deletes a published post. A post already gone answers [`Deletion::AlreadyGone`], so a
    /// repeated delete ends the same way. Platforms whose API cannot delete (Instagram,
    /// TikTok) keep this default, `Unsupported`.
    fn delete_post<'a>(
        &'a self,
        _account: &'a AccountRef<'a>,
        _post: &'a PostRef<'a>,
    ) -> BoxFuture<'a, Result<Deletion, AdapterError>> {
        let platform = self.descriptor().platform;
        Box::pin(async move {
            Err(AdapterError::Unsupported {
                what: format!("{platform} posts cannot be deleted through its API"),
            })
        })
    }

    /// Adds a comment under one of the account's own posts (Facebook, Instagram, LinkedIn,
    /// YouTube). Platforms without comments but with replies publish the first comment as a
    /// reply ([`PublishRequest::reply_to`]) instead and keep this default, `Unsupported`.
    fn comment<'a>(
        &'a self,
        _account: &'a AccountRef<'a>,
        _on: &'a PostRef<'a>,
        _comment: &'a PublishRequest<'a>,
    ) -> BoxFuture<'a, Result<Published, AdapterError>> {
        let platform = self.descriptor().platform;
        Box::pin(async move {
            Err(AdapterError::Unsupported {
                what: format!("{platform} posts cannot be commented on through its API"),
            })
        })
    }
}
