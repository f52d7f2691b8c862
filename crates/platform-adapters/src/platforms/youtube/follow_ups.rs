//! After publishing on YouTube: a video's public statistics, deleting it, and a first comment.
//!
//! Sources (YouTube Data API v3 reference, checked December 2026):
//! - `videos.list` (`part=statistics`, `id` "a comma-separated list of … video IDs", at most 50
//!   per request; `viewCount`, `likeCount`, `commentCount` as decimal strings, `likeCount` and
//!   `commentCount` absent when the owner hides them or turned comments off; an unknown id is
//!   simply missing from `items`; 1 quota unit):
//!   <https://developers.google.com/youtube/v3/docs/videos/list>,
//!   <https://developers.google.com/youtube/v3/docs/videos#statistics>;
//! - `videos.delete` (`DELETE /videos?id=…`, 204 with no body; `videoNotFound` 404; scopes
//!   `youtube`, `youtube.force-ssl` or `youtubepartner`; 50 units):
//!   <https://developers.google.com/youtube/v3/docs/videos/delete>;
//! - `commentThreads.insert` (`POST /commentThreads?part=snippet` whose body "must specify"
//!   `snippet.channelId`, `snippet.videoId` and `snippet.topLevelComment.snippet.textOriginal`;
//!   scope `youtube.force-ssl`; 50 units):
//!   <https://developers.google.com/youtube/data/reference/rest/v3/commentThreads/insert>.
//!
//! Impressions, reach and saves are not in the Data API (they are YouTube Analytics figures,
//! behind another scope): they stay `None`.

use reqwest::StatusCode;
use serde::Deserialize;
use serde_json::json;

use super::{count, YoutubeAdapter, API};
use crate::http::{self, Transmit};
use crate::{AccountRef, AdapterError, Deletion, PostMetrics, PostRef, PublishRequest, Published};

/// Most ids one `videos.list` takes.
pub(super) const METRICS_BATCH: usize = 50;

/// What a channel connected before `youtube.force-ssl` was requested must do.
const RECONNECT_FOR_SCOPE: &str = "reconnect your YouTube account so Postbridge may manage your videos and comments (the youtube.force-ssl permission)";

impl YoutubeAdapter {
    /// `videos.list?part=statistics&id=a,b,…`, 50 ids a request.
    pub(super) async fn video_metrics(
        &self,
        account: &AccountRef<'_>,
        posts: &[PostRef<'_>],
    ) -> Result<Vec<PostMetrics>, AdapterError> {
        let url = format!("{}/videos", self.settings.endpoints.api_base);
        let mut metrics = Vec::with_capacity(posts.len());
        let ids: Vec<&str> = posts
            .iter()
            .map(|p| p.platform_post_id)
            .filter(|id| !id.is_empty())
            .collect();
        for chunk in ids.chunks(METRICS_BATCH) {
            let joined = chunk.join(",");
            let request = http::bearer(
                self.http
                    .get(&url)
                    .query(&[("part", "statistics"), ("id", joined.as_str())]),
                account.access_token,
            );
            let list: VideoList = API.json(request).await?;
            metrics.extend(
                list.items
                    .into_iter()
                    .filter(|video| chunk.contains(&video.id.as_str()))
                    .map(VideoStatistics::into_metrics),
            );
        }
        Ok(metrics)
    }

    /// `DELETE /videos?id=…`: 204 deleted; 404 (`videoNotFound`) already gone.
    pub(super) async fn delete_video(
        &self,
        account: &AccountRef<'_>,
        post: &PostRef<'_>,
    ) -> Result<Deletion, AdapterError> {
        let url = format!("{}/videos", self.settings.endpoints.api_base);
        let request = http::bearer(
            self.http
                .delete(url)
                .query(&[("id", post.platform_post_id)]),
            account.access_token,
        );
        let response = request
            .transmit()
            .await
            .map_err(|e| AdapterError::from_transport(&e))?;
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(Deletion::AlreadyGone);
        }
        API.checked(response).await.map_err(missing_scope)?;
        Ok(Deletion::Deleted)
    }

    /// `commentThreads.insert`: a top-level comment on the video, by the account's channel.
    /// Comments are text only.
    pub(super) async fn comment_on_video(
        &self,
        account: &AccountRef<'_>,
        on: &PostRef<'_>,
        comment: &PublishRequest<'_>,
    ) -> Result<Published, AdapterError> {
        let text = comment.text.trim();
        if text.is_empty() || !comment.media.is_empty() {
            return Err(AdapterError::Rejected {
                code: "comment_text_only".into(),
                message: "a YouTube comment is text only, and not empty".into(),
            });
        }
        let url = format!("{}/commentThreads", self.settings.endpoints.api_base);
        let body = json!({"snippet": {
            "channelId": account.platform_account_id,
            "videoId": on.platform_post_id,
            "topLevelComment": {"snippet": {"textOriginal": text}},
        }});
        let request = http::bearer(
            self.http.post(url).query(&[("part", "snippet")]),
            account.access_token,
        )
        .json(&body);
        let thread: CommentThread = API.json_unsure(request).await.map_err(missing_scope)?;
        let id = thread
            .snippet
            .and_then(|s| s.top_level_comment)
            .map_or(thread.id, |c| c.id);
        Ok(Published {
            url: Some(format!(
                "https://www.youtube.com/watch?v={}&lc={id}",
                on.platform_post_id
            )),
            platform_post_id: id,
        })
    }
}

/// A refusal for want of `youtube.force-ssl` (channels connected before it was requested, or
/// whose owner unticked it) is a `missing_permission` rejection saying how to fix it, as the
/// other adapters name one; any other error stays as it is.
fn missing_scope(err: AdapterError) -> AdapterError {
    match err {
        AdapterError::Rejected { code, .. } if code == "insufficientPermissions" => {
            AdapterError::Rejected {
                code: "missing_permission".into(),
                message: RECONNECT_FOR_SCOPE.into(),
            }
        }
        other => other,
    }
}

#[derive(Debug, Deserialize)]
struct VideoList {
    #[serde(default)]
    items: Vec<VideoStatistics>,
}

#[derive(Debug, Deserialize)]
struct VideoStatistics {
    id: String,
    #[serde(default)]
    statistics: Option<Statistics>,
}

/// `statistics` of a video: `unsigned long` values sent as strings.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Statistics {
    view_count: Option<String>,
    like_count: Option<String>,
    comment_count: Option<String>,
}

impl VideoStatistics {
    fn into_metrics(self) -> PostMetrics {
        let statistics = self.statistics.unwrap_or_default();
        PostMetrics {
            platform_post_id: self.id,
            likes: count(statistics.like_count),
            replies: count(statistics.comment_count),
            views: count(statistics.view_count),
            ..PostMetrics::default()
        }
    }
}

#[derive(Debug, Deserialize)]
struct CommentThread {
    id: String,
    #[serde(default)]
    snippet: Option<ThreadSnippet>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ThreadSnippet {
    #[serde(default)]
    top_level_comment: Option<Comment>,
}

#[derive(Debug, Deserialize)]
struct Comment {
    id: String,
}
