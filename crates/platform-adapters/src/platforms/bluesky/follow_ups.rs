//! Bluesky after publishing: engagement read back in batches and deletion, both on the
//! account's own PDS with its session (the PDS proxies `app.bsky.*` reads to the AppView).
//!
//! - Engagement: `app.bsky.feed.getPosts?uris=…&uris=…` (lexicon `app/bsky/feed/getPosts.json`:
//!   `uris` with `maxLength: 25`; answer `posts`, each an `app.bsky.feed.defs#postView` with
//!   optional `likeCount`, `repostCount`, `replyCount`, `quoteCount` and `bookmarkCount`).
//!   A post the AppView no longer has is simply not in `posts`. No views or impressions exist.
//!   An app-password session may read everything here: there are no scopes to lack.
//!   <https://docs.bsky.app/docs/api/app-bsky-feed-get-posts>
//! - Deletion: `com.atproto.repo.deleteRecord` with `repo`, `collection`, `rkey` from the post's
//!   `at://` URI. The reference PDS answers 200 either way, with `commit` when it deleted the
//!   record and without when there was no record ("No-op if record already doesn't exist",
//!   `packages/pds/src/api/com/atproto/repo/deleteRecord.ts`); other implementations may answer
//!   `RecordNotFound`, which means the same.
//!   <https://docs.bsky.app/docs/api/com-atproto-repo-delete-record>
//! - No comments: a first comment on Bluesky is a reply (`PublishRequest::reply_to`).

use serde::Deserialize;

use super::{json, BlueskyAdapter, POST_COLLECTION};
use crate::{http, AccountRef, AdapterError, Deletion, PostMetrics, PostRef};

/// Most URIs `getPosts` takes at once (`maxLength: 25`).
pub(super) const METRICS_BATCH: usize = 25;

const GET_POSTS: &str = "/xrpc/app.bsky.feed.getPosts";
const DELETE_RECORD: &str = "/xrpc/com.atproto.repo.deleteRecord";

impl BlueskyAdapter {
    /// `getPosts` for each run of up to [`METRICS_BATCH`] post URIs.
    pub(super) async fn read_post_metrics(
        &self,
        account: &AccountRef<'_>,
        posts: &[PostRef<'_>],
    ) -> Result<Vec<PostMetrics>, AdapterError> {
        let service = self.account_service(account);
        let mut metrics = Vec::with_capacity(posts.len());
        for batch in posts.chunks(METRICS_BATCH) {
            let uris: Vec<(&str, &str)> = batch
                .iter()
                .map(|post| ("uris", post.platform_post_id))
                .collect();
            let url = http::url_with_query(&format!("{service}{GET_POSTS}"), &uris)?;
            let answer: Posts =
                json(http::bearer(self.http.get(url), account.access_token)).await?;
            metrics.extend(answer.posts.into_iter().map(PostView::into_metrics));
        }
        Ok(metrics)
    }

    /// `deleteRecord` of the post's record: `Deleted` when the PDS answers a commit,
    /// `AlreadyGone` when it answers none (nothing was there) or `RecordNotFound`.
    pub(super) async fn delete(
        &self,
        account: &AccountRef<'_>,
        post: &PostRef<'_>,
    ) -> Result<Deletion, AdapterError> {
        let (repo, rkey) = record_of(post.platform_post_id)?;
        if repo != account.platform_account_id {
            return Err(AdapterError::Rejected {
                code: "not_this_account".into(),
                message: "this Bluesky post belongs to another repository than the account's"
                    .into(),
            });
        }
        let service = self.account_service(account);
        let request = http::bearer(
            self.http.post(format!("{service}{DELETE_RECORD}")),
            account.access_token,
        )
        .json(&json!({"repo": repo, "collection": POST_COLLECTION, "rkey": rkey}));
        match json::<DeleteOutput>(request).await {
            Ok(DeleteOutput { commit: Some(_) }) => Ok(Deletion::Deleted),
            Ok(DeleteOutput { commit: None }) => Ok(Deletion::AlreadyGone),
            Err(failure) if failure.is_record_not_found() => Ok(Deletion::AlreadyGone),
            Err(failure) => Err(failure.class),
        }
    }
}

/// `(repo, rkey)` of `at://<repo>/app.bsky.feed.post/<rkey>`; anything else is not a post of
/// ours and is refused before a request.
fn record_of(uri: &str) -> Result<(&str, &str), AdapterError> {
    let invalid = || AdapterError::Rejected {
        code: "invalid_post_id".into(),
        message: format!(
            "`{}` is not the at:// URI of a Bluesky post",
            http::excerpt(uri, 100)
        ),
    };
    let rest = uri.strip_prefix("at://").ok_or_else(invalid)?;
    let mut parts = rest.split('/');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(repo), Some(POST_COLLECTION), Some(rkey), None)
            if !repo.is_empty() && !rkey.is_empty() =>
        {
            Ok((repo, rkey))
        }
        _ => Err(invalid()),
    }
}

/// `getPosts` output.
#[derive(Debug, Deserialize)]
struct Posts {
    #[serde(default)]
    posts: Vec<PostView>,
}

/// The counts of an `app.bsky.feed.defs#postView`; each is optional in the lexicon.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PostView {
    uri: String,
    #[serde(default)]
    like_count: Option<i64>,
    #[serde(default)]
    repost_count: Option<i64>,
    #[serde(default)]
    reply_count: Option<i64>,
    #[serde(default)]
    quote_count: Option<i64>,
    #[serde(default)]
    bookmark_count: Option<i64>,
}

impl PostView {
    fn into_metrics(self) -> PostMetrics {
        PostMetrics {
            platform_post_id: self.uri,
            likes: self.like_count,
            replies: self.reply_count,
            reposts: self.repost_count,
            quotes: self.quote_count,
            saves: self.bookmark_count,
            impressions: None,
            views: None,
            reach: None,
        }
    }
}

/// `deleteRecord` output: the commit, absent when nothing was deleted.
#[derive(Debug, Deserialize)]
struct DeleteOutput {
    #[serde(default)]
    commit: Option<serde_json::Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_post_uris_name_a_record_to_delete() {
        assert_eq!(
            record_of("at://did:plc:abc/app.bsky.feed.post/3k2yihcrp6f2c"),
            Ok(("did:plc:abc", "3k2yihcrp6f2c"))
        );
        for bad in [
            "https://bsky.app/profile/x/post/1",
            "at://did:plc:abc/app.bsky.feed.like/3k2",
            "at://did:plc:abc/app.bsky.feed.post/3k2/extra",
            "at:///app.bsky.feed.post/3k2",
            "at://did:plc:abc/app.bsky.feed.post/",
        ] {
            assert!(record_of(bad).is_err(), "{bad}");
        }
    }
}
