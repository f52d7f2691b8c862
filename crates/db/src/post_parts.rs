//! `post_parts` and `post_target_parts`: a thread's parts after the post itself, its first
//! comment, and which of them exist on each target's platform.
//!
//! A post's own text is position 0 (the target row). Positions 1..n are the thread's next
//! parts, and a first comment, if any, comes last. A target's `follow_ups` counts the rows
//! after position 0, so a single post (`follow_ups = 0`) costs the publisher no query here.
//!
//! Exactly once per part: a part's row in `post_target_parts` is written in the same
//! transaction as the successful attempt that made it ([`TargetPart::record`]), under the
//! target's claim. Whoever continues the chain (a retry, a publisher taking the target over)
//! starts from the first position without a row.

use chrono::{DateTime, Utc};
use diesel::{prelude::*, sql_types};
use domain::{AccountId, MediaId, PartKind, PostAttemptId, PostId, PostTargetId, TargetStatus};
use uuid::Uuid;

use crate::{
    posts::{AttemptResult, PostAttempt},
    schema::{post_attempts, post_parts, post_target_parts, post_targets},
};

/// A row of `post_parts`: what a post's chain publishes at `position` (1..).
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = post_parts, check_for_backend(diesel::pg::Pg))]
pub struct PostPart {
    pub post_id: PostId,
    pub position: i32,
    pub kind: PartKind,
    pub text: String,
    pub media_ids: Vec<Option<MediaId>>,
}

/// A row of `post_target_parts`: a position of a target's chain that exists on the platform.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = post_target_parts, check_for_backend(diesel::pg::Pg))]
pub struct TargetPart {
    pub target_id: PostTargetId,
    pub position: i32,
    pub platform_post_id: String,
    pub url: Option<String>,
    pub published_at: DateTime<Utc>,
}

impl PostPart {
    /// Stores a new post's parts and counts them on each of its targets (in the post's
    /// creating transaction; nothing is written for a post without parts).
    pub fn insert_for_post(conn: &mut PgConnection, parts: &[PostPart]) -> QueryResult<()> {
        let Some(first) = parts.first() else {
            return Ok(());
        };
        diesel::insert_into(post_parts::table)
            .values(parts)
            .execute(conn)?;
        let count = i32::try_from(parts.len()).unwrap_or(i32::MAX);
        diesel::update(post_targets::table.filter(post_targets::post_id.eq(first.post_id)))
            .set(post_targets::follow_ups.eq(count))
            .execute(conn)?;
        Ok(())
    }

    /// The parts of these posts, in order.
    pub fn of_posts(conn: &mut PgConnection, posts: &[PostId]) -> QueryResult<Vec<PostPart>> {
        post_parts::table
            .filter(post_parts::post_id.eq_any(posts))
            .order((post_parts::post_id, post_parts::position))
            .select(PostPart::as_select())
            .load(conn)
    }
}

/// What a chain's publisher reads once before continuing it: the parts to publish, those that
/// exist already, and the part the target's latest attempt was for.
#[derive(Debug, Clone)]
pub struct Chain {
    pub parts: Vec<PostPart>,
    pub existing: Vec<TargetPart>,
    /// `(attempt, part)` of the target's latest attempt.
    pub latest: Option<(PostAttempt, i32)>,
}

impl TargetPart {
    /// The positions of these targets that exist on their platforms, in order.
    pub fn of_targets(
        conn: &mut PgConnection,
        targets: &[PostTargetId],
    ) -> QueryResult<Vec<TargetPart>> {
        post_target_parts::table
            .filter(post_target_parts::target_id.eq_any(targets))
            .order((post_target_parts::target_id, post_target_parts::position))
            .select(TargetPart::as_select())
            .load(conn)
    }

    /// Everything a publisher continuing `target`'s chain of `post` reads, in one round trip
    /// each.
    pub fn chain(
        conn: &mut PgConnection,
        post: PostId,
        target: PostTargetId,
    ) -> QueryResult<Chain> {
        let parts = PostPart::of_posts(conn, &[post])?;
        let existing = Self::of_targets(conn, &[target])?;
        let latest = post_attempts::table
            .filter(post_attempts::target_id.eq(target))
            .order(post_attempts::attempt_no.desc())
            .select((PostAttempt::as_select(), post_attempts::part))
            .first(conn)
            .optional()?;
        Ok(Chain {
            parts,
            existing,
            latest,
        })
    }

    /// Records that `part` exists, with the attempt that made it, while the target is still
    /// held under `claim`: `false` (nothing written but the attempt's result) when the claim
    /// was lost. A position recorded before keeps its row.
    pub fn record(
        conn: &mut PgConnection,
        part: &TargetPart,
        claim: Uuid,
        attempt: Option<(PostAttemptId, &AttemptResult)>,
    ) -> QueryResult<bool> {
        conn.transaction(|conn| {
            if let Some((id, result)) = attempt {
                PostAttempt::finish(conn, id, result)?;
            }
            let held = post_targets::table
                .filter(post_targets::id.eq(part.target_id))
                .filter(post_targets::status.eq(TargetStatus::Publishing))
                .filter(post_targets::claim_id.eq(claim))
                .select(post_targets::id)
                .for_update()
                .first::<PostTargetId>(conn)
                .optional()?
                .is_some();
            if held {
                diesel::insert_into(post_target_parts::table)
                    .values(part)
                    .on_conflict_do_nothing()
                    .execute(conn)?;
            }
            Ok(held)
        })
    }
}

/// Marks an attempt at position `part` of a target's chain in flight, like
/// [`PostAttempt::start`] (same fence, same count) with the position recorded. `None` when
/// the claim was lost.
pub fn start_attempt(
    conn: &mut PgConnection,
    target: PostTargetId,
    account: AccountId,
    claim: Uuid,
    part: i32,
) -> QueryResult<Option<PostAttempt>> {
    diesel::sql_query(
        "WITH counted AS ( \
            UPDATE post_targets SET attempts = attempts + 1 \
            WHERE id = $1 AND status = $2 AND claim_id = $3 \
            RETURNING attempts) \
         INSERT INTO post_attempts (id, target_id, account_id, attempt_no, outcome, part) \
         SELECT $4, $1, $5, attempts, $6, $7 FROM counted \
         RETURNING *",
    )
    .bind::<sql_types::Uuid, _>(target)
    .bind::<sql_types::Text, _>(TargetStatus::Publishing)
    .bind::<sql_types::Uuid, _>(claim)
    .bind::<sql_types::Uuid, _>(PostAttemptId::new())
    .bind::<sql_types::Uuid, _>(account)
    .bind::<sql_types::Text, _>(domain::AttemptOutcome::InFlight)
    .bind::<sql_types::Integer, _>(part)
    .get_result(conn)
    .optional()
}

/// How many attempts `target` made at position `part` (the retry policy counts a part's own
/// tries, not the whole chain's).
pub fn attempts_at(conn: &mut PgConnection, target: PostTargetId, part: i32) -> QueryResult<i64> {
    post_attempts::table
        .filter(post_attempts::target_id.eq(target))
        .filter(post_attempts::part.eq(part))
        .count()
        .get_result(conn)
}

/// `(target, attempt_no, part)` of these targets' attempts after their post's own (the post
/// view's attempt log says which part each call was for).
pub fn attempt_parts(
    conn: &mut PgConnection,
    targets: &[PostTargetId],
) -> QueryResult<Vec<(PostTargetId, i32, i32)>> {
    post_attempts::table
        .filter(post_attempts::target_id.eq_any(targets))
        .filter(post_attempts::part.ne(0))
        .select((
            post_attempts::target_id,
            post_attempts::attempt_no,
            post_attempts::part,
        ))
        .load(conn)
}
