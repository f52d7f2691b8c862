//! `bench metrics_sync`: engagement reads against platform-sim, and what they cost publishing.
//!
//! 1. N published targets (default 10,000, `BENCH_METRICS_TARGETS`) over 100 sandbox accounts,
//!    all due for an engagement read at once: the publisher (release binary, default
//!    `[publisher.metrics]`) reads them in batches (100 posts per request on the sandbox).
//!    Reported: reads/s (targets from the first read to the last), requests made and posts
//!    per request (a pass claims whole accounts, so 100 to a request here).
//! 2. A burst of P posts (default 10,000, `BENCH_METRICS_BURST`) due at the same second, alone,
//!    measured as `bench publish_burst` measures it (due second to last publish).
//! 3. The same burst with N targets due for a read 3 s into it: the burst's rate against (2)
//!    (goal: at least 90 %), and when the reads were done.
//!
//! Each phase has its own database, platform-sim and publisher (`benches/publish.rs`'s world).
#![expect(clippy::unwrap_used, reason = "a benchmark fails by panicking")]

#[path = "publish.rs"]
#[expect(
    dead_code,
    reason = "the publish benchmark's own entry points; this one reuses its world and helpers"
)]
mod publish;

use std::time::Duration;

use chrono::{DateTime, Utc};
use db::{
    diesel::{self, sql_types, RunQueryDsl},
    domain::{OwnerId, Platform, PostId, PostStatus, PostTargetId, TargetStatus},
    posts::{NewPost, NewTarget},
    PgConnection,
};
use publish::{schedule, start_publisher, world, World, ACCOUNTS};

fn count(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() {
    let targets = count("BENCH_METRICS_TARGETS", 10_000);
    let posts = count("BENCH_METRICS_BURST", 10_000);
    let alone = reads_alone(targets).await;
    let burst_alone = burst(posts, 0).await;
    let with_reads = burst(posts, targets).await;
    println!(
        "bench metrics_sync targets={targets} fetches_per_s={:.0} requests={} posts_per_request={:.1} burst_posts={posts} burst_alone_posts_per_s={:.0} burst_with_metrics_posts_per_s={:.0} burst_kept_pct={:.1} metrics_done_after_due_s={:.1}",
        alone.per_s,
        alone.requests,
        alone.posts_read as f64 / alone.requests.max(1) as f64,
        burst_alone.posts_per_s,
        with_reads.posts_per_s,
        100.0 * with_reads.posts_per_s / burst_alone.posts_per_s.max(f64::MIN_POSITIVE),
        with_reads.reads_done_s,
    );
}

/// Phase 1's figures.
struct Reads {
    per_s: f64,
    requests: u64,
    /// Posts those requests asked for (platform-sim's count).
    posts_read: u64,
}

/// A burst's figures.
struct Burst {
    posts_per_s: f64,
    /// Seconds from the due second until every seeded target was read (0 without reads).
    reads_done_s: f64,
}

async fn reads_alone(targets: usize) -> Reads {
    let world = world().await;
    let mut conn = world.db.conn();
    let due = Utc::now() + chrono::Duration::seconds(8);
    seed_published(&world, &mut conn, targets, due);
    eprintln!("[bench] metrics_sync: {targets} published targets due for a read at {due}");
    let prefix = testkit::unique_name("bench-metrics");
    let mut child = start_publisher(&world, &prefix);
    wait_until("engagement reads", || reads(&mut conn).0 >= targets).await;
    let _ = child.kill();
    let _ = child.wait();
    let (n, first, last) = reads(&mut conn);
    let span = (last - first).num_milliseconds().max(1) as f64 / 1000.0;
    let stats = world.sim.stats();
    Reads {
        per_s: n as f64 / span,
        requests: stats.metrics_reads,
        posts_read: stats.metrics_posts_read,
    }
}

/// A burst of `posts` due at one second, with `targets` published targets due for a read at
/// that same second.
async fn burst(posts: usize, targets: usize) -> Burst {
    let world = world().await;
    let mut conn = world.db.conn();
    let due = Utc::now() + chrono::Duration::seconds(10 + (posts / 2_000) as i64);
    if targets > 0 {
        // Due 3 s into the burst: the fetcher looks half its batch window (2.5 s) ahead, so
        // reads due at the burst's second would be made before it starts.
        seed_published(
            &world,
            &mut conn,
            targets,
            due + chrono::Duration::seconds(3),
        );
    }
    let items: Vec<_> = (0..posts)
        .map(|i| (world.accounts[i % ACCOUNTS], due))
        .collect();
    eprintln!(
        "[bench] metrics_sync: a burst of {posts} posts due at {due}, {targets} reads due then too"
    );
    schedule(&mut conn, &items);
    let prefix = testkit::unique_name("bench-metrics-burst");
    let mut child = start_publisher(&world, &prefix);
    wait_until("burst", || burst_published(&mut conn, due).0 >= posts).await;
    wait_until("reads during the burst", || reads(&mut conn).0 >= targets).await;
    let _ = child.kill();
    let _ = child.wait();
    let (_, last_publish) = burst_published(&mut conn, due);
    let (_, _, last_read) = reads(&mut conn);
    let secs = |t: DateTime<Utc>| (t - due).num_milliseconds().max(1) as f64 / 1000.0;
    Burst {
        posts_per_s: posts as f64 / secs(last_publish),
        reads_done_s: if targets > 0 { secs(last_read) } else { 0.0 },
    }
}

/// Polls `done` every 200 ms for up to 20 minutes.
async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(1200);
    while !done() {
        assert!(
            std::time::Instant::now() < deadline,
            "{what}: not done after 20 minutes"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// `n` posts already on platform-sim (made there directly, one per account in turn) and
/// published in the database an hour ago, their first engagement read due at `due`.
fn seed_published(world: &World, conn: &mut PgConnection, n: usize, due: DateTime<Utc>) {
    let published_at = Utc::now() - chrono::Duration::hours(1);
    for start in (0..n).step_by(2_000) {
        let end = (start + 2_000).min(n);
        let mut posts = Vec::new();
        let mut targets = Vec::new();
        let mut platform_ids = Vec::new();
        for i in start..end {
            let user = format!("user{}", i % ACCOUNTS);
            let text = format!("read me {i}");
            let key = format!("seed-{i}");
            platform_ids.push(world.sim.publish_as(&user, &text, &key).unwrap());
            let post = NewPost {
                id: PostId::new(),
                owner_id: OwnerId("bench".into()),
                draft_id: None,
                text: text.clone(),
                media_ids: vec![],
                variants: serde_json::json!({}),
                idempotency_key: None,
                request_hash: None,
                scheduled_at: None,
                status: PostStatus::Published,
            };
            targets.push(NewTarget {
                id: PostTargetId::new(),
                post_id: post.id,
                account_id: world.accounts[i % ACCOUNTS],
                platform: Platform::Sandbox,
                text,
                media_ids: vec![],
                status: TargetStatus::Published,
                due_at: published_at,
                next_attempt_at: published_at,
                options: serde_json::json!({}),
            });
            posts.push(post);
        }
        diesel::insert_into(db::schema::posts::table)
            .values(&posts)
            .execute(conn)
            .unwrap();
        diesel::insert_into(db::schema::post_targets::table)
            .values(&targets)
            .execute(conn)
            .unwrap();
        let ids: Vec<PostTargetId> = targets.iter().map(|t| t.id).collect();
        diesel::sql_query(
            "UPDATE post_targets t SET platform_post_id = v.pid, published_at = $3, \
                metrics_due_at = $4 \
             FROM unnest($1::uuid[], $2::text[]) AS v(id, pid) WHERE t.id = v.id",
        )
        .bind::<sql_types::Array<sql_types::Uuid>, _>(ids)
        .bind::<sql_types::Array<sql_types::Text>, _>(platform_ids)
        .bind::<sql_types::Timestamptz, _>(published_at)
        .bind::<sql_types::Timestamptz, _>(due)
        .execute(conn)
        .unwrap();
    }
}

#[derive(diesel::QueryableByName)]
struct Span {
    #[diesel(sql_type = sql_types::BigInt)]
    n: i64,
    #[diesel(sql_type = sql_types::Nullable<sql_types::Timestamptz>)]
    first: Option<DateTime<Utc>>,
    #[diesel(sql_type = sql_types::Nullable<sql_types::Timestamptz>)]
    last: Option<DateTime<Utc>>,
}

/// Engagement reads stored: how many, the first and the last.
fn reads(conn: &mut PgConnection) -> (usize, DateTime<Utc>, DateTime<Utc>) {
    let span: Span = diesel::sql_query(
        "SELECT count(*) AS n, min(fetched_at) AS first, max(fetched_at) AS last FROM post_metrics",
    )
    .get_result(conn)
    .unwrap();
    let now = Utc::now();
    (
        span.n as usize,
        span.first.unwrap_or(now),
        span.last.unwrap_or(now),
    )
}

/// The burst's published targets (due at `due`) and the last publish.
fn burst_published(conn: &mut PgConnection, due: DateTime<Utc>) -> (usize, DateTime<Utc>) {
    let span: Span = diesel::sql_query(
        "SELECT count(*) AS n, min(published_at) AS first, max(published_at) AS last \
         FROM post_targets WHERE due_at = $1 AND status = 'published'",
    )
    .bind::<sql_types::Timestamptz, _>(due)
    .get_result(conn)
    .unwrap();
    (span.n as usize, span.last.unwrap_or_else(Utc::now))
}
