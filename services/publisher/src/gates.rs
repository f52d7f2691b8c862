//! What holds a publish back before it calls the platform.
//!
//! - Per-account concurrency: a burst for one account must not hammer its platform with
//!   parallel calls (platforms rate-limit per user), while other accounts proceed.
//! - Platform pauses: when a platform says this application's own limit is used up (X's
//!   per-app daily cap, YouTube's project quota, Meta's application limit), every account
//!   waits for the reset instead of each earning its own refusal.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use chrono::{DateTime, Utc};
use db::domain::{AccountId, Platform};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// One semaphore per account with calls in flight; idle accounts take no memory.
#[derive(Debug)]
pub struct AccountGates {
    per_account: usize,
    gates: Mutex<HashMap<AccountId, Arc<Semaphore>>>,
}

/// Held while calling the platform for one account; frees the slot when dropped.
#[derive(Debug)]
pub struct Entered {
    _permit: Option<OwnedSemaphorePermit>,
}

impl AccountGates {
    /// At most `per_account` calls at once per account (at least one).
    pub fn new(per_account: usize) -> Self {
        Self {
            per_account: per_account.max(1),
            gates: Mutex::new(HashMap::new()),
        }
    }

    /// Waits for a slot of `account`.
    pub async fn enter(&self, account: AccountId) -> Entered {
        let gate = self.gate(account);
        // The semaphore is never closed, so acquiring cannot fail; were it closed, the call
        // would simply run ungated.
        Entered {
            _permit: gate.acquire_owned().await.ok(),
        }
    }

    /// A slot of `account` if one is free now, without waiting: how work that must never
    /// hold up a publish (engagement reads) takes its turn.
    pub fn try_enter(&self, account: AccountId) -> Option<Entered> {
        let permit = self.gate(account).try_acquire_owned().ok()?;
        Some(Entered {
            _permit: Some(permit),
        })
    }

    /// The semaphore of `account`.
    fn gate(&self, account: AccountId) -> Arc<Semaphore> {
        {
            let mut gates = self.gates.lock().unwrap_or_else(|p| p.into_inner());
            // Forget gates nobody holds or waits for, so the map stays as small as the set
            // of accounts being published to right now.
            if gates.len() > 1024 {
                gates.retain(|_, g| Arc::strong_count(g) > 1);
            }
            gates
                .entry(account)
                .or_insert_with(|| Arc::new(Semaphore::new(self.per_account)))
                .clone()
        }
    }
}

/// Platforms whose limit for this whole application is used up, and until when. Kept in
/// memory: another replica, or this one after a restart, learns it again from one refused
/// call, which costs a single 429 and no post.
#[derive(Debug, Default)]
pub struct PlatformPauses {
    until: Mutex<HashMap<Platform, DateTime<Utc>>>,
}

impl PlatformPauses {
    /// Holds every publish to `platform` back until `until` (a later pause wins).
    pub fn pause(&self, platform: Platform, until: DateTime<Utc>) {
        let mut paused = self.until.lock().unwrap_or_else(|p| p.into_inner());
        let entry = paused.entry(platform).or_insert(until);
        *entry = (*entry).max(until);
    }

    /// Until when `platform` is paused, if it still is at `now`.
    pub fn paused_until(&self, platform: Platform, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let paused = self.until.lock().unwrap_or_else(|p| p.into_inner());
        paused.get(&platform).copied().filter(|until| *until > now)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn one_account_waits_while_another_proceeds() {
        let gates = Arc::new(AccountGates::new(1));
        let (a, b) = (AccountId::new(), AccountId::new());
        let held = gates.enter(a).await;
        let blocked = tokio::time::timeout(Duration::from_millis(50), gates.enter(a)).await;
        assert!(blocked.is_err(), "a second call for the same account waits");
        let other = tokio::time::timeout(Duration::from_millis(50), gates.enter(b)).await;
        assert!(other.is_ok(), "another account is not held up");
        drop(held);
        let freed = tokio::time::timeout(Duration::from_millis(50), gates.enter(a)).await;
        assert!(freed.is_ok(), "the slot frees when the holder is done");
    }

    #[tokio::test]
    async fn try_enter_takes_only_a_free_slot_and_never_waits() {
        let gates = AccountGates::new(1);
        let a = AccountId::new();
        let publishing = gates.enter(a).await;
        assert!(gates.try_enter(a).is_none(), "a busy account is left alone");
        drop(publishing);
        let reading = gates.try_enter(a);
        assert!(reading.is_some(), "a free slot is taken");
        let blocked = tokio::time::timeout(Duration::from_millis(50), gates.enter(a)).await;
        assert!(blocked.is_err(), "and holds the account like any call");
    }

    #[test]
    fn a_pause_holds_its_platform_until_the_latest_reset_and_no_other() {
        let pauses = PlatformPauses::default();
        let now = Utc::now();
        let (soon, later) = (
            now + chrono::Duration::minutes(5),
            now + chrono::Duration::hours(1),
        );
        pauses.pause(Platform::X, later);
        pauses.pause(Platform::X, soon);
        assert_eq!(pauses.paused_until(Platform::X, now), Some(later));
        assert_eq!(pauses.paused_until(Platform::Youtube, now), None);
        assert_eq!(
            pauses.paused_until(Platform::X, later + chrono::Duration::seconds(1)),
            None,
            "the pause ends at the reset"
        );
    }
}
