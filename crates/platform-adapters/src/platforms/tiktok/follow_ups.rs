//! After publishing on TikTok: a video's public counts. TikTok's APIs neither delete a video
//! nor comment on one: the Content Posting API only creates posts (`creator_info`, `video/init`,
//! `status/fetch`), and the Display API only reads.
//!
//! Source: "Query Videos", <https://developers.tiktok.com/doc/tiktok-api-v2-video-query>:
//! `POST /v2/video/query/?fields=…` with `{"filters": {"video_ids": […]}}`, "up to 20 video IDs
//! … per request", only the user's own videos come back; scope `video.list`; fields
//! `like_count`, `comment_count`, `share_count`, `view_count` among the Video Object's.
//!
//! `video.list` is not among the scopes Postbridge asks for: TikTok approves each scope per app,
//! and asking for one the operator's app lacks fails the whole authorization. Without it TikTok
//! answers `scope_not_authorized`, and every figure is `None`. Posts recorded by their
//! `publish_id` (private posts get no public id) cannot be looked up and are left out.

use reqwest::header::CONTENT_TYPE;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{call, decode, Answer, TiktokAdapter, JSON_UTF8};
use crate::{http, AccountRef, AdapterError, PostMetrics, PostRef};

/// Most video ids one query takes.
pub(super) const METRICS_BATCH: usize = 20;

/// The Video Object's fields read.
const VIDEO_FIELDS: &str = "id,like_count,comment_count,share_count,view_count";

/// Why a TikTok video cannot be deleted here.
pub(super) const NO_DELETE: &str =
    "TikTok's API cannot delete a video: delete it in the TikTok app";

impl TiktokAdapter {
    /// `POST /v2/video/query/`, 20 ids a request.
    pub(super) async fn video_metrics(
        &self,
        account: &AccountRef<'_>,
        posts: &[PostRef<'_>],
    ) -> Result<Vec<PostMetrics>, AdapterError> {
        let url = format!("{}/v2/video/query/", self.settings.endpoints.api_base);
        // Public video ids are numbers; anything else is a `publish_id`.
        let ids: Vec<&str> = posts
            .iter()
            .map(|p| p.platform_post_id)
            .filter(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
            .collect();
        let mut metrics = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(METRICS_BATCH) {
            let request = http::bearer(
                self.http.post(&url).query(&[("fields", VIDEO_FIELDS)]),
                account.access_token,
            )
            .header(CONTENT_TYPE, JSON_UTF8)
            .json(&json!({"filters": {"video_ids": chunk}}));
            match call(request).await {
                Ok(body) => {
                    let answer: Answer<Videos> = decode(&body)?;
                    let videos = answer.data.map(|d| d.videos).unwrap_or_default();
                    metrics.extend(
                        videos
                            .into_iter()
                            .filter_map(Video::into_metrics)
                            .filter(|m| chunk.contains(&m.platform_post_id.as_str())),
                    );
                }
                Err(AdapterError::Rejected { code, .. }) if code == "scope_not_authorized" => {
                    metrics.extend(chunk.iter().map(|id| PostMetrics {
                        platform_post_id: (*id).to_owned(),
                        ..PostMetrics::default()
                    }));
                }
                Err(other) => return Err(other),
            }
        }
        Ok(metrics)
    }
}

#[derive(Debug, Deserialize)]
struct Videos {
    #[serde(default)]
    videos: Vec<Video>,
}

#[derive(Debug, Deserialize)]
struct Video {
    /// Documented as a string; a number is read too.
    id: Value,
    like_count: Option<i64>,
    comment_count: Option<i64>,
    share_count: Option<i64>,
    view_count: Option<i64>,
}

impl Video {
    fn into_metrics(self) -> Option<PostMetrics> {
        let id = match self.id {
            Value::String(s) if !s.is_empty() => s,
            Value::Number(n) => n.to_string(),
            _ => return None,
        };
        Some(PostMetrics {
            platform_post_id: id,
            likes: self.like_count,
            replies: self.comment_count,
            reposts: self.share_count,
            views: self.view_count,
            ..PostMetrics::default()
        })
    }
}
