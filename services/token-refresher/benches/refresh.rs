//! `make bench`: N accounts coming due at once against platform-sim, refreshed by two
//! token-refresher replicas (the release binary, as separate processes).
//!
//! Prints `bench refresh accounts=… replicas=2 refreshes_per_s=… p99_ms=… double_refreshes=0
//! rss_mb=…`: throughput from the moment the accounts fall due until the last is refreshed;
//! p99 of the platform call from the replicas' own latency histograms (bucket bound);
//! double refreshes counted by platform-sim (a refresh token presented twice, or a rotated one
//! reused); the larger peak resident set of the two replicas.
#![expect(clippy::unwrap_used, reason = "a benchmark fails by panicking")]

use std::{net::TcpListener, process::Command, time::Duration};

use chrono::Utc;
use db::{
    accounts::{Account, AccountConnectForm},
    domain::{AccountId, AccountKind, AccountStatus, OwnerId, Platform},
};
use platform_sim::SimOptions;
use secrecy::SecretString;
use service_kit::tokens;

const CLIENT_ID: &str = "postbridge-local";
const REPLICAS: usize = 2;

#[tokio::main]
async fn main() {
    let accounts: usize = std::env::var("BENCH_ACCOUNTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let test_db = testkit::TestDb::new();
    let (sim, server) = platform_sim::start(
        TcpListener::bind("127.0.0.1:0").unwrap(),
        SimOptions {
            workers: 2,
            ..SimOptions::default()
        },
    )
    .unwrap();
    tokio::spawn(server);
    let loaded = service_kit::testing::loaded_for_tests(test_db.url(), &testkit::amqp_url(), "x");
    let vault =
        tokens::vault_from(&loaded.section::<tokens::VaultSettings>("vault").unwrap()).unwrap();

    eprintln!("[bench] seeding {accounts} accounts with platform-sim grants");
    let due_at = Utc::now() + chrono::Duration::seconds(8 + (accounts / 10_000) as i64);
    let mut originals = Vec::with_capacity(accounts);
    let mut conn = test_db.conn();
    for chunk in (0..accounts).collect::<Vec<_>>().chunks(2_000) {
        let forms: Vec<AccountConnectForm> = chunk
            .iter()
            .map(|i| {
                let grant = sim
                    .mint_grant(&format!("user{i}"), CLIENT_ID, &["profile"])
                    .unwrap();
                let id = AccountId::new();
                originals.push(grant.refresh_token.clone());
                AccountConnectForm {
                    id,
                    owner_id: OwnerId(format!("owner{}", i % 1000)),
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
                    refresh_token_enc: Some(
                        tokens::seal(
                            &vault,
                            id,
                            tokens::REFRESH_TOKEN,
                            &SecretString::from(grant.refresh_token),
                        )
                        .unwrap(),
                    ),
                    token_key_id: Some(vault.primary_key_id().to_owned()),
                    token_expires_at: Some(Utc::now() + chrono::Duration::hours(1)),
                    refresh_expires_at: None,
                    status: AccountStatus::Active,
                    last_error: None,
                    followers_count: None,
                    following_count: None,
                    posts_count: None,
                    refresh_attempts: 0,
                    next_refresh_at: Some(due_at),
                }
            })
            .collect();
        Account::insert_batch(&mut conn, &forms).unwrap();
    }

    let prefix = testkit::unique_name("bench-refresh");
    let root = testkit::workspace_root();
    let mut replicas = Vec::new();
    for _ in 0..REPLICAS {
        let port = testkit::free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_token-refresher"))
            .envs([
                (
                    "POSTBRIDGE_CONFIG_DIR",
                    root.join("config").to_string_lossy().into_owned(),
                ),
                ("POSTBRIDGE__DATABASE__URL", test_db.url().to_owned()),
                ("POSTBRIDGE__DATABASE__POOL_SIZE", "16".into()),
                ("POSTBRIDGE__AMQP__URL", testkit::amqp_url()),
                ("POSTBRIDGE__AMQP__PREFETCH", "64".into()),
                ("POSTBRIDGE__EVENTS__EXCHANGE", format!("{prefix}.events")),
                (
                    "POSTBRIDGE__EVENTS__DEAD_LETTER_EXCHANGE",
                    format!("{prefix}.dlx"),
                ),
                ("POSTBRIDGE__EVENTS__QUEUE_PREFIX", format!("{prefix}.")),
                ("POSTBRIDGE__EVENTS__RELAY_POLL_INTERVAL_MS", "100".into()),
                (
                    "POSTBRIDGE__TOKEN_REFRESHER__LISTEN",
                    format!("127.0.0.1:{port}"),
                ),
                (
                    "POSTBRIDGE__TOKEN_REFRESHER__SCHEDULER_INTERVAL_MS",
                    "200".into(),
                ),
                (
                    "POSTBRIDGE__PLATFORMS__SANDBOX__TOKEN_URL",
                    format!("{}/oauth/token", sim.base_url()),
                ),
                ("RUST_LOG", "warn".into()),
            ])
            .spawn()
            .unwrap();
        replicas.push((child, port));
    }

    eprintln!("[bench] {REPLICAS} replicas started; accounts fall due at {due_at}");
    let count_refreshed = |conn: &mut db::PgConnection| -> i64 {
        use db::diesel::{dsl::count_star, ExpressionMethods, QueryDsl, RunQueryDsl};
        db::schema::social_accounts::table
            .filter(db::schema::social_accounts::last_refreshed_at.is_not_null())
            .select(count_star())
            .first(conn)
            .unwrap()
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(1800);
    let mut last_report = std::time::Instant::now();
    // Counting stored refreshes scans the whole table; doing that 5 times a second at 100,000
    // accounts cost PostgreSQL a good part of a core the replicas compete for. platform-sim's
    // own counter is free, so the table is counted only once the platform has answered every
    // refresh (the stores follow within milliseconds).
    let done_at = loop {
        let answered = sim.stats().refreshes as usize;
        let refreshed = if answered >= accounts {
            count_refreshed(&mut conn) as usize
        } else {
            0
        };
        if refreshed >= accounts {
            break Utc::now();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "only {answered} of {accounts} refreshed after 30 minutes"
        );
        if last_report.elapsed() > Duration::from_secs(10) {
            eprintln!("[bench] {answered}/{accounts} refreshed at the platform");
            last_report = std::time::Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    tokio::time::sleep(Duration::from_secs(2)).await;

    // p99 of the platform call, from the replicas' histograms.
    let mut buckets: Vec<(f64, f64)> = Vec::new();
    let mut rss_kb = 0u64;
    for (child, port) in &replicas {
        let text = reqwest::get(format!("http://127.0.0.1:{port}/metrics"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        for line in text
            .lines()
            .filter(|l| l.starts_with("postbridge_token_refresh_duration_seconds_bucket"))
        {
            let le: f64 = line
                .split("le=\"")
                .nth(1)
                .and_then(|r| r.split('"').next())
                .map(|v| {
                    if v == "+Inf" {
                        f64::INFINITY
                    } else {
                        v.parse().unwrap()
                    }
                })
                .unwrap();
            let count: f64 = line.rsplit(' ').next().unwrap().parse().unwrap();
            match buckets.iter_mut().find(|(b, _)| *b == le) {
                Some(entry) => entry.1 += count,
                None => buckets.push((le, count)),
            }
        }
        rss_kb = rss_kb.max(testkit::peak_rss_kb(child.id()));
    }
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total = buckets.last().map_or(0.0, |b| b.1);
    let p99 = buckets
        .iter()
        .find(|(_, c)| *c >= total * 0.99)
        .map_or(f64::NAN, |(le, _)| *le);
    let doubles = originals
        .iter()
        .filter(|t| sim.refresh_count(t) > 1)
        .count() as u64
        + sim.stats().refresh_reuse_rejections;
    for (mut child, _) in replicas {
        let _ = child.kill();
        let _ = child.wait();
    }
    let elapsed = (done_at - due_at).num_milliseconds().max(1) as f64 / 1000.0;
    println!(
        "bench refresh accounts={accounts} replicas={REPLICAS} refreshes_per_s={:.0} p99_ms={:.0} double_refreshes={doubles} rss_mb={:.1}",
        accounts as f64 / elapsed,
        p99 * 1000.0,
        rss_kb as f64 / 1024.0
    );
}
