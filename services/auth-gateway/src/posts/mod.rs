//! Publish requests: accepting, reading, editing, canceling and retrying posts. Every change
//! writes its rows and its event in one transaction, so the publisher hears of exactly what
//! was committed.

pub mod checks;
pub mod deletion;
pub mod request;
pub mod thread;
pub mod view;

use chrono::{DateTime, Utc};
use db::{
    domain::{MediaId, OwnerId, PostId, PostStatus, PostTargetId, TargetStatus},
    drafts::Draft,
    post_parts::PostPart,
    posts::{NewPost, NewTarget, Post, PostAttempt, PostFilter, PostTarget},
    Connection, PgConnection,
};
use events::{PostCanceled, PostScheduled, ScheduledTarget};

use crate::{
    cursor::PageRequest,
    error::ApiError,
    posts::{
        checks::{Content, ResolvedTarget},
        request::{CreatePost, UpdatePost},
        view::PostView,
    },
    state::{AppState, OUTBOX},
};

/// Whether `create` made a new post or found the one an earlier request with the same
/// `Idempotency-Key` made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Created {
    /// A new post (201).
    New,
    /// The same request again (200).
    Replayed,
}

/// Accepts a post: resolves and checks every target, then writes the post, its targets and
/// `post.scheduled` in one transaction. Refusals change nothing.
pub async fn create(
    state: &AppState,
    owner: OwnerId,
    idempotency_key: Option<String>,
    request: CreatePost,
) -> Result<(PostView, Created), ApiError> {
    if let Some(key) = &idempotency_key {
        request::check_idempotency_key(key)?;
    }
    let hash = request::fingerprint(&request);
    let adapters = state.adapters.clone();
    let env_account_publishing = state.env_account_publishing;
    state
        .db
        .run(move |conn| {
            if let Some(key) = &idempotency_key {
                if let Some(existing) = Post::find_by_idempotency_key(conn, &owner, key)? {
                    return replay(conn, existing, &hash);
                }
            }
            let request = with_draft(conn, &owner, request)?;
            let variants = request::parse_variants(&request.variants.clone().unwrap_or_default())?;
            let now = Utc::now();
            let due_at = checks::due_at(request.scheduled_at, now)?;
            let content = Content {
                text: request.text.clone().unwrap_or_default(),
                media_ids: request.media_ids.clone().unwrap_or_default(),
                variants,
            };
            let account_ids = request.account_ids.clone().unwrap_or_default();
            let targets = checks::resolve(conn, &adapters, &owner, &account_ids, &content)?;
            let parts = request.parts.clone().unwrap_or_default();
            let first_comment = request.first_comment.as_deref();
            thread::check(conn, &adapters, &owner, &targets, &parts, first_comment)?;
            crate::env_account::check_publishing(conn, &account_ids, env_account_publishing)?;
            let post = NewPost {
                id: PostId::new(),
                owner_id: owner.clone(),
                draft_id: request.draft_id,
                text: content.text.clone(),
                media_ids: content.media_ids.iter().copied().map(Some).collect(),
                variants: serde_json::to_value(&request.variants).unwrap_or_default(),
                idempotency_key: idempotency_key.clone(),
                request_hash: idempotency_key.as_ref().map(|_| hash.clone()),
                scheduled_at: request.scheduled_at,
                status: PostStatus::Scheduled,
            };
            let rows = new_targets(post.id, due_at, &targets);
            let inserted = conn.transaction(|conn| {
                let Some(inserted) = Post::insert_with_targets(conn, &post, &rows)? else {
                    return Ok::<_, ApiError>(None);
                };
                PostPart::insert_for_post(conn, &thread::rows(inserted.id, &parts, first_comment))?;
                let announced = rows.iter().map(|t| ScheduledTarget {
                    target_id: t.id,
                    account_id: t.account_id,
                    platform: t.platform,
                    due_at: t.due_at,
                });
                OUTBOX.write(conn, scheduled_event(&inserted, announced))?;
                Ok(Some(inserted))
            })?;
            match inserted {
                Some(post) => {
                    let targets = PostTarget::of_posts(conn, &[post.id])?;
                    Ok((with_parts(conn, &post, &targets, None)?, Created::New))
                }
                // A concurrent request with the same key won the insert.
                None => {
                    let key = idempotency_key.unwrap_or_default();
                    let existing =
                        Post::find_by_idempotency_key(conn, &owner, &key)?.ok_or_else(|| {
                            ApiError::internal(anyhow::anyhow!("idempotent insert lost its post"))
                        })?;
                    replay(conn, existing, &hash)
                }
            }
        })
        .await
}

/// Fills what the request leaves out from its draft: fields given in the request win.
fn with_draft(
    conn: &mut PgConnection,
    owner: &OwnerId,
    mut request: CreatePost,
) -> Result<CreatePost, ApiError> {
    let Some(draft_id) = request.draft_id else {
        return Ok(request);
    };
    let draft =
        Draft::find_for_owner(conn, draft_id, owner)?.ok_or_else(|| ApiError::Unprocessable {
            code: "unknown_draft",
            message: format!("no draft {draft_id}"),
            details: serde_json::json!({ "draft_id": draft_id }),
        })?;
    request.text = request.text.or(Some(draft.text));
    request.media_ids = request
        .media_ids
        .or_else(|| Some(draft.media_ids.into_iter().flatten().collect()));
    request.account_ids = request
        .account_ids
        .or_else(|| Some(draft.account_ids.into_iter().flatten().collect()));
    if request.variants.is_none() {
        request.variants =
            serde_json::from_value(draft.variants).map_err(|e| ApiError::Unprocessable {
                code: "invalid_draft",
                message: format!("the draft's variants cannot be used: {e}"),
                details: serde_json::json!({ "draft_id": draft_id }),
            })?;
    }
    Ok(request)
}

fn replay(
    conn: &mut PgConnection,
    existing: Post,
    hash: &[u8],
) -> Result<(PostView, Created), ApiError> {
    if existing.request_hash.as_deref() != Some(hash) {
        return Err(ApiError::Conflict {
            code: "idempotency_key_reused",
            message: "this Idempotency-Key was already used for a different request".into(),
        });
    }
    let targets = PostTarget::of_posts(conn, &[existing.id])?;
    Ok((
        with_parts(conn, &existing, &targets, None)?,
        Created::Replayed,
    ))
}

fn new_targets(post: PostId, due_at: DateTime<Utc>, targets: &[ResolvedTarget]) -> Vec<NewTarget> {
    targets
        .iter()
        .map(|t| NewTarget {
            id: PostTargetId::new(),
            post_id: post,
            account_id: t.account_id,
            platform: t.platform,
            text: t.text.clone(),
            media_ids: t.media_ids.iter().copied().map(Some).collect(),
            status: TargetStatus::Scheduled,
            due_at,
            next_attempt_at: due_at,
            options: serde_json::to_value(&t.options).unwrap_or_default(),
        })
        .collect()
}

fn scheduled_event(
    post: &Post,
    targets: impl IntoIterator<Item = ScheduledTarget>,
) -> PostScheduled {
    PostScheduled {
        post_id: post.id,
        owner_id: post.owner_id.clone(),
        scheduled_at: post.scheduled_at,
        targets: targets.into_iter().collect(),
    }
}

/// A target as `post.scheduled` announces it, due at `due_at`.
fn announced(target: &PostTarget, due_at: DateTime<Utc>) -> ScheduledTarget {
    ScheduledTarget {
        target_id: target.id,
        account_id: target.account_id,
        platform: target.platform,
        due_at,
    }
}

/// One of the owner's posts with its targets and every attempt.
pub async fn get(state: &AppState, owner: OwnerId, id: PostId) -> Result<PostView, ApiError> {
    state
        .db
        .run(move |conn| {
            let post = Post::get_for_owner(conn, &owner, id)?.ok_or(ApiError::NotFound("post"))?;
            let targets = PostTarget::of_posts(conn, &[post.id])?;
            let ids: Vec<PostTargetId> = targets.iter().map(|t| t.id).collect();
            let attempts = PostAttempt::of_targets(conn, &ids)?;
            with_parts(conn, &post, &targets, Some(&attempts))
        })
        .await
}

/// A page of the owner's posts, newest first, and the cursor of the next page.
pub async fn list(
    state: &AppState,
    owner: OwnerId,
    mut filter: PostFilter,
    page: PageRequest<PostId>,
) -> Result<(Vec<PostView>, Option<String>), ApiError> {
    filter.before = page.position;
    state
        .db
        .run(move |conn| {
            let posts = Post::list_for_owner(conn, &owner, &filter, page.fetch())?;
            let (posts, next) = page.page(posts, |p| (p.created_at, p.id));
            let ids: Vec<PostId> = posts.iter().map(|p| p.id).collect();
            let targets = PostTarget::of_posts(conn, &ids)?;
            let mut views: Vec<PostView> = posts
                .iter()
                .map(|p| PostView::new(p, &targets, None))
                .collect();
            thread::attach(conn, &mut views, &targets)?;
            deletion::attach(conn, &mut views)?;
            Ok((views, next))
        })
        .await
}

/// Cancels what has not gone out yet. Targets a publisher already holds are going out and
/// stay; a post with nothing left to cancel is a 409 that says where it stands.
pub async fn cancel(state: &AppState, owner: OwnerId, id: PostId) -> Result<PostView, ApiError> {
    state
        .db
        .run(move |conn| {
            conn.transaction(|conn| {
                let post =
                    Post::lock_for_owner(conn, &owner, id)?.ok_or(ApiError::NotFound("post"))?;
                let canceled = PostTarget::cancel_scheduled(conn, post.id)?;
                if canceled.is_empty() {
                    return Err(ApiError::Conflict {
                        code: "not_cancelable",
                        message: format!("nothing left to cancel: the post is {}", post.status),
                    });
                }
                Post::refresh_status(conn, &[post.id])?;
                OUTBOX.write(
                    conn,
                    PostCanceled {
                        post_id: post.id,
                        owner_id: post.owner_id.clone(),
                        target_ids: canceled,
                    },
                )?;
                view_of(conn, &owner, post.id)
            })
        })
        .await
}

/// Edits or reschedules a post while every target is still waiting; re-checks the content
/// against every platform. A post a publisher has started on is a 409.
pub async fn update(
    state: &AppState,
    owner: OwnerId,
    id: PostId,
    change: UpdatePost,
) -> Result<PostView, ApiError> {
    let new_variants = change
        .variants
        .as_ref()
        .map(request::parse_variants)
        .transpose()?;
    let adapters = state.adapters.clone();
    state
        .db
        .run(move |conn| {
            conn.transaction(|conn| {
                let post =
                    Post::lock_for_owner(conn, &owner, id)?.ok_or(ApiError::NotFound("post"))?;
                let targets = PostTarget::of_posts(conn, &[post.id])?;
                let not_editable = || ApiError::Conflict {
                    code: "not_editable",
                    message: format!(
                        "only a post whose targets are all still scheduled can change; this one is {}",
                        post.status
                    ),
                };
                if targets.iter().any(|t| t.status != TargetStatus::Scheduled) {
                    return Err(not_editable());
                }
                let now = Utc::now();
                let scheduled_at = change.scheduled_at.or(post.scheduled_at);
                let due_at = match change.scheduled_at {
                    Some(_) => checks::due_at(scheduled_at, now)?,
                    // Unchanged time: keep it, even if it passed while the post waited.
                    None => targets.first().map_or(now, |t| t.due_at),
                };
                let old_variants: std::collections::BTreeMap<String, request::Variant> =
                    serde_json::from_value(post.variants.clone()).unwrap_or_default();
                let raw_variants = change.variants.clone().unwrap_or(old_variants);
                let content = Content {
                    text: change.text.clone().unwrap_or_else(|| post.text.clone()),
                    media_ids: post.media_ids.iter().flatten().copied().collect::<Vec<MediaId>>(),
                    variants: match new_variants {
                        Some(v) => v,
                        None => request::parse_variants(&raw_variants)?,
                    },
                };
                let account_ids: Vec<_> = targets.iter().map(|t| t.account_id).collect();
                let resolved = checks::resolve(conn, &adapters, &owner, &account_ids, &content)?;
                for target in &targets {
                    let Some(r) = resolved.iter().find(|r| r.account_id == target.account_id) else {
                        continue;
                    };
                    let options = serde_json::to_value(&r.options).unwrap_or_default();
                    if !PostTarget::reschedule(conn, target.id, &r.text, due_at, &options)? {
                        return Err(not_editable());
                    }
                }
                let variants = serde_json::to_value(&raw_variants).unwrap_or_default();
                let post = Post::update_content(conn, post.id, &content.text, &variants, scheduled_at)?;
                OUTBOX.write(
                    conn,
                    scheduled_event(&post, targets.iter().map(|t| announced(t, due_at))),
                )?;
                view_of(conn, &owner, post.id)
            })
        })
        .await
}

/// Puts the failed targets back in the queue, due now. Published ones are never repeated.
pub async fn retry(state: &AppState, owner: OwnerId, id: PostId) -> Result<PostView, ApiError> {
    state
        .db
        .run(move |conn| {
            conn.transaction(|conn| {
                let post =
                    Post::lock_for_owner(conn, &owner, id)?.ok_or(ApiError::NotFound("post"))?;
                // The user asked for this post to be gone: putting its failed targets back
                // would publish it again where it never was.
                if matches!(
                    post.status,
                    PostStatus::Deleting | PostStatus::Deleted | PostStatus::PartiallyDeleted
                ) {
                    return Err(ApiError::Conflict {
                        code: "post_deleted",
                        message: format!(
                            "the post is {}: it was asked to be deleted, so nothing of it is \
                             published again; create a new post instead",
                            post.status
                        ),
                    });
                }
                let retried = PostTarget::retry_failed(conn, post.id, Utc::now())?;
                if retried.is_empty() {
                    return Err(ApiError::Conflict {
                        code: "nothing_to_retry",
                        message: format!("no failed targets to retry: the post is {}", post.status),
                    });
                }
                Post::refresh_status(conn, &[post.id])?;
                let post =
                    Post::get_for_owner(conn, &owner, id)?.ok_or(ApiError::NotFound("post"))?;
                OUTBOX.write(
                    conn,
                    scheduled_event(
                        &post,
                        retried.iter().map(|t| announced(t, t.next_attempt_at)),
                    ),
                )?;
                view_of(conn, &owner, post.id)
            })
        })
        .await
}

fn view_of(conn: &mut PgConnection, owner: &OwnerId, id: PostId) -> Result<PostView, ApiError> {
    let post = Post::get_for_owner(conn, owner, id)?.ok_or(ApiError::NotFound("post"))?;
    let targets = PostTarget::of_posts(conn, &[post.id])?;
    with_parts(conn, &post, &targets, None)
}

/// The view of `post`, with its thread's positions where it has any.
fn with_parts(
    conn: &mut PgConnection,
    post: &Post,
    targets: &[PostTarget],
    attempts: Option<&[PostAttempt]>,
) -> Result<PostView, ApiError> {
    let mut views = [PostView::new(post, targets, attempts)];
    thread::attach(conn, &mut views, targets)?;
    deletion::attach(conn, &mut views)?;
    let [view] = views;
    Ok(view)
}
