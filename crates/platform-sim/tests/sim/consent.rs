//! Consent-page mode: the browser sees an Approve/Deny page before any code is issued.

use platform_sim::Knobs;

use crate::support::{location, param, pkce, spawn_sim_with, TestSim, REDIRECT_URI};

fn consent_sim() -> TestSim {
    spawn_sim_with(Knobs {
        consent_page: true,
        ..Knobs::default()
    })
}

/// The hidden `request_id` of a consent page.
fn request_id(page: &str) -> String {
    let marker = r#"name="request_id" value=""#;
    let start = page.find(marker).expect("a request_id field") + marker.len();
    page[start..].split('"').next().expect("a value").to_owned()
}

async fn consent_page(sim: &TestSim) -> String {
    let (_, challenge) = pkce();
    let response = sim
        .authorize_with(&challenge, &[("login_hint", "alice")])
        .await;
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .expect("ASCII")
        .starts_with("text/html"));
    assert_eq!(response.headers()["x-frame-options"], "DENY");
    response.text().await.expect("page")
}

async fn decide(sim: &TestSim, page: &str, decision: &str, username: &str) -> reqwest::Response {
    sim.http
        .post(sim.url("/oauth/authorize/decision"))
        .form(&[
            ("request_id", request_id(page).as_str()),
            ("decision", decision),
            ("username", username),
        ])
        .send()
        .await
        .expect("POST decision")
}

#[tokio::test]
async fn consent_mode_renders_the_client_the_scopes_and_the_user() {
    let sim = consent_sim();
    let page = consent_page(&sim).await;
    assert!(page.contains("test-app"));
    assert!(page.contains("<code>profile</code>"));
    assert!(page.contains("<code>publish</code>"));
    assert!(page.contains(r#"value="alice""#));
    assert!(page.contains(r#"action="/oauth/authorize/decision""#));
    assert_eq!(
        sim.handle.stats().authorizations,
        0,
        "no code before a decision"
    );
}

#[tokio::test]
async fn approving_redirects_with_a_code_for_the_chosen_user() {
    let sim = consent_sim();
    let page = consent_page(&sim).await;
    let response = decide(&sim, &page, "approve", "bob").await;
    assert_eq!(response.status(), 303);
    let redirect = location(&response);
    assert!(redirect.starts_with(REDIRECT_URI));
    assert_eq!(param(&redirect, "state").as_deref(), Some("state-1"));
    assert!(param(&redirect, "code").is_some_and(|c| c.starts_with("simcode_")));
    assert_eq!(sim.handle.stats().authorizations, 1);
    // The page is answered once only.
    assert_eq!(decide(&sim, &page, "approve", "bob").await.status(), 400);
}

#[tokio::test]
async fn denying_redirects_with_access_denied_and_the_state() {
    let sim = consent_sim();
    let page = consent_page(&sim).await;
    let response = decide(&sim, &page, "deny", "alice").await;
    assert_eq!(response.status(), 303);
    let redirect = location(&response);
    assert_eq!(param(&redirect, "error").as_deref(), Some("access_denied"));
    assert_eq!(param(&redirect, "state").as_deref(), Some("state-1"));
    assert_eq!(param(&redirect, "code"), None);
    assert_eq!(sim.handle.stats().consent_denials, 1);
}

#[tokio::test]
async fn the_consent_page_can_be_switched_on_at_run_time() {
    let sim = crate::support::spawn_sim();
    let response = sim
        .http
        .post(sim.url("/_sim/knobs"))
        .json(&serde_json::json!({ "consent_page": true }))
        .send()
        .await
        .expect("POST /_sim/knobs");
    assert_eq!(response.status(), 200);
    let (_, challenge) = pkce();
    assert_eq!(sim.authorize_with(&challenge, &[]).await.status(), 200);
}
