//! Retention sweeps and purges on a real PostgreSQL: what goes, what stays, batches bounded,
//! and purgers side by side.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers fail the test by panicking"
)]

use chrono::{DateTime, Duration, Utc};
use db::{
    diesel::{self, sql_types, RunQueryDsl},
    domain::{AccountId, EventId, OwnerId, PostTargetId},
    inbox::ProcessedEvent,
    outbox::OutboxRow,
    post_metrics::{AccountTotals, AnalyticsFilter},
    posts::PostAttempt,
    retention::{self as sweeps, Mark},
    Connection, PgConnection,
};
use testkit::TestDb;
use uuid::Uuid;

const OWNER: &str = "retention-owner";

fn account(conn: &mut PgConnection) -> Uuid {
    let id = Uuid::new_v4();
    diesel::sql_query(
        "INSERT INTO social_accounts (id, owner_id, platform, platform_account_id, account_kind) \
         VALUES ($1, $2, 'sandbox', $1::text, 'profile')",
    )
    .bind::<sql_types::Uuid, _>(id)
    .bind::<sql_types::Text, _>(OWNER)
    .execute(conn)
    .unwrap();
    id
}

/// A published target of a new post, published at `at`.
fn target(conn: &mut PgConnection, account: Uuid, at: DateTime<Utc>) -> Uuid {
    let (post, target) = (Uuid::new_v4(), Uuid::new_v4());
    diesel::sql_query("INSERT INTO posts (id, owner_id, text) VALUES ($1, $2, 'hello')")
        .bind::<sql_types::Uuid, _>(post)
        .bind::<sql_types::Text, _>(OWNER)
        .execute(conn)
        .unwrap();
    diesel::sql_query(
        "INSERT INTO post_targets (id, post_id, account_id, platform, text, due_at, \
            next_attempt_at, status, platform_post_id, published_at) \
         VALUES ($1, $2, $3, 'sandbox', 'hello', $4, $4, 'published', $1::text, $4)",
    )
    .bind::<sql_types::Uuid, _>(target)
    .bind::<sql_types::Uuid, _>(post)
    .bind::<sql_types::Uuid, _>(account)
    .bind::<sql_types::Timestamptz, _>(at)
    .execute(conn)
    .unwrap();
    target
}

/// Attempt `no` of `target`, started at `at`, successful (so it counts against a limit).
fn attempt(conn: &mut PgConnection, target: Uuid, account: Uuid, no: i32, at: DateTime<Utc>) {
    diesel::sql_query(
        "INSERT INTO post_attempts (target_id, account_id, attempt_no, started_at, outcome) \
         VALUES ($1, $2, $3, $4, 'success')",
    )
    .bind::<sql_types::Uuid, _>(target)
    .bind::<sql_types::Uuid, _>(account)
    .bind::<sql_types::Integer, _>(no)
    .bind::<sql_types::Timestamptz, _>(at)
    .execute(conn)
    .unwrap();
}

fn attempt_numbers(conn: &mut PgConnection, target: Uuid) -> Vec<i32> {
    PostAttempt::of_targets(conn, &[PostTargetId(target)])
        .unwrap()
        .into_iter()
        .map(|a| a.attempt_no)
        .collect()
}

fn read(conn: &mut PgConnection, target: Uuid, at: DateTime<Utc>, likes: i64) {
    diesel::sql_query(
        "INSERT INTO post_metrics (target_id, fetched_at, likes) VALUES ($1, $2, $3)",
    )
    .bind::<sql_types::Uuid, _>(target)
    .bind::<sql_types::Timestamptz, _>(at)
    .bind::<sql_types::BigInt, _>(likes)
    .execute(conn)
    .unwrap();
}

fn count(conn: &mut PgConnection, sql: &str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = sql_types::BigInt)]
        n: i64,
    }
    diesel::sql_query(sql).get_result::<N>(conn).unwrap().n
}

/// Runs a sweep to its cutoff, `limit` rows a batch; answers (batches, deleted).
fn sweep_all<Id: Copy>(
    mut batch: impl FnMut(Mark<Id>) -> sweeps::Swept<Id>,
    start: Mark<Id>,
    limit: i64,
) -> (u32, i64) {
    let (mut mark, mut batches, mut deleted) = (start, 0, 0);
    loop {
        let swept = batch(mark);
        assert!(swept.scanned <= limit, "a batch examines at most its limit");
        batches += 1;
        deleted += swept.deleted;
        if let Some(last) = swept.last {
            mark = last;
        }
        if swept.reached_cutoff(limit) {
            return (batches, deleted);
        }
    }
}

/// Named so that `cargo nextest run -p db retention` selects these.
mod retention {
    use super::*;

    #[test]
    fn attempts_older_than_the_cutoff_go_except_each_targets_last() {
        let db = TestDb::new();
        let conn = &mut db.conn();
        let now = Utc::now();
        let acc = account(conn);
        let retried_long_ago = target(conn, acc, now - Duration::days(100));
        for (no, days) in [(1, 100), (2, 95), (3, 91)] {
            attempt(conn, retried_long_ago, acc, no, now - Duration::days(days));
        }
        let deleted_lately = target(conn, acc, now - Duration::days(100));
        attempt(conn, deleted_lately, acc, 1, now - Duration::days(100));
        attempt(conn, deleted_lately, acc, 2, now - Duration::hours(1));
        let recent = target(conn, acc, now - Duration::days(10));
        attempt(conn, recent, acc, 1, now - Duration::days(10));
        attempt(conn, recent, acc, 2, now - Duration::days(5));
        let single = target(conn, acc, now - Duration::days(200));
        attempt(conn, single, acc, 1, now - Duration::days(200));

        let cutoff = now - Duration::days(90);
        let (_, deleted) = sweep_all(
            |mark| sweeps::sweep_post_attempts(conn, mark, cutoff, 100).unwrap(),
            Mark::<Uuid>::start(),
            100,
        );

        assert_eq!(deleted, 3);
        assert_eq!(
            attempt_numbers(conn, retried_long_ago),
            vec![3],
            "the last stays"
        );
        assert_eq!(attempt_numbers(conn, deleted_lately), vec![2]);
        assert_eq!(
            attempt_numbers(conn, recent),
            vec![1, 2],
            "younger than the cutoff"
        );
        assert_eq!(
            attempt_numbers(conn, single),
            vec![1],
            "a target's only attempt stays"
        );
    }

    #[test]
    fn attempts_inside_the_publishing_limits_window_are_still_counted_after_a_sweep() {
        let db = TestDb::new();
        let conn = &mut db.conn();
        let now = Utc::now();
        let acc = account(conn);
        // Retried targets: every attempt but the last is deletable by the keep rule alone.
        for i in 0..5 {
            let t = target(conn, acc, now - Duration::hours(20));
            attempt(
                conn,
                t,
                acc,
                1,
                now - Duration::hours(23) + Duration::minutes(i),
            );
            attempt(
                conn,
                t,
                acc,
                2,
                now - Duration::hours(3) + Duration::minutes(i),
            );
        }
        let window_start = now - Duration::hours(24);
        let before = PostAttempt::counted_since(conn, AccountId(acc), window_start, 100).unwrap();

        // The shortest retention the publisher accepts: two days.
        let (_, deleted) = sweep_all(
            |mark| sweeps::sweep_post_attempts(conn, mark, now - Duration::days(2), 100).unwrap(),
            Mark::<Uuid>::start(),
            100,
        );

        assert_eq!(deleted, 0);
        let after = PostAttempt::counted_since(conn, AccountId(acc), window_start, 100).unwrap();
        assert_eq!(before.len(), 10);
        assert_eq!(after, before);
    }

    #[test]
    fn batches_examine_at_most_their_limit_and_resume_after_the_mark() {
        let db = TestDb::new();
        let conn = &mut db.conn();
        let now = Utc::now();
        let acc = account(conn);
        // 25 deletable attempts (each followed by its target's last), 10 kept ones.
        for i in 0..25 {
            let t = target(conn, acc, now - Duration::days(200));
            attempt(
                conn,
                t,
                acc,
                1,
                now - Duration::days(200) + Duration::minutes(i),
            );
            attempt(
                conn,
                t,
                acc,
                2,
                now - Duration::days(100) + Duration::minutes(i),
            );
        }
        let cutoff = now - Duration::days(90);

        let first = sweeps::sweep_post_attempts(conn, Mark::<Uuid>::start(), cutoff, 10).unwrap();
        assert_eq!((first.scanned, first.deleted), (10, 10));
        assert!(!first.reached_cutoff(10));
        let (batches, deleted) = sweep_all(
            |mark| sweeps::sweep_post_attempts(conn, mark, cutoff, 10).unwrap(),
            first.last.unwrap(),
            10,
        );
        // 40 rows left before the cutoff (15 deletable, 25 kept): four full batches, and a fifth
        // that finds none left.
        assert_eq!((batches, deleted), (5, 15));
        assert_eq!(count(conn, "SELECT count(*) AS n FROM post_attempts"), 25);

        // The kept rows are behind the mark now: the next pass examines nothing.
        let swept = sweeps::sweep_post_attempts(conn, Mark::<Uuid>::start(), cutoff, 100).unwrap();
        assert_eq!((swept.scanned, swept.deleted), (25, 0));
        let again = sweeps::sweep_post_attempts(conn, swept.last.unwrap(), cutoff, 100).unwrap();
        assert_eq!((again.scanned, again.last), (0, None));
    }

    #[test]
    fn old_engagement_reads_go_except_each_targets_latest_and_the_analytics_totals_stay() {
        let db = TestDb::new();
        let conn = &mut db.conn();
        let now = Utc::now();
        let acc = account(conn);
        let published = now - Duration::days(500);
        let old = target(conn, acc, published);
        for (i, days) in [499, 494, 470].into_iter().enumerate() {
            read(conn, old, now - Duration::days(days), 10 * (i as i64 + 1));
        }
        let young = target(conn, acc, now - Duration::days(20));
        read(conn, young, now - Duration::days(19), 1);
        read(conn, young, now - Duration::days(13), 2);
        let filter = AnalyticsFilter {
            owner: OwnerId(OWNER.into()),
            from: now - Duration::days(501),
            to: now,
            platform: None,
            top: 5,
        };
        let before = AccountTotals::of(conn, &filter).unwrap();

        let (_, deleted) = sweep_all(
            |mark| sweeps::sweep_post_metrics(conn, mark, now - Duration::days(400), 100).unwrap(),
            Mark::<i64>::start(),
            100,
        );

        assert_eq!(deleted, 2);
        assert_eq!(
            count(
                conn,
                &format!("SELECT count(*) AS n FROM post_metrics WHERE target_id = '{old}'")
            ),
            1
        );
        assert_eq!(
            count(
                conn,
                &format!("SELECT count(*) AS n FROM post_metrics WHERE target_id = '{young}' ")
            ),
            2
        );
        let after = AccountTotals::of(conn, &filter).unwrap();
        assert_eq!(after, before);
        assert_eq!(after[0].likes, Some(32), "30 (the old target's latest) + 2");
    }

    #[test]
    fn account_samples_are_kept_whole_for_a_month_then_one_a_day_then_dropped() {
        let db = TestDb::new();
        let conn = &mut db.conn();
        // Whole seconds: the cutoffs are compared below as text, which PostgreSQL would round.
        let now = chrono::SubsecRound::trunc_subsecs(Utc::now(), 0);
        let acc = account(conn);
        // Four samples a day (every six hours) for 500 days.
        diesel::sql_query(
            "INSERT INTO account_metrics (account_id, synced_at, followers) \
             SELECT $1, $2 - g * interval '6 hours', g FROM generate_series(0, 4 * 500) g",
        )
        .bind::<sql_types::Uuid, _>(acc)
        .bind::<sql_types::Timestamptz, _>(now)
        .execute(conn)
        .unwrap();
        let full_before = now - Duration::days(30);
        let keep_before = now - Duration::days(400);
        let recent = count(
            conn,
            &format!(
                "SELECT count(*) AS n FROM account_metrics WHERE synced_at >= '{full_before}'"
            ),
        );

        sweep_all(
            |mark| {
                sweeps::sweep_account_metrics(conn, mark, full_before, keep_before, 500).unwrap()
            },
            Mark::<i64>::start(),
            500,
        );

        let q = |conn: &mut PgConnection, cond: &str| {
            count(
                conn,
                &format!("SELECT count(*) AS n FROM account_metrics WHERE {cond}"),
            )
        };
        assert_eq!(q(conn, &format!("synced_at < '{keep_before}'")), 0);
        assert_eq!(q(conn, &format!("synced_at >= '{full_before}'")), recent);
        // Between the two cutoffs: one sample per UTC day, and it is the day's last.
        let per_day = count(
            conn,
            &format!(
                "SELECT count(*) AS n FROM (SELECT date_trunc('day', synced_at, 'UTC') d, count(*) c \
                 FROM account_metrics WHERE synced_at < '{full_before}' \
                 GROUP BY 1 HAVING count(*) > 1 AND max(synced_at) < '{full_before}') x"
            ),
        );
        assert_eq!(
            per_day, 0,
            "one sample a day before the full-resolution month"
        );
        let not_last = count(
            conn,
            &format!(
                "SELECT count(*) AS n FROM account_metrics m WHERE m.synced_at < '{full_before}' \
                 AND m.synced_at + interval '6 hours' < date_trunc('day', m.synced_at, 'UTC') \
                     + interval '24 hours' \
                 AND m.synced_at + interval '6 hours' < '{full_before}'"
            ),
        );
        assert_eq!(not_last, 0, "the sample kept is the day's last");
        let kept_days = q(conn, &format!("synced_at < '{full_before}'"));
        assert!((369..=372).contains(&kept_days), "{kept_days} days kept");
    }

    #[test]
    fn outbox_and_inbox_purges_take_at_most_their_limit_and_spare_what_is_young_or_unsent() {
        let db = TestDb::new();
        let conn = &mut db.conn();
        let now = Utc::now();
        diesel::sql_query(
            "INSERT INTO outbox (id, event_type, envelope, created_at, sent_at) \
             SELECT gen_random_uuid(), 't', '{}', $1, CASE WHEN g <= 25 THEN $1 \
                 WHEN g <= 30 THEN now() END \
             FROM generate_series(1, 35) g",
        )
        .bind::<sql_types::Timestamptz, _>(now - Duration::days(2))
        .execute(conn)
        .unwrap();
        let cutoff = now - Duration::hours(24);
        assert_eq!(OutboxRow::purge_sent_before(conn, cutoff, 10).unwrap(), 10);
        assert_eq!(OutboxRow::purge_sent_before(conn, cutoff, 10).unwrap(), 10);
        assert_eq!(OutboxRow::purge_sent_before(conn, cutoff, 10).unwrap(), 5);
        assert_eq!(OutboxRow::purge_sent_before(conn, cutoff, 10).unwrap(), 0);
        assert_eq!(
            count(
                conn,
                "SELECT count(*) AS n FROM outbox WHERE sent_at IS NULL"
            ),
            5
        );
        assert_eq!(count(conn, "SELECT count(*) AS n FROM outbox"), 10);

        for i in 0..15 {
            ProcessedEvent::record(conn, "c", EventId::new()).unwrap();
            if i < 12 {
                diesel::sql_query(
                    "UPDATE processed_events SET processed_at = now() - interval '8 days' \
                     WHERE processed_at > now() - interval '1 minute' AND ctid IN \
                     (SELECT ctid FROM processed_events WHERE processed_at > now() - interval '1 minute' \
                      LIMIT 1)",
                )
                .execute(conn)
                .unwrap();
            }
        }
        let cutoff = now - Duration::days(7);
        assert_eq!(ProcessedEvent::purge_before(conn, cutoff, 10).unwrap(), 10);
        assert_eq!(ProcessedEvent::purge_before(conn, cutoff, 10).unwrap(), 2);
        assert_eq!(count(conn, "SELECT count(*) AS n FROM processed_events"), 3);
    }

    #[test]
    fn a_purger_skips_rows_another_transaction_holds_instead_of_waiting() {
        let db = TestDb::new();
        let conn = &mut db.conn();
        let now = Utc::now();
        let acc = account(conn);
        let t = target(conn, acc, now - Duration::days(200));
        attempt(conn, t, acc, 1, now - Duration::days(200));
        attempt(conn, t, acc, 2, now - Duration::days(199));
        attempt(conn, t, acc, 3, now - Duration::days(198));

        let holder = &mut db.conn();
        // Were the purger to wait for the held row, this fails the test instead of hanging it.
        diesel::sql_query("SET lock_timeout = '5s'")
            .execute(conn)
            .unwrap();
        holder
            .transaction::<_, diesel::result::Error, _>(|holder| {
                diesel::sql_query("SELECT id FROM post_attempts WHERE attempt_no = 1 FOR UPDATE")
                    .execute(holder)?;
                let swept = sweeps::sweep_post_attempts(
                    conn,
                    Mark::<Uuid>::start(),
                    now - Duration::days(90),
                    100,
                )?;
                assert_eq!(
                    (swept.scanned, swept.deleted),
                    (3, 1),
                    "attempt 1 is skipped"
                );
                Ok(())
            })
            .unwrap();
        assert_eq!(attempt_numbers(conn, t), vec![1, 3]);
    }

    #[test]
    fn two_purgers_sweeping_the_same_rows_at_once_both_succeed_and_keep_every_last_attempt() {
        let db = TestDb::new();
        let conn = &mut db.conn();
        let now = Utc::now();
        let acc = account(conn);
        // 2,000 targets with three old attempts each, inserted set-wise.
        diesel::sql_query(
            "WITH p AS (INSERT INTO posts (id, owner_id, text) \
                SELECT gen_random_uuid(), $2, 'x' FROM generate_series(1, 2000) RETURNING id), \
             t AS (INSERT INTO post_targets (id, post_id, account_id, platform, text, due_at, \
                next_attempt_at) \
                SELECT gen_random_uuid(), p.id, $1, 'sandbox', 'x', now(), now() FROM p \
                RETURNING id) \
             INSERT INTO post_attempts (target_id, account_id, attempt_no, started_at, outcome) \
             SELECT t.id, $1, n, now() - interval '200 days' + n * interval '1 day', 'success' \
             FROM t, generate_series(1, 3) n",
        )
        .bind::<sql_types::Uuid, _>(acc)
        .bind::<sql_types::Text, _>(OWNER)
        .execute(conn)
        .unwrap();
        let cutoff = now - Duration::days(90);
        let purgers: Vec<_> = (0..2)
            .map(|_| {
                let url = db.url().to_owned();
                std::thread::spawn(move || {
                    let mut conn = PgConnection::establish(&url).unwrap();
                    let mut mark = Mark::<Uuid>::start();
                    let mut deleted = 0;
                    loop {
                        let swept =
                            sweeps::sweep_post_attempts(&mut conn, mark, cutoff, 250).unwrap();
                        deleted += swept.deleted;
                        if let Some(last) = swept.last {
                            mark = last;
                        }
                        if swept.reached_cutoff(250) {
                            return deleted;
                        }
                    }
                })
            })
            .collect();
        let deleted: i64 = purgers.into_iter().map(|p| p.join().unwrap()).sum();

        assert_eq!(deleted, 4000, "each row deleted once, by one of them");
        assert_eq!(
            count(
                conn,
                "SELECT count(*) AS n FROM post_attempts WHERE attempt_no = 3"
            ),
            2000
        );
        assert_eq!(count(conn, "SELECT count(*) AS n FROM post_attempts"), 2000);
    }
}

/// `docs/BENCHMARKS.md`, *retention*: a million expired rows in each table, seeded set-wise,
/// the plan of each purge statement and the time to purge them in batches.
/// `cargo nextest run -p db --run-ignored ignored-only at_scale --no-capture`
mod retention_at_scale {
    use std::time::Instant;

    use super::*;

    #[derive(diesel::QueryableByName)]
    struct Plan {
        #[diesel(sql_type = sql_types::Text, column_name = "QUERY PLAN")]
        line: String,
    }

    fn exec(conn: &mut PgConnection, sql: &str) -> std::time::Duration {
        let started = Instant::now();
        diesel::sql_query(sql).execute(conn).unwrap();
        started.elapsed()
    }

    fn size(conn: &mut PgConnection, table: &str) -> i64 {
        count(
            conn,
            &format!("SELECT pg_total_relation_size('{table}') / 1048576 AS n"),
        )
    }

    fn seed(conn: &mut PgConnection) {
        let acc = account(conn);
        let t = Instant::now();
        diesel::sql_query(
            "WITH p AS (INSERT INTO posts (id, owner_id, text) \
                SELECT gen_random_uuid(), $2, 'x' FROM generate_series(1, 250000) RETURNING id) \
             INSERT INTO post_targets (id, post_id, account_id, platform, text, due_at, \
                next_attempt_at, status) \
             SELECT gen_random_uuid(), p.id, $1, 'sandbox', 'x', now(), now(), 'published' \
             FROM p",
        )
        .bind::<sql_types::Uuid, _>(acc)
        .bind::<sql_types::Text, _>(OWNER)
        .execute(conn)
        .unwrap();
        // Five attempts per target, in time order over 200 days ending 100 days ago: four
        // expired ones and the target's last (kept).
        diesel::sql_query(
            "INSERT INTO post_attempts (target_id, account_id, attempt_no, started_at, outcome) \
             SELECT t.id, $1, n, now() - interval '300 days' \
                + ((t.rn - 1) * 5 + n) * (interval '200 days' / 1250000), 'success' \
             FROM (SELECT id, row_number() OVER () AS rn FROM post_targets) t, \
                generate_series(1, 5) n ORDER BY t.rn, n",
        )
        .bind::<sql_types::Uuid, _>(acc)
        .execute(conn)
        .unwrap();
        // Five reads per target over 250 days ending 450 days ago: four expired, the latest kept.
        exec(
            conn,
            "INSERT INTO post_metrics (target_id, fetched_at, likes) \
             SELECT t.id, now() - interval '700 days' \
                + ((t.rn - 1) * 5 + n) * (interval '250 days' / 1250000), n \
             FROM (SELECT id, row_number() OVER () AS rn FROM post_targets) t, \
                generate_series(1, 5) n ORDER BY t.rn, n",
        );
        // 500 accounts synced every six hours for 620 days, ending 31 days ago.
        exec(
            conn,
            "WITH a AS (INSERT INTO social_accounts (id, owner_id, platform, \
                platform_account_id, account_kind) \
                SELECT gen_random_uuid(), 'o', 'sandbox', 'scale-' || g, 'profile' \
                FROM generate_series(1, 500) g RETURNING id) \
             INSERT INTO account_metrics (account_id, synced_at, followers) \
             SELECT a.id, now() - interval '31 days' - g * interval '6 hours', g \
             FROM a, generate_series(0, 4 * 620 - 1) g ORDER BY g DESC",
        );
        exec(
            conn,
            "INSERT INTO outbox (id, event_type, envelope, created_at, sent_at) \
             SELECT gen_random_uuid(), 'post.published', '{\"id\": 1}', \
                now() - interval '3 days' + g * interval '100 microseconds', \
                now() - interval '3 days' + g * interval '100 microseconds' \
             FROM generate_series(1, 1000000) g",
        );
        exec(
            conn,
            "INSERT INTO processed_events (consumer, event_id, processed_at) \
             SELECT 'publisher.posts', gen_random_uuid(), \
                now() - interval '9 days' + g * interval '100 microseconds' \
             FROM generate_series(1, 1000000) g",
        );
        println!("seeded in {:.1} s", t.elapsed().as_secs_f64());
    }

    fn explain<F>(conn: &mut PgConnection, title: &str, query: F)
    where
        F: FnOnce(&mut PgConnection) -> QueryResult<Vec<Plan>>,
    {
        conn.transaction::<(), diesel::result::Error, _>(|conn| {
            let plan = query(conn)?;
            println!("\n#### {title}\n```");
            for line in plan {
                println!("{}", line.line);
            }
            println!("```");
            Err(diesel::result::Error::RollbackTransaction)
        })
        .unwrap_err();
    }

    use db::diesel::QueryResult;

    /// Runs a whole sweep; prints rows deleted, batches, time and the slowest batch.
    fn timed<Id: Copy>(
        conn: &mut PgConnection,
        table: &str,
        mut batch: impl FnMut(&mut PgConnection, Mark<Id>) -> QueryResult<sweeps::Swept<Id>>,
        start: Mark<Id>,
    ) -> Mark<Id> {
        let t = Instant::now();
        let (mut mark, mut batches, mut deleted, mut slowest) = (start, 0, 0, 0f64);
        loop {
            let b = Instant::now();
            let swept = batch(conn, mark).unwrap();
            slowest = slowest.max(b.elapsed().as_secs_f64() * 1000.0);
            batches += 1;
            deleted += swept.deleted;
            if let Some(last) = swept.last {
                mark = last;
            }
            if swept.reached_cutoff(LIMIT) {
                break;
            }
        }
        println!(
            "| {table} | {deleted} | {batches} | {:.1} s | {slowest:.0} ms |",
            t.elapsed().as_secs_f64(),
        );
        mark
    }

    const LIMIT: i64 = 5000;

    #[test]
    #[ignore = "a benchmark: seeds about 6 million rows (docs/BENCHMARKS.md, retention)"]
    fn at_scale_one_million_expired_rows_per_table() {
        let db = TestDb::new();
        let conn = &mut db.conn();
        for index in [
            "post_attempts_started_idx",
            "post_metrics_fetched_idx",
            "account_metrics_synced_idx",
        ] {
            exec(conn, &format!("DROP INDEX {index}"));
        }
        seed(conn);
        println!("\n| migration 000013 on the seeded tables | time |\n|---|---|");
        for (table, sql) in [
            (
                "post_attempts (1.25 M rows)",
                "CREATE INDEX post_attempts_started_idx ON post_attempts (started_at, id)",
            ),
            (
                "post_metrics (1.25 M rows)",
                "CREATE INDEX post_metrics_fetched_idx ON post_metrics (fetched_at, id)",
            ),
            (
                "account_metrics (1.24 M rows)",
                "CREATE INDEX account_metrics_synced_idx ON account_metrics (synced_at, id)",
            ),
        ] {
            println!("| {table} | {:.2} s |", exec(conn, sql).as_secs_f64());
        }
        exec(conn, "VACUUM ANALYZE");
        for table in [
            "post_attempts",
            "post_metrics",
            "account_metrics",
            "outbox",
            "processed_events",
        ] {
            println!("{table}: {} MB before", size(conn, table));
        }

        let now = Utc::now();
        let start_uuid = Mark::<Uuid>::start();
        let start_serial = Mark::<i64>::start();
        explain(conn, "post_attempts, one batch", |conn| {
            diesel::sql_query(format!(
                "EXPLAIN (ANALYZE, BUFFERS, WAL) {}",
                sweeps::Sweep::PostAttempts.statement()
            ))
            .bind::<sql_types::Timestamptz, _>(start_uuid.at)
            .bind::<sql_types::Uuid, _>(start_uuid.id)
            .bind::<sql_types::Timestamptz, _>(now - Duration::days(90))
            .bind::<sql_types::BigInt, _>(LIMIT)
            .load(conn)
        });
        explain(conn, "post_metrics, one batch", |conn| {
            diesel::sql_query(format!(
                "EXPLAIN (ANALYZE, BUFFERS, WAL) {}",
                sweeps::Sweep::PostMetrics.statement()
            ))
            .bind::<sql_types::Timestamptz, _>(start_serial.at)
            .bind::<sql_types::BigInt, _>(start_serial.id)
            .bind::<sql_types::Timestamptz, _>(now - Duration::days(400))
            .bind::<sql_types::BigInt, _>(LIMIT)
            .load(conn)
        });
        explain(conn, "account_metrics, one batch", |conn| {
            diesel::sql_query(format!(
                "EXPLAIN (ANALYZE, BUFFERS, WAL) {}",
                sweeps::Sweep::AccountMetrics.statement()
            ))
            .bind::<sql_types::Timestamptz, _>(start_serial.at)
            .bind::<sql_types::BigInt, _>(start_serial.id)
            .bind::<sql_types::Timestamptz, _>(now - Duration::days(30))
            .bind::<sql_types::BigInt, _>(LIMIT)
            .bind::<sql_types::Timestamptz, _>(now - Duration::days(400))
            .load(conn)
        });
        // The statements of OutboxRow::purge_sent_before and ProcessedEvent::purge_before.
        explain(conn, "outbox, one batch", |conn| {
            diesel::sql_query(
                "EXPLAIN (ANALYZE, BUFFERS, WAL) DELETE FROM outbox WHERE id = ANY(ARRAY( \
                    SELECT id FROM outbox WHERE sent_at < $1 ORDER BY sent_at LIMIT $2 \
                    FOR UPDATE SKIP LOCKED))",
            )
            .bind::<sql_types::Timestamptz, _>(now - Duration::hours(24))
            .bind::<sql_types::BigInt, _>(LIMIT)
            .load(conn)
        });
        explain(conn, "processed_events, one batch", |conn| {
            diesel::sql_query(
                "EXPLAIN (ANALYZE, BUFFERS, WAL) DELETE FROM processed_events \
                 WHERE ctid = ANY(ARRAY( \
                    SELECT ctid FROM processed_events WHERE processed_at < $1 \
                    ORDER BY processed_at LIMIT $2 FOR UPDATE SKIP LOCKED))",
            )
            .bind::<sql_types::Timestamptz, _>(now - Duration::days(7))
            .bind::<sql_types::BigInt, _>(LIMIT)
            .load(conn)
        });
        // What the relay did before: one statement for the whole backlog (rolled back).
        explain(conn, "outbox, the former unbounded purge", |conn| {
            diesel::sql_query(
                "EXPLAIN (ANALYZE, BUFFERS, WAL) DELETE FROM outbox WHERE sent_at < $1",
            )
            .bind::<sql_types::Timestamptz, _>(now - Duration::hours(24))
            .load(conn)
        });

        println!("\n| table | deleted | batches | time | slowest batch |\n|---|---|---|---|---|");
        let attempts = timed(
            conn,
            "post_attempts",
            |conn, mark| sweeps::sweep_post_attempts(conn, mark, now - Duration::days(90), LIMIT),
            start_uuid,
        );
        timed(
            conn,
            "post_metrics",
            |conn, mark| sweeps::sweep_post_metrics(conn, mark, now - Duration::days(400), LIMIT),
            start_serial,
        );
        timed(
            conn,
            "account_metrics",
            |conn, mark| {
                sweeps::sweep_account_metrics(
                    conn,
                    mark,
                    now - Duration::days(30),
                    now - Duration::days(400),
                    LIMIT,
                )
            },
            start_serial,
        );
        let (t, mut batches, mut deleted) = (Instant::now(), 0, 0);
        loop {
            let n = OutboxRow::purge_sent_before(conn, now - Duration::hours(24), LIMIT).unwrap();
            batches += 1;
            deleted += n;
            if (n as i64) < LIMIT {
                break;
            }
        }
        println!(
            "| outbox | {deleted} | {batches} | {:.1} s | |",
            t.elapsed().as_secs_f64(),
        );
        let (t, mut batches, mut deleted) = (Instant::now(), 0, 0);
        loop {
            let n = ProcessedEvent::purge_before(conn, now - Duration::days(7), LIMIT).unwrap();
            batches += 1;
            deleted += n;
            if (n as i64) < LIMIT {
                break;
            }
        }
        println!(
            "| processed_events | {deleted} | {batches} | {:.1} s | |",
            t.elapsed().as_secs_f64(),
        );

        // Steady state: the next pass reads only what aged past the cutoff since (nothing),
        // and a rewound pass reads the 250,000 kept last attempts once.
        println!("\n| pass after the purge | time |\n|---|---|");
        let t = Instant::now();
        let next =
            sweeps::sweep_post_attempts(conn, attempts, now - Duration::days(90), LIMIT).unwrap();
        println!(
            "| post_attempts from the mark ({} rows read) | {:.1} ms |",
            next.scanned,
            t.elapsed().as_secs_f64() * 1000.0
        );
        timed(
            conn,
            "post_attempts, rewound (250,000 kept rows read)",
            |conn, mark| sweeps::sweep_post_attempts(conn, mark, now - Duration::days(90), LIMIT),
            start_uuid,
        );
        assert_eq!(
            count(conn, "SELECT count(*) AS n FROM post_attempts"),
            250_000
        );
        assert_eq!(
            count(conn, "SELECT count(*) AS n FROM post_metrics"),
            250_000
        );
        assert_eq!(count(conn, "SELECT count(*) AS n FROM outbox"), 0);
    }
}
