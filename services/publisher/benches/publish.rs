//! `make bench`: the publisher (release binary, a separate process) against platform-sim.
//!
//! - `publish_burst`: N single-target posts (default 10,000) over 100 sandbox accounts, all
//!   due at the same second. Prints posts/s (from the due time to the last publish), the
//!   due→published lag p50/p99 (from the targets' `published_at`), duplicates and losses
//!   (from platform-sim's own record and the targets) and the publisher's peak RSS.
//! - `publish_lag`: 200 posts due one by one, 100 ms apart, to an idle publisher: the lag of a
//!   single scheduled post after its due time, p50/p99.
#![expect(clippy::unwrap_used, reason = "a benchmark fails by panicking")]

use std::{net::TcpListener, process::Command, time::Duration};

use chrono::{DateTime, Utc};
use db::{
    accounts::{Account, AccountConnectForm},
    diesel::{self, sql_types, RunQueryDsl},
    domain::{
        AccountId, AccountKind, AccountStatus, OwnerId, Platform, PostId, PostStatus, PostTargetId,
        TargetStatus,
    },
    posts::{NewPost, NewTarget},
    PgConnection,
};
use platform_sim::{SimHandle, SimOptions};

#[path = "publish/ceiling.rs"]
mod ceiling;
#[path = "publish/cpu.rs"]
mod cpu;
use secrecy::SecretString;
use service_kit::tokens;

const CLIENT_ID: &str = "postbridge-local";
pub(crate) const ACCOUNTS: usize = 100;

#[tokio::main]
async fn main() {
    let posts: usize = std::env::var("BENCH_POSTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let ceiling_msgs: usize = std::env::var("BENCH_CEILING_MSGS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let ceiling = ceiling::rabbitmq_ceiling(ceiling_msgs).await;
    println!(
        "bench rabbitmq_ceiling msgs={} msgs_per_s={:.0} payload_bytes={} in_flight=1000",
        ceiling.msgs, ceiling.msgs_per_s, ceiling.payload_bytes
    );
    burst(posts, ceiling.msgs_per_s).await;
    lag(200).await;
}

/// A database with `ACCOUNTS` connected sandbox accounts, and the platform-sim they are on
/// (also used by `benches/metrics_sync.rs`).
pub(crate) struct World {
    pub(crate) db: testkit::TestDb,
    pub(crate) sim: SimHandle,
    pub(crate) accounts: Vec<AccountId>,
}

pub(crate) async fn world() -> World {
    let db = testkit::TestDb::new();
    let (sim, server) = platform_sim::start(
        TcpListener::bind("127.0.0.1:0").unwrap(),
        SimOptions {
            workers: 2,
            ..SimOptions::default()
        },
    )
    .unwrap();
    tokio::spawn(server);
    let loaded = service_kit::testing::loaded_for_tests(db.url(), &testkit::amqp_url(), "x");
    let vault =
        tokens::vault_from(&loaded.section::<tokens::VaultSettings>("vault").unwrap()).unwrap();
    let forms: Vec<AccountConnectForm> = (0..ACCOUNTS)
        .map(|i| {
            let grant = sim
                .mint_grant(&format!("user{i}"), CLIENT_ID, &["profile", "publish"])
                .unwrap();
            let id = AccountId::new();
            AccountConnectForm {
                id,
                owner_id: OwnerId(format!("owner{i}")),
                platform: Platform::Sandbox,
                platform_account_id: format!("sim-user{i}"),
                account_kind: AccountKind::Profile,
                display_name: None,
                handle: None,
                avatar_url: None,
                profile_url: None,
                instance_url: None,
                scopes: vec![],
                access_token_enc: Some(
                    tokens::seal(
                        &vault,
                        id,
                        tokens::ACCESS_TOKEN,
                        &SecretString::from(grant.access_token),
                    )
                    .unwrap(),
                ),
                refresh_token_enc: None,
                token_key_id: Some(vault.primary_key_id().to_owned()),
                token_expires_at: Some(Utc::now() + chrono::Duration::hours(2)),
                refresh_expires_at: None,
                status: AccountStatus::Active,
                last_error: None,
                followers_count: None,
                following_count: None,
                posts_count: None,
                refresh_attempts: 0,
                next_refresh_at: None,
            }
        })
        .collect();
    Account::insert_batch(&mut db.conn(), &forms).unwrap();
    let accounts = forms.iter().map(|f| f.id).collect();
    World { db, sim, accounts }
}

/// Inserts one single-target post per `(account, due_at)`, in batches.
pub(crate) fn schedule(conn: &mut PgConnection, items: &[(AccountId, DateTime<Utc>)]) {
    for chunk in items.chunks(2_000) {
        let posts: Vec<NewPost> = chunk
            .iter()
            .enumerate()
            .map(|(i, (_, due))| NewPost {
                id: PostId::new(),
                owner_id: OwnerId("bench".into()),
                draft_id: None,
                text: format!("bench post {i} due {due}"),
                media_ids: vec![],
                variants: serde_json::json!({}),
                idempotency_key: None,
                request_hash: None,
                scheduled_at: Some(*due),
                status: PostStatus::Scheduled,
            })
            .collect();
        let targets: Vec<NewTarget> = chunk
            .iter()
            .zip(&posts)
            .map(|((account, due), post)| NewTarget {
                id: PostTargetId::new(),
                post_id: post.id,
                account_id: *account,
                platform: Platform::Sandbox,
                text: post.text.clone(),
                media_ids: vec![],
                status: TargetStatus::Scheduled,
                due_at: *due,
                next_attempt_at: *due,
                options: serde_json::json!({}),
            })
            .collect();
        diesel::insert_into(db::schema::posts::table)
            .values(&posts)
            .execute(conn)
            .unwrap();
        diesel::insert_into(db::schema::post_targets::table)
            .values(&targets)
            .execute(conn)
            .unwrap();
    }
}

pub(crate) fn start_publisher(world: &World, prefix: &str) -> std::process::Child {
    let root = testkit::workspace_root();
    let media = std::env::temp_dir().join(prefix);
    // BENCH_PUBLISHER_BIN runs another build of the publisher (a copy of an older one) in
    // the same benchmark, to compare versions within one run of the machine.
    let binary = std::env::var("BENCH_PUBLISHER_BIN")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_publisher").into());
    Command::new(binary)
        .envs([
            (
                "POSTBRIDGE_CONFIG_DIR",
                root.join("config").to_string_lossy().into_owned(),
            ),
            ("POSTBRIDGE__DATABASE__URL", world.db.url().to_owned()),
            ("POSTBRIDGE__DATABASE__POOL_SIZE", "16".into()),
            ("POSTBRIDGE__AMQP__URL", testkit::amqp_url()),
            ("POSTBRIDGE__EVENTS__EXCHANGE", format!("{prefix}.events")),
            (
                "POSTBRIDGE__EVENTS__DEAD_LETTER_EXCHANGE",
                format!("{prefix}.dlx"),
            ),
            ("POSTBRIDGE__EVENTS__QUEUE_PREFIX", format!("{prefix}.")),
            (
                "POSTBRIDGE__PUBLISHER__LISTEN",
                format!("127.0.0.1:{}", testkit::free_port()),
            ),
            (
                "POSTBRIDGE__PLATFORMS__SANDBOX__API_BASE",
                world.sim.base_url(),
            ),
            (
                "POSTBRIDGE__PLATFORMS__SANDBOX__UPLOAD_BASE",
                world.sim.base_url(),
            ),
            (
                "POSTBRIDGE__MEDIA__ROOT_DIR",
                media.to_string_lossy().into_owned(),
            ),
            ("RUST_LOG", "warn".into()),
        ])
        .spawn()
        .unwrap()
}

#[derive(diesel::QueryableByName)]
struct Lag {
    #[diesel(sql_type = sql_types::Double)]
    ms: f64,
}

/// Due→published lags in ms of the published targets, sorted.
fn lags(conn: &mut PgConnection) -> Vec<f64> {
    diesel::sql_query(
        "SELECT (EXTRACT(EPOCH FROM (published_at - due_at)) * 1000)::float8 AS ms \
         FROM post_targets WHERE status = 'published' ORDER BY 1",
    )
    .load::<Lag>(conn)
    .unwrap()
    .into_iter()
    .map(|l| l.ms)
    .collect()
}

/// `(due time − first due time, lag)` in ms of each target published over 50 ms late.
fn late_posts(conn: &mut PgConnection, first_due: DateTime<Utc>) -> Vec<(i64, i64)> {
    #[derive(diesel::QueryableByName)]
    struct Late {
        #[diesel(sql_type = sql_types::BigInt)]
        due: i64,
        #[diesel(sql_type = sql_types::BigInt)]
        lag: i64,
    }
    diesel::sql_query(
        "SELECT (EXTRACT(EPOCH FROM (due_at - $1)) * 1000)::int8 AS due, \
                (EXTRACT(EPOCH FROM (published_at - due_at)) * 1000)::int8 AS lag \
         FROM post_targets WHERE published_at - due_at > interval '50 ms' ORDER BY 1",
    )
    .bind::<sql_types::Timestamptz, _>(first_due)
    .load::<Late>(conn)
    .unwrap()
    .into_iter()
    .map(|l| (l.due, l.lag))
    .collect()
}

pub(crate) fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// How many targets are published: a count, so that polling it five times a second costs
/// PostgreSQL little of the CPU the burst is measured on (it read every lag before).
fn published(conn: &mut PgConnection) -> usize {
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = sql_types::BigInt)]
        n: i64,
    }
    diesel::sql_query("SELECT count(*) AS n FROM post_targets WHERE status = 'published'")
        .get_result::<Count>(conn)
        .unwrap()
        .n as usize
}

async fn wait_for(conn: &mut PgConnection, n: usize, what: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(1200);
    let mut last_report = std::time::Instant::now();
    loop {
        let done = published(conn);
        if done >= n {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{what}: only {done} of {n} published after 20 minutes"
        );
        if last_report.elapsed() > Duration::from_secs(10) {
            eprintln!("[bench] {what}: {done}/{n} published");
            last_report = std::time::Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn burst(posts: usize, ceiling_msgs_per_s: f64) {
    let world = world().await;
    let mut conn = world.db.conn();
    let prefix = testkit::unique_name("bench-publish");
    let mut child = start_publisher(&world, &prefix);
    // Give the publisher time to start, and the seeding time to finish, before the due second.
    let due = Utc::now() + chrono::Duration::seconds(10 + (posts / 2_000) as i64);
    let items: Vec<(AccountId, DateTime<Utc>)> = (0..posts)
        .map(|i| (world.accounts[i % ACCOUNTS], due))
        .collect();
    eprintln!("[bench] publish_burst: {posts} posts over {ACCOUNTS} accounts due at {due}");
    schedule(&mut conn, &items);
    if let Ok(wait) = (due - Utc::now()).to_std() {
        tokio::time::sleep(wait).await;
    }
    let cpu_before = cpu::Usage::now(child.id());
    wait_for(&mut conn, posts, "publish_burst").await;
    let cpu_used = cpu::Usage::now(child.id()).since(&cpu_before);
    let last: DateTime<Utc> = {
        #[derive(diesel::QueryableByName)]
        struct Last {
            #[diesel(sql_type = sql_types::Timestamptz)]
            at: DateTime<Utc>,
        }
        diesel::sql_query("SELECT max(published_at) AS at FROM post_targets")
            .get_result::<Last>(&mut conn)
            .unwrap()
            .at
    };
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_kb = testkit::peak_rss_kb(child.id());
    let _ = child.kill();
    let _ = child.wait();
    let lags = lags(&mut conn);
    let on_platform = world.sim.posts();
    let mut keys: Vec<String> = on_platform
        .iter()
        .map(|p| p.idempotency_key.clone().unwrap_or_default())
        .collect();
    keys.sort();
    keys.dedup();
    let duplicates = on_platform.len() - keys.len();
    let lost = posts.saturating_sub(keys.len().min(lags.len()));
    let elapsed = (last - due).num_milliseconds().max(1) as f64 / 1000.0;
    let posts_per_s = posts as f64 / elapsed;
    eprintln!(
        "[bench] publish_burst CPU ms per post: {}",
        cpu_used.per(posts)
    );
    println!(
        "bench publish_burst posts={posts} posts_per_s={posts_per_s:.0} lag_p50_ms={:.0} lag_p99_ms={:.0} duplicates={duplicates} lost={lost} rss_mb={:.1} ceiling_ratio_pct={:.1}",
        percentile(&lags, 50.0),
        percentile(&lags, 99.0),
        rss_kb as f64 / 1024.0,
        100.0 * posts_per_s / ceiling_msgs_per_s.max(1.0)
    );
}

async fn lag(posts: usize) {
    let world = world().await;
    let mut conn = world.db.conn();
    let prefix = testkit::unique_name("bench-lag");
    let mut child = start_publisher(&world, &prefix);
    let start = Utc::now() + chrono::Duration::seconds(5);
    let items: Vec<(AccountId, DateTime<Utc>)> = (0..posts)
        .map(|i| {
            (
                world.accounts[i % ACCOUNTS],
                start + chrono::Duration::milliseconds(100 * i as i64),
            )
        })
        .collect();
    eprintln!("[bench] publish_lag: {posts} posts due 100 ms apart from {start}");
    schedule(&mut conn, &items);
    wait_for(&mut conn, posts, "publish_lag").await;
    let _ = child.kill();
    let _ = child.wait();
    let lags = lags(&mut conn);
    let late = late_posts(&mut conn, start);
    eprintln!("[bench] publish_lag: posts over 50 ms late (ms after the first due time, lag ms): {late:?}");
    println!(
        "bench publish_lag posts={posts} lag_p50_ms={:.0} lag_p99_ms={:.0}",
        percentile(&lags, 50.0),
        percentile(&lags, 99.0)
    );
}
