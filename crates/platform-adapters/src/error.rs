//! The classes of platform failure.

use std::time::Duration;

/// A platform call failed; the variant tells the caller what to do next.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdapterError {
    /// The token was refused (401, `invalid_grant`, revoked): refresh, or ask the user to
    /// reconnect.
    #[error("the platform refused our credentials: {message}")]
    NeedsReauth {
        /// The platform's explanation, sanitized.
        message: String,
    },
    /// Too many requests: try again after `retry_after` (the platform's `Retry-After` or reset
    /// header), or after a default wait when it gave none.
    #[error("rate limited by the platform (retry after {retry_after:?})")]
    RateLimited {
        /// How long the platform asked us to wait, if it said.
        retry_after: Option<Duration>,
    },
    /// The platform's limit for this whole application is used up until `retry_after`: X's
    /// per-app 24-hour cap on posting, YouTube's daily project quota, Meta's application
    /// request limit (code 4). Every account of this deployment is refused until then, so a
    /// caller pauses the platform rather than earning one refusal per account.
    #[error("the platform's limit for this application is used up (retry after {retry_after:?})")]
    AppRateLimited {
        /// How long the platform asked us to wait, if it said.
        retry_after: Option<Duration>,
    },
    /// Network trouble or a server error: retry with backoff.
    #[error("temporary platform failure: {message}")]
    Transient {
        /// What went wrong.
        message: String,
    },
    /// The request itself is invalid (too long, missing media, policy): do not retry.
    #[error("rejected by the platform ({code}): {message}")]
    Rejected {
        /// The platform's error code, or the HTTP status.
        code: String,
        /// The platform's reason.
        message: String,
    },
    /// The request may or may not have taken effect: it was sent, but no answer came back
    /// (a timeout, a connection dropped mid-answer). Publishing must not blindly repeat it:
    /// the post is looked up on the platform, or the call repeated only where the platform
    /// deduplicates it.
    #[error("no answer from the platform; the outcome is unknown: {message}")]
    OutcomeUnknown {
        /// What went wrong.
        message: String,
    },
    /// The platform cannot do this at all.
    #[error("not supported by this platform: {what}")]
    Unsupported {
        /// The missing capability.
        what: String,
    },
}

impl AdapterError {
    /// Whether retrying the same call later can succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::RateLimited { .. } | Self::AppRateLimited { .. } | Self::Transient { .. }
        )
    }

    /// For a call that creates something (a post): a failure to connect is transient (the
    /// request never left), any other network failure leaves the outcome unknown.
    pub fn from_transport_unsure(err: &reqwest::Error) -> Self {
        if let Some(refused) = crate::hosts::refusal_in(err) {
            return refused;
        }
        if err.is_connect() || err.is_builder() {
            Self::from_transport(err)
        } else {
            Self::OutcomeUnknown {
                message: err.to_string(),
            }
        }
    }

    /// A network-level failure (connect, timeout, reading the body) is transient; a host the
    /// resolver refused as private is a permanent configuration error instead.
    pub fn from_transport(err: &reqwest::Error) -> Self {
        if let Some(refused) = crate::hosts::refusal_in(err) {
            return refused;
        }
        // reqwest's Display never includes headers, so no token can leak through it.
        Self::Transient {
            message: err.to_string(),
        }
    }
}
