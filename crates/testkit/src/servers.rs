//! Private PostgreSQL and RabbitMQ servers for tests that stop and start them.

use std::{path::PathBuf, process::Command};

fn script(name: &str) -> PathBuf {
    crate::workspace_root().join("deploy/local").join(name)
}

fn run(script_name: &str, args: &[&str]) {
    let status = Command::new("bash")
        .arg(script(script_name))
        .args(args)
        .status()
        .unwrap_or_else(|e| panic!("cannot run {script_name}: {e}"));
    assert!(
        status.success(),
        "{script_name} {args:?} failed with {status}"
    );
}

/// [`run`] for `Drop`: a failure there is reported, not a panic (which would abort a test
/// that is already unwinding).
fn run_quietly(script_name: &str, args: &[&str]) {
    match Command::new("bash")
        .arg(script(script_name))
        .args(args)
        .status()
    {
        Ok(status) if status.success() => {}
        Ok(status) => eprintln!("{script_name} {args:?} failed with {status}"),
        Err(e) => eprintln!("cannot run {script_name}: {e}"),
    }
}

fn scratch_dir(kind: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "postbridge-{kind}-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

/// A PostgreSQL server of the test's own, removed on `Drop`.
#[derive(Debug)]
pub struct PrivatePostgres {
    dir: PathBuf,
    port: u16,
}

impl PrivatePostgres {
    /// Initialises and starts a server on a spare port (takes a few seconds).
    pub fn start() -> Self {
        let dir = scratch_dir("pg");
        let port = crate::free_port();
        let server = Self { dir, port };
        server.resume();
        server
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// Admin URL (role `postbridge`, database `postbridge`).
    pub fn url(&self) -> String {
        format!(
            "postgres://postbridge:postbridge@127.0.0.1:{}/postbridge",
            self.port
        )
    }

    /// Stops the server (fast shutdown: clients are disconnected).
    pub fn stop(&self) {
        run("pg.sh", &["stop", &self.data_dir().to_string_lossy()]);
    }

    /// Starts it again on the same port with the same data.
    pub fn resume(&self) {
        run(
            "pg.sh",
            &[
                "start",
                &self.data_dir().to_string_lossy(),
                &self.port.to_string(),
            ],
        );
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        run_quietly("pg.sh", &["stop", &self.data_dir().to_string_lossy()]);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A RabbitMQ node of the test's own, removed on `Drop`.
#[derive(Debug)]
pub struct PrivateRabbit {
    dir: PathBuf,
    port: u16,
}

impl PrivateRabbit {
    /// Starts a node on a spare port (takes several seconds).
    pub fn start() -> Self {
        let dir = scratch_dir("rabbit");
        let port = crate::free_port();
        let node = Self { dir, port };
        node.resume();
        node
    }

    /// AMQP URL of the default vhost.
    pub fn url(&self) -> String {
        format!("amqp://guest:guest@127.0.0.1:{}/%2f", self.port)
    }

    /// Stops the node; durable queues and persistent messages survive.
    pub fn stop(&self) {
        run("rabbitmq.sh", &["stop", &self.dir.to_string_lossy()]);
    }

    /// Starts it again with the same state and port.
    pub fn resume(&self) {
        run(
            "rabbitmq.sh",
            &["start", &self.dir.to_string_lossy(), &self.port.to_string()],
        );
    }
}

impl Drop for PrivateRabbit {
    fn drop(&mut self) {
        run_quietly("rabbitmq.sh", &["stop", &self.dir.to_string_lossy()]);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
