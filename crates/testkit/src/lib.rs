#![doc = include_str!("../README.md")]
// A test helper that cannot reach its infrastructure has nothing better to do than fail loudly.
#![expect(
    clippy::expect_used,
    reason = "test-only helpers fail the test on setup errors"
)]

mod database;
pub mod explain;
pub mod scale;
mod servers;

use std::{future::Future, time::Duration};

pub use database::TestDb;
pub use servers::{PrivatePostgres, PrivateRabbit};

/// Administrative URL of the shared test PostgreSQL (it must be allowed to create databases).
pub fn database_url() -> String {
    std::env::var("POSTBRIDGE_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postbridge:postbridge@127.0.0.1:55432/postbridge".into())
}

/// Versions of every migration embedded in the code (`migrations/`), sorted: what
/// [`TestDb::applied_migrations`] lists once a database is fully migrated.
pub fn embedded_migrations() -> Vec<String> {
    use diesel::migration::MigrationSource;
    let mut versions: Vec<String> =
        MigrationSource::<diesel::pg::Pg>::migrations(&db::migrations::MIGRATIONS)
            .expect("list embedded migrations")
            .iter()
            .map(|m| m.name().version().to_string())
            .collect();
    versions.sort();
    versions
}

/// URL of the shared test RabbitMQ.
pub fn amqp_url() -> String {
    std::env::var("POSTBRIDGE_TEST_AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:55672/%2f".into())
}

/// A name no other test (or test process) will use, e.g. for exchanges and queues.
pub fn unique_name(prefix: &str) -> String {
    format!("{prefix}.{}", uuid::Uuid::new_v4().simple())
}

/// Polls `check` until it returns `Some`, or panics with `what` after `timeout`.
pub async fn eventually<T, F, Fut>(timeout: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A TCP port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free port")
}

/// The workspace root (where `deploy/` lives), found from this crate's manifest directory.
pub fn workspace_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("workspace root")
        .to_path_buf()
}

/// Peak resident set (`VmHWM`) of process `pid` in KiB; 0 when it cannot be read.
pub fn peak_rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}
