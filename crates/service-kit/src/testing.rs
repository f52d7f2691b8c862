//! Helpers for services' tests (feature `testing`).

use secrecy::SecretString;

use crate::config::{load_from, Loaded};

/// The workspace's `config/` tree for `development`, pointed at `database_url`, the test
/// RabbitMQ, an exchange set unique to this test, and port 0 for every listener.
pub fn loaded_for_tests(database_url: &str, amqp_url: &str, exchange_prefix: &str) -> Loaded {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config");
    #[expect(
        clippy::expect_used,
        reason = "a test without its configuration cannot run"
    )]
    let mut loaded = load_from(&root, "development").expect("workspace config/ loads");
    loaded.set("database.url", database_url);
    loaded.set("database.startup_patience_secs", "5");
    loaded.set("amqp.url", amqp_url);
    loaded.set("events.exchange", &format!("{exchange_prefix}.events"));
    loaded.set(
        "events.dead_letter_exchange",
        &format!("{exchange_prefix}.dlx"),
    );
    loaded.set("events.relay_poll_interval_ms", "100");
    loaded.set("events.queue_prefix", &format!("{exchange_prefix}."));
    for section in [
        "auth_gateway",
        "account_registry",
        "token_refresher",
        "publisher",
        "platform_sim",
    ] {
        loaded.set(&format!("{section}.listen"), "127.0.0.1:0");
    }
    loaded
}

/// A development JWT for `user`, signed like `make token` with the HS256 secret of
/// `config/default.toml`, valid ten minutes.
#[expect(clippy::expect_used, reason = "test helper")]
pub fn dev_token(user: &str) -> String {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config");
    let loaded = load_from(&root, "development").expect("workspace config/ loads");
    let secret: String = loaded
        .section("auth.jwt_hs256_secret")
        .expect("auth.jwt_hs256_secret");
    let issuer: String = loaded.section("auth.jwt_issuer").expect("auth.jwt_issuer");
    let now = chrono::Utc::now().timestamp();
    let claims = serde_json::json!({ "sub": user, "iss": issuer, "iat": now, "exp": now + 600 });
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("sign")
}

/// The vault of `config/default.toml` (the public development key), to inspect stored tokens.
#[expect(clippy::expect_used, reason = "test helper")]
pub fn dev_vault() -> vault::Vault {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config");
    let loaded = load_from(&root, "development").expect("workspace config/ loads");
    crate::tokens::vault_from(&loaded.section("vault").expect("[vault]"))
        .expect("development vault keys")
}

/// A secret from a test literal.
pub fn secret(value: &str) -> SecretString {
    SecretString::from(value.to_owned())
}

/// Checks what every service must serve on `port`: `/healthz` 200, `/readyz` 200 with both
/// checks passing, `/metrics` in the Prometheus format, and a request id on every answer.
#[expect(clippy::expect_used, clippy::unwrap_used, reason = "test assertions")]
pub async fn assert_ops_endpoints(port: u16) {
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");

    let health = client
        .get(format!("{base}/healthz"))
        .send()
        .await
        .expect("GET /healthz");
    assert_eq!(health.status(), 200);
    assert!(
        health.headers().contains_key(crate::ops::REQUEST_ID),
        "responses carry a request id"
    );

    let ready = client
        .get(format!("{base}/readyz"))
        .send()
        .await
        .expect("GET /readyz");
    assert_eq!(
        ready.status(),
        200,
        "ready: {}",
        ready.text().await.unwrap_or_default()
    );

    let echoed = client
        .get(format!("{base}/healthz"))
        .header(crate::ops::REQUEST_ID, "req-123")
        .send()
        .await
        .expect("GET /healthz");
    assert_eq!(
        echoed.headers()[crate::ops::REQUEST_ID],
        "req-123",
        "a caller's request id is echoed"
    );

    let metrics = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .expect("GET /metrics")
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("postbridge_http_request_duration_seconds_bucket"),
        "latency histogram exported"
    );
    assert!(
        metrics.contains("postbridge_outbox_backlog"),
        "outbox metrics exported"
    );
}

/// A service binary run as a child process, as it runs in production, configured like
/// [`loaded_for_tests`] through `POSTBRIDGE__…` variables and logging JSON, every line kept.
///
/// For what only a real process shows: how it behaves on SIGTERM, and what it logs meanwhile.
#[derive(Debug)]
pub struct ServiceProcess {
    child: std::process::Child,
    lines: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

#[expect(clippy::expect_used, clippy::unwrap_used, reason = "test helper")]
impl ServiceProcess {
    /// Starts `binary` (e.g. `env!("CARGO_BIN_EXE_account-registry")`) whose own section is
    /// `section` (e.g. `account_registry`), listening on a free port.
    pub fn start(
        binary: &str,
        section: &str,
        database_url: &str,
        amqp_url: &str,
        exchange_prefix: &str,
    ) -> Self {
        use std::{
            io::{BufRead, BufReader},
            process::{Command, Stdio},
        };
        let config = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config");
        let mut child = Command::new(binary)
            .env_remove("RUST_LOG")
            .env("POSTBRIDGE_CONFIG_DIR", config)
            .env("POSTBRIDGE_ENV", "development")
            .env("POSTBRIDGE__DATABASE__URL", database_url)
            .env("POSTBRIDGE__DATABASE__STARTUP_PATIENCE_SECS", "5")
            .env("POSTBRIDGE__AMQP__URL", amqp_url)
            .env(
                "POSTBRIDGE__EVENTS__EXCHANGE",
                format!("{exchange_prefix}.events"),
            )
            .env(
                "POSTBRIDGE__EVENTS__DEAD_LETTER_EXCHANGE",
                format!("{exchange_prefix}.dlx"),
            )
            .env(
                "POSTBRIDGE__EVENTS__QUEUE_PREFIX",
                format!("{exchange_prefix}."),
            )
            .env("POSTBRIDGE__TELEMETRY__FORMAT", "json")
            .env(
                format!("POSTBRIDGE__{}__LISTEN", section.to_uppercase()),
                "127.0.0.1:0",
            )
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the service binary");
        let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let stdout: Box<dyn std::io::Read + Send> = Box::new(child.stdout.take().unwrap());
        let stderr: Box<dyn std::io::Read + Send> = Box::new(child.stderr.take().unwrap());
        for stream in [stdout, stderr] {
            let lines = lines.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    lines.lock().unwrap().push(line);
                }
            });
        }
        Self { child, lines }
    }

    /// Every line logged so far.
    pub fn log(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    /// The first log event whose message is `message`, waiting up to `timeout` for it.
    pub async fn wait_for(
        &mut self,
        message: &str,
        timeout: std::time::Duration,
    ) -> serde_json::Value {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let found = self.log().iter().find_map(|line| {
                serde_json::from_str::<serde_json::Value>(line)
                    .ok()
                    .filter(|event| event["message"] == message)
            });
            if let Some(event) = found {
                return event;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "the service exited ({status}) before logging {message:?}:\n{}",
                    self.log().join("\n")
                );
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no {message:?} logged within {timeout:?}:\n{}",
                self.log().join("\n")
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// Sends SIGTERM and waits up to `timeout` for the process to exit; returns whether it
    /// exited successfully, and its whole log.
    pub async fn terminate(mut self, timeout: std::time::Duration) -> (bool, Vec<String>) {
        let pid = self.child.id().to_string();
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("run kill");
        assert!(sent.success(), "kill -TERM {pid}");
        let deadline = std::time::Instant::now() + timeout;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait for the service") {
                break status;
            }
            if std::time::Instant::now() >= deadline {
                let _ = self.child.kill();
                panic!(
                    "still running {timeout:?} after SIGTERM:\n{}",
                    self.log().join("\n")
                );
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        };
        // Let the readers take the last lines written before the exit.
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        (status.success(), self.log())
    }

    /// Sends SIGTERM and asserts a graceful stop within `timeout`: exit status 0, no ERROR
    /// logged on the way (lapin logs one when a connection is torn down by the runtime
    /// instead of closed), and the service's own "stopped" line.
    pub async fn assert_stops_gracefully(self, timeout: std::time::Duration) {
        let (exited_ok, log) = self.terminate(timeout).await;
        let errors = Self::errors(&log);
        assert!(
            errors.is_empty(),
            "a graceful stop logs no ERROR:\n{}",
            errors
                .iter()
                .map(|l| l.as_str())
                .collect::<Vec<_>>()
                .join("\n")
        );
        assert!(exited_ok, "exit status 0:\n{}", log.join("\n"));
        assert!(
            log.iter().any(|l| l.contains("\"stopped\"")),
            "it says it stopped:\n{}",
            log.join("\n")
        );
    }

    /// The log lines at level ERROR.
    pub fn errors(log: &[String]) -> Vec<&String> {
        log.iter()
            .filter(|line| {
                serde_json::from_str::<serde_json::Value>(line)
                    .map_or(line.contains("ERROR"), |event| event["level"] == "ERROR")
            })
            .collect()
    }
}

impl Drop for ServiceProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
