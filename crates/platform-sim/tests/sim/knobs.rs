//! Fault injection and run-time knobs.

use std::time::{Duration, Instant};

use platform_sim::Knobs;
use serde_json::json;

use crate::support::{spawn_sim, spawn_sim_with};

#[tokio::test]
async fn rate_limit_rate_one_answers_429_with_retry_after_on_api_and_token_calls() {
    let sim = spawn_sim();
    let tokens = sim.connect("alice").await;
    sim.handle
        .set_knobs(Knobs {
            rate_limit_rate: 1.0,
            ..Knobs::default()
        })
        .expect("valid knobs");

    let me = sim.api("/api/v1/me", &tokens.access_token).await;
    assert_eq!(me.status(), 429);
    assert_eq!(me.headers()["retry-after"], "1");
    let refresh = sim.refresh(&tokens.refresh_token).await;
    assert_eq!(refresh.status(), 429);
    assert_eq!(sim.handle.stats().injected_rate_limits, 2);

    // Faults strike before the handler: the refresh token was not used up.
    sim.handle.set_knobs(Knobs::default()).expect("valid knobs");
    assert_eq!(sim.refresh(&tokens.refresh_token).await.status(), 200);
}

#[tokio::test]
async fn error_rate_one_answers_503_but_pages_and_controls_still_answer() {
    let sim = spawn_sim_with(Knobs {
        error_rate: 1.0,
        ..Knobs::default()
    });
    assert_eq!(sim.api("/api/v1/me", "simat_whatever").await.status(), 503);
    assert_eq!(sim.revoke("simrt_whatever").await.status(), 503);
    let health = sim
        .http
        .get(sim.url("/healthz"))
        .send()
        .await
        .expect("GET /healthz");
    assert_eq!(health.status(), 200);
    let (_, challenge) = crate::support::pkce();
    assert_eq!(sim.authorize_with(&challenge, &[]).await.status(), 302);
    assert_eq!(sim.handle.stats().injected_errors, 2);
}

#[tokio::test]
async fn knobs_change_at_run_time_over_http_and_bad_values_are_refused() {
    let sim = spawn_sim();
    let url = sim.url("/_sim/knobs");
    let response = sim
        .http
        .post(&url)
        .json(&json!({ "error_rate": 1.0 }))
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), 200);
    let knobs: serde_json::Value = response.json().await.expect("knobs");
    assert_eq!(knobs["error_rate"], 1.0);
    assert_eq!(
        knobs["access_token_ttl_secs"], 3600,
        "untouched knobs keep their values"
    );
    assert_eq!(sim.api("/api/v1/me", "simat_x").await.status(), 503);

    let bad = sim
        .http
        .post(&url)
        .json(&json!({ "rate_limit_rate": 2 }))
        .send()
        .await
        .expect("POST");
    assert_eq!(bad.status(), 400);
    let unknown = sim
        .http
        .post(&url)
        .json(&json!({ "chaos": true }))
        .send()
        .await
        .expect("POST");
    assert_eq!(unknown.status(), 400);
    assert_eq!(
        sim.handle.knobs().rate_limit_rate,
        0.0,
        "a refused change changes nothing"
    );

    let current: serde_json::Value = sim
        .http
        .get(&url)
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("knobs");
    assert_eq!(current["error_rate"], 1.0);
}

#[tokio::test]
async fn latency_delays_api_calls() {
    let sim = spawn_sim_with(Knobs {
        latency_ms: 150,
        ..Knobs::default()
    });
    let started = Instant::now();
    let _ = sim.api("/api/v1/me", "simat_x").await;
    assert!(started.elapsed() >= Duration::from_millis(150));
}

#[tokio::test]
async fn the_access_token_lifetime_follows_the_knob() {
    let sim = spawn_sim_with(Knobs {
        access_token_ttl_secs: 120,
        ..Knobs::default()
    });
    assert_eq!(sim.connect("alice").await.expires_in, 120);
}

#[tokio::test]
async fn sim_stats_reports_the_counters_as_json() {
    let sim = spawn_sim();
    let tokens = sim.connect("alice").await;
    let _ = sim.refresh(&tokens.refresh_token).await;
    let _ = sim.refresh(&tokens.refresh_token).await;
    let stats: serde_json::Value = sim
        .http
        .get(sim.url("/_sim/stats"))
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("stats");
    assert_eq!(stats["authorizations"], 1);
    assert_eq!(stats["code_exchanges"], 1);
    assert_eq!(stats["refreshes"], 1);
    assert_eq!(stats["refresh_reuse_rejections"], 1);
    assert_eq!(stats["revocations"], 0);
}

#[tokio::test]
async fn refresh_hold_rotates_the_refresh_token_first_and_answers_only_after_the_hold() {
    let sim = spawn_sim();
    let tokens = sim.connect("alice").await;
    let set = sim
        .http
        .post(sim.url("/_sim/knobs"))
        .json(&json!({ "refresh_hold_ms": 1500 }))
        .send()
        .await
        .expect("POST /_sim/knobs");
    assert_eq!(set.status(), 200);

    let started = Instant::now();
    let sim = std::sync::Arc::new(sim);
    let refreshing = {
        let sim = sim.clone();
        let old = tokens.refresh_token.clone();
        tokio::spawn(async move { sim.refresh(&old).await })
    };
    // While the answer is held, the platform has already rotated the token: the old one is
    // spent and presenting it again would be a reuse.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!refreshing.is_finished(), "the answer is still held");
    assert_eq!(sim.handle.stats().refreshes, 1, "rotated before answering");
    assert!(!sim.handle.is_token_active(&tokens.refresh_token));

    let answer = refreshing.await.expect("join");
    assert_eq!(answer.status(), 200);
    assert!(started.elapsed() >= Duration::from_millis(1500));
    let grant: serde_json::Value = answer.json().await.expect("grant");
    let successor = grant["refresh_token"].as_str().expect("a refresh token");
    assert!(sim.handle.is_token_active(successor));
    let stats = sim.handle.stats();
    assert_eq!(
        (stats.held_refreshes, stats.refresh_reuse_rejections),
        (1, 0)
    );
}
