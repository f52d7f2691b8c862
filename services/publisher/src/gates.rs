//! Per-account concurrency: a burst for one account must not hammer its platform with
//! parallel calls (platforms rate-limit per user), while other accounts proceed.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use db::domain::AccountId;
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
        let gate = {
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
        };
        // The semaphore is never closed, so acquiring cannot fail; were it closed, the call
        // would simply run ungated.
        Entered {
            _permit: gate.acquire_owned().await.ok(),
        }
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
}
