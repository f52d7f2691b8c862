//! What a deletion writes once it knows where it stands, in one transaction fenced by its
//! claim: the attempt's result, the request, its target, the post's derived status, and the
//! events (`post.deleted` once every deletion of the post is settled; an urgent
//! `token.expiring` when the platform refused the token).

use chrono::{DateTime, Utc};
use db::{
    deletions::{DeletionResult, PostDeletion},
    diesel,
    domain::{DeletionStatus, PostId, PostTargetId},
    posts::{AttemptResult, Post, PostAttempt, PostTarget},
    PgConnection,
};
use events::{DeletedTarget, ExpiringReason, PostDeleted, TokenExpiring};
use uuid::Uuid;

use super::decide::Settle;
use crate::publish::OUTBOX;

/// A decision to store for a deletion held under the fence `claim`.
#[derive(Debug, Clone)]
pub struct Settlement {
    pub target: PostTarget,
    pub claim: Uuid,
    /// The call that led to it, if one was made.
    pub attempt: Option<(PostAttempt, AttemptResult)>,
    pub settle: Settle,
}

/// Stores `settlement`. `None`: the claim was lost (the attempt's result is still recorded).
pub fn store(
    conn: &mut PgConnection,
    settlement: &Settlement,
    now: DateTime<Utc>,
) -> diesel::QueryResult<Option<PostDeletion>> {
    let target = &settlement.target;
    // Post first, then target: the lock order every writer follows.
    Post::lock_many(conn, &[target.post_id])?;
    if let Some((attempt, result)) = &settlement.attempt {
        PostAttempt::finish(conn, attempt.id, result)?;
    }
    let result = deletion_result(&settlement.settle, now);
    let Some(stored) = PostDeletion::settle(conn, target.id, settlement.claim, &result)? else {
        return Ok(None);
    };
    Post::refresh_status(conn, &[target.post_id])?;
    if let Settle::Retry { refresh: true, .. } = settlement.settle {
        OUTBOX.write(
            conn,
            TokenExpiring {
                account_id: target.account_id,
                platform: target.platform,
                expires_at: None,
                urgent: true,
                reason: ExpiringReason::Unauthorized,
            },
        )?;
    }
    if stored.status != DeletionStatus::Pending && PostDeletion::all_settled(conn, target.post_id)?
    {
        announce(conn, target.post_id, now)?;
    }
    Ok(Some(stored))
}

/// `post.deleted` with every target's outcome.
fn announce(conn: &mut PgConnection, post: PostId, now: DateTime<Utc>) -> diesel::QueryResult<()> {
    let deletions = PostDeletion::of_posts(conn, &[post])?;
    let targets = PostTarget::of_posts(conn, &[post])?;
    let owner_id = PostDeletion::post_owner(conn, post)?;
    let platform_of = |id: PostTargetId| targets.iter().find(|t| t.id == id).map(|t| t.platform);
    let settled = deletions
        .into_iter()
        .filter_map(|d| {
            Some(DeletedTarget {
                platform: platform_of(d.target_id)?,
                target_id: d.target_id,
                account_id: d.account_id,
                outcome: d.status,
                error_code: d.error_code,
                message: d.last_error,
                deleted_at: d.deleted_at,
            })
        })
        .collect();
    OUTBOX.write(
        conn,
        PostDeleted {
            post_id: post,
            owner_id,
            targets: settled,
            settled_at: now,
        },
    )?;
    Ok(())
}

/// The request's new row values. The lease and claim are always released.
fn deletion_result(settle: &Settle, now: DateTime<Utc>) -> DeletionResult {
    let (status, next_attempt_at, message, deleted_at) = match settle {
        Settle::Deleted => (DeletionStatus::Deleted, now, None, Some(now)),
        Settle::Unsupported { message } => (
            DeletionStatus::Unsupported,
            now,
            Some(message.clone()),
            None,
        ),
        Settle::Failed { message, .. } => {
            (DeletionStatus::Failed, now, Some(message.clone()), None)
        }
        Settle::Retry { at, message, .. } => {
            (DeletionStatus::Pending, *at, Some(message.clone()), None)
        }
    };
    DeletionResult {
        status,
        next_attempt_at,
        lease_until: None,
        claim_id: None,
        error_code: settle.code().map(str::to_owned),
        last_error: message,
        deleted_at,
    }
}

#[cfg(test)]
mod tests {
    use db::domain::TargetStatus;

    use super::*;

    #[test]
    fn each_settlement_moves_the_request_and_its_target_where_it_belongs() {
        let now = Utc::now();
        let later = now + chrono::Duration::seconds(30);
        let deleted = deletion_result(&Settle::Deleted, now);
        assert_eq!(deleted.status, DeletionStatus::Deleted);
        assert_eq!(deleted.deleted_at, Some(now));
        assert_eq!(deleted.target_status(), TargetStatus::Deleted);
        assert_eq!(deleted.error_code, None);

        let unsupported = deletion_result(
            &Settle::Unsupported {
                message: "Instagram does not let apps delete posts".into(),
            },
            now,
        );
        assert_eq!(unsupported.status, DeletionStatus::Unsupported);
        assert_eq!(unsupported.error_code.as_deref(), Some("unsupported"));
        assert_eq!(
            unsupported.target_status(),
            TargetStatus::Published,
            "still live"
        );

        let retry = deletion_result(
            &Settle::Retry {
                at: later,
                code: "transient",
                message: "503".into(),
                refresh: false,
            },
            now,
        );
        assert_eq!(retry.status, DeletionStatus::Pending);
        assert_eq!(retry.next_attempt_at, later);
        assert_eq!(retry.target_status(), TargetStatus::Deleting);

        let failed = deletion_result(
            &Settle::Failed {
                code: "rejected",
                message: "no".into(),
            },
            now,
        );
        assert_eq!(failed.target_status(), TargetStatus::Published);
        for result in [deleted, unsupported, retry, failed] {
            assert_eq!(result.lease_until, None, "the lease is always released");
            assert_eq!(result.claim_id, None);
        }
    }
}
