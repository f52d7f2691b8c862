//! The publisher's periodic questions cost what one answer costs, however many targets wait or
//! are done: the dispatcher's sleep (`PostTarget::next_due`, asked on every pass that does not
//! fill its claim) reads the first waiting target of the dispatch index, and the targets gauge
//! (`PostTarget::count_by_status`, every 15 s) counts only live targets, from their partial
//! indexes, never the history of published ones.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers fail the test by panicking"
)]

use db::{
    diesel::{self, sql_types, RunQueryDsl},
    domain::{AccountId, TargetStatus},
    posts::PostTarget,
    PgConnection,
};
use testkit::{
    explain::{explain, sql_of, statements, PlanSummary},
    TestDb,
};

fn seed_account(conn: &mut PgConnection, owner: &str) -> AccountId {
    #[derive(diesel::QueryableByName)]
    struct Id {
        #[diesel(sql_type = sql_types::Uuid)]
        id: AccountId,
    }
    diesel::sql_query(
        "INSERT INTO social_accounts (owner_id, platform, platform_account_id, account_kind) \
         VALUES ($1, 'sandbox', $1, 'profile') RETURNING id",
    )
    .bind::<sql_types::Text, _>(owner)
    .get_result::<Id>(conn)
    .unwrap()
    .id
}

fn analyze(conn: &mut PgConnection) {
    diesel::sql_query("VACUUM ANALYZE post_targets")
        .execute(conn)
        .unwrap();
}

/// The plan of the one statement `f` sends (it must send exactly one, without binds).
fn plan_of<T>(
    conn: &mut PgConnection,
    f: impl FnOnce(&mut PgConnection) -> diesel::QueryResult<T>,
) -> (T, PlanSummary, String) {
    let (answer, recorded) = statements(conn, f);
    assert_eq!(recorded.len(), 1, "{recorded:?}");
    let plan = explain(conn, &recorded[0], diesel::sql_query(sql_of(&recorded[0])));
    (answer, PlanSummary::of(&plan), plan.join("\n"))
}

#[test]
fn the_dispatchers_sleep_reads_the_first_waiting_target_not_every_one() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let accounts = [
        seed_account(&mut conn, "alice"),
        seed_account(&mut conn, "bob"),
    ];
    testkit::scale::seed_scheduled(&mut conn, &accounts, 20_000, 1.0, 30.0);
    analyze(&mut conn);
    #[derive(diesel::QueryableByName)]
    struct First {
        #[diesel(sql_type = sql_types::Nullable<sql_types::Timestamptz>)]
        at: Option<chrono::DateTime<chrono::Utc>>,
    }
    let first = diesel::sql_query(
        "SELECT min(next_attempt_at) AS at FROM post_targets WHERE status = 'scheduled'",
    )
    .get_result::<First>(&mut conn)
    .unwrap()
    .at;

    let (next, plan, text) = plan_of(&mut conn, PostTarget::next_due);

    assert_eq!(next, first);
    assert!(plan.seq_scans.is_empty(), "{text}");
    assert!(
        plan.buffers < 50,
        "read {} buffers for one row:\n{text}",
        plan.buffers
    );
}

#[test]
fn the_dispatchers_sleep_skips_the_targets_of_a_paused_account() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let paused = seed_account(&mut conn, "alice");
    let active = seed_account(&mut conn, "bob");
    // The paused account's targets fall due first (from 1 h); the active one's from 5 h.
    testkit::scale::seed_scheduled(&mut conn, &[paused], 100, 1.0, 1.0);
    testkit::scale::seed_scheduled(&mut conn, &[active], 100, 5.0, 1.0);
    diesel::sql_query("UPDATE social_accounts SET paused_at = now() WHERE id = $1")
        .bind::<sql_types::Uuid, _>(paused)
        .execute(&mut conn)
        .unwrap();

    let next = PostTarget::next_due(&mut conn).unwrap().unwrap();

    assert!(
        next > chrono::Utc::now() + chrono::Duration::hours(4),
        "{next}"
    );
}

#[test]
fn the_targets_gauge_counts_live_targets_without_reading_the_published_history() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let accounts = [seed_account(&mut conn, "alice")];
    testkit::scale::seed_published(&mut conn, &accounts, 50_000, 30.0);
    testkit::scale::seed_scheduled(&mut conn, &accounts, 300, 1.0, 1.0);
    diesel::sql_query(
        "UPDATE post_targets SET status = 'unknown' \
         WHERE id IN (SELECT id FROM post_targets WHERE status = 'scheduled' LIMIT 7)",
    )
    .execute(&mut conn)
    .unwrap();
    analyze(&mut conn);

    let (mut counts, plan, text) = plan_of(&mut conn, PostTarget::count_by_status);

    counts.sort_by_key(|(status, _)| status.as_str());
    assert_eq!(
        counts,
        vec![
            (TargetStatus::Deleting, 0),
            (TargetStatus::Publishing, 0),
            (TargetStatus::Scheduled, 293),
            (TargetStatus::Unknown, 7),
        ]
    );
    assert!(plan.seq_scans.is_empty(), "{text}");
    assert!(
        plan.buffers < 50,
        "read {} buffers for 300 live targets:\n{text}",
        plan.buffers
    );
}
