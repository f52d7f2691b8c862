//! After publishing on Instagram: a media's counts and insights, and a first comment. The
//! Instagram API has no way to delete a media object: the IG Media reference documents reading
//! and updating (`comment_enabled`) only, so deleting stays [`AdapterError::Unsupported`].
//!
//! Sources (Meta's Instagram Platform reference, checked December 2026):
//! - IG Media fields `like_count` and `comments_count` (`instagram_basic`,
//!   `pages_read_engagement`; `like_count` is omitted when the owner hides like counts):
//!   <https://developers.facebook.com/docs/instagram-platform/reference/instagram-media>;
//!   several nodes in one request with `GET /?ids=a,b&fields=…` (Graph's multiple-id read, at
//!   most 50 ids): <https://developers.facebook.com/docs/graph-api/overview/#reading>.
//! - IG Media insights, `GET /{ig-media-id}/insights?metric=…`, read here through field
//!   expansion (`insights.metric(reach,saved,shares,views)`): `instagram_manage_insights`;
//!   `impressions`, `plays` and `video_views` are deprecated since v22.0 (`views` replaces
//!   them); "an empty data set instead of 0" when data is unavailable; delayed up to 48 hours:
//!   <https://developers.facebook.com/docs/instagram-platform/reference/instagram-media/insights>.
//! - Comments, `POST /{ig-media-id}/comments?message=…` answering `{"id"}`:
//!   `instagram_manage_comments` besides `instagram_basic` and `pages_read_engagement`:
//!   <https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-media/comments>.
//!
//! Both reads go through the Graph helpers shared with Facebook and Threads
//! (`meta::follow_ups::read_nodes`): a media Graph no longer has is taken out of the read and
//! left out of the answer, and a missing permission answers "unknown" rather than "reconnect".
//! So a missing insights permission never fails a read: the counts come back, the insights are
//! `None`. A comment refused for want of `instagram_manage_comments` is a `missing_permission`
//! rejection naming it, never a reconnect of the whole account.

use std::collections::HashMap;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::InstagramAdapter;
use crate::platforms::meta;
use crate::{AccountRef, AdapterError, PostMetrics, PostRef, PublishRequest, Published};

/// Most ids one multiple-id read takes.
pub(super) const METRICS_BATCH: usize = 50;

/// The counts every connected account may read.
const COUNT_FIELDS: &str = "like_count,comments_count";

/// The insights read (FEED and REELS media alike), through field expansion.
const INSIGHTS_FIELDS: &str = "insights.metric(reach,saved,shares,views)";

/// The permission a comment needs besides `instagram_basic`.
const COMMENT_PERMISSION: &str = "instagram_manage_comments";

/// Why an Instagram post cannot be deleted here.
pub(super) const NO_DELETE: &str =
    "Instagram's API cannot delete a post: delete it in the Instagram app";

impl InstagramAdapter {
    /// Per 50 media: one read of the counts and one of the insights.
    pub(super) async fn media_metrics(
        &self,
        account: &AccountRef<'_>,
        posts: &[PostRef<'_>],
    ) -> Result<Vec<PostMetrics>, AdapterError> {
        // Media ids are numbers; anything else could not be one and would break `ids=`.
        let ids: Vec<&str> = posts
            .iter()
            .map(|p| p.platform_post_id)
            .filter(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
            .collect();
        let token = account.access_token;
        let mut metrics = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(METRICS_BATCH) {
            let Some(mut counts) = self.counts(chunk, token).await? else {
                // Not even the counts may be read: the media are there, their figures unknown.
                metrics.extend(chunk.iter().map(|id| PostMetrics {
                    platform_post_id: (*id).to_owned(),
                    ..PostMetrics::default()
                }));
                continue;
            };
            let present: Vec<&str> = chunk
                .iter()
                .copied()
                .filter(|id| counts.contains_key(*id))
                .collect();
            let mut insights = self.insights(&present, token).await?;
            metrics.extend(present.into_iter().filter_map(|id| {
                let count = counts.remove(id)?;
                let insight = insights.remove(id).unwrap_or_default();
                Some(PostMetrics {
                    platform_post_id: id.to_owned(),
                    likes: count.like_count,
                    replies: count.comments_count,
                    reposts: insight.value("shares"),
                    saves: insight.value("saved"),
                    views: insight.value("views"),
                    reach: insight.value("reach"),
                    ..PostMetrics::default()
                })
            }));
        }
        Ok(metrics)
    }

    /// `like_count` and `comments_count` of `ids` (the shared multiple-id read, which takes
    /// out the media Graph no longer has); `None`: the token may not read them at all.
    async fn counts(
        &self,
        ids: &[&str],
        token: &SecretString,
    ) -> Result<Option<HashMap<String, Counts>>, AdapterError> {
        meta::follow_ups::read_nodes(
            &self.http,
            &self.settings.endpoints.api_base,
            ids,
            COUNT_FIELDS,
            token,
        )
        .await
    }

    /// The insights of `ids`; none at all without `instagram_manage_insights` (a Graph
    /// permission error) or when Graph refuses a metric for one of the media (a story, an
    /// album's child), since insights are optional and the counts stand on their own.
    async fn insights(
        &self,
        ids: &[&str],
        token: &SecretString,
    ) -> Result<HashMap<String, Insights>, AdapterError> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let read = meta::follow_ups::read_nodes::<WithInsights>(
            &self.http,
            &self.settings.endpoints.api_base,
            ids,
            INSIGHTS_FIELDS,
            token,
        )
        .await;
        match read {
            Ok(Some(media)) => Ok(media
                .into_iter()
                .filter_map(|(id, m)| Some((id, m.insights?)))
                .collect()),
            Ok(None) => Ok(HashMap::new()),
            Err(AdapterError::Rejected { code, message }) => {
                tracing::warn!(graph.code = %code, error = %message, "Instagram insights unavailable; counts only");
                Ok(HashMap::new())
            }
            Err(err) => Err(err),
        }
    }

    /// `POST /{ig-media-id}/comments` with `message`: the comment's id. Text only.
    pub(super) async fn comment_on_media(
        &self,
        account: &AccountRef<'_>,
        on: &PostRef<'_>,
        comment: &PublishRequest<'_>,
    ) -> Result<Published, AdapterError> {
        let text = comment.text.trim();
        if text.is_empty() || !comment.media.is_empty() {
            return Err(AdapterError::Rejected {
                code: "comment_text_only".into(),
                message: "an Instagram comment is text only, and not empty".into(),
            });
        }
        let token = account.access_token;
        let url = meta::node_url(
            &self.settings.endpoints.api_base,
            on.platform_post_id,
            Some("comments"),
        )?;
        let request = self
            .http
            .post(url)
            .form(&meta::with_token(&[("message", text)], token));
        let created =
            meta::follow_ups::create_unsure(request, "Instagram", COMMENT_PERMISSION, "comment")
                .await
                .map_err(|err| meta::redact(err, &[token.expose_secret()]))?;
        Ok(Published {
            platform_post_id: created.id,
            url: on.url.map(str::to_owned),
        })
    }
}

#[derive(Debug, Deserialize)]
struct Counts {
    like_count: Option<i64>,
    comments_count: Option<i64>,
}

#[derive(Debug, Deserialize)]
struct WithInsights {
    insights: Option<Insights>,
}

/// An insights edge: `{"data": [{"name", "period", "values": [{"value"}]}]}`.
#[derive(Debug, Default, Deserialize)]
struct Insights {
    #[serde(default)]
    data: Vec<Insight>,
}

#[derive(Debug, Deserialize)]
struct Insight {
    name: String,
    #[serde(default)]
    values: Vec<InsightValue>,
    /// The newer shape of some metrics.
    #[serde(default)]
    total_value: Option<InsightValue>,
}

#[derive(Debug, Deserialize)]
struct InsightValue {
    value: Option<i64>,
}

impl Insights {
    fn value(&self, name: &str) -> Option<i64> {
        let insight = self.data.iter().find(|i| i.name == name)?;
        insight
            .values
            .first()
            .and_then(|v| v.value)
            .or_else(|| insight.total_value.as_ref().and_then(|v| v.value))
    }
}
