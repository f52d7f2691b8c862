//! What to do after a platform call: a pure function of the error class, the attempts so far
//! and the retry policy, so every path is unit-tested without a platform.

use std::time::Duration;

use chrono::{DateTime, Utc};
use db::domain::{AttemptOutcome, Platform};
use platform_adapters::AdapterError;
use rand::Rng;

/// The retry policy (from `[publisher]`).
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts before a retryable failure becomes final.
    pub max_attempts: i32,
    /// First backoff; doubles per attempt.
    pub backoff_base: Duration,
    /// Longest backoff.
    pub backoff_max: Duration,
    /// Wait after a 429 without a stated reset.
    pub rate_limit_wait: Duration,
    /// Wait before reconciling an unanswered call.
    pub reconcile_delay: Duration,
    /// Longest wait for token-refresher after asking it for a fresh token; the target is
    /// tried again then even if no `token.refreshed` came.
    pub token_wait: Duration,
}

/// The target's error code while it waits for its account's token to be refreshed.
/// `token.refreshed` makes the account's targets that carry it due at once.
pub const AWAITING_REFRESH: &str = "awaiting_token_refresh";

/// What happens to the target next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Try again at `at`; `code`/`message` say why it is waiting.
    Retry {
        at: DateTime<Utc>,
        code: &'static str,
        message: String,
    },
    /// The platform may have the post: look it up at `at` before anything else.
    Reconcile { at: DateTime<Utc>, message: String },
    /// The token was refused: ask token-refresher for a fresh one and wait for it until `at`
    /// at the latest.
    AwaitRefresh { at: DateTime<Utc>, message: String },
    /// Give up: the target fails with this code and message.
    Fail { code: &'static str, message: String },
}

/// What is known of earlier refusals of the account's token on this target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusals {
    /// None, or none since the token was last refreshed: a refresh may well cure it.
    NotSinceRefresh,
    /// The platform refused the token, it was refreshed, and the fresh token was refused
    /// too: only the user can fix that.
    AfterRefresh,
}

/// The attempt's recorded outcome for an error.
pub fn attempt_outcome(err: &AdapterError) -> AttemptOutcome {
    match err {
        AdapterError::NeedsReauth { .. } => AttemptOutcome::NeedsReauth,
        AdapterError::RateLimited { .. } | AdapterError::AppRateLimited { .. } => {
            AttemptOutcome::RateLimited
        }
        AdapterError::Transient { .. } => AttemptOutcome::Transient,
        AdapterError::Rejected { .. } => AttemptOutcome::Rejected,
        AdapterError::OutcomeUnknown { .. } => AttemptOutcome::Unknown,
        AdapterError::Unsupported { .. } => AttemptOutcome::Unsupported,
    }
}

/// The platform's error code for the attempt log, where it gave one.
pub fn error_code(err: &AdapterError) -> &str {
    match err {
        AdapterError::Rejected { code, .. } => code,
        AdapterError::NeedsReauth { .. } => "needs_reauth",
        AdapterError::RateLimited { .. } => "rate_limited",
        AdapterError::AppRateLimited { .. } => "app_rate_limited",
        AdapterError::Transient { .. } => "transient",
        AdapterError::OutcomeUnknown { .. } => "outcome_unknown",
        AdapterError::Unsupported { .. } => "unsupported",
    }
}

/// Why a target of an account in `needs_reauth` fails: the one message that asks the user to
/// reconnect.
pub fn reconnect_message(platform: Platform) -> String {
    format!(
        "reconnect your {platform} account: {platform} refused Postbridge's access, so the post was not published"
    )
}

/// Decides what follows a failed call. `attempts` counts the call that just failed.
///
/// A refused token (401) is not final: access tokens expire or are revoked early, and
/// token-refresher can usually get a new one. The target waits for that refresh and is tried
/// once more; it fails only when a freshly refreshed token is refused as well (an account the
/// refresher could not refresh is marked `needs_reauth`, and its targets fail before any call).
pub fn after_failure(
    err: &AdapterError,
    platform: Platform,
    attempts: i32,
    refusals: Refusals,
    policy: &RetryPolicy,
    now: DateTime<Utc>,
) -> Next {
    let exhausted = attempts >= policy.max_attempts;
    match err {
        AdapterError::NeedsReauth { .. } if refusals == Refusals::AfterRefresh => Next::Fail {
            code: "needs_reauth",
            message: reconnect_message(platform),
        },
        AdapterError::NeedsReauth { .. } => Next::AwaitRefresh {
            at: now + chrono_duration(policy.token_wait),
            message: format!(
                "{platform} refused the account's token; waiting for it to be refreshed, then trying once more"
            ),
        },
        AdapterError::Rejected { message, .. } => Next::Fail {
            code: "rejected",
            message: format!("{platform} refused the post: {message}"),
        },
        AdapterError::Unsupported { what } => Next::Fail {
            code: "unsupported",
            message: format!("{platform} cannot publish this: {what}"),
        },
        AdapterError::OutcomeUnknown { message } => Next::Reconcile {
            at: now + chrono_duration(policy.reconcile_delay),
            message: format!(
                "{platform} did not answer ({message}); checking whether the post went out before trying again"
            ),
        },
        _ if exhausted => Next::Fail {
            code: "retries_exhausted",
            message: format!("{platform} kept failing after {attempts} attempts: {err}"),
        },
        AdapterError::RateLimited { retry_after } | AdapterError::AppRateLimited { retry_after } => {
            let wait = retry_after.unwrap_or(policy.rate_limit_wait);
            let (code, whom) = match err {
                AdapterError::AppRateLimited { .. } => {
                    ("app_rate_limited", "this application (all its accounts)")
                }
                _ => ("rate_limited", "this account"),
            };
            Next::Retry {
                at: now + chrono_duration(wait),
                code,
                message: format!(
                    "{platform} is rate limiting {whom}; trying again in {}s",
                    wait.as_secs().max(1)
                ),
            }
        }
        AdapterError::Transient { .. } => {
            let wait = backoff(attempts, policy);
            Next::Retry {
                at: now + chrono_duration(wait),
                code: "transient",
                message: format!(
                    "{platform} failed temporarily ({err}); trying again in {}s",
                    wait.as_secs().max(1)
                ),
            }
        }
    }
}

/// Exponential backoff with full jitter over the upper half: `base · 2^(attempts-1)`, capped,
/// then a random point between half and all of it, so retries of a burst spread out.
pub fn backoff(attempts: i32, policy: &RetryPolicy) -> Duration {
    let exponent = u32::try_from(attempts.saturating_sub(1).clamp(0, 20)).unwrap_or(20);
    let ceiling = policy
        .backoff_base
        .saturating_mul(2u32.saturating_pow(exponent))
        .min(policy.backoff_max);
    let half = ceiling / 2;
    let jitter = rand::thread_rng().gen_range(0..=half.as_millis().max(1) as u64);
    half + Duration::from_millis(jitter)
}

fn chrono_duration(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 3,
            backoff_base: Duration::from_secs(2),
            backoff_max: Duration::from_secs(60),
            rate_limit_wait: Duration::from_secs(30),
            reconcile_delay: Duration::from_secs(10),
            token_wait: Duration::from_secs(60),
        }
    }

    const FIRST: Refusals = Refusals::NotSinceRefresh;

    fn transient() -> AdapterError {
        AdapterError::Transient {
            message: "HTTP 503".into(),
        }
    }

    #[test]
    fn a_transient_failure_retries_with_growing_backoff_until_the_limit() {
        let now = Utc::now();
        let Next::Retry { at, code, .. } =
            after_failure(&transient(), Platform::X, 1, FIRST, &policy(), now)
        else {
            panic!("a first transient failure is retried");
        };
        assert_eq!(code, "transient");
        assert!(
            at >= now + chrono::Duration::seconds(1) && at <= now + chrono::Duration::seconds(2)
        );
        let Next::Retry { at, .. } =
            after_failure(&transient(), Platform::X, 2, FIRST, &policy(), now)
        else {
            panic!("a second transient failure is retried");
        };
        assert!(
            at >= now + chrono::Duration::seconds(2) && at <= now + chrono::Duration::seconds(4)
        );
        assert!(matches!(
            after_failure(&transient(), Platform::X, 3, FIRST, &policy(), now),
            Next::Fail {
                code: "retries_exhausted",
                ..
            }
        ));
    }

    #[test]
    fn a_rate_limit_waits_for_the_platforms_reset() {
        let now = Utc::now();
        let err = AdapterError::RateLimited {
            retry_after: Some(Duration::from_secs(900)),
        };
        let Next::Retry { at, code, .. } =
            after_failure(&err, Platform::X, 1, FIRST, &policy(), now)
        else {
            panic!("a rate limit is retried");
        };
        assert_eq!(code, "rate_limited");
        assert_eq!(at, now + chrono::Duration::seconds(900));
        let unstated = AdapterError::RateLimited { retry_after: None };
        let Next::Retry { at, .. } =
            after_failure(&unstated, Platform::X, 1, FIRST, &policy(), now)
        else {
            panic!("a rate limit is retried");
        };
        assert_eq!(at, now + chrono::Duration::seconds(30));
    }

    #[test]
    fn a_refused_token_waits_for_a_refresh_at_most_the_token_wait() {
        let err = AdapterError::NeedsReauth {
            message: "401".into(),
        };
        let now = Utc::now();
        // Even on the last attempt: an expired token is no reason to give up.
        let next = after_failure(&err, Platform::Linkedin, 3, FIRST, &policy(), now);
        assert!(
            matches!(next, Next::AwaitRefresh { at, .. } if at == now + chrono::Duration::seconds(60)),
            "{next:?}"
        );
    }

    #[test]
    fn a_refreshed_token_refused_again_fails_and_says_reconnect() {
        let err = AdapterError::NeedsReauth {
            message: "401".into(),
        };
        let next = after_failure(
            &err,
            Platform::Linkedin,
            2,
            Refusals::AfterRefresh,
            &policy(),
            Utc::now(),
        );
        let Next::Fail { code, message } = next else {
            panic!("a fresh token refused is final: {next:?}");
        };
        assert_eq!(code, "needs_reauth");
        assert!(
            message.contains("reconnect your linkedin account"),
            "{message}"
        );
    }

    #[test]
    fn a_rejection_fails_at_once_with_the_platforms_reason() {
        let err = AdapterError::Rejected {
            code: "186".into(),
            message: "Status is a duplicate.".into(),
        };
        let Next::Fail { code, message, .. } =
            after_failure(&err, Platform::X, 1, FIRST, &policy(), Utc::now())
        else {
            panic!("a rejection is final");
        };
        assert_eq!(code, "rejected");
        assert!(message.contains("Status is a duplicate."), "{message}");
    }

    #[test]
    fn an_unanswered_call_is_reconciled_never_retried_blindly() {
        let now = Utc::now();
        let err = AdapterError::OutcomeUnknown {
            message: "timed out".into(),
        };
        // Even on the last attempt: the post may exist, so it is looked up first.
        let next = after_failure(&err, Platform::X, 3, FIRST, &policy(), now);
        assert!(
            matches!(next, Next::Reconcile { at, .. } if at == now + chrono::Duration::seconds(10)),
            "{next:?}"
        );
    }

    #[test]
    fn backoff_stays_within_its_cap() {
        for attempts in 1..30 {
            assert!(backoff(attempts, &policy()) <= Duration::from_secs(60));
        }
    }
}
