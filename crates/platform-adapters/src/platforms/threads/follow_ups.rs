//! Threads after publishing: a post's insights and deletion.
//!
//! - Engagement: `GET /{threads-media-id}/insights?metric=views,likes,replies,reposts,quotes`
//!   (`threads_manage_insights`, requested), one post a request: Threads documents no batch
//!   read. Each metric answers `{"name", "period": "lifetime", "values": [{"value"}]}`; an empty
//!   `data` (a repost of someone else's post) leaves every figure unknown. `views` is "the
//!   number of times your post was played or displayed". `shares` exists too, but
//!   [`crate::PostMetrics`] has no place for it apart from reposts, which Threads counts on
//!   their own, so it is not asked for. Without the permission (not granted, or the app not
//!   approved for it) the figures are `None`, never an error.
//!   <https://developers.facebook.com/documentation/threads/insights>
//! - Deletion: `DELETE /{threads-media-id}` answering `{"success": true, "deleted_id"}`; it
//!   needs `threads_delete` besides `threads_basic`, 100 deletes a day per account.
//!   Postbridge does not request `threads_delete`: it is an optional permission each app must
//!   add to its Threads use case, and asking for one the app lacks could stop connecting. A
//!   delete the token may not make is refused as `missing_permission`, naming it.
//!   <https://developers.facebook.com/documentation/threads/posts/delete-posts>
//! - No comments: a first comment on Threads is a reply (`reply_to_id`).

use secrecy::ExposeSecret;

use super::{meta, Insights, ThreadsAdapter};
use crate::{AccountRef, AdapterError, Deletion, PostMetrics, PostRef};

/// Threads reads one post's insights per request.
pub(super) const METRICS_BATCH: usize = 1;

/// The media insights asked for.
const METRICS: &str = "views,likes,replies,reposts,quotes";

impl ThreadsAdapter {
    /// The insights of each post, one request each. A post Threads no longer has is left out.
    pub(super) async fn read_post_metrics(
        &self,
        account: &AccountRef<'_>,
        posts: &[PostRef<'_>],
    ) -> Result<Vec<PostMetrics>, AdapterError> {
        let token = account.access_token;
        let mut metrics = Vec::with_capacity(posts.len());
        for post in posts {
            let url = meta::node_url(
                &self.settings.endpoints.api_base,
                post.platform_post_id,
                Some("insights"),
            )?;
            let request = self
                .http
                .get(url)
                .query(&[("metric", METRICS), ("access_token", token.expose_secret())]);
            let read = meta::follow_ups::read_node::<Insights>(request)
                .await
                .map_err(|err| meta::redact(err, &[token.expose_secret()]))?;
            let id = post.platform_post_id.to_owned();
            match read {
                meta::follow_ups::Node::Found(insights) => metrics.push(PostMetrics {
                    platform_post_id: id,
                    likes: insights.value_of("likes"),
                    replies: insights.value_of("replies"),
                    reposts: insights.value_of("reposts"),
                    quotes: insights.value_of("quotes"),
                    saves: None,
                    impressions: None,
                    views: insights.value_of("views"),
                    reach: None,
                }),
                meta::follow_ups::Node::NotPermitted => metrics.push(PostMetrics {
                    platform_post_id: id,
                    ..PostMetrics::default()
                }),
                meta::follow_ups::Node::Gone => {}
            }
        }
        Ok(metrics)
    }

    /// `DELETE /{threads-media-id}`.
    pub(super) async fn delete(
        &self,
        account: &AccountRef<'_>,
        post: &PostRef<'_>,
    ) -> Result<Deletion, AdapterError> {
        meta::follow_ups::delete_node(
            &self.http,
            &self.settings.endpoints.api_base,
            post.platform_post_id,
            account.access_token,
            "Threads",
            "threads_delete",
        )
        .await
        .map_err(|err| meta::redact(err, &[account.access_token.expose_secret()]))
    }
}
