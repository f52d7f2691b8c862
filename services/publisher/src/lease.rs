//! Short leases kept alive by their owner: the heartbeat.
//!
//! A claim holds a target for `lease` (20 s by default), far less than the slowest video
//! upload. While a publish runs, its publisher renews the lease of every target it holds, in
//! one statement per beat (every `lease / 3`), so a slow publish never loses its target and a
//! dead publisher's targets are free again within one lease. Ownership is proven by the claim's
//! fence (`post_targets.claim_id`), never by the lease instant, so renewing changes nothing a
//! write is checked against.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, Weak},
    time::Duration,
};

use chrono::{DateTime, Utc};
use db::{domain::PostTargetId, posts::PostTarget, Db};
use uuid::Uuid;

/// The targets this publisher holds, with their fences and how long their leases last.
#[derive(Debug)]
pub struct Leases {
    lease: chrono::Duration,
    /// Keyed by target and claim: one process may hold a target twice (a publish whose lease
    /// ran out, and the claim that took it over), and each keeps its own renewal.
    held: Mutex<HashMap<(PostTargetId, Uuid), DateTime<Utc>>>,
}

impl Leases {
    /// Starts the heartbeat for leases of length `lease`; it stops when the last `Arc` goes.
    pub fn start(db: Db, lease: chrono::Duration) -> Arc<Self> {
        let leases = Arc::new(Self {
            lease,
            held: Mutex::new(HashMap::new()),
        });
        let every = (lease / 3)
            .to_std()
            .unwrap_or(Duration::from_secs(1))
            .max(Duration::from_millis(100));
        tokio::spawn(heartbeat(Arc::downgrade(&leases), db, every));
        leases
    }

    /// How long a claim lasts.
    pub fn lease(&self) -> chrono::Duration {
        self.lease
    }

    /// Keeps `target`'s lease alive (its claim `claim` committed until `until`) until the
    /// returned guard is dropped.
    pub fn hold(
        self: &Arc<Self>,
        target: PostTargetId,
        claim: Uuid,
        until: DateTime<Utc>,
    ) -> HoldGuard {
        self.table().insert((target, claim), until);
        HoldGuard {
            leases: self.clone(),
            key: (target, claim),
        }
    }

    /// When the lease of `target` under `claim` ends as far as this publisher knows (the last
    /// renewal that committed); `None` when it is not held.
    pub fn until(&self, target: PostTargetId, claim: Uuid) -> Option<DateTime<Utc>> {
        self.table().get(&(target, claim)).copied()
    }

    fn table(&self) -> std::sync::MutexGuard<'_, HashMap<(PostTargetId, Uuid), DateTime<Utc>>> {
        // A panic while the map was locked leaves it consistent (single inserts and removes).
        self.held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// One beat: renews every held lease in one statement.
    async fn beat(&self, db: &Db) {
        let held: Vec<(PostTargetId, Uuid)> = self.table().keys().copied().collect();
        if held.is_empty() {
            return;
        }
        let until = Utc::now() + self.lease;
        let asked = held.clone();
        match db
            .query(move |conn| PostTarget::renew_leases(conn, &asked, until))
            .await
        {
            Ok(renewed) => {
                let mut table = self.table();
                for key in &renewed {
                    if let Some(entry) = table.get_mut(key) {
                        *entry = until;
                    }
                }
                if renewed.len() < held.len() {
                    tracing::debug!(
                        skipped = held.len() - renewed.len(),
                        "leases not renewed: their rows were being written, or taken over"
                    );
                }
            }
            Err(err) => {
                tracing::warn!(error = %err, targets = held.len(), "could not renew leases; trying again at the next beat");
            }
        }
    }
}

/// Stops renewing one target's lease when dropped (its outcome is stored, or given up).
#[derive(Debug)]
pub struct HoldGuard {
    leases: Arc<Leases>,
    key: (PostTargetId, Uuid),
}

impl Drop for HoldGuard {
    fn drop(&mut self) {
        self.leases.table().remove(&self.key);
    }
}

async fn heartbeat(leases: Weak<Leases>, db: Db, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tick.tick().await;
        let Some(leases) = leases.upgrade() else {
            return;
        };
        leases.beat(&db).await;
    }
}
