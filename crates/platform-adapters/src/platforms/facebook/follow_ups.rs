//! Facebook Pages after publishing: engagement read back in batches, deletion, and a first
//! comment as the Page.
//!
//! - Engagement: Graph's multiple-id read with field expansion, `GET /?ids=a,b&fields=
//!   reactions.limit(0).summary(true),comments.limit(0).summary(true),shares` (at most 50 ids):
//!   `reactions.summary.total_count` (every reaction, likes included), `comments.summary.
//!   total_count` and, for feed posts, `shares.count`, which Graph leaves out while a post has
//!   no shares. Reading a Page's posts needs `pages_read_engagement` (requested).
//!   Impressions and reach live in the Page post insights, which need `read_insights` besides,
//!   not requested: they stay `None`. A video or photo published on its own is a node of
//!   another type (its id has no `_`) without a `shares` field, and asking for it would fail the
//!   whole read, so those ids are read in their own request without it.
//!   <https://developers.facebook.com/docs/graph-api/reference/post/>,
//!   <https://developers.facebook.com/docs/graph-api/reference/object/reactions>,
//!   <https://developers.facebook.com/docs/graph-api/reference/object/comments>.
//! - Deletion: `DELETE /{post-id}` (`pages_manage_posts`, requested) answering
//!   `{"success": true}`. <https://developers.facebook.com/docs/pages-api/posts>
//! - Comments: `POST /{post-id}/comments` with `message` (and `attachment_url` for a photo),
//!   answering `{"id"}`; commenting as the Page needs `pages_manage_engagement`
//!   (<https://developers.facebook.com/documentation/pages-api/comments-mentions>), which a
//!   user may decline at login: the comment is then refused, naming it.

use std::collections::HashMap;

use secrecy::ExposeSecret;
use serde::Deserialize;

use super::{absolute, meta, secrets, FacebookAdapter};
use crate::{
    AccountRef, AdapterError, Deletion, MediaKind, PostMetrics, PostRef, PublishRequest, Published,
};

/// Most ids of one multiple-id read.
pub(super) const METRICS_BATCH: usize = 50;

/// The counts of a feed post (`{page-id}_{post-id}`).
const POST_FIELDS: &str = "reactions.limit(0).summary(true),comments.limit(0).summary(true),shares";

/// The counts of a photo or video node, which have no `shares`.
const MEDIA_FIELDS: &str = "reactions.limit(0).summary(true),comments.limit(0).summary(true)";

/// The permission a Page comment needs.
const COMMENT_PERMISSION: &str = "pages_manage_engagement";

impl FacebookAdapter {
    /// Per 50 posts: one multiple-id read of the feed posts and one of the photos and videos
    /// published on their own. Ids that cannot be Graph ids (only digits and `_`) are left
    /// out, as they would break `ids=`; so are posts Graph no longer has. A token without the
    /// permission to read them answers the posts without figures.
    pub(super) async fn read_post_metrics(
        &self,
        account: &AccountRef<'_>,
        posts: &[PostRef<'_>],
    ) -> Result<Vec<PostMetrics>, AdapterError> {
        let ids: Vec<&str> = posts
            .iter()
            .map(|p| p.platform_post_id)
            .filter(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit() || b == b'_'))
            .collect();
        let mut metrics = Vec::with_capacity(ids.len());
        for batch in ids.chunks(METRICS_BATCH) {
            let (feed, media): (Vec<&str>, Vec<&str>) =
                batch.iter().partition(|id| id.contains('_'));
            let mut nodes = HashMap::new();
            for (ids, fields) in [(feed, POST_FIELDS), (media, MEDIA_FIELDS)] {
                if ids.is_empty() {
                    continue;
                }
                match meta::follow_ups::read_nodes::<Counts>(
                    &self.http,
                    &self.settings.endpoints.api_base,
                    &ids,
                    fields,
                    account.access_token,
                )
                .await?
                {
                    Some(found) => nodes.extend(found),
                    None => {
                        nodes.extend(ids.iter().map(|id| ((*id).to_owned(), Counts::default())));
                    }
                }
            }
            // In the order asked, whatever order Graph's object has.
            metrics.extend(batch.iter().filter_map(|id| {
                nodes
                    .remove(*id)
                    .map(|counts| counts.into_metrics(id, id.contains('_')))
            }));
        }
        Ok(metrics)
    }

    /// `DELETE /{post-id}` with the Page token.
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
            "Facebook",
            "pages_manage_posts",
        )
        .await
        .map_err(|err| meta::redact(err, &[account.access_token.expose_secret()]))
    }

    /// `POST /{post-id}/comments` as the Page: the text as `message`, one photo as
    /// `attachment_url` (Graph takes one attachment per comment, and no video). The creating
    /// call is sent "unsure": its lost answer is `OutcomeUnknown`. The answer's id is the
    /// comment's; its link is read best effort.
    pub(super) async fn add_comment(
        &self,
        account: &AccountRef<'_>,
        on: &PostRef<'_>,
        comment: &PublishRequest<'_>,
    ) -> Result<Published, AdapterError> {
        let message = Some(comment.text.trim()).filter(|t| !t.is_empty());
        let photo = match comment.media {
            [] => None,
            [photo] if photo.kind == MediaKind::Image => Some(photo.url.as_str()),
            _ => {
                return Err(AdapterError::Rejected {
                    code: "unsupported_media".into(),
                    message: "a Facebook comment carries at most one photo, and no video".into(),
                })
            }
        };
        if message.is_none() && photo.is_none() {
            return Err(AdapterError::Rejected {
                code: "empty_comment".into(),
                message: "a Facebook comment needs text or a photo".into(),
            });
        }
        let mut form = Vec::new();
        form.extend(message.map(|m| ("message", m)));
        form.extend(photo.map(|url| ("attachment_url", url)));
        let url = meta::node_url(
            &self.settings.endpoints.api_base,
            on.platform_post_id,
            Some("comments"),
        )?;
        let created = meta::follow_ups::create_unsure(
            self.http
                .post(url)
                .form(&meta::with_token(&form, account.access_token)),
            "Facebook",
            COMMENT_PERMISSION,
            "comment as the Page",
        )
        .await?;
        let link = meta::permalink(
            &self.http,
            &self.settings.endpoints.api_base,
            &created.id,
            account.access_token,
            "permalink_url",
        )
        .await;
        Ok(Published {
            url: link.map(|l| absolute(&l)),
            platform_post_id: created.id,
        })
    }

    /// [`Self::add_comment`] with the token and the signed photo URL kept out of its errors.
    pub(super) async fn comment_redacted(
        &self,
        account: &AccountRef<'_>,
        on: &PostRef<'_>,
        comment: &PublishRequest<'_>,
    ) -> Result<Published, AdapterError> {
        self.add_comment(account, on, comment)
            .await
            .map_err(|err| meta::redact(err, &secrets(account, comment)))
    }
}

/// The counts of a post, photo or video.
#[derive(Debug, Default, Deserialize)]
struct Counts {
    #[serde(default)]
    reactions: Option<Summarized>,
    #[serde(default)]
    comments: Option<Summarized>,
    #[serde(default)]
    shares: Option<Shares>,
}

/// An edge read for its `summary` only.
#[derive(Debug, Deserialize)]
struct Summarized {
    #[serde(default)]
    summary: Option<Summary>,
}

#[derive(Debug, Deserialize)]
struct Summary {
    #[serde(default)]
    total_count: Option<i64>,
}

#[derive(Debug, Deserialize)]
struct Shares {
    #[serde(default)]
    count: Option<i64>,
}

impl Counts {
    /// `feed_post`: `shares` was asked for, so its absence means none (Graph omits the field
    /// of a post nobody shared); a post that answered no reactions summary at all was not
    /// readable, and its shares stay unknown too.
    fn into_metrics(self, id: &str, feed_post: bool) -> PostMetrics {
        let total = |edge: Option<Summarized>| edge.and_then(|e| e.summary)?.total_count;
        let likes = total(self.reactions);
        let reposts = match (feed_post, self.shares) {
            (true, Some(shares)) => shares.count,
            (true, None) if likes.is_some() => Some(0),
            _ => None,
        };
        PostMetrics {
            platform_post_id: id.to_owned(),
            likes,
            replies: total(self.comments),
            reposts,
            quotes: None,
            saves: None,
            impressions: None,
            views: None,
            reach: None,
        }
    }
}
