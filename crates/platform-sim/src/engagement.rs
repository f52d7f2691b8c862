//! Engagement that grows with a post's age, so the whole analytics path (schedule, batched
//! reads, series, growth) can be tested end to end without a real audience.
//!
//! Deterministic: a post's figures are a function of its age in whole seconds and its id, so a
//! test that reads twice a few seconds apart can assert that they grew, and by how much.
//! Like X's `public_metrics` and `non_public_metrics`, likes, replies, reposts and quotes are
//! public (any caller sees them); saves, impressions and reach only the author's own token
//! (someone else's post answers `null` for them: not given, not zero). The sandbox has no
//! video views: `views` is always `null`.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::SimPost;

/// One post's engagement in `GET /api/v1/metrics`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Engagement {
    /// The post's id.
    pub id: String,
    pub likes: i64,
    pub replies: i64,
    pub reposts: i64,
    pub quotes: i64,
    /// The author only.
    pub saves: Option<i64>,
    /// The author only.
    pub impressions: Option<i64>,
    /// Always `null`: the sandbox has no video views.
    pub views: Option<i64>,
    /// The author only.
    pub reach: Option<i64>,
}

/// `post`'s engagement at `now`, as seen by `viewer` (private figures for the author only).
pub fn of(post: &SimPost, viewer: &str, now: DateTime<Utc>) -> Engagement {
    let age = (now - post.created_at).num_seconds().max(0);
    // A small per-post offset, so posts of one burst do not all look the same.
    let seed = post.id.parse::<i64>().unwrap_or(0) % 7;
    let own = post.user == viewer;
    Engagement {
        id: post.id.clone(),
        likes: age / 2 + seed,
        replies: age / 10,
        reposts: age / 5,
        quotes: age / 30,
        saves: own.then_some(age / 20),
        impressions: own.then_some(age * 12 + seed * 10),
        views: None,
        reach: own.then_some(age * 8 + seed * 5),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post(user: &str, created_at: DateTime<Utc>) -> SimPost {
        SimPost {
            id: "8".into(),
            user: user.into(),
            text: "hi".into(),
            idempotency_key: None,
            media_ids: vec![],
            created_at,
            create_calls: 1,
        }
    }

    #[test]
    fn engagement_grows_with_the_posts_age() {
        let t0 = Utc::now();
        let p = post("alice", t0);
        let young = of(&p, "alice", t0 + chrono::Duration::seconds(10));
        let older = of(&p, "alice", t0 + chrono::Duration::seconds(70));
        assert_eq!(young.impressions, Some(10 * 12 + 10));
        assert_eq!(older.impressions, Some(70 * 12 + 10));
        assert!(older.likes > young.likes && older.replies > young.replies);
        assert_eq!(of(&p, "alice", t0), of(&p, "alice", t0), "deterministic");
    }

    #[test]
    fn private_figures_are_the_authors_only_and_views_never_given() {
        let p = post("alice", Utc::now());
        let theirs = of(&p, "bob", Utc::now());
        assert_eq!(
            (theirs.saves, theirs.impressions, theirs.reach),
            (None, None, None)
        );
        assert!(of(&p, "alice", Utc::now()).impressions.is_some());
        assert_eq!(theirs.views, None);
    }
}
