//! Mastodon after publishing: engagement read back in batches, and deletion.
//!
//! - Engagement: `GET /api/v1/statuses?id[]=…` (4.3.0+; "View multiple statuses" in
//!   <https://docs.joinmastodon.org/methods/statuses/#index>; more than `DEFAULT_STATUSES_LIMIT`
//!   = 20 ids is a 422), answering the statuses that exist and are visible, "fewer records than
//!   requested if the requested statuses do not exist or cannot be accessed". Each `Status` has
//!   `favourites_count`, `reblogs_count`, `replies_count` and, since 4.5, `quotes_count`
//!   (nullable); Mastodon reports no views, impressions or bookmarks of others. An instance
//!   before 4.3 has no such route (404): each status is then read with
//!   `GET /api/v1/statuses/:id` (404 when it is gone).
//! - Scope: both reads are "public for public statuses, user token + `read:statuses` for
//!   private statuses". Postbridge does not ask for `read:statuses` (the scopes an app asks for
//!   are fixed when it is registered on each instance, so adding one means registering every
//!   instance app again). A token without the scope is refused with a 403 ("This action is
//!   outside the authorized scopes": `authorize_if_got_token! :read, :'read:statuses'`), so a
//!   403 is asked again without the token: public and unlisted statuses answer, a
//!   followers-only one is missing (left out), and an instance that serves nothing to
//!   anonymous callers (401/403) answers every asked post without figures.
//! - Deletion: `DELETE /api/v1/statuses/:id` (`write:statuses`, requested), 200 with the
//!   deleted status, 404 when there is none. <https://docs.joinmastodon.org/methods/statuses/#delete>
//! - No comments: a first comment on Mastodon is a reply (`in_reply_to_id`).

use reqwest::{RequestBuilder, Response, StatusCode, Url};
use secrecy::SecretString;
use serde::Deserialize;

use super::{MastodonAdapter, API};
use crate::{http, http::Transmit, AccountRef, AdapterError, Deletion, PostMetrics, PostRef};

/// Most ids `GET /api/v1/statuses` takes (`DEFAULT_STATUSES_LIMIT`).
pub(super) const METRICS_BATCH: usize = 20;

/// How a read went once the token's scope has been dealt with.
enum Read<T> {
    /// The instance answered.
    Found(T),
    /// 404: no such route (the batch read) or no such status (the single read).
    NotFound,
    /// Neither the token nor an anonymous request may read it.
    Hidden,
}

impl MastodonAdapter {
    /// The batch read for each run of up to [`METRICS_BATCH`] statuses, falling back to one read
    /// per status on instances without it.
    pub(super) async fn read_post_metrics(
        &self,
        account: &AccountRef<'_>,
        posts: &[PostRef<'_>],
    ) -> Result<Vec<PostMetrics>, AdapterError> {
        self.check_instance(account)?;
        let mut metrics = Vec::with_capacity(posts.len());
        for batch in posts.chunks(METRICS_BATCH) {
            let pairs: Vec<(&str, &str)> = batch
                .iter()
                .map(|post| ("id[]", post.platform_post_id))
                .collect();
            let url = http::url_with_query(
                &format!("{}/api/v1/statuses", self.endpoints.api_base),
                &pairs,
            )?;
            let url = Url::parse(&url).map_err(|e| AdapterError::Unsupported {
                what: format!("invalid URL `{url}`: {e}"),
            })?;
            match self
                .read::<Vec<StatusCounts>>(&url, account.access_token)
                .await?
            {
                Read::Found(statuses) => {
                    metrics.extend(statuses.into_iter().map(StatusCounts::into_metrics));
                }
                Read::Hidden => metrics.extend(batch.iter().map(unknown)),
                Read::NotFound => {
                    for post in batch {
                        let url = self.status_url(post.platform_post_id)?;
                        match self
                            .read::<StatusCounts>(&url, account.access_token)
                            .await?
                        {
                            Read::Found(status) => metrics.push(status.into_metrics()),
                            Read::Hidden => metrics.push(unknown(post)),
                            Read::NotFound => {}
                        }
                    }
                }
            }
        }
        Ok(metrics)
    }

    /// `GET url` with the token, and again without it when the token lacks the scope.
    async fn read<T: serde::de::DeserializeOwned>(
        &self,
        url: &Url,
        token: &SecretString,
    ) -> Result<Read<T>, AdapterError> {
        let response = send(http::bearer(self.http.get(url.clone()), token)).await?;
        let response = if response.status() == StatusCode::FORBIDDEN {
            let anonymous = send(self.http.get(url.clone())).await?;
            if matches!(
                anonymous.status(),
                StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
            ) {
                return Ok(Read::Hidden);
            }
            anonymous
        } else {
            response
        };
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(Read::NotFound);
        }
        Ok(Read::Found(API.decode(API.checked(response).await?).await?))
    }

    /// `DELETE /api/v1/statuses/:id`: 200 is `Deleted`, 404 `AlreadyGone`.
    pub(super) async fn delete(
        &self,
        account: &AccountRef<'_>,
        post: &PostRef<'_>,
    ) -> Result<Deletion, AdapterError> {
        self.check_instance(account)?;
        let url = self.status_url(post.platform_post_id)?;
        let response = send(http::bearer(self.http.delete(url), account.access_token)).await?;
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(Deletion::AlreadyGone);
        }
        API.checked(response).await?;
        Ok(Deletion::Deleted)
    }

    /// `/api/v1/statuses/<id>`, the id escaped as one path segment: ids come from storage, and
    /// one holding `/` or `?` must not reach another route.
    fn status_url(&self, id: &str) -> Result<Url, AdapterError> {
        let base = format!("{}/api/v1/statuses", self.endpoints.api_base);
        let invalid = |what: String| AdapterError::Unsupported {
            what: format!("invalid API base URL `{base}`: {what}"),
        };
        let mut url = Url::parse(&base).map_err(|e| invalid(e.to_string()))?;
        url.path_segments_mut()
            .map_err(|()| invalid("it cannot have a path".into()))?
            .push(id);
        Ok(url)
    }
}

/// Sends `request`, handing back any answer so the caller reads the statuses that mean
/// something here (403, 404) before the rest is classified.
async fn send(request: RequestBuilder) -> Result<Response, AdapterError> {
    request
        .transmit()
        .await
        .map_err(|e| AdapterError::from_transport(&e))
}

/// An asked post the instance would not show: every figure unknown.
fn unknown(post: &PostRef<'_>) -> PostMetrics {
    PostMetrics {
        platform_post_id: post.platform_post_id.to_owned(),
        ..PostMetrics::default()
    }
}

/// The counts of a `Status`.
#[derive(Debug, Deserialize)]
struct StatusCounts {
    id: String,
    #[serde(default)]
    favourites_count: Option<i64>,
    #[serde(default)]
    reblogs_count: Option<i64>,
    #[serde(default)]
    replies_count: Option<i64>,
    /// Since 4.5; `null` where quotes are unknown.
    #[serde(default)]
    quotes_count: Option<i64>,
}

impl StatusCounts {
    fn into_metrics(self) -> PostMetrics {
        PostMetrics {
            platform_post_id: self.id,
            likes: self.favourites_count,
            replies: self.replies_count,
            reposts: self.reblogs_count,
            quotes: self.quotes_count,
            saves: None,
            impressions: None,
            views: None,
            reach: None,
        }
    }
}
