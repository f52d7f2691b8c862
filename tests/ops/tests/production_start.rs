//! The production start test: each service binary, started the way the production overlay
//! starts it, becomes ready; the gateway verifies an RS256 token from a JWKS endpoint; and each
//! refuses to start without one of its secrets, naming it.
//!
//! "The way the overlay starts it" is read from the overlay rendered by `kubectl kustomize`
//! (`tests/ops/production-start.sh` renders it to JSON and builds the binaries (debug by default,
//! `POSTBRIDGE_PRODUCTION_PROFILE=release` for the release build), then
//! runs this test): each Deployment's `command`, its `env` (literal values, and `secretKeyRef`s
//! for which the test supplies values) and the ConfigMap its `envFrom` names. Nothing else is
//! set, except what must point at this machine instead of the cluster:
//!
//! - the URLs of services outside the pod: PostgreSQL and RabbitMQ (the values of the
//!   secrets), the identity provider's JWKS (`POSTBRIDGE__AUTH__JWKS_URL`) and the S3 endpoint
//!   (`POSTBRIDGE__MEDIA__S3__ENDPOINT`, a moto server; the overlay's bucket name is kept);
//! - the listen addresses (free ports on 127.0.0.1 instead of the pod's 0.0.0.0:808x), the
//!   staging directory (the pod's emptyDir) and the config directory (the image's /app/config);
//! - the exchange and queue names, so the run shares nothing with other tests on the broker.
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails by panicking"
)]

use std::{
    collections::BTreeMap,
    io::Read,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use base64::{
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
    Engine,
};
use serde_json::{json, Value};
use wiremock::{matchers::path, Mock, MockServer, ResponseTemplate};

/// One Deployment of the rendered overlay.
#[derive(Debug)]
struct Workload {
    name: String,
    binary: String,
    /// Literal values: from the ConfigMap and the container's `env`.
    env: BTreeMap<String, String>,
    /// Variables that come from a Secret (`secretKeyRef`), in the order the container lists them.
    secrets: Vec<String>,
}

fn rendered() -> Vec<Value> {
    let path = std::env::var("POSTBRIDGE_RENDERED_PRODUCTION").expect(
        "POSTBRIDGE_RENDERED_PRODUCTION: run tests/ops/production-start.sh (make test does)",
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn workloads(docs: &[Value]) -> Vec<Workload> {
    let config_maps: BTreeMap<&str, &Value> = docs
        .iter()
        .filter(|d| d["kind"] == "ConfigMap")
        .map(|d| (d["metadata"]["name"].as_str().unwrap(), &d["data"]))
        .collect();
    docs.iter()
        .filter(|d| d["kind"] == "Deployment")
        .map(|d| {
            let container = &d["spec"]["template"]["spec"]["containers"][0];
            let mut env = BTreeMap::new();
            let mut secrets = Vec::new();
            for from in container["envFrom"].as_array().unwrap() {
                if let Some(name) = from["configMapRef"]["name"].as_str() {
                    let data = config_maps.get(name).expect("the ConfigMap it names");
                    for (k, v) in data.as_object().unwrap() {
                        env.insert(k.clone(), v.as_str().unwrap().to_owned());
                    }
                } else {
                    // Only optional Secrets may be wholesale (platform credentials).
                    assert_eq!(from["secretRef"]["optional"], true, "{from}");
                }
            }
            for var in container["env"].as_array().unwrap() {
                let name = var["name"].as_str().unwrap().to_owned();
                if let Some(value) = var["value"].as_str() {
                    env.insert(name, value.to_owned());
                } else {
                    assert!(var["valueFrom"]["secretKeyRef"].is_object(), "{var}");
                    secrets.push(name);
                }
            }
            Workload {
                name: d["metadata"]["name"].as_str().unwrap().to_owned(),
                binary: container["command"][0].as_str().unwrap().to_owned(),
                env,
                secrets,
            }
        })
        .collect()
}

/// A fresh RSA key: `(private key PEM, modulus as base64url)` (the exponent is 65537).
fn rsa_key(dir: &Path) -> (Vec<u8>, String) {
    let key = dir.join("idp-key.pem");
    let status = Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
        ])
        .arg(&key)
        .stderr(Stdio::null())
        .status()
        .expect("openssl");
    assert!(status.success());
    let modulus = Command::new("openssl")
        .args(["rsa", "-noout", "-modulus", "-in"])
        .arg(&key)
        .output()
        .unwrap();
    let hex = String::from_utf8(modulus.stdout).unwrap();
    let hex = hex.trim().trim_start_matches("Modulus=");
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    (std::fs::read(&key).unwrap(), URL_SAFE_NO_PAD.encode(bytes))
}

/// A started binary whose output is collected.
struct Running {
    child: Child,
    output: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Running {
    fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(binary: &Path, env: &BTreeMap<String, String>, cwd: &Path) -> Running {
    let mut child = Command::new(binary)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("start {}: {e}", binary.display()));
    let output = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    for stream in [
        Box::new(child.stdout.take().unwrap()) as Box<dyn Read + Send>,
        Box::new(child.stderr.take().unwrap()),
    ] {
        let output = output.clone();
        std::thread::spawn(move || {
            let mut stream = stream;
            let mut buf = [0u8; 4096];
            while let Ok(n) = stream.read(&mut buf) {
                if n == 0 {
                    break;
                }
                output
                    .lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
    }
    Running { child, output }
}

/// The values the test supplies for each Secret key the overlay references.
fn secret_values(db_url: &str) -> BTreeMap<&'static str, String> {
    BTreeMap::from([
        ("POSTBRIDGE__DATABASE__URL", db_url.to_owned()),
        ("POSTBRIDGE__AMQP__URL", testkit::amqp_url()),
        (
            "POSTBRIDGE__VAULT__KEYS",
            format!("prod1:{}", STANDARD.encode([11u8; 32])),
        ),
        (
            "POSTBRIDGE__MEDIA__SIGNING_KEY",
            STANDARD.encode([22u8; 32]),
        ),
        (
            "AWS_ACCESS_KEY_ID",
            media_store::testing::ACCESS_KEY_ID.to_owned(),
        ),
        (
            "AWS_SECRET_ACCESS_KEY",
            media_store::testing::SECRET_ACCESS_KEY.to_owned(),
        ),
    ])
}

/// Where each service listens, as `POSTBRIDGE__<SECTION>__LISTEN`.
fn section_of(binary: &str) -> String {
    binary.replace('-', "_").to_uppercase()
}

async fn until_ready(http: &reqwest::Client, url: &str, service: &Running, name: &str) {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if let Ok(r) = http.get(url).send().await {
            if r.status() == 200 {
                return;
            }
        }
        assert!(
            Instant::now() < deadline,
            "{name} not ready at {url} within 90 s; its output:\n{}",
            service.output()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the service binaries and the rendered overlay: run tests/ops/production-start.sh (make test does)"]
async fn production_binaries_start_from_the_overlay_verify_rs256_and_name_missing_secrets() {
    let docs = rendered();
    let binaries = PathBuf::from(std::env::var("POSTBRIDGE_BINARY_DIR").unwrap());
    let workloads = workloads(&docs);
    let mut names: Vec<&str> = workloads.iter().map(|w| w.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "account-registry",
            "auth-gateway",
            "publisher",
            "token-refresher"
        ]
    );

    let scratch = tempfile_dir();
    let test_db = testkit::TestDb::new();
    let secrets = secret_values(test_db.url());
    let s3 = media_store::testing::S3TestServer::start();
    let prefix = testkit::unique_name("prodstart");

    // The identity provider: a JWKS with a fresh RSA key.
    let (pem, modulus) = rsa_key(&scratch);
    let idp = MockServer::start().await;
    Mock::given(path("/.well-known/jwks.json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "keys": [{ "kty": "RSA", "kid": "prod-test", "use": "sig", "alg": "RS256", "n": modulus, "e": "AQAB" }]
        })))
        .mount(&idp)
        .await;

    let config_dir = testkit::workspace_root().join("config");
    let environment = |w: &Workload, ports: &[u16]| {
        let mut env = w.env.clone();
        assert_eq!(
            env.get("POSTBRIDGE_ENV").map(String::as_str),
            Some("production")
        );
        for secret in &w.secrets {
            let value = secrets.get(secret.as_str()).unwrap_or_else(|| {
                panic!(
                    "{}: the overlay references secret {secret}, which this test has no value for",
                    w.name
                )
            });
            env.insert(secret.clone(), value.clone());
        }
        if env.contains_key("POSTBRIDGE__AUTH__JWKS_URL") {
            env.insert(
                "POSTBRIDGE__AUTH__JWKS_URL".into(),
                format!("{}/.well-known/jwks.json", idp.uri()),
            );
        }
        if env.contains_key("POSTBRIDGE__MEDIA__S3__ENDPOINT") {
            env.insert("POSTBRIDGE__MEDIA__S3__ENDPOINT".into(), s3.endpoint());
        }
        env.insert(
            "POSTBRIDGE_CONFIG_DIR".into(),
            config_dir.display().to_string(),
        );
        env.insert(
            "POSTBRIDGE__MEDIA__STAGING_DIR".into(),
            scratch.join("staging").display().to_string(),
        );
        env.insert(
            format!("POSTBRIDGE__{}__LISTEN", section_of(&w.binary)),
            format!("127.0.0.1:{}", ports[0]),
        );
        if w.binary == "auth-gateway" {
            env.insert(
                "POSTBRIDGE__AUTH_GATEWAY__OPS_LISTEN".into(),
                format!("127.0.0.1:{}", ports[1]),
            );
        }
        env.insert(
            "POSTBRIDGE__EVENTS__EXCHANGE".into(),
            format!("{prefix}.events"),
        );
        env.insert(
            "POSTBRIDGE__EVENTS__DEAD_LETTER_EXCHANGE".into(),
            format!("{prefix}.dlx"),
        );
        env.insert(
            "POSTBRIDGE__EVENTS__QUEUE_PREFIX".into(),
            format!("{prefix}."),
        );
        env
    };
    // The overlay's bucket, on the local S3 server.
    let gateway = workloads.iter().find(|w| w.name == "auth-gateway").unwrap();
    s3.bucket(&gateway.env["POSTBRIDGE__MEDIA__S3__BUCKET"]);

    // 1. Each refuses to start without one of its secrets, and says which.
    for w in &workloads {
        assert!(
            w.secrets.iter().any(|s| s == "POSTBRIDGE__DATABASE__URL")
                && w.secrets.iter().any(|s| s == "POSTBRIDGE__VAULT__KEYS"),
            "{}: {:?}",
            w.name,
            w.secrets
        );
        for missing in &w.secrets {
            let ports = [testkit::free_port(), testkit::free_port()];
            let mut env = environment(w, &ports);
            env.remove(missing);
            let mut running = start(&binaries.join(&w.binary), &env, &scratch);
            let deadline = Instant::now() + Duration::from_secs(30);
            let status = loop {
                if let Some(status) = running.child.try_wait().unwrap() {
                    break status;
                }
                assert!(
                    Instant::now() < deadline,
                    "{} without {missing} still runs after 30 s:\n{}",
                    w.name,
                    running.output()
                );
                std::thread::sleep(Duration::from_millis(50));
            };
            std::thread::sleep(Duration::from_millis(100));
            let output = running.output();
            assert!(!status.success(), "{} without {missing} exited 0", w.name);
            assert!(
                output.contains(missing.as_str()),
                "{} without {missing} must name it; it said:\n{output}",
                w.name
            );
        }
    }

    // 2. With all of them, each becomes ready and exports its metrics.
    let http = reqwest::Client::new();
    let mut running = Vec::new();
    let mut gateway_url = String::new();
    for w in &workloads {
        let ports = [testkit::free_port(), testkit::free_port()];
        let service = start(&binaries.join(&w.binary), &environment(w, &ports), &scratch);
        let ops = if w.binary == "auth-gateway" {
            gateway_url = format!("http://127.0.0.1:{}", ports[0]);
            ports[1]
        } else {
            ports[0]
        };
        let ops_url = format!("http://127.0.0.1:{ops}");
        until_ready(&http, &format!("{ops_url}/readyz"), &service, &w.name).await;
        let metrics = http
            .get(format!("{ops_url}/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        for name in [
            "postbridge_outbox_backlog",
            "postbridge_db_pool_max_connections",
        ] {
            assert!(metrics.contains(name), "{}: no {name} in /metrics", w.name);
        }
        running.push(service);
    }

    // 3. The gateway verifies an RS256 token of the identity provider, with the overlay's
    //    issuer and audience, and refuses a development HS256 token.
    let iss = &gateway.env["POSTBRIDGE__AUTH__JWT_ISSUER"];
    let aud = &gateway.env["POSTBRIDGE__AUTH__JWT_AUDIENCE"];
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some("prod-test".into());
    let exp = chrono::Utc::now().timestamp() + 300;
    let token = jsonwebtoken::encode(
        &header,
        &json!({ "sub": "user_prod_1", "iss": iss, "aud": aud, "exp": exp }),
        &jsonwebtoken::EncodingKey::from_rsa_pem(&pem).unwrap(),
    )
    .unwrap();
    let accounts = http
        .get(format!("{gateway_url}/v1/accounts"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(accounts.status(), 200, "{}", accounts.text().await.unwrap());
    let other_audience = jsonwebtoken::encode(
        &header,
        &json!({ "sub": "user_prod_1", "iss": iss, "aud": "someone-else", "exp": exp }),
        &jsonwebtoken::EncodingKey::from_rsa_pem(&pem).unwrap(),
    )
    .unwrap();
    let hs256 = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &json!({ "sub": "user_prod_1", "iss": iss, "aud": aud, "exp": exp }),
        &jsonwebtoken::EncodingKey::from_secret(b"postbridge-development-secret-change-me"),
    )
    .unwrap();
    for refused in [other_audience, hs256] {
        let response = http
            .get(format!("{gateway_url}/v1/accounts"))
            .bearer_auth(&refused)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401);
    }
    drop(running);
    let _ = std::fs::remove_dir_all(&scratch);
}

fn tempfile_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(testkit::unique_name("prodstart"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
