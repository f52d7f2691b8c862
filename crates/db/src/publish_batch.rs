//! The publisher's group-committed writes as set-based statements: one statement for every
//! attempt a batch starts, one for every attempt result, one for every target row, whatever
//! the batch's size. Each is the set form of the one-row query in [`crate::posts`] it stands
//! for ([`PostAttempt::start`], [`PostAttempt::finish`], [`PostTarget::record_result`]) and
//! keeps its fence: a row is written only while its target carries the caller's claim, and
//! the answer says, per job, which were written.
//!
//! The jobs of one call must name distinct targets (an `UPDATE … FROM` joins each row once);
//! the publisher's batches fall back to the one-row queries when they do not.

use chrono::{DateTime, Utc};
use diesel::{prelude::*, sql_types};
use domain::{AccountId, AttemptOutcome, PostAttemptId, PostTargetId, TargetStatus};
use uuid::Uuid;

use crate::posts::{AttemptResult, PostAttempt, PostTarget, TargetResult};

/// An attempt to start on `target`, held under `claim`.
#[derive(Debug, Clone, Copy)]
pub struct AttemptStart {
    pub target: PostTargetId,
    pub account: AccountId,
    pub claim: Uuid,
}

/// Starts an attempt (`in_flight`, numbered by the target's incremented `attempts`) on each
/// target that is still `publishing` under its claim, in one statement; answers the attempts
/// started, in no particular order (a target missing from the answer was lost).
pub fn start_attempts(
    conn: &mut PgConnection,
    starts: &[AttemptStart],
) -> QueryResult<Vec<PostAttempt>> {
    if starts.is_empty() {
        return Ok(Vec::new());
    }
    let mut starts = starts.to_vec();
    // Rows are locked in id order, as every other batch writer of targets locks them.
    starts.sort_unstable_by_key(|s| s.target);
    let targets: Vec<PostTargetId> = starts.iter().map(|s| s.target).collect();
    let claims: Vec<Uuid> = starts.iter().map(|s| s.claim).collect();
    let accounts: Vec<AccountId> = starts.iter().map(|s| s.account).collect();
    let ids: Vec<PostAttemptId> = starts.iter().map(|_| PostAttemptId::new()).collect();
    diesel::sql_query(
        "WITH job AS ( \
            SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[]) \
                AS j(target, claim, account, attempt)), \
         counted AS ( \
            UPDATE post_targets t SET attempts = t.attempts + 1 \
            FROM job WHERE t.id = job.target AND t.status = $5 AND t.claim_id = job.claim \
            RETURNING t.id, t.attempts, job.account, job.attempt) \
         INSERT INTO post_attempts (id, target_id, account_id, attempt_no, outcome) \
         SELECT attempt, id, account, attempts, $6 FROM counted \
         RETURNING *",
    )
    .bind::<sql_types::Array<sql_types::Uuid>, _>(&targets)
    .bind::<sql_types::Array<sql_types::Uuid>, _>(&claims)
    .bind::<sql_types::Array<sql_types::Uuid>, _>(&accounts)
    .bind::<sql_types::Array<sql_types::Uuid>, _>(&ids)
    .bind::<sql_types::Text, _>(TargetStatus::Publishing)
    .bind::<sql_types::Text, _>(AttemptOutcome::InFlight)
    .load(conn)
}

/// Stores how each attempt ended, in one statement (unfenced, like [`PostAttempt::finish`]:
/// the platform's answer is recorded even when the target was lost meanwhile).
pub fn finish_attempts(
    conn: &mut PgConnection,
    results: &[(PostAttemptId, &AttemptResult)],
) -> QueryResult<usize> {
    if results.is_empty() {
        return Ok(0);
    }
    let ids: Vec<PostAttemptId> = results.iter().map(|(id, _)| *id).collect();
    let finished: Vec<Option<DateTime<Utc>>> = results.iter().map(|(_, r)| r.finished_at).collect();
    let statuses: Vec<Option<i32>> = results.iter().map(|(_, r)| r.http_status).collect();
    let outcomes: Vec<AttemptOutcome> = results.iter().map(|(_, r)| r.outcome).collect();
    let codes: Vec<Option<&str>> = results
        .iter()
        .map(|(_, r)| r.error_code.as_deref())
        .collect();
    let messages: Vec<Option<&str>> = results
        .iter()
        .map(|(_, r)| r.error_message.as_deref())
        .collect();
    let responses: Vec<Option<&serde_json::Value>> =
        results.iter().map(|(_, r)| r.response.as_ref()).collect();
    diesel::sql_query(
        "UPDATE post_attempts a SET finished_at = r.finished_at, http_status = r.http_status, \
            outcome = r.outcome, error_code = r.error_code, error_message = r.error_message, \
            response = r.response \
         FROM unnest($1::uuid[], $2::timestamptz[], $3::int4[], $4::text[], $5::text[], \
            $6::text[], $7::jsonb[]) \
            AS r(id, finished_at, http_status, outcome, error_code, error_message, response) \
         WHERE a.id = r.id",
    )
    .bind::<sql_types::Array<sql_types::Uuid>, _>(&ids)
    .bind::<sql_types::Array<sql_types::Nullable<sql_types::Timestamptz>>, _>(&finished)
    .bind::<sql_types::Array<sql_types::Nullable<sql_types::Integer>>, _>(&statuses)
    .bind::<sql_types::Array<sql_types::Text>, _>(&outcomes)
    .bind::<sql_types::Array<sql_types::Nullable<sql_types::Text>>, _>(&codes)
    .bind::<sql_types::Array<sql_types::Nullable<sql_types::Text>>, _>(&messages)
    .bind::<sql_types::Array<sql_types::Nullable<sql_types::Jsonb>>, _>(&responses)
    .execute(conn)
}

/// A target's result to store while it is held under `claim`.
#[derive(Debug, Clone, Copy)]
pub struct TargetWrite<'a> {
    pub target: PostTargetId,
    pub claim: Uuid,
    pub result: &'a TargetResult,
}

/// Records each result on its target if the target is still `publishing` under its claim, in
/// one statement; answers the targets written, in no particular order (a target missing from
/// the answer was lost: another publisher holds it, and nothing of it was changed).
pub fn record_results(
    conn: &mut PgConnection,
    writes: &[TargetWrite<'_>],
) -> QueryResult<Vec<PostTarget>> {
    if writes.is_empty() {
        return Ok(Vec::new());
    }
    let mut writes = writes.to_vec();
    writes.sort_unstable_by_key(|w| w.target);
    let ids: Vec<PostTargetId> = writes.iter().map(|w| w.target).collect();
    let claims: Vec<Uuid> = writes.iter().map(|w| w.claim).collect();
    let statuses: Vec<TargetStatus> = writes.iter().map(|w| w.result.status).collect();
    let next: Vec<DateTime<Utc>> = writes.iter().map(|w| w.result.next_attempt_at).collect();
    let leases: Vec<Option<DateTime<Utc>>> = writes.iter().map(|w| w.result.lease_until).collect();
    let new_claims: Vec<Option<Uuid>> = writes.iter().map(|w| w.result.claim_id).collect();
    let post_ids = texts(&writes, |r| r.platform_post_id.as_deref());
    let urls = texts(&writes, |r| r.url.as_deref());
    let codes = texts(&writes, |r| r.error_code.as_deref());
    let errors = texts(&writes, |r| r.last_error.as_deref());
    let published: Vec<Option<DateTime<Utc>>> =
        writes.iter().map(|w| w.result.published_at).collect();
    let metrics: Vec<Option<DateTime<Utc>>> =
        writes.iter().map(|w| w.result.metrics_due_at).collect();
    diesel::sql_query(
        "UPDATE post_targets t SET status = r.status, next_attempt_at = r.next_attempt_at, \
            lease_until = r.lease_until, claim_id = r.new_claim, \
            platform_post_id = r.platform_post_id, url = r.url, error_code = r.error_code, \
            last_error = r.last_error, published_at = r.published_at, \
            metrics_due_at = r.metrics_due_at, updated_at = now() \
         FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::timestamptz[], $5::timestamptz[], \
            $6::uuid[], $7::text[], $8::text[], $9::text[], $10::text[], $11::timestamptz[], \
            $12::timestamptz[]) \
            AS r(id, claim, status, next_attempt_at, lease_until, new_claim, platform_post_id, \
                 url, error_code, last_error, published_at, metrics_due_at) \
         WHERE t.id = r.id AND t.status = $13 AND t.claim_id = r.claim \
         RETURNING t.*",
    )
    .bind::<sql_types::Array<sql_types::Uuid>, _>(&ids)
    .bind::<sql_types::Array<sql_types::Uuid>, _>(&claims)
    .bind::<sql_types::Array<sql_types::Text>, _>(&statuses)
    .bind::<sql_types::Array<sql_types::Timestamptz>, _>(&next)
    .bind::<sql_types::Array<sql_types::Nullable<sql_types::Timestamptz>>, _>(&leases)
    .bind::<sql_types::Array<sql_types::Nullable<sql_types::Uuid>>, _>(&new_claims)
    .bind::<sql_types::Array<sql_types::Nullable<sql_types::Text>>, _>(&post_ids)
    .bind::<sql_types::Array<sql_types::Nullable<sql_types::Text>>, _>(&urls)
    .bind::<sql_types::Array<sql_types::Nullable<sql_types::Text>>, _>(&codes)
    .bind::<sql_types::Array<sql_types::Nullable<sql_types::Text>>, _>(&errors)
    .bind::<sql_types::Array<sql_types::Nullable<sql_types::Timestamptz>>, _>(&published)
    .bind::<sql_types::Array<sql_types::Nullable<sql_types::Timestamptz>>, _>(&metrics)
    .bind::<sql_types::Text, _>(TargetStatus::Publishing)
    .load(conn)
}

/// One optional text column of the results, in the order of `writes`.
fn texts<'a>(
    writes: &[TargetWrite<'a>],
    column: impl Fn(&'a TargetResult) -> Option<&'a str>,
) -> Vec<Option<&'a str>> {
    writes.iter().map(|w| column(w.result)).collect()
}
