//! `bench publish_scale`: whether publishing costs the same once the tables have grown.
//!
//! 1. The `publish_burst` burst (N posts, default 10,000, `BENCH_POSTS`, over 100 sandbox
//!    accounts, due at one second; `benches/publish.rs`'s world and release publisher) on
//!    fresh tables: the small-table rate of this run.
//! 2. Another world, seeded (`testkit::scale`) with R older published targets (default
//!    1,000,000, `BENCH_SCALE_ROWS`; posts, targets and successful attempts, spread over the
//!    100 accounts and the past 90 days) and R targets scheduled over the next 30 days (from an
//!    hour from now, so none falls due during the run), then `VACUUM ANALYZE`.
//! 3. `EXPLAIN (ANALYZE, BUFFERS)` of what runs against those tables on every pass or request
//!    (the dispatcher's claim and sleep, the engagement claim, the gateway's post list, post
//!    view and account list, the pause anti-join, the targets gauge), each the statement the
//!    code sends (`testkit::explain`), printed on stderr with a summary line.
//! 4. The same burst on the seeded tables: its rate against (1) (goal: kept ≥ 90 %).
#![expect(clippy::unwrap_used, reason = "a benchmark fails by panicking")]

#[path = "publish.rs"]
#[expect(
    dead_code,
    reason = "the publish benchmark's own entry points; this one reuses its world and helpers"
)]
mod publish;

#[path = "publish_scale/plans.rs"]
mod plans;

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use db::{
    diesel::{self, sql_types, RunQueryDsl},
    domain::AccountId,
    PgConnection,
};
use publish::{percentile, schedule, start_publisher, world, World, ACCOUNTS};

fn count(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() {
    let posts = count("BENCH_POSTS", 10_000) as usize;
    let rows = count("BENCH_SCALE_ROWS", 1_000_000);

    let small = {
        let world = world().await;
        burst(&world, posts, "small tables").await
    };

    let world = world().await;
    let mut conn = world.db.conn();
    let seeding = Instant::now();
    eprintln!("[bench] publish_scale: seeding {rows} published and {rows} scheduled targets");
    testkit::scale::seed_published(&mut conn, &world.accounts, rows, 90.0);
    testkit::scale::seed_scheduled(&mut conn, &world.accounts, rows, 1.0, 30.0);
    testkit::scale::vacuum_analyze(&mut conn);
    eprintln!(
        "[bench] publish_scale: seeded in {:.0} s; {}",
        seeding.elapsed().as_secs_f64(),
        sizes(&mut conn)
    );
    plans::print_all(&mut conn, &world.accounts);

    let scaled = burst(&world, posts, "seeded tables").await;
    println!(
        "bench publish_scale posts={posts} seeded_published={rows} seeded_scheduled={rows} posts_per_s={:.0} small_table_posts_per_s={:.0} kept_pct={:.1} lag_p99_ms={:.0}",
        scaled.posts_per_s,
        small.posts_per_s,
        100.0 * scaled.posts_per_s / small.posts_per_s.max(f64::MIN_POSITIVE),
        scaled.lag_p99_ms,
    );
}

/// A burst's figures.
struct Burst {
    posts_per_s: f64,
    lag_p99_ms: f64,
}

/// `posts` posts (owner `bench`, as `publish::schedule` writes them) due at one second over the
/// world's accounts, published by a release publisher of their own; measured as
/// `publish_burst` measures it (due second to the last `published_at`), counting only these
/// posts' targets, found through the owner index so that polling stays cheap on big tables.
async fn burst(world: &World, posts: usize, what: &str) -> Burst {
    let mut conn = world.db.conn();
    let prefix = testkit::unique_name("bench-scale");
    let mut child = start_publisher(world, &prefix);
    let due = Utc::now() + chrono::Duration::seconds(10 + (posts / 2_000) as i64);
    let items: Vec<(AccountId, DateTime<Utc>)> = (0..posts)
        .map(|i| (world.accounts[i % ACCOUNTS], due))
        .collect();
    eprintln!("[bench] publish_scale ({what}): {posts} posts due at {due}");
    schedule(&mut conn, &items);
    let deadline = Instant::now() + Duration::from_secs(1200);
    let mut last_report = Instant::now();
    // platform-sim's own count first (in memory, free), then the database.
    while (world.sim.stats().posts_created as usize) < posts {
        assert!(
            Instant::now() < deadline,
            "{what}: not published in 20 minutes"
        );
        if last_report.elapsed() > Duration::from_secs(10) {
            eprintln!(
                "[bench] {what}: {}/{posts} on the platform",
                world.sim.stats().posts_created
            );
            last_report = Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let lags = loop {
        let lags = burst_lags(&mut conn);
        if lags.len() >= posts {
            break lags;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: not recorded in 20 minutes"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let _ = child.kill();
    let _ = child.wait();
    let duplicates = world.sim.stats().posts_created as usize - posts;
    assert_eq!(duplicates, 0, "{what}: posts created twice on the platform");
    let last = lags.last().copied().unwrap_or(0.0);
    let burst = Burst {
        posts_per_s: posts as f64 / (last / 1000.0).max(0.001),
        lag_p99_ms: percentile(&lags, 99.0),
    };
    eprintln!(
        "[bench] publish_scale ({what}): {:.0} posts/s, lag p50 {:.0} ms, p99 {:.0} ms",
        burst.posts_per_s,
        percentile(&lags, 50.0),
        burst.lag_p99_ms
    );
    burst
}

#[derive(diesel::QueryableByName)]
struct Lag {
    #[diesel(sql_type = sql_types::Double)]
    ms: f64,
}

/// Due→published lags in ms of the burst's published targets (owner `bench`), sorted.
fn burst_lags(conn: &mut PgConnection) -> Vec<f64> {
    diesel::sql_query(
        "SELECT (EXTRACT(EPOCH FROM (t.published_at - t.due_at)) * 1000)::float8 AS ms \
         FROM posts p JOIN post_targets t ON t.post_id = p.id \
         WHERE p.owner_id = 'bench' AND t.status = 'published' ORDER BY 1",
    )
    .load::<Lag>(conn)
    .unwrap()
    .into_iter()
    .map(|l| l.ms)
    .collect()
}

/// The seeded tables' sizes (heap and indexes), for the record.
fn sizes(conn: &mut PgConnection) -> String {
    #[derive(diesel::QueryableByName)]
    struct Size {
        #[diesel(sql_type = sql_types::Text)]
        line: String,
    }
    diesel::sql_query(
        "SELECT string_agg(format('%s %s (indexes %s)', relname, \
            pg_size_pretty(pg_table_size(oid)), pg_size_pretty(pg_indexes_size(oid))), ', ' \
            ORDER BY relname) AS line \
         FROM pg_class WHERE relname IN ('posts', 'post_targets', 'post_attempts')",
    )
    .get_result::<Size>(conn)
    .unwrap()
    .line
}
