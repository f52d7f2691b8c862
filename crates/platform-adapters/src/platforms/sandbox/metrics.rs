//! The sandbox's engagement reads: `GET /api/v1/metrics?ids=…`, up to
//! `follow_ups.metrics_batch` (100) posts per request, answered by platform-sim with figures
//! that grow with each post's age (`crates/platform-sim/README.md`). A post missing from the
//! answer (deleted) is left out; a figure the sim does not give (`views`; the private ones
//! for someone else's post) stays `None`.

use serde::Deserialize;

use super::SandboxAdapter;
use crate::{http, AccountRef, AdapterError, PostMetrics, PostRef};

impl SandboxAdapter {
    /// Reads the engagement of `posts` in requests of at most `metrics_batch` ids.
    pub(super) async fn metrics(
        &self,
        account: &AccountRef<'_>,
        posts: &[PostRef<'_>],
    ) -> Result<Vec<PostMetrics>, AdapterError> {
        let batch = self.descriptor.capabilities.follow_ups.metrics_batch.max(1);
        let mut read = Vec::with_capacity(posts.len());
        for chunk in posts.chunks(batch) {
            let ids: Vec<&str> = chunk.iter().map(|p| p.platform_post_id).collect();
            let url = http::url_with_query(
                &format!("{}/api/v1/metrics", self.settings.endpoints.api_base),
                &[("ids", &ids.join(","))],
            )?;
            let answer: Answer =
                http::json(http::bearer(self.http.get(url), account.access_token)).await?;
            read.extend(answer.data.into_iter().map(PostMetrics::from));
        }
        Ok(read)
    }
}

/// `{"data": [...]}`.
#[derive(Debug, Deserialize)]
struct Answer {
    data: Vec<Engagement>,
}

#[derive(Debug, Deserialize)]
struct Engagement {
    id: String,
    likes: Option<i64>,
    replies: Option<i64>,
    reposts: Option<i64>,
    quotes: Option<i64>,
    saves: Option<i64>,
    impressions: Option<i64>,
    views: Option<i64>,
    reach: Option<i64>,
}

impl From<Engagement> for PostMetrics {
    fn from(e: Engagement) -> Self {
        Self {
            platform_post_id: e.id,
            likes: e.likes,
            replies: e.replies,
            reposts: e.reposts,
            quotes: e.quotes,
            saves: e.saves,
            impressions: e.impressions,
            views: e.views,
            reach: e.reach,
        }
    }
}
