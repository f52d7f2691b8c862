//! A real S3-protocol server for tests: moto's server mode, from `.data/ops-venv` (installed,
//! pinned, by `deploy/local/ops-tools.sh venv`; `make test` runs it first). Each
//! [`S3TestServer`] is a process of its own on a free port, stopped when dropped.

#![expect(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test helper fails the test by panicking"
)]

use std::{
    io::{Read, Write},
    net::{TcpListener, TcpStream},
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use crate::{S3Credentials, S3Settings, S3Store};

/// Credentials moto accepts (it checks none); the same values go into the environment of
/// service processes under test.
pub const ACCESS_KEY_ID: &str = "postbridge-test";
/// See [`ACCESS_KEY_ID`].
pub const SECRET_ACCESS_KEY: &str = "postbridge-test-secret";

/// A running moto S3 server.
#[derive(Debug)]
pub struct S3TestServer {
    child: Child,
    port: u16,
}

/// The moto_server binary: `POSTBRIDGE_MOTO_SERVER`, else the project's ops venv.
fn moto_binary() -> PathBuf {
    if let Ok(path) = std::env::var("POSTBRIDGE_MOTO_SERVER") {
        return PathBuf::from(path);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.data/ops-venv/bin/moto_server")
}

impl S3TestServer {
    /// Starts moto on a free port and waits until it answers (about a second).
    pub fn start() -> Self {
        let binary = moto_binary();
        assert!(
            binary.exists(),
            "{} is missing: run `bash deploy/local/ops-tools.sh venv` (make test does)",
            binary.display()
        );
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(&binary)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto_server");
        let server = Self { child, port };
        let deadline = Instant::now() + Duration::from_secs(30);
        while request(port, "GET", "/").is_none() {
            assert!(
                Instant::now() < deadline,
                "moto_server did not answer within 30 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }

    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Creates bucket `name` and answers the `[media.s3]` settings that use it.
    pub fn bucket(&self, name: &str) -> S3Settings {
        let status = request(self.port, "PUT", &format!("/{name}")).expect("moto answers");
        assert!(
            status.starts_with("HTTP/1.1 200"),
            "creating bucket {name}: {status}"
        );
        S3Settings {
            bucket: name.to_owned(),
            region: "us-east-1".into(),
            endpoint: self.endpoint(),
        }
    }

    /// A store over a new bucket `name`, staging under `staging_dir`.
    pub fn store(&self, name: &str, staging_dir: impl Into<PathBuf>) -> S3Store {
        S3Store::new(&self.bucket(name), &credentials(), staging_dir).expect("an S3 store")
    }
}

/// The credentials of [`ACCESS_KEY_ID`].
pub fn credentials() -> S3Credentials {
    S3Credentials::Static {
        access_key_id: ACCESS_KEY_ID.into(),
        secret_access_key: SECRET_ACCESS_KEY.to_owned().into(),
    }
}

impl Drop for S3TestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One unsigned HTTP/1.1 request (moto needs no signature for bucket management); the status
/// line, or `None` when nothing answers yet.
fn request(port: u16, method: &str, path: &str) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.lines().next().map(str::to_owned)
}
