//! `make bench`: `GET /v1/accounts` throughput and p99 at 64 connections (wrk), beside two
//! reference servers in the same process, so the ratios say what the gateway's work costs:
//! - hello-world: a plain actix-web JSON handler (what actix-web alone costs);
//! - the ceiling: actix-web with the same worker count and a pool of the same size, one handler
//!   doing one indexed single-row diesel SELECT (`Account::find`, by primary key) through the
//!   same `Db` wrapper (the same blocking hand-off), answering a small JSON object. Any handler
//!   that reads PostgreSQL pays at least this: the round trip, the hand-off, the database's CPU.
//!
//! Prints `bench gateway_accounts connections=64 req_per_s=… p99_ms=… hello_req_per_s=…
//! ratio=… ceiling_req_per_s=… ceiling_p99_ms=… ceiling_ratio=…`. The caller owns 20 accounts;
//! every server runs 2 workers in this process.
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark fails by panicking"
)]

use std::{net::TcpListener, process::Command};

use actix_web::{web, App, HttpResponse, HttpServer};
use auth_gateway::{configuration, startup::Application};
use chrono::Utc;
use db::{
    accounts::{Account, AccountConnectForm},
    domain::{AccountId, AccountKind, AccountStatus, OwnerId, Platform},
    Db,
};
use events::CancellationToken;

const CONNECTIONS: u32 = 64;
const SECONDS: u32 = 10;
/// The gateway's actix workers and pool size here; the ceiling server gets the same.
const WORKERS: usize = 2;
const POOL_SIZE: u32 = 8;

/// `(requests per second, p99 in ms)` of `wrk --latency` against `url`.
fn wrk(url: &str, token: Option<&str>) -> (f64, f64) {
    let mut command = Command::new("wrk");
    command.args([
        "-t2",
        &format!("-c{CONNECTIONS}"),
        &format!("-d{SECONDS}s"),
        "--latency",
        url,
    ]);
    if let Some(token) = token {
        command.args(["-H", &format!("Authorization: Bearer {token}")]);
    }
    let output = command
        .output()
        .expect("wrk is installed (deploy/local/bench.sh installs it)");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(!text.contains("Non-2xx"), "wrk saw errors:\n{text}");
    let rps = text
        .lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let p99 = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("99%"))
        .unwrap()
        .trim();
    let p99_ms = if let Some(us) = p99.strip_suffix("us") {
        us.parse::<f64>().unwrap() / 1000.0
    } else if let Some(ms) = p99.strip_suffix("ms") {
        ms.parse().unwrap()
    } else {
        p99.trim_end_matches('s').parse::<f64>().unwrap() * 1000.0
    };
    (rps, p99_ms)
}

#[tokio::main]
async fn main() {
    let test_db = testkit::TestDb::new();
    let mut loaded = service_kit::testing::loaded_for_tests(
        test_db.url(),
        &testkit::amqp_url(),
        &testkit::unique_name("bench-gateway"),
    );
    loaded.set("auth_gateway.workers", &WORKERS.to_string());
    loaded.set("database.pool_size", &POOL_SIZE.to_string());
    let settings = configuration::from(&loaded).unwrap();
    let vault = service_kit::tokens::vault_from(&settings.vault).unwrap();

    let mut conn = test_db.conn();
    let forms: Vec<AccountConnectForm> = (0..20)
        .map(|i| {
            let id = AccountId::new();
            AccountConnectForm {
                id,
                owner_id: OwnerId("bench-user".into()),
                platform: Platform::Sandbox,
                platform_account_id: format!("sim-{i}"),
                account_kind: AccountKind::Profile,
                display_name: Some(format!("Account {i}")),
                handle: Some(format!("account{i}")),
                avatar_url: Some(format!("http://127.0.0.1:8090/avatars/account{i}.png")),
                profile_url: Some(format!("http://127.0.0.1:8090/u/account{i}")),
                instance_url: None,
                scopes: vec![Some("profile".into())],
                access_token_enc: Some(
                    service_kit::tokens::seal(
                        &vault,
                        id,
                        service_kit::tokens::ACCESS_TOKEN,
                        &secrecy::SecretString::from("bench-access".to_owned()),
                    )
                    .unwrap(),
                ),
                refresh_token_enc: None,
                token_key_id: Some(vault.primary_key_id().to_owned()),
                token_expires_at: Some(Utc::now() + chrono::Duration::hours(1)),
                refresh_expires_at: None,
                status: AccountStatus::Active,
                last_error: None,
                followers_count: Some(1000 + i),
                following_count: Some(100),
                posts_count: Some(42),
                refresh_attempts: 0,
                next_refresh_at: None,
            }
        })
        .collect();
    Account::insert_batch(&mut conn, &forms).unwrap();

    let shutdown = CancellationToken::new();
    let app = Application::build(settings, shutdown.clone())
        .await
        .unwrap();
    let gateway = format!("http://127.0.0.1:{}/v1/accounts", app.port());
    tokio::spawn(app.run_until_stopped());

    let hello_listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let hello = format!("http://{}/", hello_listener.local_addr().unwrap());
    let server = HttpServer::new(|| {
        App::new().route(
            "/",
            web::get()
                .to(|| async { HttpResponse::Ok().json(serde_json::json!({ "hello": "world" })) }),
        )
    })
    .workers(WORKERS)
    .listen(hello_listener)
    .unwrap()
    .run();
    tokio::spawn(server);

    let ceiling = serve_ceiling(
        Db::new(
            test_db.url(),
            &db::PoolSettings {
                max_size: POOL_SIZE,
                ..db::PoolSettings::default()
            },
        ),
        forms[0].id,
    );

    let token = service_kit::testing::dev_token("bench-user");
    let check: serde_json::Value = reqwest::Client::new()
        .get(&gateway)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(check["items"].as_array().unwrap().len(), 20);

    eprintln!("[bench] wrk {CONNECTIONS} connections, {SECONDS} s each: hello-world, the one-row SELECT ceiling, then GET /v1/accounts");
    let (hello_rps, _) = tokio::task::spawn_blocking(move || wrk(&hello, None))
        .await
        .unwrap();
    let (ceiling_rps, ceiling_p99) = tokio::task::spawn_blocking(move || wrk(&ceiling, None))
        .await
        .unwrap();
    let (rps, p99) = tokio::task::spawn_blocking(move || wrk(&gateway, Some(&token)))
        .await
        .unwrap();
    shutdown.cancel();
    println!(
        "bench gateway_accounts connections={CONNECTIONS} req_per_s={rps:.0} p99_ms={p99:.1} hello_req_per_s={hello_rps:.0} ratio={:.3} ceiling_req_per_s={ceiling_rps:.0} ceiling_p99_ms={ceiling_p99:.1} ceiling_ratio={:.3}",
        rps / hello_rps,
        rps / ceiling_rps,
    );
}

/// Starts the ceiling server (see the module doc) and returns its URL: `GET /` reads the row of
/// `id` with one indexed SELECT through `db`, as a handler of the gateway would.
fn serve_ceiling(db: Db, id: AccountId) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let db = web::Data::new(db);
    let server = HttpServer::new(move || {
        App::new().app_data(db.clone()).route(
            "/",
            web::get().to(move |db: web::Data<Db>| async move {
                let account = db
                    .query(move |conn| Account::find(conn, id))
                    .await
                    .unwrap()
                    .unwrap();
                HttpResponse::Ok().json(
                    serde_json::json!({ "id": account.id.to_string(), "handle": account.handle }),
                )
            }),
        )
    })
    .workers(WORKERS)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    url
}
