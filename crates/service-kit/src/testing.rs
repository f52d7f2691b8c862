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
