//! The REST API and the pages behind profile URLs.

use platform_sim::SimOptions;
use serde_json::json;

use crate::support::{oauth_error, spawn_sim};

#[tokio::test]
async fn me_and_stats_describe_the_user_deterministically() {
    let sim = spawn_sim();
    let tokens = sim.connect("alice").await;
    let me: serde_json::Value = sim
        .api("/api/v1/me", &tokens.access_token)
        .await
        .json()
        .await
        .expect("me");
    let base = sim.handle.base_url();
    assert_eq!(
        me,
        json!({
            "id": "sim-alice",
            "username": "alice",
            "name": "Alice (sandbox)",
            "avatar_url": format!("{base}/avatars/alice.png"),
            "profile_url": format!("{base}/u/alice"),
        })
    );
    let stats: serde_json::Value = sim
        .api("/api/v1/me/stats", &tokens.access_token)
        .await
        .json()
        .await
        .expect("stats");
    let again: serde_json::Value = sim
        .api("/api/v1/me/stats", &tokens.access_token)
        .await
        .json()
        .await
        .expect("stats");
    assert_eq!(stats, again);
    for key in ["followers_count", "following_count", "posts_count"] {
        assert!(stats[key].is_i64(), "{key} in {stats}");
    }
}

#[tokio::test]
async fn the_api_refuses_missing_and_unknown_tokens() {
    let sim = spawn_sim();
    let missing = sim
        .http
        .get(sim.url("/api/v1/me"))
        .send()
        .await
        .expect("GET");
    assert_eq!(missing.status(), 401);
    assert!(missing.headers()["www-authenticate"]
        .to_str()
        .expect("ASCII")
        .starts_with("Bearer"));
    assert_eq!(oauth_error(missing).await, "invalid_token");
    assert_eq!(
        sim.api("/api/v1/me/stats", "simat_unknown").await.status(),
        401
    );
}

#[tokio::test]
async fn a_token_without_the_profile_scope_is_forbidden() {
    let sim = spawn_sim();
    let grant = sim
        .handle
        .mint_grant("eve", "test-app", &["publish"])
        .expect("mint");
    let response = sim.api("/api/v1/me", &grant.access_token).await;
    assert_eq!(response.status(), 403);
    assert_eq!(oauth_error(response).await, "insufficient_scope");
}

#[tokio::test]
async fn avatar_and_profile_urls_serve_a_png_and_a_page() {
    let sim = spawn_sim();
    let avatar = sim
        .http
        .get(sim.url("/avatars/alice.png"))
        .send()
        .await
        .expect("GET");
    assert_eq!(avatar.status(), 200);
    assert_eq!(avatar.headers()["content-type"], "image/png");
    assert!(avatar.bytes().await.expect("bytes").starts_with(b"\x89PNG"));
    let page = sim.http.get(sim.url("/u/alice")).send().await.expect("GET");
    assert_eq!(page.status(), 200);
    assert!(page.text().await.expect("page").contains("Alice (sandbox)"));
    assert_eq!(
        sim.http
            .get(sim.url("/u/no%20such"))
            .send()
            .await
            .expect("GET")
            .status(),
        404
    );
}

#[tokio::test]
async fn a_configured_public_url_is_used_in_profile_links() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let options = SimOptions {
        public_url: Some("http://sim.example:8090/".into()),
        workers: 1,
        ..SimOptions::default()
    };
    let (handle, server) = platform_sim::start(listener, options).expect("start");
    tokio::spawn(server);
    let grant = handle.mint_grant("alice", "test-app", &[]).expect("mint");
    let me: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/api/v1/me", handle.base_url()))
        .bearer_auth(&grant.access_token)
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("me");
    assert_eq!(
        me["avatar_url"],
        "http://sim.example:8090/avatars/alice.png"
    );
}

#[tokio::test]
async fn grants_minted_over_http_work_like_connected_accounts() {
    let sim = spawn_sim();
    let response = sim
        .http
        .post(sim.url("/_sim/grants"))
        .json(
            &json!({ "username": "bench-1", "client_id": "test-app", "scope": "profile publish" }),
        )
        .send()
        .await
        .expect("POST /_sim/grants");
    assert_eq!(response.status(), 200);
    let grant: serde_json::Value = response.json().await.expect("grant");
    let access = grant["access_token"].as_str().expect("access token");
    let me: serde_json::Value = sim
        .api("/api/v1/me", access)
        .await
        .json()
        .await
        .expect("me");
    assert_eq!(me["id"], "sim-bench-1");
    let refresh = grant["refresh_token"].as_str().expect("refresh token");
    assert_eq!(
        sim.refresh(refresh).await.status(),
        200,
        "minted for test-app, usable by it"
    );
}

#[tokio::test]
async fn index_and_health_answer() {
    let sim = spawn_sim();
    let index: serde_json::Value = sim
        .http
        .get(sim.url("/"))
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("index");
    assert_eq!(index["platforms"], json!(["sandbox"]));
    let health = sim.http.get(sim.url("/healthz")).send().await.expect("GET");
    assert_eq!(health.status(), 200);
}
