//! Behaviour switches: consent page or auto-approval, token lifetime, fault injection for the
//! server-to-server endpoints, the "accepted but unanswered" stall of post creation, and the
//! "rotated but not yet answered" hold of refresh grants. Set at start from `[platform_sim]` and changeable at run
//! time (`POST /_sim/knobs`, [`crate::Sim::set_knobs`]) so one running sim can serve a demo and
//! then a chaos test.

use serde::{Deserialize, Serialize};

/// Longest accepted access-token lifetime (ten years): keeps `Instant` arithmetic far from
/// overflow while allowing "effectively never expires" in tests.
const MAX_TTL_SECS: u64 = 10 * 365 * 24 * 3600;
/// Longest accepted stall (ten minutes): longer than any client timeout worth simulating,
/// short enough that a forgotten knob does not pin connections for hours.
const MAX_STALL_MS: u64 = 10 * 60 * 1000;

/// The current behaviour switches.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Knobs {
    /// Show an Approve/Deny page at `/oauth/authorize` instead of approving at once.
    pub consent_page: bool,
    /// Lifetime of access tokens issued from now on, in seconds (at least 1).
    pub access_token_ttl_secs: u64,
    /// Added delay before every server-to-server call is answered, in milliseconds.
    pub latency_ms: u64,
    /// Fraction (0–1) of server-to-server calls answered `503 Service Unavailable`.
    pub error_rate: f64,
    /// Fraction (0–1) of server-to-server calls answered `429 Too Many Requests` with
    /// `Retry-After: 1`.
    pub rate_limit_rate: f64,
    /// Fraction (0–1) of successful `POST /api/v1/posts` calls whose answer is held back for
    /// [`Knobs::stall_ms`] *after* the post was stored: the platform accepted the post but the
    /// caller's request times out, the case idempotency keys and reconciliation exist for.
    pub accept_then_stall_rate: f64,
    /// How long a stalled answer is held back, in milliseconds (at most ten minutes).
    pub stall_ms: u64,
    /// How long the answer to every successful refresh-token grant is held back *after* the
    /// refresh token was rotated, in milliseconds (0: answer at once; at most ten minutes).
    /// Opens the window between "the platform rotated" and "the client has the new token" wide
    /// enough to kill a client, stop its database or drop its request inside it on purpose.
    #[serde(default)]
    pub refresh_hold_ms: u64,
}

impl Default for Knobs {
    fn default() -> Self {
        Self {
            consent_page: false,
            access_token_ttl_secs: 3600,
            latency_ms: 0,
            error_rate: 0.0,
            rate_limit_rate: 0.0,
            accept_then_stall_rate: 0.0,
            stall_ms: 30_000,
            refresh_hold_ms: 0,
        }
    }
}

impl Knobs {
    /// Checks the ranges; the message names the offending knob.
    pub fn validate(&self) -> Result<(), String> {
        if !(1..=MAX_TTL_SECS).contains(&self.access_token_ttl_secs) {
            return Err(format!(
                "access_token_ttl_secs must be within 1..={MAX_TTL_SECS}"
            ));
        }
        for (name, rate) in [
            ("error_rate", self.error_rate),
            ("rate_limit_rate", self.rate_limit_rate),
            ("accept_then_stall_rate", self.accept_then_stall_rate),
        ] {
            if !(0.0..=1.0).contains(&rate) {
                return Err(format!("{name} must be within 0..=1"));
            }
        }
        if self.error_rate + self.rate_limit_rate > 1.0 {
            return Err("error_rate + rate_limit_rate must not exceed 1".into());
        }
        if self.stall_ms > MAX_STALL_MS {
            return Err(format!("stall_ms must be within 0..={MAX_STALL_MS}"));
        }
        if self.refresh_hold_ms > MAX_STALL_MS {
            return Err(format!("refresh_hold_ms must be within 0..={MAX_STALL_MS}"));
        }
        Ok(())
    }

    /// These knobs with the fields present in `update` replaced.
    pub fn with(self, update: &KnobsUpdate) -> Self {
        Self {
            consent_page: update.consent_page.unwrap_or(self.consent_page),
            access_token_ttl_secs: update
                .access_token_ttl_secs
                .unwrap_or(self.access_token_ttl_secs),
            latency_ms: update.latency_ms.unwrap_or(self.latency_ms),
            error_rate: update.error_rate.unwrap_or(self.error_rate),
            rate_limit_rate: update.rate_limit_rate.unwrap_or(self.rate_limit_rate),
            accept_then_stall_rate: update
                .accept_then_stall_rate
                .unwrap_or(self.accept_then_stall_rate),
            stall_ms: update.stall_ms.unwrap_or(self.stall_ms),
            refresh_hold_ms: update.refresh_hold_ms.unwrap_or(self.refresh_hold_ms),
        }
    }

    /// Which fault, if any, a call draws: one uniform draw split into a rate-limit band, an
    /// error band and the rest, so the two rates are exact fractions of all calls.
    pub(crate) fn draw_fault(&self) -> Option<Fault> {
        if self.error_rate <= 0.0 && self.rate_limit_rate <= 0.0 {
            return None;
        }
        let x: f64 = rand::random();
        if x < self.rate_limit_rate {
            Some(Fault::RateLimited)
        } else if x < self.rate_limit_rate + self.error_rate {
            Some(Fault::Unavailable)
        } else {
            None
        }
    }

    /// How long to hold back the answer of one successful post creation, if at all. Drawn
    /// separately from [`Knobs::draw_fault`]: a fault means nothing happened, a stall means
    /// everything happened and only the answer is late.
    pub(crate) fn draw_stall(&self) -> Option<std::time::Duration> {
        if self.accept_then_stall_rate <= 0.0 {
            return None;
        }
        (rand::random::<f64>() < self.accept_then_stall_rate)
            .then(|| std::time::Duration::from_millis(self.stall_ms))
    }
}

/// A partial change of [`Knobs`]: the body of `POST /_sim/knobs`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KnobsUpdate {
    /// See [`Knobs::consent_page`].
    pub consent_page: Option<bool>,
    /// See [`Knobs::access_token_ttl_secs`].
    pub access_token_ttl_secs: Option<u64>,
    /// See [`Knobs::latency_ms`].
    pub latency_ms: Option<u64>,
    /// See [`Knobs::error_rate`].
    pub error_rate: Option<f64>,
    /// See [`Knobs::rate_limit_rate`].
    pub rate_limit_rate: Option<f64>,
    /// See [`Knobs::accept_then_stall_rate`].
    pub accept_then_stall_rate: Option<f64>,
    /// See [`Knobs::stall_ms`].
    pub stall_ms: Option<u64>,
    /// See [`Knobs::refresh_hold_ms`].
    pub refresh_hold_ms: Option<u64>,
}

/// An injected failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    /// 429 with `Retry-After: 1`.
    RateLimited,
    /// 503.
    Unavailable,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_range_knobs_are_refused() {
        let ok = Knobs::default();
        assert!(ok.validate().is_ok());
        assert!(Knobs {
            error_rate: 1.5,
            ..ok
        }
        .validate()
        .is_err());
        assert!(Knobs {
            access_token_ttl_secs: 0,
            ..ok
        }
        .validate()
        .is_err());
        assert!(Knobs {
            error_rate: 0.6,
            rate_limit_rate: 0.6,
            ..ok
        }
        .validate()
        .is_err());
        assert!(Knobs {
            accept_then_stall_rate: -0.1,
            ..ok
        }
        .validate()
        .is_err());
        assert!(Knobs {
            stall_ms: MAX_STALL_MS + 1,
            ..ok
        }
        .validate()
        .is_err());
        assert!(Knobs {
            refresh_hold_ms: MAX_STALL_MS + 1,
            ..ok
        }
        .validate()
        .is_err());
        // A stall is not a fault: it may come on top of every fault band.
        assert!(Knobs {
            error_rate: 0.5,
            rate_limit_rate: 0.5,
            accept_then_stall_rate: 1.0,
            ..ok
        }
        .validate()
        .is_ok());
    }

    #[test]
    fn a_certain_stall_always_fires_for_stall_ms_and_a_zero_rate_never_does() {
        let always = Knobs {
            accept_then_stall_rate: 1.0,
            stall_ms: 250,
            ..Knobs::default()
        };
        for _ in 0..100 {
            assert_eq!(
                always.draw_stall(),
                Some(std::time::Duration::from_millis(250))
            );
            assert_eq!(Knobs::default().draw_stall(), None);
        }
    }

    #[test]
    fn certain_faults_always_fire_and_zero_rates_never_do() {
        let always_429 = Knobs {
            rate_limit_rate: 1.0,
            ..Knobs::default()
        };
        let always_503 = Knobs {
            error_rate: 1.0,
            ..Knobs::default()
        };
        for _ in 0..100 {
            assert_eq!(always_429.draw_fault(), Some(Fault::RateLimited));
            assert_eq!(always_503.draw_fault(), Some(Fault::Unavailable));
            assert_eq!(Knobs::default().draw_fault(), None);
        }
    }

    #[test]
    fn an_update_changes_only_what_it_names() {
        let update = KnobsUpdate {
            latency_ms: Some(25),
            ..KnobsUpdate::default()
        };
        assert_eq!(
            Knobs::default().with(&update),
            Knobs {
                latency_ms: 25,
                ..Knobs::default()
            }
        );
    }
}
