//! Deleting posts (`DELETE /api/v1/posts/{id}`), as Mastodon does it: only the author may
//! delete, and a post that is gone, never existed or is someone else's answers `404` alike.
//!
//! A deleted post keeps its record in [`crate::posts`] (its id is its position there, and
//! benchmarks count what was ever created) but disappears from the API: `GET
//! /api/v1/posts/{id}` and the lists no longer show it. Every delete call is counted, so a test
//! can prove that a client never repeated a delete it had already seen succeed.

use std::{
    collections::HashSet,
    sync::{Mutex, MutexGuard, PoisonError},
};

use crate::{ApiError, Sim};

/// The deleted posts and the delete calls received.
#[derive(Debug, Default)]
pub(crate) struct Deletions {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    deleted: HashSet<String>,
    calls: u64,
}

impl Deletions {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether the post with `id` was deleted.
    pub fn is_deleted(&self, id: &str) -> bool {
        self.lock().deleted.contains(id)
    }
}

impl Sim {
    /// Deletes `user`'s post `id`. Counted whatever the answer; `NotFound` when there is no
    /// such post of `user`'s (any more).
    pub(crate) fn delete_post(&self, user: &str, id: &str) -> Result<(), ApiError> {
        // The post's lock is taken (and released) before the deletions' one, never both.
        let post = self.find_post(id);
        let mut deletions = self.deletions.lock();
        deletions.calls += 1;
        match post {
            Some(post) if post.user == user && !deletions.deleted.contains(id) => {
                deletions.deleted.insert(post.id);
                Ok(())
            }
            _ => Err(ApiError::NotFound),
        }
    }

    /// Ids of the deleted posts, in no particular order.
    pub fn deleted_posts(&self) -> Vec<String> {
        self.deletions.lock().deleted.iter().cloned().collect()
    }

    /// Delete calls received, answered `204` or `404`.
    pub fn delete_calls(&self) -> u64 {
        self.deletions.lock().calls
    }
}

#[cfg(test)]
mod tests {
    use crate::{Knobs, Sim};

    #[test]
    fn only_the_author_deletes_and_a_second_delete_finds_nothing() {
        let sim = Sim::new(Knobs::default(), None);
        let id = sim.publish_as("alice", "bye", "k1").unwrap();
        assert!(sim.delete_post("bob", &id).is_err(), "not bob's post");
        assert!(
            sim.find_post(&id).is_some(),
            "a refused delete changes nothing"
        );
        sim.delete_post("alice", &id).unwrap();
        assert!(sim.find_post(&id).is_none(), "gone from the API");
        assert!(sim.delete_post("alice", &id).is_err(), "already gone: 404");
        assert_eq!(sim.deleted_posts(), vec![id]);
        assert_eq!(sim.delete_calls(), 3);
    }
}
