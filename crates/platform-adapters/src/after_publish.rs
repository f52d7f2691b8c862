//! What can happen to a post once it is live: its engagement is read back, it is deleted, it
//! gets replies (a thread's next part) and comments (a first comment). Which of these a
//! platform offers is in [`crate::FollowUps`]; the adapter methods are on
//! [`crate::PlatformAdapter`], answering `Unsupported` where a platform has none.

use serde::{Deserialize, Serialize};

/// A post that exists on the platform, as stored after publishing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PostRef<'a> {
    /// The platform's id of the post (tweet id, `at://` URI, status id, URN, …).
    pub platform_post_id: &'a str,
    /// Its public URL, where one was recorded.
    pub url: Option<&'a str>,
}

/// Where a reply goes: the first post of the thread and the post it answers directly. Bluesky
/// needs both (`reply.root` and `reply.parent`); the others only the parent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplyTo<'a> {
    /// The thread's first post.
    pub root: PostRef<'a>,
    /// The post this one answers (the previous part).
    pub parent: PostRef<'a>,
}

/// How a delete ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deletion {
    /// The platform confirmed the deletion.
    Deleted,
    /// The platform no longer had the post (deleted by hand, or by an earlier attempt whose
    /// answer was lost): the outcome a retry of a delete should reach anyway.
    AlreadyGone,
}

/// Engagement of one published post at the moment it was read. `None` where the platform does
/// not report a figure, or not with the scopes the account granted: a missing figure is never
/// a zero.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostMetrics {
    /// Which post (the id the batch asked for).
    pub platform_post_id: String,
    /// Likes, reactions, favourites.
    pub likes: Option<i64>,
    /// Replies and comments.
    pub replies: Option<i64>,
    /// Reposts, retweets, reblogs, shares.
    pub reposts: Option<i64>,
    /// Quote posts.
    pub quotes: Option<i64>,
    /// Saves and bookmarks.
    pub saves: Option<i64>,
    /// Times shown (impressions).
    pub impressions: Option<i64>,
    /// Video views or plays.
    pub views: Option<i64>,
    /// Distinct accounts reached.
    pub reach: Option<i64>,
}

/// What a platform lets us do with a published post.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FollowUps {
    /// A published post can be deleted through the API.
    pub delete: bool,
    /// A post can reply to one's own post, so a thread's parts can be chained.
    pub threads: bool,
    /// A first comment can be added right after the post (a comment, or a reply where the
    /// platform has no comments).
    pub first_comment: bool,
    /// Most posts whose engagement one request reads (X's `GET /2/tweets?ids=` takes 100,
    /// Bluesky's `getPosts` 25); 0: the platform gives no per-post engagement.
    pub metrics_batch: usize,
}

impl FollowUps {
    /// None of them: the starting point of a platform that offers nothing after publishing.
    pub const NONE: Self = Self {
        delete: false,
        threads: false,
        first_comment: false,
        metrics_batch: 0,
    };
}
