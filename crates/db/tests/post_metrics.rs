//! The engagement fetcher's claim: a pass takes whole accounts' due reads (so each account is
//! read in full platform batches), one account's backlog gets at most one batch per pass, and a
//! claim holds what it took under its lease.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers fail the test by panicking"
)]

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, DurationRound, Utc};
use db::{
    diesel::{self, sql_types, RunQueryDsl},
    domain::{AccountId, Platform},
    post_metrics::{DueTarget, MetricsSchedule},
    PgConnection,
};
use testkit::TestDb;

/// Sandbox accounts `0..n` (ids that sort in that order).
fn seed_accounts(conn: &mut PgConnection, n: i32) -> Vec<AccountId> {
    #[derive(diesel::QueryableByName)]
    struct Id {
        #[diesel(sql_type = sql_types::Uuid)]
        id: AccountId,
    }
    let ids: Vec<Id> = diesel::sql_query(
        "INSERT INTO social_accounts (id, owner_id, platform, platform_account_id, account_kind) \
         SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(a), 12, '0'))::uuid, 'owner', \
            'sandbox', 'user' || a, 'profile' FROM generate_series(0, $1 - 1) a \
         RETURNING id",
    )
    .bind::<sql_types::Integer, _>(n)
    .load(conn)
    .unwrap();
    let mut ids: Vec<AccountId> = ids.into_iter().map(|i| i.id).collect();
    ids.sort();
    ids
}

/// `per_account` published targets of each of `accounts`, their reads due at `due`, inserted
/// round-robin over the accounts (so the table's order spreads every account's reads).
fn seed_reads(
    conn: &mut PgConnection,
    accounts: &[AccountId],
    per_account: i32,
    due: DateTime<Utc>,
) {
    let ids: Vec<uuid::Uuid> = accounts.iter().map(|a| a.0).collect();
    diesel::sql_query(
        "WITH post AS (INSERT INTO posts (owner_id, text, status) \
            VALUES ('owner', 'read me', 'published') RETURNING id) \
         INSERT INTO post_targets (post_id, account_id, platform, text, status, due_at, \
            next_attempt_at, platform_post_id, published_at, metrics_due_at) \
         SELECT post.id, ($1::uuid[])[1 + i % cardinality($1::uuid[])], 'sandbox', 'read me', \
            'published', $3 - interval '1 hour', $3 - interval '1 hour', 'p' || i, \
            $3 - interval '1 hour', $3 \
         FROM post, generate_series(0, $2 * cardinality($1::uuid[]) - 1) i",
    )
    .bind::<sql_types::Array<sql_types::Uuid>, _>(ids)
    .bind::<sql_types::Integer, _>(per_account)
    .bind::<sql_types::Timestamptz, _>(due)
    .execute(conn)
    .unwrap();
}

fn per_account(claimed: &[DueTarget]) -> BTreeMap<AccountId, usize> {
    let mut counts = BTreeMap::new();
    for target in claimed {
        *counts.entry(target.account_id).or_default() += 1;
    }
    counts
}

/// Sandbox reads come 20 to a batch in these tests; every other platform one at a time.
const BATCH: i64 = 20;

fn claim(conn: &mut PgConnection, now: DateTime<Utc>, limit: i64) -> Vec<DueTarget> {
    let caps: Vec<(Platform, i64)> = Platform::ALL
        .iter()
        .map(|&p| (p, if p == Platform::Sandbox { BATCH } else { 1 }))
        .collect();
    MetricsSchedule::claim_due(conn, now, now + Duration::seconds(120), limit, &caps).unwrap()
}

fn now() -> DateTime<Utc> {
    Utc::now().duration_trunc(Duration::seconds(1)).unwrap()
}

#[test]
fn a_claim_over_many_accounts_takes_whole_accounts_due_reads_in_full_batches() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let now = now();
    let accounts = seed_accounts(&mut conn, 10);
    seed_reads(&mut conn, &accounts, BATCH as i32, now);
    // Not due yet: never claimed.
    seed_reads(&mut conn, &accounts, 1, now + Duration::minutes(10));

    let claimed = claim(&mut conn, now, 5 * BATCH);
    let counts = per_account(&claimed);
    assert_eq!(claimed.len(), 5 * BATCH as usize);
    assert_eq!(
        counts.values().copied().collect::<Vec<_>>(),
        vec![BATCH as usize; 5],
        "five accounts with all their due reads, not ten with half: {counts:?}"
    );

    // The next claim takes the other five accounts, whole; then nothing is due.
    let next = per_account(&claim(&mut conn, now, 5 * BATCH));
    assert_eq!(
        next.values().copied().collect::<Vec<_>>(),
        vec![BATCH as usize; 5]
    );
    assert!(next.keys().all(|a| !counts.contains_key(a)), "{next:?}");
    assert!(claim(&mut conn, now, 5 * BATCH).is_empty());
}

#[test]
fn one_account_with_a_large_backlog_gets_one_batch_a_claim_beside_the_others() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let now = now();
    let accounts = seed_accounts(&mut conn, 10);
    // The first account (first in every order) is an hour behind with 1,000 reads.
    seed_reads(&mut conn, &accounts[..1], 1_000, now - Duration::hours(1));
    seed_reads(&mut conn, &accounts[1..], BATCH as i32, now);

    let mut others_done_after = None;
    for pass in 1..=5 {
        let counts = per_account(&claim(&mut conn, now, 5 * BATCH));
        assert_eq!(
            counts.get(&accounts[0]).copied(),
            Some(BATCH as usize),
            "pass {pass}: the backlog gets one batch: {counts:?}"
        );
        assert!(
            counts.values().all(|&n| n == BATCH as usize),
            "whole batches: {counts:?}"
        );
        if others_done_after.is_none() && counts.len() == 1 {
            others_done_after = Some(pass - 1);
        }
    }
    // Nine other accounts, four beside the backlog per claim: all read by the third claim.
    assert_eq!(others_done_after, Some(3));
}

#[test]
fn claimed_reads_are_held_under_the_lease_and_released_only_with_it() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let now = now();
    let accounts = seed_accounts(&mut conn, 2);
    seed_reads(&mut conn, &accounts, 3, now);
    let claimed = claim(&mut conn, now, 100);
    assert_eq!(claimed.len(), 6);
    let ids: Vec<_> = claimed.iter().map(|t| t.id).collect();
    let lease = now + Duration::seconds(120);
    let next = MetricsSchedule::next_reads(&mut conn, &ids).unwrap();
    assert!(next.iter().all(|(_, due)| *due == Some(lease)), "{next:?}");
    // Held: a second claim finds nothing; a release under another lease changes nothing.
    assert!(claim(&mut conn, now, 100).is_empty());
    let stale = lease + Duration::seconds(1);
    assert_eq!(
        MetricsSchedule::release(&mut conn, &ids, stale, now).unwrap(),
        0
    );
    assert_eq!(
        MetricsSchedule::release(&mut conn, &ids, lease, now).unwrap(),
        6
    );
    assert_eq!(claim(&mut conn, now, 100).len(), 6);
}

#[test]
fn reads_stand_aside_only_while_a_publish_of_an_unpaused_account_is_due() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let now = now();
    let accounts = seed_accounts(&mut conn, 2);
    let schedule = |conn: &mut PgConnection, account: AccountId, at: DateTime<Utc>| {
        diesel::sql_query(
            "WITH post AS (INSERT INTO posts (owner_id, text) VALUES ('owner', 'soon') \
                RETURNING id) \
             INSERT INTO post_targets (post_id, account_id, platform, text, due_at, \
                next_attempt_at) SELECT post.id, $1, 'sandbox', 'soon', $2, $2 FROM post",
        )
        .bind::<sql_types::Uuid, _>(account)
        .bind::<sql_types::Timestamptz, _>(at)
        .execute(conn)
        .unwrap();
    };
    assert!(!MetricsSchedule::publishes_waiting(&mut conn, now).unwrap());
    schedule(&mut conn, accounts[0], now + Duration::minutes(5));
    assert!(
        !MetricsSchedule::publishes_waiting(&mut conn, now).unwrap(),
        "scheduled later"
    );
    schedule(&mut conn, accounts[1], now - Duration::seconds(1));
    assert!(MetricsSchedule::publishes_waiting(&mut conn, now).unwrap());
    diesel::sql_query("UPDATE social_accounts SET paused_at = now() WHERE id = $1")
        .bind::<sql_types::Uuid, _>(accounts[1])
        .execute(&mut conn)
        .unwrap();
    assert!(
        !MetricsSchedule::publishes_waiting(&mut conn, now).unwrap(),
        "a paused account's publishes wait for it, not for the dispatcher"
    );
}
