//! Per-user rate limits kept in the gateway's memory.
//!
//! A fixed one-minute window per user: simple, enough to stop a script from minting
//! thousands of authorizations (each a row and a call to the platform's authorize page) or
//! guessing Bluesky app passwords. Each gateway process counts on its own, so with N replicas
//! a user gets at most N times the limit; the per-user cap on live authorizations (in the
//! database) holds across replicas.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use db::domain::OwnerId;

use crate::error::ApiError;

const WINDOW: Duration = Duration::from_secs(60);

/// Above this many tracked users, finished windows are dropped on the next check.
const PRUNE_ABOVE: usize = 10_000;

/// Counts each user's requests per minute and refuses those over the limit.
#[derive(Debug, Clone)]
pub struct PerUserLimit {
    per_minute: u32,
    windows: Arc<Mutex<HashMap<OwnerId, (Instant, u32)>>>,
}

impl PerUserLimit {
    /// At most `per_minute` requests per user per minute (0 means unlimited).
    pub fn new(per_minute: u32) -> Self {
        Self {
            per_minute,
            windows: Arc::default(),
        }
    }

    /// Counts one request of `owner`; a 429 with `Retry-After` when over the limit.
    pub fn check(&self, owner: &OwnerId) -> Result<(), ApiError> {
        if self.per_minute == 0 {
            return Ok(());
        }
        let now = Instant::now();
        let mut windows = self
            .windows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if windows.len() > PRUNE_ABOVE {
            windows.retain(|_, (started, _)| now.duration_since(*started) < WINDOW);
        }
        let (started, count) = windows.entry(owner.clone()).or_insert((now, 0));
        if now.duration_since(*started) >= WINDOW {
            *started = now;
            *count = 0;
        }
        if *count >= self.per_minute {
            let wait = WINDOW.saturating_sub(now.duration_since(*started));
            return Err(ApiError::TooManyRequests {
                code: "rate_limited",
                message: format!(
                    "at most {} connections may be started per minute; try again in {} s",
                    self.per_minute,
                    wait.as_secs().max(1)
                ),
                retry_after_secs: wait.as_secs().max(1),
            });
        }
        *count += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_user_gets_their_own_budget() {
        let limit = PerUserLimit::new(2);
        let alice = OwnerId("alice".into());
        let bob = OwnerId("bob".into());
        assert!(limit.check(&alice).is_ok());
        assert!(limit.check(&alice).is_ok());
        assert!(matches!(
            limit.check(&alice),
            Err(ApiError::TooManyRequests { .. })
        ));
        assert!(limit.check(&bob).is_ok());
        assert!(PerUserLimit::new(0).check(&alice).is_ok(), "0 is unlimited");
    }
}
