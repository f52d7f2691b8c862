//! The system under test: a private PostgreSQL and RabbitMQ on spare ports, platform-sim and
//! the four services as release binaries, each a child process that a scenario may kill,
//! stop or start again.

use std::{
    collections::BTreeMap,
    fs::File,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{bail, Context};
use testkit::{PrivatePostgres, PrivateRabbit};

/// platform-sim's added delay on every call, in milliseconds.
const PLATFORM_LATENCY_MS: u64 = 150;

/// One service process (or platform-sim), restartable with the same settings.
#[derive(Debug)]
pub struct Proc {
    pub name: String,
    binary: PathBuf,
    env: BTreeMap<String, String>,
    log: PathBuf,
    pub port: u16,
    /// Where `/readyz` answers (the gateway's ops listener; the port itself elsewhere).
    ops_port: u16,
    child: Option<Child>,
    starts: u32,
}

impl Proc {
    fn spawn(&mut self) -> anyhow::Result<()> {
        self.starts += 1;
        let log = File::options()
            .create(true)
            .append(true)
            .open(&self.log)
            .with_context(|| format!("cannot open {}", self.log.display()))?;
        let child = Command::new(&self.binary)
            .envs(&self.env)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("cannot start {}", self.binary.display()))?;
        self.child = Some(child);
        Ok(())
    }

    /// SIGKILL: no shutdown, no draining, leases left behind.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM and wait (at most 30 s) for a graceful exit.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(30);
            while Instant::now() < deadline {
                if matches!(child.try_wait(), Ok(Some(_))) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the process again with the same settings and waits until it is ready.
    pub async fn restart(&mut self) -> anyhow::Result<()> {
        self.spawn()?;
        self.wait_ready(Duration::from_secs(60)).await
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Polls `/readyz` (platform-sim: `/_sim/stats`) until it answers 200.
    async fn wait_ready(&mut self, within: Duration) -> anyhow::Result<()> {
        let path = if self.name == "platform-sim" {
            "/_sim/stats"
        } else {
            "/readyz"
        };
        let http = reqwest::Client::new();
        let ready_url = format!("http://127.0.0.1:{}{path}", self.ops_port);
        let deadline = Instant::now() + within;
        loop {
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    bail!(
                        "{} exited with {status} while starting; see {}",
                        self.name,
                        self.log.display()
                    );
                }
            }
            let answer = http
                .get(&ready_url)
                .timeout(Duration::from_secs(2))
                .send()
                .await;
            if answer.is_ok_and(|r| r.status().is_success()) {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!(
                    "{} not ready within {within:?}; see {}",
                    self.name,
                    self.log.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Everything one scenario runs on; dropped (processes killed, servers removed) at its end.
#[derive(Debug)]
pub struct System {
    pub postgres: PrivatePostgres,
    pub rabbit: PrivateRabbit,
    pub sim: Proc,
    pub gateway: Proc,
    pub registry: Proc,
    pub refreshers: Vec<Proc>,
    pub publishers: Vec<Proc>,
    pub logs: PathBuf,
}

/// How many replicas of the scaled services a scenario runs.
#[derive(Debug, Clone, Copy)]
pub struct Replicas {
    pub publishers: usize,
    pub refreshers: usize,
}

impl System {
    /// Starts the infrastructure, platform-sim and every service, and waits until all are ready.
    pub async fn start(
        scenario: &str,
        replicas: Replicas,
        token_ttl_secs: u64,
    ) -> anyhow::Result<Self> {
        let root = testkit::workspace_root();
        let release = root.join("target/release");
        let logs = root.join(".data/chaos").join(scenario);
        let _ = std::fs::remove_dir_all(&logs);
        std::fs::create_dir_all(&logs)?;
        eprintln!("[chaos] {scenario}: starting PostgreSQL and RabbitMQ on spare ports");
        let postgres = PrivatePostgres::start();
        let rabbit = PrivateRabbit::start();

        let sim_port = testkit::free_port();
        let sim_url = format!("http://127.0.0.1:{sim_port}");
        let gateway_port = testkit::free_port();
        let gateway_url = format!("http://127.0.0.1:{gateway_port}");
        let mut common = BTreeMap::new();
        for (key, value) in [
            (
                "POSTBRIDGE_CONFIG_DIR",
                root.join("config").to_string_lossy().into_owned(),
            ),
            ("POSTBRIDGE_ENV", "development".into()),
            ("POSTBRIDGE__DATABASE__URL", postgres.url()),
            ("POSTBRIDGE__AMQP__URL", rabbit.url()),
            ("POSTBRIDGE__TELEMETRY__FORMAT", "json".into()),
            ("RUST_LOG", "info,lapin=warn,actix_server=warn".into()),
            (
                "POSTBRIDGE__PLATFORMS__SANDBOX__AUTHORIZE_URL",
                format!("{sim_url}/oauth/authorize"),
            ),
            (
                "POSTBRIDGE__PLATFORMS__SANDBOX__TOKEN_URL",
                format!("{sim_url}/oauth/token"),
            ),
            (
                "POSTBRIDGE__PLATFORMS__SANDBOX__REVOKE_URL",
                format!("{sim_url}/oauth/revoke"),
            ),
            ("POSTBRIDGE__PLATFORMS__SANDBOX__API_BASE", sim_url.clone()),
            (
                "POSTBRIDGE__PLATFORMS__SANDBOX__UPLOAD_BASE",
                sim_url.clone(),
            ),
            (
                "POSTBRIDGE__MEDIA__ROOT_DIR",
                logs.join("media").to_string_lossy().into_owned(),
            ),
            ("POSTBRIDGE__MEDIA__PUBLIC_BASE_URL", gateway_url.clone()),
            ("POSTBRIDGE__AUTH_GATEWAY__PUBLIC_URL", gateway_url.clone()),
        ] {
            common.insert(key.to_owned(), value);
        }
        let proc = |name: &str, binary: &str, port: u16, extra: Vec<(String, String)>| {
            let mut env = common.clone();
            env.extend(extra);
            Proc {
                name: name.to_owned(),
                binary: release.join(binary),
                env,
                log: logs.join(format!("{name}.log")),
                port,
                ops_port: port,
                child: None,
                starts: 0,
            }
        };
        let listen = |section: &str, port: u16| {
            (
                format!("POSTBRIDGE__{section}__LISTEN"),
                format!("127.0.0.1:{port}"),
            )
        };
        let sim = proc(
            "platform-sim",
            "platform-sim",
            sim_port,
            vec![
                listen("PLATFORM_SIM", sim_port),
                (
                    "POSTBRIDGE__PLATFORM_SIM__ACCESS_TOKEN_TTL_SECS".into(),
                    token_ttl_secs.to_string(),
                ),
                // Real platforms answer in tenths of a second: publishes are in flight when a
                // fault strikes, which is what the recovery paths are for.
                (
                    "POSTBRIDGE__PLATFORM_SIM__LATENCY_MS".into(),
                    PLATFORM_LATENCY_MS.to_string(),
                ),
                ("RUST_LOG".into(), "warn".into()),
            ],
        );
        let gateway_ops_port = testkit::free_port();
        let mut gateway = proc(
            "auth-gateway",
            "auth-gateway",
            gateway_port,
            vec![
                listen("AUTH_GATEWAY", gateway_port),
                (
                    "POSTBRIDGE__AUTH_GATEWAY__OPS_LISTEN".into(),
                    format!("127.0.0.1:{gateway_ops_port}"),
                ),
            ],
        );
        gateway.ops_port = gateway_ops_port;
        let port = testkit::free_port();
        let registry = proc(
            "account-registry",
            "account-registry",
            port,
            vec![listen("ACCOUNT_REGISTRY", port)],
        );
        let refreshers = (0..replicas.refreshers)
            .map(|i| {
                let port = testkit::free_port();
                proc(
                    &format!("token-refresher-{i}"),
                    "token-refresher",
                    port,
                    vec![listen("TOKEN_REFRESHER", port)],
                )
            })
            .collect();
        let publishers = (0..replicas.publishers)
            .map(|i| {
                let port = testkit::free_port();
                proc(
                    &format!("publisher-{i}"),
                    "publisher",
                    port,
                    vec![listen("PUBLISHER", port)],
                )
            })
            .collect();
        let mut system = Self {
            postgres,
            rabbit,
            sim,
            gateway,
            registry,
            refreshers,
            publishers,
            logs,
        };
        eprintln!("[chaos] {scenario}: starting platform-sim and the services (release binaries)");
        system.sim.restart().await?;
        // The gateway migrates the fresh database before the others start.
        system.gateway.restart().await?;
        system.registry.restart().await?;
        for p in system
            .refreshers
            .iter_mut()
            .chain(system.publishers.iter_mut())
        {
            p.restart().await?;
        }
        Ok(system)
    }

    /// A direct connection to the system's database, for seeding checks and the audit.
    pub fn db(&self) -> anyhow::Result<db::PgConnection> {
        use diesel::Connection;
        db::PgConnection::establish(&self.postgres.url()).context("cannot reach PostgreSQL")
    }

    /// Where this scenario's service logs are.
    pub fn logs(&self) -> &Path {
        &self.logs
    }

    /// Every service process, for a final graceful stop.
    pub fn stop_services(&mut self) {
        for p in self.publishers.iter_mut().chain(self.refreshers.iter_mut()) {
            p.stop();
        }
        self.registry.stop();
        self.gateway.stop();
        self.sim.stop();
    }
}
