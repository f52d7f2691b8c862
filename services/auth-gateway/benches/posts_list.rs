//! `bench posts_list`: `GET /v1/posts` of a user with a long history, every cursor page.
//!
//! A user with N published posts (default 100,000, `BENCH_LIST_POSTS`) over 5 accounts and the
//! past 90 days, among R published posts of 100 other users (default 1,000,000,
//! `BENCH_SCALE_ROWS`; the history `bench publish_scale` seeds, with `testkit::scale`), then
//! `VACUUM ANALYZE`. The gateway (2 workers, pool 8) runs in this process; one client walks
//! every page of the user's posts (the default 50 a page) from the newest to the oldest,
//! one request at a time, and times each (request to the whole body read).
//!
//! Then the first 200 pages of one of the user's accounts (`account_id`, a fifth of the posts).
//!
//! Prints `bench posts_list posts=… pages=… p50_ms=… p99_ms=… max_ms=… account_pages=…
//! account_p50_ms=… account_p99_ms=…` (goal: p99 < 20 ms).
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark fails by panicking"
)]

use std::time::Instant;

use auth_gateway::{configuration, startup::Application};
use db::{
    accounts::{Account, AccountConnectForm},
    domain::{AccountId, AccountKind, AccountStatus, OwnerId, Platform},
    PgConnection,
};
use events::CancellationToken;

const USER: &str = "bench-heavy";

fn count(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// `n` sandbox accounts of `owner` (no tokens: listing posts never reads them).
fn accounts(conn: &mut PgConnection, owner: &str, n: usize) -> Vec<AccountId> {
    let forms: Vec<AccountConnectForm> = (0..n)
        .map(|i| AccountConnectForm {
            id: AccountId::new(),
            owner_id: OwnerId(owner.to_owned()),
            platform: Platform::Sandbox,
            platform_account_id: format!("{owner}-{i}"),
            account_kind: AccountKind::Profile,
            display_name: None,
            handle: None,
            avatar_url: None,
            profile_url: None,
            instance_url: None,
            scopes: vec![],
            access_token_enc: None,
            refresh_token_enc: None,
            token_key_id: None,
            token_expires_at: None,
            refresh_expires_at: None,
            status: AccountStatus::Active,
            last_error: None,
            followers_count: None,
            following_count: None,
            posts_count: None,
            refresh_attempts: 0,
            next_refresh_at: None,
        })
        .collect();
    Account::insert_batch(conn, &forms).unwrap();
    forms.iter().map(|f| f.id).collect()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[tokio::main]
async fn main() {
    let posts = count("BENCH_LIST_POSTS", 100_000);
    let others = count("BENCH_SCALE_ROWS", 1_000_000);
    let test_db = testkit::TestDb::new();
    let mut conn = test_db.conn();
    eprintln!("[bench] posts_list: seeding {others} posts of 100 users, then {posts} of one user");
    let crowd: Vec<AccountId> = (0..100)
        .flat_map(|i| accounts(&mut conn, &format!("owner{i}"), 1))
        .collect();
    testkit::scale::seed_published(&mut conn, &crowd, others, 90.0);
    let mine = accounts(&mut conn, USER, 5);
    testkit::scale::seed_published(&mut conn, &mine, posts, 90.0);
    testkit::scale::vacuum_analyze(&mut conn);

    let mut loaded = service_kit::testing::loaded_for_tests(
        test_db.url(),
        &testkit::amqp_url(),
        &testkit::unique_name("bench-posts-list"),
    );
    loaded.set("auth_gateway.workers", "2");
    loaded.set("database.pool_size", "8");
    let settings = configuration::from(&loaded).unwrap();
    let shutdown = CancellationToken::new();
    let app = Application::build(settings, shutdown.clone())
        .await
        .unwrap();
    let base = format!("http://127.0.0.1:{}/v1/posts", app.port());
    tokio::spawn(app.run_until_stopped());
    let token = service_kit::testing::dev_token(USER);
    let client = reqwest::Client::new();

    let (mut times, listed) = walk(&client, &base, &token, None, usize::MAX).await;
    assert_eq!(listed, posts, "every post listed once");
    // One account's posts (a fifth of the user's): the `account_id` filter, first 200 pages.
    let account = mine[0].to_string();
    let (mut filtered, _) = walk(&client, &base, &token, Some(&account), 200).await;
    shutdown.cancel();
    times.sort_by(f64::total_cmp);
    filtered.sort_by(f64::total_cmp);
    println!(
        "bench posts_list posts={posts} pages={} p50_ms={:.1} p99_ms={:.1} max_ms={:.1} account_pages={} account_p50_ms={:.1} account_p99_ms={:.1}",
        times.len(),
        percentile(&times, 50.0),
        percentile(&times, 99.0),
        times.last().copied().unwrap_or(f64::NAN),
        filtered.len(),
        percentile(&filtered, 50.0),
        percentile(&filtered, 99.0),
    );
}

/// Follows the cursor through up to `max_pages` pages (of `account`'s posts, if given), one
/// request at a time; answers each page's time in ms and the posts listed.
async fn walk(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    account: Option<&str>,
    max_pages: usize,
) -> (Vec<f64>, u64) {
    let mut times = Vec::new();
    let mut listed = 0_u64;
    let mut cursor: Option<String> = None;
    while times.len() < max_pages {
        let mut request = client.get(base).bearer_auth(token);
        if let Some(account) = account {
            request = request.query(&[("account_id", account)]);
        }
        if let Some(cursor) = &cursor {
            request = request.query(&[("cursor", cursor)]);
        }
        let started = Instant::now();
        let response = request.send().await.unwrap();
        assert!(response.status().is_success(), "{}", response.status());
        let page: serde_json::Value = response.json().await.unwrap();
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        listed += page["items"].as_array().expect("items").len() as u64;
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
        if times.len() % 500 == 0 {
            eprintln!("[bench] posts_list: {} pages, {listed} posts", times.len());
        }
    }
    (times, listed)
}
