//! X after publishing: engagement read back in batches and deletion.
//!
//! - Engagement: `GET /2/tweets?ids=…&tweet.fields=public_metrics` (`getPostsByIds` of the X API
//!   v2 OpenAPI description: 1 to 100 ids; OAuth 2.0 scopes `tweet.read users.read`, both
//!   requested at connect). `public_metrics` holds `like_count`, `reply_count`,
//!   `retweet_count`, `quote_count`, `bookmark_count` and `impression_count`
//!   (<https://docs.x.com/x-api/fundamentals/metrics>). `non_public_metrics` and
//!   `organic_metrics` are not asked for: they exist only for posts of the last 30 days, and
//!   asking for them for an older post turns it into an error of the whole answer's `errors`.
//!   A post X no longer has comes back as a `resource-not-found` problem in `errors` instead of
//!   in `data`, so it is simply absent from the result. The OpenAPI description names the
//!   parameter `post.fields`; the API reference and every documented example use
//!   `tweet.fields`, which is what X answers to (and what the lookup of `find_published` sends).
//! - Deletion: `DELETE /2/tweets/:id` (`deletePosts`: scopes `tweet.read tweet.write
//!   users.read`; answer `{"data": {"deleted": true}}`; 50 requests per 15 minutes per user,
//!   <https://docs.x.com/x-api/posts/manage-tweets/introduction>).
//! - No comments: a first comment on X is a reply (`PublishRequest::reply_to`).

use reqwest::StatusCode;
use serde::Deserialize;

use super::{XAdapter, API};
use crate::{http, AccountRef, AdapterError, Deletion, PostMetrics, PostRef};

/// Most ids `GET /2/tweets` takes at once (`maxItems: 100`).
pub(super) const METRICS_BATCH: usize = 100;

/// The figures asked for: the public ones, which every user token may read for any post.
const TWEET_FIELDS: &str = "public_metrics";

impl XAdapter {
    /// `GET /2/tweets?ids=` for each run of up to [`METRICS_BATCH`] posts. X's 403 (an app
    /// whose access level does not include post lookups) is a missing permission, not a
    /// failure: every asked post is answered without figures.
    pub(super) async fn read_post_metrics(
        &self,
        account: &AccountRef<'_>,
        posts: &[PostRef<'_>],
    ) -> Result<Vec<PostMetrics>, AdapterError> {
        let mut metrics = Vec::with_capacity(posts.len());
        for batch in posts.chunks(METRICS_BATCH) {
            match self.lookup(account, batch).await? {
                Some(found) => metrics.extend(found.into_iter().map(PostData::into_metrics)),
                None => metrics.extend(batch.iter().map(|post| PostMetrics {
                    platform_post_id: post.platform_post_id.to_owned(),
                    ..PostMetrics::default()
                })),
            }
        }
        Ok(metrics)
    }

    /// The posts of `batch` X still has, with their public metrics; `None` when X refuses the
    /// lookup itself with a 403.
    async fn lookup(
        &self,
        account: &AccountRef<'_>,
        batch: &[PostRef<'_>],
    ) -> Result<Option<Vec<PostData>>, AdapterError> {
        let ids = batch
            .iter()
            .map(|post| post.platform_post_id)
            .collect::<Vec<_>>()
            .join(",");
        let request = http::bearer(
            self.http
                .get(format!("{}/2/tweets", self.settings.endpoints.api_base))
                .query(&[("ids", ids.as_str()), ("tweet.fields", TWEET_FIELDS)]),
            account.access_token,
        );
        let response = send(request).await?;
        if response.status() == StatusCode::FORBIDDEN {
            let body = response.text().await.unwrap_or_default();
            tracing::info!(
                answer = %http::excerpt(&body, 200),
                "X refused the post lookup (403): engagement is unavailable to this app"
            );
            return Ok(None);
        }
        let answer: Lookup = API.decode(API.checked(response).await?).await?;
        Ok(Some(answer.data))
    }

    /// `DELETE /2/tweets/:id`. A 404, or a `resource-not-found` problem, is a post already
    /// gone. `{"deleted": false}` without a reason is checked with a lookup: a post X no longer
    /// has is gone all the same; one still there is a transient failure to retry.
    pub(super) async fn delete(
        &self,
        account: &AccountRef<'_>,
        post: &PostRef<'_>,
    ) -> Result<Deletion, AdapterError> {
        let id = post.platform_post_id;
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(AdapterError::Rejected {
                code: "invalid_post_id".into(),
                message: format!("`{}` is not an X post id", http::excerpt(id, 40)),
            });
        }
        let url = format!("{}/2/tweets/{id}", self.settings.endpoints.api_base);
        let response = send(http::bearer(self.http.delete(url), account.access_token)).await?;
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(Deletion::AlreadyGone);
        }
        let answer: DeleteAnswer = API.decode(API.checked(response).await?).await?;
        if answer.data.is_some_and(|d| d.deleted) {
            return Ok(Deletion::Deleted);
        }
        if answer.errors.iter().any(Problem::is_not_found) {
            return Ok(Deletion::AlreadyGone);
        }
        match self.lookup(account, std::slice::from_ref(post)).await? {
            Some(found) if found.is_empty() => Ok(Deletion::AlreadyGone),
            _ => Err(AdapterError::Transient {
                message: format!("X answered that post {id} was not deleted"),
            }),
        }
    }
}

/// Sends `request` and hands back the answer whatever its status, for the caller to read the
/// statuses that mean something here (404, 403) before classifying the rest.
async fn send(request: reqwest::RequestBuilder) -> Result<reqwest::Response, AdapterError> {
    use crate::http::Transmit;
    request
        .transmit()
        .await
        .map_err(|e| AdapterError::from_transport(&e))
}

/// `GET /2/tweets` answer: the posts found, and a problem for each that was not.
#[derive(Debug, Deserialize)]
struct Lookup {
    #[serde(default)]
    data: Vec<PostData>,
}

#[derive(Debug, Deserialize)]
struct PostData {
    id: String,
    #[serde(default)]
    public_metrics: Option<PublicMetrics>,
}

/// `public_metrics` of a post (`PostPublicMetrics`).
#[derive(Debug, Default, Deserialize)]
struct PublicMetrics {
    like_count: Option<i64>,
    reply_count: Option<i64>,
    /// The name in every documented answer.
    retweet_count: Option<i64>,
    /// The OpenAPI description's name; a separate field (not an alias) so an answer carrying
    /// both during a rename still parses.
    repost_count: Option<i64>,
    quote_count: Option<i64>,
    bookmark_count: Option<i64>,
    impression_count: Option<i64>,
}

impl PostData {
    fn into_metrics(self) -> PostMetrics {
        let m = self.public_metrics.unwrap_or_default();
        PostMetrics {
            platform_post_id: self.id,
            likes: m.like_count,
            replies: m.reply_count,
            reposts: m.retweet_count.or(m.repost_count),
            quotes: m.quote_count,
            saves: m.bookmark_count,
            impressions: m.impression_count,
            views: None,
            reach: None,
        }
    }
}

/// `DELETE /2/tweets/:id` answer.
#[derive(Debug, Deserialize)]
struct DeleteAnswer {
    data: Option<Deleted>,
    #[serde(default)]
    errors: Vec<Problem>,
}

#[derive(Debug, Deserialize)]
struct Deleted {
    deleted: bool,
}

/// A problem of an answer's `errors`, as far as telling "not found" apart goes.
#[derive(Debug, Deserialize)]
struct Problem {
    #[serde(rename = "type", default)]
    kind: String,
}

impl Problem {
    fn is_not_found(&self) -> bool {
        self.kind.ends_with("/resource-not-found")
    }
}
