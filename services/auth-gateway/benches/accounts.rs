//! `make bench`: `GET /v1/accounts` throughput and p99 at 64 connections (wrk), beside a plain
//! actix-web hello-world JSON handler on the same machine, so the ratio says what the gateway's
//! work (JWT check, pooled diesel query, sanitized view) costs over bare actix-web.
//!
//! Prints `bench gateway_accounts connections=64 req_per_s=… p99_ms=… hello_req_per_s=…
//! ratio=…`. The caller owns 20 accounts; both servers run 2 workers in this process.
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
};
use events::CancellationToken;

const CONNECTIONS: u32 = 64;
const SECONDS: u32 = 10;

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
    loaded.set("auth_gateway.workers", "2");
    loaded.set("database.pool_size", "8");
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
    .workers(2)
    .listen(hello_listener)
    .unwrap()
    .run();
    tokio::spawn(server);

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

    eprintln!("[bench] wrk {CONNECTIONS} connections, {SECONDS} s each: hello-world, then GET /v1/accounts");
    let (hello_rps, _) = tokio::task::spawn_blocking(move || wrk(&hello, None))
        .await
        .unwrap();
    let (rps, p99) = tokio::task::spawn_blocking(move || wrk(&gateway, Some(&token)))
        .await
        .unwrap();
    shutdown.cancel();
    println!(
        "bench gateway_accounts connections={CONNECTIONS} req_per_s={rps:.0} p99_ms={p99:.1} hello_req_per_s={hello_rps:.0} ratio={:.3}",
        rps / hello_rps
    );
}
