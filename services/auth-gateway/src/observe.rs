//! The gateway's own metrics: how connections (OAuth flows) end per platform, why requests are
//! refused authentication, and how large uploads are.
//!
//! The collectors live in statics and each call site is one line (`observe::upload(..)`), so
//! recording a metric never changes a handler's or a feature's signature; [`register`] adds
//! them to the service's registry at start-up (several registries may hold the same
//! collectors, as several gateways do in one test process).

use std::sync::LazyLock;

use db::domain::Platform;
use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry};

#[expect(
    clippy::expect_used,
    reason = "static metric definitions: constant names and labels, checked by the tests"
)]
static METRICS: LazyLock<GatewayMetrics> =
    LazyLock::new(|| GatewayMetrics::new().expect("valid metric definitions"));

/// The collectors.
#[derive(Debug, Clone)]
struct GatewayMetrics {
    connect_outcomes: IntCounterVec,
    auth_failures: IntCounterVec,
    upload_bytes: HistogramVec,
}

impl GatewayMetrics {
    fn new() -> prometheus::Result<Self> {
        Ok(Self {
            connect_outcomes: IntCounterVec::new(
                Opts::new(
                    "postbridge_connect_outcomes_total",
                    "OAuth callbacks by platform and outcome (authorized, or the error code the frontend gets)",
                ),
                &["platform", "outcome"],
            )?,
            auth_failures: IntCounterVec::new(
                Opts::new(
                    "postbridge_auth_failures_total",
                    "Requests refused authentication, by reason",
                ),
                &["reason"],
            )?,
            upload_bytes: HistogramVec::new(
                HistogramOpts::new("postbridge_upload_bytes", "Size of stored uploads").buckets(
                    vec![
                        16_384.0,
                        131_072.0,
                        1_048_576.0,
                        4_194_304.0,
                        16_777_216.0,
                        67_108_864.0,
                        268_435_456.0,
                        536_870_912.0,
                    ],
                ),
                &["kind"],
            )?,
        })
    }
}

/// Adds the gateway's collectors to `registry`.
pub fn register(registry: &Registry) -> prometheus::Result<()> {
    registry.register(Box::new(METRICS.connect_outcomes.clone()))?;
    registry.register(Box::new(METRICS.auth_failures.clone()))?;
    registry.register(Box::new(METRICS.upload_bytes.clone()))?;
    Ok(())
}

/// Counts how an OAuth callback for `platform` ended, from the URL the browser is sent to:
/// a `ticket` is `authorized`, an `error=<code>` is that code.
pub fn connect_outcome(platform: Platform, redirect: String) -> String {
    let outcome = reqwest::Url::parse(&redirect)
        .ok()
        .and_then(|url| {
            url.query_pairs().find_map(|(k, v)| match k.as_ref() {
                "ticket" => Some("authorized".to_owned()),
                "error" => Some(v.into_owned()),
                _ => None,
            })
        })
        .unwrap_or_else(|| "unknown".to_owned());
    METRICS
        .connect_outcomes
        .with_label_values(&[platform.as_str(), &outcome])
        .inc();
    redirect
}

/// Why a request was refused authentication: the `reason` label of
/// `postbridge_auth_failures_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    /// No `Authorization: Bearer` header.
    MissingToken,
    /// A token the authenticator refused.
    InvalidToken,
    /// The identity provider's JWKS could not be fetched.
    IdpUnavailable,
    /// Anything else the authenticator answered.
    Other,
}

impl AuthFailure {
    /// The reason behind the authenticator's refusal of a token that was presented.
    pub fn of(err: &crate::error::ApiError) -> Self {
        use crate::error::ApiError;
        match err {
            ApiError::Unauthorized(_) => Self::InvalidToken,
            ApiError::Unavailable(_) => Self::IdpUnavailable,
            _ => Self::Other,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::MissingToken => "missing_token",
            Self::InvalidToken => "invalid_token",
            Self::IdpUnavailable => "idp_unavailable",
            Self::Other => "other",
        }
    }
}

/// Counts a request refused authentication for `reason`.
pub fn auth_failure(reason: AuthFailure) {
    METRICS
        .auth_failures
        .with_label_values(&[reason.label()])
        .inc();
}

/// Records the size of a stored upload of `mime_type`.
pub fn upload(mime_type: &str, bytes: u64) {
    let kind = if mime_type.starts_with("video/") {
        "video"
    } else {
        "image"
    };
    METRICS
        .upload_bytes
        .with_label_values(&[kind])
        .observe(bytes as f64);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_token_is_counted_as_invalid_and_an_unreachable_idp_as_unavailable() {
        use crate::error::ApiError;
        assert_eq!(
            AuthFailure::of(&ApiError::Unauthorized(
                "invalid bearer token: expired".into()
            )),
            AuthFailure::InvalidToken
        );
        assert_eq!(
            AuthFailure::of(&ApiError::Unavailable(anyhow::anyhow!("jwks"))),
            AuthFailure::IdpUnavailable
        );
        assert_eq!(AuthFailure::MissingToken.label(), "missing_token");
    }

    #[test]
    fn callback_outcomes_are_read_from_the_redirect() {
        let registry = Registry::new();
        register(&registry).unwrap_or_else(|e| panic!("{e}"));
        let before = |outcome: &str| {
            METRICS
                .connect_outcomes
                .with_label_values(&["mastodon", outcome])
                .get()
        };
        let (authorized, denied) = (before("authorized"), before("access_denied"));
        connect_outcome(
            Platform::Mastodon,
            "https://app.example/connected?platform=mastodon&ticket=abc".into(),
        );
        connect_outcome(
            Platform::Mastodon,
            "https://app.example/connected?error=access_denied".into(),
        );
        assert_eq!(before("authorized"), authorized + 1);
        assert_eq!(before("access_denied"), denied + 1);
        upload("video/mp4", 5_000_000);
        let text = prometheus::TextEncoder::new()
            .encode_to_string(&registry.gather())
            .unwrap_or_default();
        assert!(
            text.contains("postbridge_upload_bytes_bucket{kind=\"video\",le=\"16777216\"} 1"),
            "{text}"
        );
    }
}
