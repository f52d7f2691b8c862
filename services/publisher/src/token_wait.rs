//! Waiting for a fresh token instead of failing a post.
//!
//! A token that is expired (or about to be) is no reason to fail a post: the publisher asks
//! token-refresher for an urgent refresh (`token.expiring`, once per account however many of
//! its targets are due) and the targets wait, with the error code
//! [`AWAITING_REFRESH`](crate::outcome::AWAITING_REFRESH), for `token.refreshed`, which makes
//! them due at once, or for `token_wait` at most, after which they are tried anyway. Only an
//! account the refresher marked `needs_reauth` (it announces that as `token.refresh_failed`)
//! fails its targets, with the message that asks the user to reconnect.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use db::{accounts::Account, domain::AccountId, posts::PostTarget};
use events::{
    Event, Handler, HandlerError, Incoming, RefreshFailureReason, TokenRefreshFailed,
    TokenRefreshed,
};
use tokio::sync::Notify;

use crate::outcome::AWAITING_REFRESH;

/// The urgent refreshes this publisher asked for, so an account is asked for once per wait,
/// not once per target.
#[derive(Debug)]
pub struct RefreshRequests {
    wait: Duration,
    asked: Mutex<HashMap<AccountId, Instant>>,
}

impl RefreshRequests {
    /// Requests for one account are coalesced for `wait` (the longest a target waits).
    pub fn new(wait: Duration) -> Self {
        Self {
            wait,
            asked: Mutex::new(HashMap::new()),
        }
    }

    /// Whether to ask for a refresh of `account` now: `false` while an earlier request is
    /// still being waited for.
    pub fn first(&self, account: AccountId) -> bool {
        let now = Instant::now();
        let mut asked = self.table();
        asked.retain(|_, at| now.duration_since(*at) < self.wait);
        if asked.contains_key(&account) {
            return false;
        }
        asked.insert(account, now);
        true
    }

    /// The account's refresh is over (done or failed): the next need asks again.
    pub fn settled(&self, account: AccountId) {
        self.table().remove(&account);
    }

    fn table(&self) -> std::sync::MutexGuard<'_, HashMap<AccountId, Instant>> {
        self.asked
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Whether the account's access token expires within `margin` of `now` (a token without an
/// expiry never does). A token whose whole life is shorter than four margins counts as
/// expiring only in the last quarter of its life: otherwise it would be "about to expire" the
/// moment it was issued, and every publish would ask for another refresh as soon as the last
/// one landed.
pub fn expiring(account: &Account, now: DateTime<Utc>, margin: chrono::Duration) -> bool {
    let issued = account.last_refreshed_at.unwrap_or(account.created_at);
    expires_within(account.token_expires_at, issued, now, margin)
}

fn expires_within(
    expires_at: Option<DateTime<Utc>>,
    issued_at: DateTime<Utc>,
    now: DateTime<Utc>,
    margin: chrono::Duration,
) -> bool {
    expires_at.is_some_and(|expires| {
        let margin = margin.min((expires - issued_at) / 4);
        expires <= now + margin
    })
}

/// Consumes `token.refreshed` and `token.refresh_failed`: the account's targets waiting for a
/// fresh token become due now (after a refresh they publish with it; after a refresh that
/// ended in `needs_reauth` they fail with the reconnect message) and the dispatcher wakes.
/// A refresh that failed for a passing reason (rate limit, outage) leaves them waiting: the
/// refresher tries again, and they are tried anyway at the end of their wait.
#[derive(Debug)]
pub struct TokenNews {
    pub wake: Arc<Notify>,
    pub requests: Arc<RefreshRequests>,
}

impl Handler for TokenNews {
    async fn handle(&self, incoming: &Incoming) -> Result<(), HandlerError> {
        let account = match incoming.envelope.event_type.as_str() {
            TokenRefreshed::TYPE => incoming.decode::<TokenRefreshed>()?.account_id,
            TokenRefreshFailed::TYPE => {
                let failed = incoming.decode::<TokenRefreshFailed>()?;
                self.requests.settled(failed.account_id);
                if failed.reason != RefreshFailureReason::NeedsReauth {
                    return Ok(());
                }
                failed.account_id
            }
            other => {
                tracing::debug!(event_type = other, "publisher ignores this event");
                return Ok(());
            }
        };
        self.requests.settled(account);
        incoming
            .commit(move |conn| {
                PostTarget::wake_waiting(conn, account, AWAITING_REFRESH, Utc::now())
                    .map_err(HandlerError::from)
            })
            .await?;
        self.wake.notify_one();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, Utc};

    use super::expires_within;

    #[test]
    fn a_long_lived_token_is_expiring_within_the_margin() {
        let now = Utc::now();
        let issued = now - Duration::hours(2);
        let margin = Duration::seconds(30);
        assert!(expires_within(
            Some(now + Duration::seconds(20)),
            issued,
            now,
            margin
        ));
        assert!(!expires_within(
            Some(now + Duration::seconds(40)),
            issued,
            now,
            margin
        ));
        assert!(!expires_within(None, issued, now, margin));
    }

    #[test]
    fn a_token_shorter_lived_than_the_margin_is_not_expiring_when_just_issued() {
        let now = Utc::now();
        let margin = Duration::seconds(30);
        // A 30 s token refreshed a second ago: as fresh as the platform makes them.
        assert!(!expires_within(
            Some(now + Duration::seconds(29)),
            now - Duration::seconds(1),
            now,
            margin
        ));
        // In the last quarter of its life, or expired, it is.
        assert!(expires_within(
            Some(now + Duration::seconds(5)),
            now - Duration::seconds(25),
            now,
            margin
        ));
        assert!(expires_within(
            Some(now - Duration::seconds(1)),
            now - Duration::seconds(31),
            now,
            margin
        ));
    }
}
