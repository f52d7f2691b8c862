//! Replies (`reply_to` on `POST /api/v1/posts`), as Mastodon's `in_reply_to_id`: a post may
//! answer any existing post, and the sim remembers which, so a test can read a whole thread
//! back (`GET /_sim/replies`, [`Sim::replies`]).
//!
//! Also the knob a thread's tests need: refuse the next post creations whose text contains a
//! marker (`POST /_sim/post-failures`, [`Sim::fail_posts`]), so a failure strikes exactly the
//! part it is meant for, however the parts before it were timed.

use std::{
    collections::HashMap,
    sync::{Mutex, MutexGuard, PoisonError},
};

use serde::{Deserialize, Serialize};

use crate::{ApiError, Sim};

/// Refuse (`422 injected_failure`) the next `times` post creations whose text contains
/// `text_contains`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostFailure {
    /// The marker a post's text must contain to be refused.
    pub text_contains: String,
    /// How many creations to refuse (then the rule is spent).
    #[serde(default = "one")]
    pub times: u32,
}

fn one() -> u32 {
    1
}

/// A reply as the sim recorded it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SimReply {
    /// The reply's post id.
    pub id: String,
    /// The id of the post it answers.
    pub in_reply_to: String,
}

/// Which post answers which, and the failure rules.
#[derive(Debug, Default)]
pub(crate) struct Replies {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// Reply id → the post it answers.
    parents: HashMap<String, String>,
    /// Replies in creation order (ids).
    order: Vec<String>,
    failures: Vec<PostFailure>,
    refused: u64,
}

impl Replies {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Sim {
    /// Refuses the next post creations as `failure` says (added to the rules in force).
    pub fn fail_posts(&self, failure: PostFailure) {
        self.replies.lock().failures.push(failure);
    }

    /// `Err` when a rule refuses a post with `text` (and spends one of its times).
    pub(crate) fn injected_post_failure(&self, text: &str) -> Result<(), ApiError> {
        let mut inner = self.replies.lock();
        let Some(rule) = inner
            .failures
            .iter_mut()
            .find(|r| r.times > 0 && text.contains(&r.text_contains))
        else {
            return Ok(());
        };
        rule.times -= 1;
        let marker = rule.text_contains.clone();
        inner.failures.retain(|r| r.times > 0);
        inner.refused += 1;
        Err(ApiError::Unprocessable {
            code: "injected_failure",
            description: format!("refused on purpose: the text contains {marker:?}"),
        })
    }

    /// Checks that the post a new one answers exists.
    pub(crate) fn check_reply_parent(&self, parent: &str) -> Result<(), ApiError> {
        match self.find_post(parent) {
            Some(_) => Ok(()),
            None => Err(ApiError::Unprocessable {
                code: "invalid_reply",
                description: format!("reply_to: no post {parent}"),
            }),
        }
    }

    /// Records that post `id` answers `parent` (once: a replayed creation changes nothing).
    pub(crate) fn record_reply(&self, id: &str, parent: &str) {
        let mut inner = self.replies.lock();
        if !inner.parents.contains_key(id) {
            inner.parents.insert(id.to_owned(), parent.to_owned());
            inner.order.push(id.to_owned());
        }
    }

    /// The post `id` answers, if it is a reply.
    pub fn in_reply_to(&self, id: &str) -> Option<String> {
        self.replies.lock().parents.get(id).cloned()
    }

    /// Every reply, in creation order.
    pub fn replies(&self) -> Vec<SimReply> {
        let inner = self.replies.lock();
        inner
            .order
            .iter()
            .map(|id| SimReply {
                id: id.clone(),
                in_reply_to: inner.parents.get(id).cloned().unwrap_or_default(),
            })
            .collect()
    }

    /// Post creations refused by a failure rule so far.
    pub fn injected_post_failures(&self) -> u64 {
        self.replies.lock().refused
    }
}
