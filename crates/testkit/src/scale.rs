//! Bulk seeding for the scale benchmarks (`bench publish_scale`, `bench posts_list`): months of
//! publishing history and a month of schedule already in the tables, so a benchmark measures
//! what publishing and listing cost once the data has grown.
//!
//! The rows are generated inside PostgreSQL, `INSERT … SELECT FROM generate_series` with the
//! posts, targets and attempts of a chunk written by one statement (data-modifying CTEs; the
//! foreign keys are checked at the end of that statement), 100,000 rows a statement: nothing
//! crosses the wire per row, and the progress of a multi-minute seeding shows on stderr.
//! Rows follow the shape the services write (a post, its one target, its successful attempt),
//! in time order, the way they accumulate in production.

use std::time::Instant;

use db::{diesel::RunQueryDsl, domain::AccountId, PgConnection};
use diesel::sql_types::{Array, BigInt, Double, Uuid};

/// Rows per statement: big enough that the statement overhead vanishes, small enough that the
/// progress moves every few seconds.
const CHUNK: u64 = 100_000;

/// Seeds `rows` published single-target posts over `accounts` (round robin; each post belongs
/// to its account's owner), published evenly over the past `days` days, oldest first, each
/// with its one successful attempt. Targets published in the last 30 days are still on the
/// engagement schedule (their last read due 30 days after publishing, so none falls due
/// during a benchmark); older ones have finished it.
pub fn seed_published(conn: &mut PgConnection, accounts: &[AccountId], rows: u64, days: f64) {
    chunked("published", rows, |lo, hi| {
        db::diesel::sql_query(
            "WITH a AS ( \
                SELECT s.id, s.owner_id, s.platform, u.ord - 1 AS k \
                FROM unnest($1::uuid[]) WITH ORDINALITY AS u(id, ord) \
                JOIN social_accounts s ON s.id = u.id), \
             s AS MATERIALIZED ( \
                SELECT g, gen_random_uuid() AS post_id, gen_random_uuid() AS target_id, \
                    a.id AS account_id, a.owner_id, a.platform, \
                    now() - make_interval(days => 1) * $5 * (1 - g::float8 / $4) AS at \
                FROM generate_series($2::bigint, $3::bigint - 1) AS g \
                JOIN a ON a.k = g % cardinality($1::uuid[])), \
             p AS (INSERT INTO posts (id, owner_id, text, status, scheduled_at, created_at, \
                    updated_at) \
                SELECT post_id, owner_id, 'seeded post ' || g, 'published', at, \
                    at - interval '1 hour', at + interval '2 seconds' FROM s), \
             t AS (INSERT INTO post_targets (id, post_id, account_id, platform, text, status, \
                    due_at, attempts, next_attempt_at, platform_post_id, url, published_at, \
                    created_at, updated_at, metrics_due_at, metrics_round) \
                SELECT target_id, post_id, account_id, platform, 'seeded post ' || g, \
                    'published', at, 1, at, 'seed-' || g, 'https://sandbox.invalid/p/seed-' || g, \
                    at + interval '2 seconds', at - interval '1 hour', at + interval '2 seconds', \
                    CASE WHEN at > now() - interval '30 days' THEN at + interval '30 days' END, \
                    CASE WHEN at > now() - interval '30 days' THEN 5 ELSE 6 END FROM s) \
             INSERT INTO post_attempts (id, target_id, account_id, attempt_no, started_at, \
                finished_at, http_status, outcome, kind) \
             SELECT gen_random_uuid(), target_id, account_id, 1, at, at + interval '2 seconds', \
                200, 'success', 'publish' FROM s",
        )
        .bind::<Array<Uuid>, _>(ids(accounts))
        .bind::<BigInt, _>(lo as i64)
        .bind::<BigInt, _>(hi as i64)
        .bind::<Double, _>(rows as f64)
        .bind::<Double, _>(days)
        .execute(conn)
    });
}

/// Seeds `rows` scheduled single-target posts over `accounts` (round robin), due evenly from
/// `from_hours` hours from now over the next `days` days, created over the past 30 days.
pub fn seed_scheduled(
    conn: &mut PgConnection,
    accounts: &[AccountId],
    rows: u64,
    from_hours: f64,
    days: f64,
) {
    chunked("scheduled", rows, |lo, hi| {
        db::diesel::sql_query(
            "WITH a AS ( \
                SELECT s.id, s.owner_id, s.platform, u.ord - 1 AS k \
                FROM unnest($1::uuid[]) WITH ORDINALITY AS u(id, ord) \
                JOIN social_accounts s ON s.id = u.id), \
             s AS MATERIALIZED ( \
                SELECT g, gen_random_uuid() AS post_id, a.id AS account_id, a.owner_id, \
                    a.platform, \
                    now() + make_interval(hours => 1) * $5 \
                        + make_interval(days => 1) * $6 * (g::float8 / $4) AS at, \
                    now() - make_interval(secs => (g * 7919) % 2592000) AS created \
                FROM generate_series($2::bigint, $3::bigint - 1) AS g \
                JOIN a ON a.k = g % cardinality($1::uuid[])), \
             p AS (INSERT INTO posts (id, owner_id, text, status, scheduled_at, created_at, \
                    updated_at) \
                SELECT post_id, owner_id, 'seeded scheduled post ' || g, 'scheduled', at, \
                    created, created FROM s) \
             INSERT INTO post_targets (id, post_id, account_id, platform, text, status, due_at, \
                next_attempt_at, created_at, updated_at) \
             SELECT gen_random_uuid(), post_id, account_id, platform, \
                'seeded scheduled post ' || g, 'scheduled', at, at, created, created FROM s",
        )
        .bind::<Array<Uuid>, _>(ids(accounts))
        .bind::<BigInt, _>(lo as i64)
        .bind::<BigInt, _>(hi as i64)
        .bind::<Double, _>(rows as f64)
        .bind::<Double, _>(from_hours)
        .bind::<Double, _>(days)
        .execute(conn)
    });
}

/// `VACUUM ANALYZE` of the whole database: the visibility map and the planner's statistics
/// the seeded tables would have after months of autovacuum.
pub fn vacuum_analyze(conn: &mut PgConnection) {
    let started = Instant::now();
    db::diesel::sql_query("VACUUM ANALYZE")
        .execute(conn)
        .expect("VACUUM ANALYZE");
    eprintln!(
        "[seed] VACUUM ANALYZE in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

fn ids(accounts: &[AccountId]) -> Vec<uuid::Uuid> {
    accounts.iter().map(|a| a.0).collect()
}

/// Runs `insert(lo, hi)` for each chunk of `0..rows`, each in its own transaction, printing
/// the progress on stderr.
fn chunked(
    what: &str,
    rows: u64,
    mut insert: impl FnMut(u64, u64) -> db::diesel::QueryResult<usize>,
) {
    let started = Instant::now();
    let mut lo = 0;
    while lo < rows {
        let hi = (lo + CHUNK).min(rows);
        insert(lo, hi).expect("seed a chunk");
        lo = hi;
        let secs = started.elapsed().as_secs_f64();
        eprintln!(
            "[seed] {what}: {lo}/{rows} posts ({:.0} posts/s, {secs:.0} s)",
            lo as f64 / secs.max(f64::MIN_POSITIVE)
        );
    }
}
