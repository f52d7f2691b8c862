//! A post's thread (`parts`) and `first_comment`: checked per target against its platform,
//! stored with the post, and shown per target with where each part stands.
//!
//! The post's own text (and its variants) stays the thread's first part, so every request
//! without `parts` means what it meant before. The parts follow it in order, each replying to
//! the previous one; the first comment comes last. A platform whose posts cannot reply to one
//! another (`follow_ups.threads`) or that cannot take a comment (`follow_ups.first_comment`)
//! refuses them with a 422 naming the account, like any other problem of a target.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use db::{
    domain::{MediaId, OwnerId, PartKind, PostId, TargetStatus},
    post_parts::{PostPart, TargetPart},
    posts::{MediaFacts, PostTarget},
    PgConnection,
};
use platform_adapters::{validate, MediaKind, Registry};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::{
    error::ApiError,
    posts::{checks::ResolvedTarget, view::PostView},
};

/// Most parts a thread may have after the post itself (X's own composer stops at 25 posts).
pub const MAX_PARTS: usize = 24;

/// One of the thread's next posts.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartInput {
    /// Its text, the same on every platform.
    pub text: String,
    /// Uploaded media (`POST /v1/media`), in order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<String>>)]
    pub media_ids: Option<Vec<MediaId>>,
}

/// Where one position of a target's chain stands.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PartView {
    /// 0: the post itself; 1, 2, …: the thread's next parts; the first comment is last.
    pub position: i32,
    /// `post`, `part` or `first_comment`.
    pub kind: &'static str,
    /// `published` (it exists on the platform), `deleted` (it existed and the post was deleted
    /// from the platform: its replies with it, its comments gone with the post), `failed` (the
    /// chain stopped here) or `pending`.
    pub status: &'static str,
    /// The platform's id of it, once published.
    pub platform_post_id: Option<String>,
    /// Its public URL, where the platform has one.
    pub url: Option<String>,
    /// When it was published.
    pub published_at: Option<DateTime<Utc>>,
}

/// The rows to store for a post's `parts` and `first_comment` (positions 1..).
pub fn rows(post: PostId, parts: &[PartInput], first_comment: Option<&str>) -> Vec<PostPart> {
    let parts = parts.iter().map(|p| {
        (
            PartKind::Part,
            p.text.clone(),
            p.media_ids.clone().unwrap_or_default(),
        )
    });
    let comment = first_comment.map(|text| (PartKind::FirstComment, text.to_owned(), Vec::new()));
    parts
        .chain(comment)
        .zip(1..)
        .map(|((kind, text, media), position)| PostPart {
            post_id: post,
            position,
            kind,
            text,
            media_ids: media.into_iter().map(Some).collect(),
        })
        .collect()
}

/// Checks the parts and the first comment against every target's platform: the platform
/// must offer them, and each part must be a valid post there. Every problem of every target
/// is reported at once, as [`checks::resolve`] does.
pub fn check(
    conn: &mut PgConnection,
    adapters: &Registry,
    owner: &OwnerId,
    targets: &[ResolvedTarget],
    parts: &[PartInput],
    first_comment: Option<&str>,
) -> Result<(), ApiError> {
    if parts.is_empty() && first_comment.is_none() {
        return Ok(());
    }
    if parts.len() > MAX_PARTS {
        return Err(ApiError::Unprocessable {
            code: "too_many_parts",
            message: format!(
                "a thread has at most {MAX_PARTS} parts after the post; this one has {}",
                parts.len()
            ),
            details: json!({ "max_parts": MAX_PARTS }),
        });
    }
    let mut ids: Vec<MediaId> = parts
        .iter()
        .flat_map(|p| p.media_ids.iter().flatten().copied())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let media: HashMap<MediaId, MediaFacts> = db::posts::media_facts(conn, owner, &ids)?
        .into_iter()
        .map(|m| (m.id, m))
        .collect();
    let mut failures = Vec::new();
    for target in targets {
        let problems = target_problems(adapters, target, parts, first_comment, &media)?;
        if !problems.is_empty() {
            failures.push((target.account_id, target.platform, problems));
        }
    }
    if failures.is_empty() {
        return Ok(());
    }
    let summary = failures
        .iter()
        .map(|(account, platform, problems)| {
            let messages: Vec<&str> = problems.iter().map(|(_, m)| m.as_str()).collect();
            format!("{platform} {account}: {}", messages.join("; "))
        })
        .collect::<Vec<_>>()
        .join(" | ");
    let details: Vec<_> = failures
        .iter()
        .map(|(account, platform, problems)| {
            json!({
                "account_id": account,
                "platform": platform,
                "problems": problems
                    .iter()
                    .map(|(code, message)| json!({ "code": code, "message": message }))
                    .collect::<Vec<_>>(),
            })
        })
        .collect();
    Err(ApiError::Unprocessable {
        code: "invalid_post",
        message: format!(
            "the thread cannot go to {} of its {} accounts: {summary}",
            failures.len(),
            targets.len()
        ),
        details: json!({ "targets": details }),
    })
}

/// One target's problems with the thread: `(code, message)`.
fn target_problems(
    adapters: &Registry,
    target: &ResolvedTarget,
    parts: &[PartInput],
    first_comment: Option<&str>,
    media: &HashMap<MediaId, MediaFacts>,
) -> Result<Vec<(&'static str, String)>, ApiError> {
    let platform = target.platform;
    let descriptor = adapters.descriptor(platform);
    let offers = descriptor.capabilities.follow_ups;
    let mut problems = Vec::new();
    if !parts.is_empty() && !offers.threads {
        problems.push((
            "threads_unsupported",
            format!(
                "{platform} cannot publish a thread (its posts cannot reply to one another): remove `parts` or account {}",
                target.account_id
            ),
        ));
    }
    if first_comment.is_some() && !offers.first_comment {
        problems.push((
            "first_comment_unsupported",
            format!(
                "{platform} cannot take a first comment on a post: remove `first_comment` or account {}",
                target.account_id
            ),
        ));
    }
    if !problems.is_empty() {
        return Ok(problems);
    }
    let limits = target.limits;
    for (i, part) in parts.iter().enumerate() {
        let mut facts = Vec::new();
        for id in part.media_ids.iter().flatten() {
            match media.get(id) {
                Some(m) => facts.push(media_facts(m)),
                None => problems.push((
                    "unknown_media",
                    format!("parts[{i}]: no uploaded media {id}"),
                )),
            }
        }
        problems.extend(
            validate::check(&descriptor, &part.text, &facts, &target.options, limits)
                .into_iter()
                .map(|p| (p.code, format!("parts[{i}]: {}", p.message))),
        );
    }
    if let Some(comment) = first_comment {
        problems.extend(
            validate::check(&descriptor, comment, &[], &Default::default(), limits)
                .into_iter()
                .map(|p| (p.code, format!("first_comment: {}", p.message))),
        );
    }
    Ok(problems)
}

fn media_facts(m: &MediaFacts) -> validate::MediaFacts {
    validate::MediaFacts {
        kind: if m.mime_type.starts_with("video/") {
            MediaKind::Video
        } else {
            MediaKind::Image
        },
        mime_type: m.mime_type.clone(),
        size_bytes: u64::try_from(m.size_bytes).unwrap_or_default(),
        duration_ms: m.duration_ms.and_then(|d| u32::try_from(d).ok()),
    }
}

/// Adds to each target of `views` that has follow-ups where each position of its chain
/// stands. Reads nothing when no target has any (`targets`: the views' targets).
pub fn attach(
    conn: &mut PgConnection,
    views: &mut [PostView],
    targets: &[PostTarget],
) -> Result<(), ApiError> {
    let chained: Vec<&PostTarget> = targets.iter().filter(|t| t.follow_ups > 0).collect();
    if chained.is_empty() {
        return Ok(());
    }
    let mut posts: Vec<PostId> = chained.iter().map(|t| t.post_id).collect();
    posts.sort_unstable();
    posts.dedup();
    let ids: Vec<_> = chained.iter().map(|t| t.id).collect();
    let parts = PostPart::of_posts(conn, &posts)?;
    let existing = TargetPart::of_targets(conn, &ids)?;
    let logged = views
        .iter()
        .flat_map(|v| &v.targets)
        .any(|t| t.attempt_log.is_some());
    let attempt_parts = if logged {
        db::post_parts::attempt_parts(conn, &ids)?
    } else {
        Vec::new()
    };
    for view in views.iter_mut() {
        for target_view in &mut view.targets {
            let Some(target) = chained.iter().find(|t| t.id == target_view.id) else {
                continue;
            };
            let own: Vec<&PostPart> = parts.iter().filter(|p| p.post_id == view.id).collect();
            let done: Vec<&TargetPart> = existing
                .iter()
                .filter(|p| p.target_id == target.id)
                .collect();
            target_view.parts = Some(chain_view(target.status, &own, &done));
            for attempt in target_view.attempt_log.iter_mut().flatten() {
                let part = attempt_parts
                    .iter()
                    .find(|(t, no, _)| *t == target.id && *no == attempt.attempt_no)
                    .map_or(0, |(_, _, part)| *part);
                attempt.part = Some(part);
            }
        }
    }
    Ok(())
}

/// The positions of one target's chain: the post (0), then its parts.
fn chain_view(status: TargetStatus, parts: &[&PostPart], done: &[&TargetPart]) -> Vec<PartView> {
    let kinds = std::iter::once((0, "post")).chain(parts.iter().map(|p| {
        let kind = match p.kind {
            PartKind::Part => "part",
            PartKind::FirstComment => "first_comment",
        };
        (p.position, kind)
    }));
    let mut stopped = false;
    let existing = if status == TargetStatus::Deleted {
        "deleted"
    } else {
        "published"
    };
    kinds
        .map(
            |(position, kind)| match done.iter().find(|d| d.position == position) {
                Some(d) => PartView {
                    position,
                    kind,
                    status: existing,
                    platform_post_id: Some(d.platform_post_id.clone()),
                    url: d.url.clone(),
                    published_at: Some(d.published_at),
                },
                None => {
                    let failed = status == TargetStatus::Failed && !stopped;
                    stopped = true;
                    PartView {
                        position,
                        kind,
                        status: if failed { "failed" } else { "pending" },
                        platform_post_id: None,
                        url: None,
                        published_at: None,
                    }
                }
            },
        )
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use db::domain::PostTargetId;

    fn chain(status: TargetStatus) -> Vec<PartView> {
        let post = PostId::new();
        let target = PostTargetId::new();
        let part = PostPart {
            post_id: post,
            position: 1,
            kind: PartKind::Part,
            text: "second".into(),
            media_ids: Vec::new(),
        };
        let done: Vec<TargetPart> = [(0, "100"), (1, "101")]
            .into_iter()
            .map(|(position, id)| TargetPart {
                target_id: target,
                position,
                platform_post_id: id.into(),
                url: None,
                published_at: Utc::now(),
            })
            .collect();
        chain_view(status, &[&part], &done.iter().collect::<Vec<_>>())
    }

    #[test]
    fn the_parts_of_a_deleted_target_show_as_deleted_not_published() {
        let statuses: Vec<_> = chain(TargetStatus::Deleted)
            .iter()
            .map(|p| p.status)
            .collect();
        assert_eq!(statuses, ["deleted", "deleted"]);
    }

    #[test]
    fn the_parts_of_a_published_target_show_as_published() {
        let statuses: Vec<_> = chain(TargetStatus::Published)
            .iter()
            .map(|p| p.status)
            .collect();
        assert_eq!(statuses, ["published", "published"]);
    }
}
