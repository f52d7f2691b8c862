//! Deleting a post (`DELETE /v1/posts/{id}`): what has not gone out is canceled (the cancel
//! path), what is published is deleted from its platforms by the publisher. This module writes
//! the requests and their events in one transaction, and shows each target's deletion in the
//! post view.

use chrono::{DateTime, Utc};
use db::{
    deletions::PostDeletion,
    domain::{DeletionStatus, OwnerId, PostId, TargetStatus},
    posts::{Post, PostTarget},
    Connection, PgConnection,
};
use events::{PostCanceled, PostDeleteRequested};
use serde::Serialize;
use utoipa::ToSchema;

use crate::{
    error::ApiError,
    posts::view::{ErrorView, PostView},
    state::{AppState, OUTBOX},
    views::enums::DeletionStatusSchema,
};

/// Whether the deletion is still under way once the request is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Some targets are being deleted: 202, look at the post again for the outcome.
    UnderWay,
    /// Nothing left to do (deleted, canceled, or nothing was published): 200.
    Done,
}

/// Cancels the post's waiting targets and asks the publisher to delete its published ones, in
/// one transaction with `post.canceled` / `post.delete_requested`. Idempotent: a target being
/// deleted or deleted is never asked for again (so never deleted twice on its platform), and a
/// repeated request answers the post as it stands. A target being published right now is a
/// 409 (delete once it has gone out); nothing is changed then.
pub async fn delete(
    state: &AppState,
    owner: OwnerId,
    id: PostId,
) -> Result<(PostView, Progress), ApiError> {
    state
        .db
        .run(move |conn| {
            conn.transaction(|conn| {
                let post =
                    Post::lock_for_owner(conn, &owner, id)?.ok_or(ApiError::NotFound("post"))?;
                let targets = PostTarget::of_posts(conn, &[post.id])?;
                if targets
                    .iter()
                    .any(|t| matches!(t.status, TargetStatus::Publishing | TargetStatus::Unknown))
                {
                    return Err(ApiError::Conflict {
                        code: "publishing_in_progress",
                        message:
                            "the post is being published right now; delete it once it has gone out"
                                .into(),
                    });
                }
                let canceled = PostTarget::cancel_scheduled(conn, post.id)?;
                let requested = PostDeletion::request(conn, post.id)?;
                Post::refresh_status(conn, &[post.id])?;
                if !canceled.is_empty() {
                    OUTBOX.write(
                        conn,
                        PostCanceled {
                            post_id: post.id,
                            owner_id: post.owner_id.clone(),
                            target_ids: canceled,
                        },
                    )?;
                }
                if !requested.is_empty() {
                    OUTBOX.write(
                        conn,
                        PostDeleteRequested {
                            post_id: post.id,
                            owner_id: post.owner_id.clone(),
                            target_ids: requested,
                        },
                    )?;
                }
                let post =
                    Post::get_for_owner(conn, &owner, id)?.ok_or(ApiError::NotFound("post"))?;
                let targets = PostTarget::of_posts(conn, &[post.id])?;
                let progress = if targets.iter().any(|t| t.status == TargetStatus::Deleting) {
                    Progress::UnderWay
                } else {
                    Progress::Done
                };
                let mut views = vec![PostView::new(&post, &targets, None)];
                attach(conn, &mut views)?;
                let view = views.pop().ok_or_else(|| {
                    ApiError::internal(anyhow::anyhow!("the deleted post's view went missing"))
                })?;
                Ok((view, progress))
            })
        })
        .await
}

/// Fills each target's `deletion` in these views, one query for all of them.
pub fn attach(conn: &mut PgConnection, views: &mut [PostView]) -> Result<(), ApiError> {
    let ids: Vec<PostId> = views.iter().map(|v| v.id).collect();
    if ids.is_empty() {
        return Ok(());
    }
    let deletions = PostDeletion::of_posts(conn, &ids)?;
    for target in views.iter_mut().flat_map(|v| v.targets.iter_mut()) {
        target.deletion = deletions
            .iter()
            .find(|d| d.target_id == target.id)
            .map(DeletionView::new);
    }
    Ok(())
}

/// Where the deletion of a target from its platform stands.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeletionView {
    /// pending, deleting, deleted, unsupported (the platform cannot delete through its API:
    /// the post is still live there) or failed.
    #[schema(value_type = DeletionStatusSchema)]
    pub status: DeletionStatus,
    /// When the deletion was asked for.
    pub requested_at: DateTime<Utc>,
    /// When the platform confirmed it.
    pub deleted_at: Option<DateTime<Utc>>,
    /// Tries made (each deletes a thread's replies, then the post).
    pub attempts: i32,
    /// Why it is not deleted (yet): unsupported, failed, or waiting to try again.
    pub error: Option<ErrorView>,
}

impl DeletionView {
    fn new(deletion: &PostDeletion) -> Self {
        Self {
            status: deletion.status,
            requested_at: deletion.requested_at,
            deleted_at: deletion.deleted_at,
            attempts: deletion.attempts,
            error: deletion
                .last_error
                .as_ref()
                .filter(|_| deletion.status != DeletionStatus::Deleted)
                .map(|message| ErrorView {
                    code: deletion
                        .error_code
                        .clone()
                        .unwrap_or_else(|| "error".into()),
                    message: message.clone(),
                }),
        }
    }
}
