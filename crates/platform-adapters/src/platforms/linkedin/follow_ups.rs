//! After publishing on LinkedIn: reaction and comment counts, deleting a post, and a first
//! comment. Every call is a versioned `/rest` call ([`super::LINKEDIN_VERSION`], Rest.li 2.0),
//! with URNs URL-encoded where they are a path segment or inside `List(…)`.
//!
//! Sources (Microsoft Learn, LinkedIn Community Management, checked December 2026):
//! - Social Metadata API: `GET /rest/socialMetadata/{urn}` and the batch get
//!   `GET /rest/socialMetadata?ids=List({urn},…)` (answering `results` keyed by URN, with
//!   `errors` for the rest): `reactionSummaries` per reaction type (`{reactionType, count}`) and
//!   `commentSummary` (`count`, `topLevelCount`). Reading needs `r_member_social_feed` or, for
//!   organizations, `r_organization_social_feed` (the Community Management API's permissions;
//!   earlier versions named them `r_member_social`, "granted to select developers only"): the
//!   self-serve "Share on LinkedIn" grant Postbridge asks for (`w_member_social`) does not
//!   include them, so a 403 answers every figure `None`.
//!   <https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/social-metadata-api>
//! - Posts API, delete: `DELETE /rest/posts/{encoded post urn}` with `X-RestLi-Method: DELETE`,
//!   204 on success, and idempotent (a post already deleted may answer 204 as well); `w_member_social`
//!   (members) or `w_organization_social`.
//!   <https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/posts-api>
//! - Comments API: `POST /rest/socialActions/{encoded post urn}/comments` with `actor`,
//!   `object` and `message.text`; 201 with the comment (`commentUrn`, `id`) or its id in
//!   `x-restli-id`. The current page lists `w_member_social_feed` / `w_organization_social_feed`
//!   as the permissions to comment (LinkedIn moved the social actions out of `w_member_social`
//!   into the Community Management API); Postbridge does not ask for them, since LinkedIn refuses
//!   an authorization naming a scope the app was not approved for. So the descriptor does not
//!   offer first comments, and a comment refused with 403 says which permission is missing.
//!   <https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/comments-api>
//!
//! Impressions, reach and reposts need the organization share statistics or member post
//! analytics products, which Postbridge does not assume: they stay `None`.

use std::collections::HashMap;

use reqwest::{Response, StatusCode};
use serde::Deserialize;
use serde_json::json;

use super::{author_urn, LinkedinAdapter, API};
use crate::http::Transmit;
use crate::{AccountRef, AdapterError, Deletion, PostMetrics, PostRef, PublishRequest, Published};

/// What a comment refused for want of the Community Management permission says.
const NO_COMMENT_PERMISSION: &str = "LinkedIn lets only apps approved for its Community Management API comment (w_member_social_feed / w_organization_social_feed); this app asks for w_member_social only";

/// Posts read per batch get. LinkedIn documents no limit; 20 URNs keep the URL well under
/// the lengths proxies accept.
pub(super) const METRICS_BATCH: usize = 20;

impl LinkedinAdapter {
    /// One batch get of `socialMetadata` per [`METRICS_BATCH`] posts. A post LinkedIn reports
    /// in `errors` (deleted, not visible) is left out; without the permission to read social
    /// actions (403) every figure is `None`.
    pub(super) async fn post_engagement(
        &self,
        account: &AccountRef<'_>,
        posts: &[PostRef<'_>],
    ) -> Result<Vec<PostMetrics>, AdapterError> {
        let ids: Vec<&str> = posts
            .iter()
            .map(|p| p.platform_post_id)
            .filter(|id| !id.is_empty())
            .collect();
        let mut metrics = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(METRICS_BATCH) {
            let list = chunk
                .iter()
                .map(|urn| encode(urn))
                .collect::<Vec<_>>()
                .join(",");
            let url = format!(
                "{}/rest/socialMetadata?ids=List({list})",
                self.settings.endpoints.api_base
            );
            let response = send(self.rest(self.http.get(url), account.access_token)).await?;
            if response.status() == StatusCode::FORBIDDEN {
                metrics.extend(chunk.iter().map(|urn| PostMetrics {
                    platform_post_id: (*urn).to_owned(),
                    ..PostMetrics::default()
                }));
                continue;
            }
            let mut batch: Batch = API.decode(API.checked(response).await?).await?;
            metrics.extend(chunk.iter().filter_map(|urn| {
                batch
                    .results
                    .remove(*urn)
                    // Rest.li keys a batch by the ids as sent; accept them encoded too.
                    .or_else(|| batch.results.remove(&encode(urn)))
                    .map(|summary| summary.into_metrics(urn))
            }));
        }
        Ok(metrics)
    }

    /// `DELETE /rest/posts/{urn}`: 204 deleted; 404 or 410 already gone.
    pub(super) async fn delete_linkedin_post(
        &self,
        account: &AccountRef<'_>,
        post: &PostRef<'_>,
    ) -> Result<Deletion, AdapterError> {
        let url = format!(
            "{}/rest/posts/{}",
            self.settings.endpoints.api_base,
            encode(post.platform_post_id)
        );
        let request = self
            .rest(self.http.delete(url), account.access_token)
            .header("X-RestLi-Method", "DELETE");
        let response = send(request).await?;
        if matches!(response.status(), StatusCode::NOT_FOUND | StatusCode::GONE) {
            return Ok(Deletion::AlreadyGone);
        }
        API.checked(response).await?;
        Ok(Deletion::Deleted)
    }

    /// `POST /rest/socialActions/{urn}/comments` as the post's author (the member, or the
    /// organization for an organization account). Text only.
    pub(super) async fn comment_on_post(
        &self,
        account: &AccountRef<'_>,
        on: &PostRef<'_>,
        comment: &PublishRequest<'_>,
    ) -> Result<Published, AdapterError> {
        let text = comment.text.trim();
        if text.is_empty() || !comment.media.is_empty() {
            return Err(AdapterError::Rejected {
                code: "comment_text_only".into(),
                message: "a LinkedIn comment from Postbridge is text only, and not empty".into(),
            });
        }
        let actor = author_urn(account, comment.account_kind)?;
        let url = format!(
            "{}/rest/socialActions/{}/comments",
            self.settings.endpoints.api_base,
            encode(on.platform_post_id)
        );
        let request = self
            .rest(self.http.post(url), account.access_token)
            .json(&json!({
                "actor": actor,
                "object": on.platform_post_id,
                "message": {"text": text},
            }));
        // Creating: a request that went out unanswered may have made the comment.
        let response = request
            .transmit()
            .await
            .map_err(|e| AdapterError::from_transport_unsure(&e))?;
        if response.status() == StatusCode::FORBIDDEN {
            return Err(AdapterError::Rejected {
                code: "missing_permission".into(),
                message: NO_COMMENT_PERMISSION.into(),
            });
        }
        let response = API.checked(response).await?;
        let header_id = response
            .headers()
            .get("x-restli-id")
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned);
        // The comment exists now: an unreadable body only loses what the header did not say.
        let body = response.bytes().await.unwrap_or_default();
        let created = serde_json::from_slice::<CreatedComment>(&body).ok();
        let (urn, bare_id) = created.map_or((None, None), CreatedComment::ids);
        let id = urn
            .or(header_id)
            .or(bare_id)
            .ok_or_else(|| AdapterError::OutcomeUnknown {
                message: "LinkedIn accepted the comment but named neither its URN nor its id"
                    .into(),
            })?;
        Ok(Published {
            platform_post_id: id,
            url: on.url.map(str::to_owned),
        })
    }
}

async fn send(request: reqwest::RequestBuilder) -> Result<Response, AdapterError> {
    request
        .transmit()
        .await
        .map_err(|e| AdapterError::from_transport(&e))
}

/// A URN as one URL component: everything but RFC 3986's unreserved characters
/// percent-encoded (`urn:li:share:1` → `urn%3Ali%3Ashare%3A1`), as Rest.li 2.0 wants URNs in
/// paths and in `List(…)`.
fn encode(urn: &str) -> String {
    let mut out = String::with_capacity(urn.len() * 3 / 2);
    for byte in urn.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// A Rest.li batch get: `results` keyed by id (`errors` and `statuses` are not read).
#[derive(Debug, Deserialize)]
struct Batch {
    #[serde(default)]
    results: HashMap<String, SocialMetadata>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SocialMetadata {
    #[serde(default)]
    reaction_summaries: Option<HashMap<String, ReactionSummary>>,
    #[serde(default)]
    comment_summary: Option<CommentSummary>,
}

#[derive(Debug, Deserialize)]
struct ReactionSummary {
    #[serde(default)]
    count: i64,
}

#[derive(Debug, Deserialize)]
struct CommentSummary {
    count: Option<i64>,
}

impl SocialMetadata {
    /// Likes are every reaction type together (LIKE, PRAISE, EMPATHY, …); replies every
    /// comment, replies to comments included.
    fn into_metrics(self, urn: &str) -> PostMetrics {
        PostMetrics {
            platform_post_id: urn.to_owned(),
            likes: self
                .reaction_summaries
                .map(|summaries| summaries.values().map(|r| r.count).sum()),
            replies: self.comment_summary.and_then(|c| c.count),
            ..PostMetrics::default()
        }
    }
}

/// The created comment, where LinkedIn returns it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreatedComment {
    comment_urn: Option<String>,
    #[serde(rename = "$URN")]
    urn: Option<String>,
    id: Option<String>,
}

impl CreatedComment {
    /// The comment's URN, and its bare id (the last resort, after `x-restli-id`).
    fn ids(self) -> (Option<String>, Option<String>) {
        let urn = self.comment_urn.or(self.urn).filter(|u| !u.is_empty());
        (urn, self.id.filter(|i| !i.is_empty()))
    }
}

#[cfg(test)]
mod tests {
    use super::encode;

    #[test]
    fn urns_are_encoded_as_one_component() {
        assert_eq!(
            encode("urn:li:share:6844785523593134080"),
            "urn%3Ali%3Ashare%3A6844785523593134080"
        );
        assert_eq!(
            encode("urn:li:comment:(urn:li:activity:1,2)"),
            "urn%3Ali%3Acomment%3A%28urn%3Ali%3Aactivity%3A1%2C2%29"
        );
    }
}
