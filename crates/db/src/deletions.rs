//! `post_deletions`: deleting published posts from their platforms.
//!
//! auth-gateway writes one request per published target ([`PostDeletion::request`]); the
//! publisher claims due requests under a short, fenced lease ([`PostDeletion::claim_due`]),
//! exactly as it claims targets to publish, logs each delete call in `post_attempts` (kind
//! `delete`) and settles the request ([`PostDeletion::settle`]). The target follows: it is
//! `deleting` while its request is open, `deleted` once the platform no longer has the post,
//! and `published` again when the platform cannot delete it or the deletion failed.
//!
//! A delete is naturally idempotent (a repeated call finds the post gone), so unlike a
//! publish, a call whose answer was lost is simply made again.

use chrono::{DateTime, Utc};
use diesel::{prelude::*, sql_types};
use domain::{
    AccountId, AttemptKind, AttemptOutcome, DeletionStatus, OwnerId, PostAttemptId, PostId,
    PostTargetId, TargetStatus,
};
use uuid::Uuid;

use crate::{
    posts::{PostAttempt, PostTarget},
    schema::{post_deletions, post_targets, posts},
};

/// A row of `post_deletions`: the deletion of one published target.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = post_deletions, primary_key(target_id), check_for_backend(diesel::pg::Pg))]
pub struct PostDeletion {
    pub target_id: PostTargetId,
    pub post_id: PostId,
    pub account_id: AccountId,
    pub status: DeletionStatus,
    /// Tries made for this request (a try deletes a thread's replies, then the post).
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub lease_until: Option<DateTime<Utc>>,
    /// The fence of the publisher holding the request (see [`PostDeletion::claim_due`]).
    pub claim_id: Option<Uuid>,
    pub error_code: Option<String>,
    pub last_error: Option<String>,
    pub requested_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

/// How a deletion stands after a call (or a decision without one). The lease and the claim
/// are always released.
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = post_deletions, treat_none_as_null = true)]
pub struct DeletionResult {
    /// `pending` (try again at `next_attempt_at`), `deleted`, `unsupported` or `failed`.
    pub status: DeletionStatus,
    pub next_attempt_at: DateTime<Utc>,
    pub lease_until: Option<DateTime<Utc>>,
    pub claim_id: Option<Uuid>,
    pub error_code: Option<String>,
    pub last_error: Option<String>,
    pub deleted_at: Option<DateTime<Utc>>,
}

impl DeletionResult {
    /// The target's status that goes with this result: gone, still being deleted, or live.
    pub fn target_status(&self) -> TargetStatus {
        match self.status {
            DeletionStatus::Deleted => TargetStatus::Deleted,
            DeletionStatus::Pending | DeletionStatus::Deleting => TargetStatus::Deleting,
            DeletionStatus::Unsupported | DeletionStatus::Failed => TargetStatus::Published,
        }
    }
}

/// A deletion a publisher claimed, with its target and the status it had: `pending`, or
/// `deleting` (taken over from a publisher whose lease ran out; its call may have been made).
#[derive(Debug, Clone)]
pub struct ClaimedDeletion {
    pub deletion: PostDeletion,
    pub target: PostTarget,
    pub previous: DeletionStatus,
    /// The claim's fence: every write of this deletion is made only while it still carries it.
    pub claim: Uuid,
}

#[derive(QueryableByName)]
struct Claimed {
    #[diesel(sql_type = sql_types::Uuid)]
    target_id: PostTargetId,
    #[diesel(sql_type = sql_types::Text)]
    previous: DeletionStatus,
}

impl PostDeletion {
    /// Requests the deletion of the post's published targets: each goes `deleting` and gets a
    /// `pending` request, due now. A target whose platform already answered that it cannot
    /// delete (`unsupported`) is left alone; one whose deletion failed is requested again.
    /// Targets being deleted or deleted are untouched, so a repeated request changes nothing.
    /// The caller holds the post's lock (posts are locked before targets). Answers the
    /// requested targets.
    pub fn request(conn: &mut PgConnection, post: PostId) -> QueryResult<Vec<PostTargetId>> {
        #[derive(QueryableByName)]
        struct Requested {
            #[diesel(sql_type = sql_types::Uuid)]
            target_id: PostTargetId,
        }
        let requested: Vec<Requested> = diesel::sql_query(
            "WITH chosen AS ( \
                UPDATE post_targets t SET status = 'deleting', updated_at = now() \
                WHERE t.post_id = $1 AND t.status = 'published' AND NOT EXISTS ( \
                    SELECT 1 FROM post_deletions d \
                    WHERE d.target_id = t.id AND d.status = 'unsupported') \
                RETURNING t.id, t.post_id, t.account_id) \
             INSERT INTO post_deletions (target_id, post_id, account_id) \
             SELECT id, post_id, account_id FROM chosen \
             ON CONFLICT (target_id) DO UPDATE SET status = 'pending', attempts = 0, \
                next_attempt_at = now(), lease_until = NULL, claim_id = NULL, error_code = NULL, \
                last_error = NULL, requested_at = now(), deleted_at = NULL, updated_at = now() \
             RETURNING target_id",
        )
        .bind::<sql_types::Uuid, _>(post)
        .load(conn)?;
        Ok(requested.into_iter().map(|r| r.target_id).collect())
    }

    /// The deletions of these posts' targets.
    pub fn of_posts(conn: &mut PgConnection, posts: &[PostId]) -> QueryResult<Vec<PostDeletion>> {
        post_deletions::table
            .filter(post_deletions::post_id.eq_any(posts))
            .order((post_deletions::post_id, post_deletions::requested_at))
            .select(PostDeletion::as_select())
            .load(conn)
    }

    /// Whether every deletion of the post is settled (none pending or in flight): the moment
    /// `post.deleted` is due. Read under the post's lock, so two settling at once agree.
    pub fn all_settled(conn: &mut PgConnection, post: PostId) -> QueryResult<bool> {
        let open: i64 = post_deletions::table
            .filter(post_deletions::post_id.eq(post))
            .filter(
                post_deletions::status.eq_any([DeletionStatus::Pending, DeletionStatus::Deleting]),
            )
            .count()
            .get_result(conn)?;
        Ok(open == 0)
    }

    /// Who owns the post (for `post.deleted`).
    pub fn post_owner(conn: &mut PgConnection, post: PostId) -> QueryResult<OwnerId> {
        posts::table.find(post).select(posts::owner_id).first(conn)
    }

    /// Claims up to `limit` due requests and up to `limit` whose publisher's lease ran out,
    /// leasing them until `lease_until` under the fence `claim` (`SKIP LOCKED`: replicas split
    /// the work). The same scheme as [`PostTarget::claim_due`].
    pub fn claim_due(
        conn: &mut PgConnection,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        claim: Uuid,
        limit: i64,
    ) -> QueryResult<Vec<ClaimedDeletion>> {
        let claimed: Vec<Claimed> = diesel::sql_query(
            "WITH waiting AS ( \
                SELECT target_id, status AS previous FROM post_deletions \
                WHERE status = 'pending' AND next_attempt_at <= $1 \
                ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED), \
             abandoned AS ( \
                SELECT target_id, status AS previous FROM post_deletions \
                WHERE status = 'deleting' AND lease_until < $1 \
                ORDER BY lease_until LIMIT $3 FOR UPDATE SKIP LOCKED), \
             due AS (SELECT * FROM waiting UNION ALL SELECT * FROM abandoned) \
             UPDATE post_deletions d SET status = 'deleting', lease_until = $2, claim_id = $4, \
                updated_at = now() \
             FROM due WHERE d.target_id = due.target_id \
             RETURNING d.target_id, due.previous",
        )
        .bind::<sql_types::Timestamptz, _>(now)
        .bind::<sql_types::Timestamptz, _>(lease_until)
        .bind::<sql_types::BigInt, _>(limit)
        .bind::<sql_types::Uuid, _>(claim)
        .load(conn)?;
        if claimed.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<PostTargetId> = claimed.iter().map(|c| c.target_id).collect();
        let deletions: Vec<PostDeletion> = post_deletions::table
            .filter(post_deletions::target_id.eq_any(&ids))
            .order(post_deletions::next_attempt_at)
            .select(PostDeletion::as_select())
            .load(conn)?;
        let targets: Vec<PostTarget> = post_targets::table
            .filter(post_targets::id.eq_any(&ids))
            .select(PostTarget::as_select())
            .load(conn)?;
        Ok(deletions
            .into_iter()
            .filter_map(|deletion| {
                let target = targets.iter().find(|t| t.id == deletion.target_id)?.clone();
                let previous = claimed
                    .iter()
                    .find(|c| c.target_id == deletion.target_id)
                    .map_or(DeletionStatus::Pending, |c| c.previous);
                Some(ClaimedDeletion {
                    deletion,
                    target,
                    previous,
                    claim,
                })
            })
            .collect())
    }

    /// When the earliest pending request is due, for the deletion worker's sleep.
    pub fn next_due(conn: &mut PgConnection) -> QueryResult<Option<DateTime<Utc>>> {
        post_deletions::table
            .filter(post_deletions::status.eq(DeletionStatus::Pending))
            .select(diesel::dsl::min(post_deletions::next_attempt_at))
            .first(conn)
    }

    /// The heartbeat of one deletion in flight: extends its lease to `until` while it is
    /// still held under `claim`. `false`: it was taken over.
    pub fn renew(
        conn: &mut PgConnection,
        target: PostTargetId,
        claim: Uuid,
        until: DateTime<Utc>,
    ) -> QueryResult<bool> {
        diesel::update(
            post_deletions::table
                .filter(post_deletions::target_id.eq(target))
                .filter(post_deletions::status.eq(DeletionStatus::Deleting))
                .filter(post_deletions::claim_id.eq(claim)),
        )
        .set(post_deletions::lease_until.eq(until))
        .execute(conn)
        .map(|n| n == 1)
    }

    /// Marks a delete call in flight before it is made, on a deletion held under `claim`:
    /// logs it in `post_attempts` with kind `delete` and the thread position `part` it deletes
    /// (0: the post itself), numbered after the target's earlier attempts. `counted`: the first
    /// call of a try, which counts on the request (the retry policy counts tries, however many
    /// replies a thread has). `None` when the claim was lost.
    pub fn start_attempt(
        conn: &mut PgConnection,
        target: PostTargetId,
        account: AccountId,
        claim: Uuid,
        part: i32,
        counted: bool,
    ) -> QueryResult<Option<PostAttempt>> {
        diesel::sql_query(
            "WITH bumped AS ( \
                UPDATE post_deletions SET attempts = attempts + $7, updated_at = now() \
                WHERE target_id = $1 AND status = 'deleting' AND claim_id = $2 \
                RETURNING target_id), \
             counted AS ( \
                UPDATE post_targets t SET attempts = GREATEST(t.attempts, COALESCE( \
                    (SELECT max(a.attempt_no) FROM post_attempts a WHERE a.target_id = t.id), 0)) + 1 \
                FROM bumped WHERE t.id = bumped.target_id \
                RETURNING t.attempts) \
             INSERT INTO post_attempts (id, target_id, account_id, attempt_no, outcome, kind, part) \
             SELECT $3, $1, $4, attempts, $5, $6, $8 FROM counted \
             RETURNING *",
        )
        .bind::<sql_types::Uuid, _>(target)
        .bind::<sql_types::Uuid, _>(claim)
        .bind::<sql_types::Uuid, _>(PostAttemptId::new())
        .bind::<sql_types::Uuid, _>(account)
        .bind::<sql_types::Text, _>(AttemptOutcome::InFlight)
        .bind::<sql_types::Text, _>(AttemptKind::Delete)
        .bind::<sql_types::Integer, _>(i32::from(counted))
        .bind::<sql_types::Integer, _>(part)
        .get_result(conn)
        .optional()
    }

    /// Stores where a deletion held under `claim` stands, and moves its target along
    /// ([`DeletionResult::target_status`]). `None` when the claim was lost: another publisher
    /// holds the request now. The caller locks the post first and refreshes its status after.
    pub fn settle(
        conn: &mut PgConnection,
        target: PostTargetId,
        claim: Uuid,
        result: &DeletionResult,
    ) -> QueryResult<Option<PostDeletion>> {
        let Some(stored) = diesel::update(
            post_deletions::table
                .filter(post_deletions::target_id.eq(target))
                .filter(post_deletions::status.eq(DeletionStatus::Deleting))
                .filter(post_deletions::claim_id.eq(claim)),
        )
        .set((result, post_deletions::updated_at.eq(diesel::dsl::now)))
        .returning(PostDeletion::as_returning())
        .get_result(conn)
        .optional()?
        else {
            return Ok(None);
        };
        diesel::update(
            post_targets::table
                .filter(post_targets::id.eq(target))
                .filter(post_targets::status.eq(TargetStatus::Deleting)),
        )
        .set((
            post_targets::status.eq(result.target_status()),
            post_targets::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)?;
        Ok(Some(stored))
    }
}
