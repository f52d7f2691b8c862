//! The health score (0–100) the frontend shows next to an account.
//!
//! A pure function of facts on the account, so it is cheap to recompute on every sync and easy
//! to test. The weights express what matters to a user: an account whose token is dead or
//! about to die cannot publish; one that is rate limited or erroring publishes late.

use chrono::{DateTime, Duration, Utc};
use db::domain::AccountStatus;

/// What the score is computed from.
#[derive(Debug, Clone, Copy)]
pub struct HealthFacts {
    /// Current status.
    pub status: AccountStatus,
    /// When the access token expires (`None`: it does not).
    pub token_expires_at: Option<DateTime<Utc>>,
    /// Whether a refresh token is stored (an expiring token without one cannot be renewed).
    pub has_refresh_token: bool,
    /// When the account was last synced successfully.
    pub last_synced_at: Option<DateTime<Utc>>,
    /// Whether the last operation left an error on the account.
    pub has_error: bool,
}

/// 0 (unusable) to 100 (healthy).
pub fn score(facts: &HealthFacts, now: DateTime<Utc>, sync_interval: Duration) -> i16 {
    match facts.status {
        AccountStatus::NeedsReauth | AccountStatus::Disconnected | AccountStatus::Disconnecting => {
            return 0
        }
        _ => {}
    }
    let mut score: i16 = 100;
    if let Some(expires_at) = facts.token_expires_at {
        let left = expires_at - now;
        // Short-lived tokens with a refresh token are normal (X: 2 h, Google: 1 h); they only
        // matter when token-refresher is late. Without a refresh token the user will be needed.
        if left <= Duration::zero() {
            score -= 60;
        } else if facts.has_refresh_token {
            if left < Duration::minutes(5) {
                score -= 10;
            }
        } else if left < Duration::hours(24) {
            score -= 30;
        } else if left < Duration::days(7) {
            score -= 15;
        }
    }
    if facts.status == AccountStatus::RateLimited {
        score -= 25;
    }
    if facts.has_error {
        score -= 20;
    }
    match facts.last_synced_at {
        Some(at) if now - at > sync_interval * 2 => score -= 10,
        None => score -= 5,
        _ => {}
    }
    score.clamp(0, 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn healthy(now: DateTime<Utc>) -> HealthFacts {
        HealthFacts {
            status: AccountStatus::Active,
            token_expires_at: Some(now + Duration::days(30)),
            has_refresh_token: true,
            last_synced_at: Some(now),
            has_error: false,
        }
    }

    #[test]
    fn a_fresh_account_is_fully_healthy() {
        let now = Utc::now();
        assert_eq!(score(&healthy(now), now, Duration::hours(6)), 100);
    }

    #[test]
    fn an_account_needing_reauth_scores_zero() {
        let now = Utc::now();
        let facts = HealthFacts {
            status: AccountStatus::NeedsReauth,
            ..healthy(now)
        };
        assert_eq!(score(&facts, now, Duration::hours(6)), 0);
    }

    #[test]
    fn an_expired_token_costs_more_than_an_expiring_one() {
        let now = Utc::now();
        let expired = HealthFacts {
            token_expires_at: Some(now - Duration::minutes(1)),
            ..healthy(now)
        };
        let expiring = HealthFacts {
            token_expires_at: Some(now + Duration::hours(2)),
            ..healthy(now)
        };
        assert!(
            score(&expired, now, Duration::hours(6)) < score(&expiring, now, Duration::hours(6))
        );
    }

    #[test]
    fn errors_rate_limits_and_stale_syncs_lower_the_score_but_never_below_zero() {
        let now = Utc::now();
        let facts = HealthFacts {
            status: AccountStatus::RateLimited,
            token_expires_at: Some(now - Duration::hours(1)),
            has_refresh_token: false,
            last_synced_at: Some(now - Duration::days(3)),
            has_error: true,
        };
        assert_eq!(score(&facts, now, Duration::hours(6)), 0);
    }

    #[test]
    fn tokens_that_never_expire_are_not_penalised() {
        let now = Utc::now();
        let facts = HealthFacts {
            token_expires_at: None,
            has_refresh_token: false,
            ..healthy(now)
        };
        assert_eq!(score(&facts, now, Duration::hours(6)), 100);
    }
}
