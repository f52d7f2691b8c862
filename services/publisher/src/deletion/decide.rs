//! What follows a delete call (or a check that made none): a pure function of the adapter's
//! answer, the calls so far and the publishing retry policy, so every path is unit-tested
//! without a platform.
//!
//! The rules are publishing's (same backoff, same rate-limit waits, same attempt budget) with
//! one difference: a delete whose answer was lost is simply made again. A repeated delete finds
//! the post gone ([`Deletion::AlreadyGone`]), so it can never do harm twice, and needs no
//! reconciliation.

use chrono::{DateTime, Utc};
use platform_adapters::{AdapterError, Deletion};

use crate::outcome::{backoff, RetryPolicy, AWAITING_REFRESH};

/// Where a deletion goes next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settle {
    /// The platform no longer has the post.
    Deleted,
    /// The platform cannot delete posts through its API: the post stays live.
    Unsupported { message: String },
    /// Gave up; the post stays live.
    Failed { code: &'static str, message: String },
    /// Try again at `at`. `refresh`: ask token-refresher for an urgent refresh first.
    Retry {
        at: DateTime<Utc>,
        code: &'static str,
        message: String,
        refresh: bool,
    },
}

impl Settle {
    /// The code stored with the deletion, if it did not succeed.
    pub fn code(&self) -> Option<&'static str> {
        match self {
            Self::Deleted => None,
            Self::Unsupported { .. } => Some("unsupported"),
            Self::Failed { code, .. } | Self::Retry { code, .. } => Some(code),
        }
    }
}

/// The message of a platform that cannot delete, naming it (`name` is its display name).
pub fn unsupported_message(name: &str) -> String {
    format!(
        "{name} does not let apps delete posts through its API: the post is still on {name}; delete it there yourself"
    )
}

/// Decides what follows a delete call. `attempts` counts the call just made; `waited_for_refresh`
/// says whether the deletion already waited once for a fresh token (a fresh token refused
/// again fails, as in publishing). `name` is the platform's display name, for messages.
pub fn after_delete(
    result: &Result<Deletion, AdapterError>,
    name: &str,
    attempts: i32,
    waited_for_refresh: bool,
    policy: &RetryPolicy,
    now: DateTime<Utc>,
) -> Settle {
    let err = match result {
        Ok(Deletion::Deleted | Deletion::AlreadyGone) => return Settle::Deleted,
        Err(err) => err,
    };
    let exhausted = attempts >= policy.max_attempts;
    match err {
        AdapterError::Unsupported { .. } => Settle::Unsupported {
            message: unsupported_message(name),
        },
        AdapterError::Rejected { message, .. } => Settle::Failed {
            code: "rejected",
            message: format!("{name} refused to delete the post: {message}"),
        },
        AdapterError::NeedsReauth { .. } if waited_for_refresh || exhausted => Settle::Failed {
            code: "needs_reauth",
            message: format!(
                "reconnect your {name} account, then delete the post again: {name} refused Postbridge's access"
            ),
        },
        AdapterError::NeedsReauth { .. } => Settle::Retry {
            at: now + chrono_duration(policy.token_wait),
            code: AWAITING_REFRESH,
            message: format!(
                "{name} refused the account's token; waiting for it to be refreshed, then deleting again"
            ),
            refresh: true,
        },
        _ if exhausted => Settle::Failed {
            code: "retries_exhausted",
            message: format!(
                "{name} kept failing to delete the post after {attempts} attempts: {err}"
            ),
        },
        AdapterError::RateLimited { retry_after } | AdapterError::AppRateLimited { retry_after } => {
            let wait = retry_after.unwrap_or(policy.rate_limit_wait);
            let code = match err {
                AdapterError::AppRateLimited { .. } => "app_rate_limited",
                _ => "rate_limited",
            };
            Settle::Retry {
                at: now + chrono_duration(wait),
                code,
                message: format!(
                    "{name} is rate limiting; deleting again in {}s",
                    wait.as_secs().max(1)
                ),
                refresh: false,
            }
        }
        AdapterError::Transient { .. } | AdapterError::OutcomeUnknown { .. } => {
            let wait = backoff(attempts, policy);
            Settle::Retry {
                at: now + chrono_duration(wait),
                code: "transient",
                message: format!(
                    "{name} failed temporarily while deleting ({err}); trying again in {}s",
                    wait.as_secs().max(1)
                ),
                refresh: false,
            }
        }
    }
}

fn chrono_duration(d: std::time::Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

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

    fn transient() -> Result<Deletion, AdapterError> {
        Err(AdapterError::Transient {
            message: "HTTP 503".into(),
        })
    }

    #[test]
    fn a_post_already_gone_counts_as_deleted() {
        let now = Utc::now();
        for answer in [Deletion::Deleted, Deletion::AlreadyGone] {
            assert_eq!(
                after_delete(&Ok(answer), "X", 1, false, &policy(), now),
                Settle::Deleted
            );
        }
    }

    #[test]
    fn a_transient_failure_retries_with_publishings_backoff_until_the_budget_is_spent() {
        let now = Utc::now();
        let Settle::Retry { at, code, .. } =
            after_delete(&transient(), "X", 1, false, &policy(), now)
        else {
            panic!("a first transient failure is retried");
        };
        assert_eq!(code, "transient");
        assert!(
            at >= now + chrono::Duration::seconds(1) && at <= now + chrono::Duration::seconds(2)
        );
        let Settle::Failed { code, message } =
            after_delete(&transient(), "X", 3, false, &policy(), now)
        else {
            panic!("the last attempt's failure is final");
        };
        assert_eq!(code, "retries_exhausted");
        assert!(message.contains("X kept failing to delete"), "{message}");
    }

    #[test]
    fn an_unanswered_delete_is_simply_made_again() {
        let now = Utc::now();
        let lost = Err(AdapterError::OutcomeUnknown {
            message: "timed out".into(),
        });
        assert!(matches!(
            after_delete(&lost, "Bluesky", 1, false, &policy(), now),
            Settle::Retry {
                code: "transient",
                refresh: false,
                ..
            }
        ));
    }

    #[test]
    fn a_rate_limit_waits_for_the_platforms_reset() {
        let now = Utc::now();
        let limited = Err(AdapterError::RateLimited {
            retry_after: Some(Duration::from_secs(900)),
        });
        assert_eq!(
            after_delete(&limited, "X", 1, false, &policy(), now),
            Settle::Retry {
                at: now + chrono::Duration::seconds(900),
                code: "rate_limited",
                message: "X is rate limiting; deleting again in 900s".into(),
                refresh: false,
            }
        );
        let app = Err(AdapterError::AppRateLimited { retry_after: None });
        assert!(matches!(
            after_delete(&app, "X", 1, false, &policy(), now),
            Settle::Retry { at, code: "app_rate_limited", .. } if at == now + chrono::Duration::seconds(30)
        ));
    }

    #[test]
    fn an_unsupported_platform_ends_unsupported_with_a_message_naming_it() {
        let unsupported = Err(AdapterError::Unsupported {
            what: "instagram posts cannot be deleted through its API".into(),
        });
        let Settle::Unsupported { message } =
            after_delete(&unsupported, "Instagram", 1, false, &policy(), Utc::now())
        else {
            panic!("unsupported is final");
        };
        assert!(
            message.starts_with("Instagram does not let apps delete posts"),
            "{message}"
        );
        assert!(message.contains("still on Instagram"), "{message}");
    }

    #[test]
    fn a_refused_token_waits_for_one_refresh_then_fails_asking_to_reconnect() {
        let now = Utc::now();
        let refused = Err(AdapterError::NeedsReauth {
            message: "401".into(),
        });
        assert!(matches!(
            after_delete(&refused, "LinkedIn", 1, false, &policy(), now),
            Settle::Retry { code: AWAITING_REFRESH, refresh: true, at, .. } if at == now + chrono::Duration::seconds(60)
        ));
        let Settle::Failed { code, message } =
            after_delete(&refused, "LinkedIn", 2, true, &policy(), now)
        else {
            panic!("a fresh token refused again is final");
        };
        assert_eq!(code, "needs_reauth");
        assert!(
            message.starts_with("reconnect your LinkedIn account"),
            "{message}"
        );
    }

    #[test]
    fn a_refusal_is_final_and_keeps_the_platforms_reason() {
        let refused = Err(AdapterError::Rejected {
            code: "403".into(),
            message: "You are not allowed to delete this Tweet.".into(),
        });
        assert_eq!(
            after_delete(&refused, "X", 1, false, &policy(), Utc::now()),
            Settle::Failed {
                code: "rejected",
                message: "X refused to delete the post: You are not allowed to delete this Tweet."
                    .into(),
            }
        );
    }
}
