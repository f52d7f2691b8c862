//! The faults, and one run of the whole system per fault.

use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::{
    audit::{self, FaultWindow, Report},
    drive::Frontend,
    system::{Replicas, System},
};

/// The sizes of a run.
#[derive(Debug, Clone, Copy)]
pub struct Load {
    /// Posts in the burst (one account each).
    pub posts: usize,
    /// Sandbox accounts connected through the OAuth flow.
    pub accounts: usize,
    /// Posts fall due evenly over this window, so the fault lands mid-stream.
    pub window: Duration,
    /// Access tokens live this long at platform-sim, so refreshes happen during the burst.
    pub token_ttl_secs: u64,
}

/// One fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// The publisher SIGKILLed mid-burst, started again a second later.
    PublisherKill,
    /// Two publisher replicas, each SIGKILLed once, eight seconds apart.
    PublisherKillTwice,
    /// token-refresher SIGKILLed while platform-sim holds the answer of a refresh it has
    /// already rotated.
    RefresherKill,
    /// RabbitMQ stopped for 20 s.
    RabbitmqStop,
    /// PostgreSQL stopped for 10 s.
    PostgresStop,
    /// The gateway SIGKILLed while the burst is being created; every request is re-sent with
    /// its Idempotency-Key.
    GatewayKill,
    /// platform-sim answering 503s, 429s and accepted-but-stalled posts for 15 s.
    PlatformFaults,
}

impl Scenario {
    pub const ALL: [Scenario; 7] = [
        Self::PublisherKill,
        Self::PublisherKillTwice,
        Self::RefresherKill,
        Self::RabbitmqStop,
        Self::PostgresStop,
        Self::GatewayKill,
        Self::PlatformFaults,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::PublisherKill => "publisher_kill",
            Self::PublisherKillTwice => "publisher_kill_twice",
            Self::RefresherKill => "refresher_kill",
            Self::RabbitmqStop => "rabbitmq_stop",
            Self::PostgresStop => "postgres_stop",
            Self::GatewayKill => "gateway_kill",
            Self::PlatformFaults => "platform_faults",
        }
    }

    fn replicas(self) -> Replicas {
        Replicas {
            publishers: if self == Self::PublisherKillTwice {
                2
            } else {
                1
            },
            refreshers: 1,
        }
    }
}

/// Starts the system, connects the accounts, runs the burst with the fault, waits until
/// nothing moves and audits.
pub async fn run(scenario: Scenario, load: Load) -> anyhow::Result<Report> {
    let name = scenario.name();
    let mut system = System::start(name, scenario.replicas(), load.token_ttl_secs).await?;
    audit::bind_audit_queue(&system.rabbit.url()).await?;
    let frontend = Frontend::sign_in(&system.gateway.url(), "chaos-user")?;
    let mut accounts = Vec::with_capacity(load.accounts);
    for i in 0..load.accounts {
        accounts.push(frontend.connect(&format!("chaos{i}")).await?);
    }
    eprintln!(
        "[chaos] {name}: {} accounts connected; creating {} posts",
        accounts.len(),
        load.posts
    );

    // Leave time to create the burst before the first post is due.
    let first_due = Utc::now()
        + chrono::Duration::seconds(10)
        + chrono::Duration::milliseconds(load.posts as i64 * 5);
    let window = if scenario == Scenario::GatewayKill {
        gateway_kill(&mut system, &frontend, &accounts, load, first_due).await?
    } else {
        frontend
            .burst(load.posts, &accounts, first_due, load.window)
            .await?;
        sleep_until(first_due + chrono::Duration::seconds(5)).await;
        inject(scenario, &mut system, first_due).await?
    };
    eprintln!(
        "[chaos] {name}: fault from {} to {}; waiting until nothing moves",
        window.start.format("%H:%M:%S%.3f"),
        window.end.format("%H:%M:%S%.3f")
    );

    let mut conn = system.db()?;
    audit::settle(&mut conn, Duration::from_secs(60), Duration::from_secs(900)).await?;
    let received = audit::drain_audit_queue(&system.rabbit.url()).await?;
    let report = audit::audit(&mut conn, &system.sim.url(), &received, window).await?;
    if report.recovery_s > 10.0 {
        audit::print_stragglers(&mut conn, window.end)?;
    }
    system.stop_services();
    eprintln!("[chaos] {name}: logs in {}", system.logs().display());
    Ok(report)
}

/// Injects the fault; returns when it was on.
async fn inject(
    scenario: Scenario,
    system: &mut System,
    first_due: DateTime<Utc>,
) -> anyhow::Result<FaultWindow> {
    let start = Utc::now();
    let mut window = FaultWindow {
        first_due,
        start,
        end: start,
        unclosable: 0,
    };
    match scenario {
        Scenario::PublisherKill => {
            system.publishers[0].kill();
            tokio::time::sleep(Duration::from_secs(1)).await;
            window.end = Utc::now();
            system.publishers[0].restart().await?;
        }
        Scenario::PublisherKillTwice => {
            for i in 0..2 {
                if i == 1 {
                    tokio::time::sleep(Duration::from_secs(8)).await;
                }
                system.publishers[i].kill();
                tokio::time::sleep(Duration::from_secs(1)).await;
                window.end = Utc::now();
                system.publishers[i].restart().await?;
            }
        }
        Scenario::RefresherKill => {
            let sim = system.sim.url();
            let held_before = sim_stat(&sim, "held_refreshes").await?;
            knobs(&sim, json!({ "refresh_hold_ms": 60_000 })).await?;
            // Wait until a refresh has been rotated and its answer is being held, then kill.
            let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
            while sim_stat(&sim, "held_refreshes").await? <= held_before {
                anyhow::ensure!(
                    tokio::time::Instant::now() < deadline,
                    "no refresh happened within a minute (token TTL too long?)"
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            window.start = Utc::now();
            system.refreshers[0].kill();
            window.unclosable = sim_stat(&sim, "held_refreshes").await? - held_before;
            knobs(&sim, json!({ "refresh_hold_ms": 0 })).await?;
            tokio::time::sleep(Duration::from_secs(1)).await;
            window.end = Utc::now();
            system.refreshers[0].restart().await?;
        }
        Scenario::RabbitmqStop => {
            blocking(|s| s.rabbit.stop(), system).await;
            tokio::time::sleep(Duration::from_secs(20)).await;
            window.end = Utc::now();
            blocking(|s| s.rabbit.resume(), system).await;
        }
        Scenario::PostgresStop => {
            blocking(|s| s.postgres.stop(), system).await;
            tokio::time::sleep(Duration::from_secs(10)).await;
            window.end = Utc::now();
            blocking(|s| s.postgres.resume(), system).await;
        }
        Scenario::PlatformFaults => {
            let sim = system.sim.url();
            knobs(
                &sim,
                json!({ "error_rate": 0.2, "rate_limit_rate": 0.1,
                        "accept_then_stall_rate": 0.05, "stall_ms": 3_000 }),
            )
            .await?;
            tokio::time::sleep(Duration::from_secs(15)).await;
            knobs(
                &sim,
                json!({ "error_rate": 0.0, "rate_limit_rate": 0.0, "accept_then_stall_rate": 0.0 }),
            )
            .await?;
            window.end = Utc::now();
        }
        Scenario::GatewayKill => {
            anyhow::bail!("the gateway's fault is injected while the burst is created")
        }
    }
    Ok(window)
}

/// The gateway dies while the burst is being created; the frontend re-sends what failed.
/// Its window ends when the gateway answers again, and its `recovery_s` (computed from the
/// publishing rate like the others) shows that publishing never noticed.
async fn gateway_kill(
    system: &mut System,
    frontend: &Frontend,
    accounts: &[String],
    load: Load,
    first_due: DateTime<Utc>,
) -> anyhow::Result<FaultWindow> {
    let burst = {
        let frontend = frontend.clone();
        let accounts = accounts.to_vec();
        tokio::spawn(async move {
            frontend
                .burst(load.posts, &accounts, first_due, load.window)
                .await
        })
    };
    // Kill it with requests in flight: once about a quarter of the burst exists.
    let mut conn = system.db()?;
    let quarter = (load.posts / 4) as i64;
    while posts_in_db(&mut conn)? < quarter {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let start = Utc::now();
    system.gateway.kill();
    tokio::time::sleep(Duration::from_secs(1)).await;
    system.gateway.restart().await?;
    let end = Utc::now();
    burst.await.context("the burst task panicked")??;
    Ok(FaultWindow {
        first_due,
        start: first_due + (start - first_due).max(chrono::Duration::zero()),
        end: first_due + (end - first_due).max(chrono::Duration::zero()),
        unclosable: 0,
    })
}

fn posts_in_db(conn: &mut db::PgConnection) -> anyhow::Result<i64> {
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    use diesel::RunQueryDsl;
    Ok(diesel::sql_query("SELECT count(*) AS n FROM posts")
        .get_result::<N>(conn)?
        .n)
}

async fn blocking(f: impl FnOnce(&System), system: &System) {
    tokio::task::block_in_place(|| f(system));
}

async fn knobs(sim: &str, update: Value) -> anyhow::Result<()> {
    reqwest::Client::new()
        .post(format!("{sim}/_sim/knobs"))
        .json(&update)
        .send()
        .await?
        .error_for_status()
        .context("platform-sim refused the knobs")?;
    Ok(())
}

async fn sim_stat(sim: &str, key: &str) -> anyhow::Result<i64> {
    let stats: Value = reqwest::get(format!("{sim}/_sim/stats"))
        .await?
        .json()
        .await?;
    stats[key]
        .as_i64()
        .with_context(|| format!("platform-sim has no `{key}` counter"))
}

async fn sleep_until(at: DateTime<Utc>) {
    if let Ok(wait) = (at - Utc::now()).to_std() {
        tokio::time::sleep(wait).await;
    }
}
