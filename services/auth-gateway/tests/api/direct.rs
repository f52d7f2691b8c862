//! Bluesky (app passwords) and Mastodon (per-instance apps) through the gateway.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use reqwest::StatusCode;
use serde_json::{json, Value};
use wiremock::{
    matchers::{body_json, method, path},
    Mock, MockServer, ResponseTemplate,
};

use crate::support::{spawn_app, spawn_app_with};

const DID: &str = "did:plc:z72i7hdynmk6r22z27h6tvur";
const HANDLE: &str = "alice.bsky.social";
const APP_PASSWORD: &str = "abcd-ef23-ghij-kl45";

/// An unsigned JWT shaped like the PDS's; the gateway only reads `exp` and `scope`.
fn jwt(claims: &Value) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"typ":"at+jwt","alg":"ES256K"}"#);
    format!(
        "{header}.{}.c2ln",
        URL_SAFE_NO_PAD.encode(claims.to_string())
    )
}

async fn pds() -> MockServer {
    let server = MockServer::start().await;
    let exp = chrono::Utc::now().timestamp() + 7200;
    let access =
        jwt(&json!({ "scope": "com.atproto.appPass", "sub": DID, "iat": exp - 7200, "exp": exp }));
    let refresh =
        jwt(&json!({ "scope": "com.atproto.refresh", "sub": DID, "exp": exp + 86_400 * 60 }));
    Mock::given(method("POST"))
        .and(path("/xrpc/com.atproto.server.createSession"))
        .and(body_json(json!({ "identifier": HANDLE, "password": APP_PASSWORD })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "did": DID, "handle": HANDLE, "accessJwt": access, "refreshJwt": refresh, "active": true })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/xrpc/app.bsky.actor.getProfile"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "did": DID, "handle": HANDLE, "displayName": "Alice", "followersCount": 1200, "followsCount": 310, "postsCount": 4821 })))
        .mount(&server)
        .await;
    server
}

#[tokio::test(flavor = "multi_thread")]
async fn bluesky_connects_at_once_with_an_app_password() {
    let pds = pds().await;
    let app = spawn_app_with(&[("platforms.bluesky.api_base", pds.uri())]).await;
    let response = app
        .post(
            "alice",
            "/v1/connections/bluesky",
            json!({ "identifier": HANDLE, "app_password": APP_PASSWORD }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let account: Value = response.json().await.unwrap();
    assert_eq!(account["platform"], "bluesky");
    assert_eq!(account["platform_account_id"], DID);
    assert_eq!(account["handle"], HANDLE);
    assert_eq!(account["followers_count"], 1200);
    assert_eq!(account["source"], "app_password");
    assert!(account.get("access_token").is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bluesky_main_password_is_refused_with_a_clear_message_and_nothing_is_stored() {
    let pds = MockServer::start().await;
    let app = spawn_app_with(&[("platforms.bluesky.api_base", pds.uri())]).await;
    let response = app
        .post(
            "alice",
            "/v1/connections/bluesky",
            json!({ "identifier": HANDLE, "app_password": "my main password" }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "app_password_required");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("app password"));
    assert!(
        pds.received_requests().await.unwrap().is_empty(),
        "a main password is never sent anywhere"
    );
    assert_eq!(app.account_rows(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn mastodon_instances_on_private_addresses_are_refused_before_any_request() {
    let app = spawn_app().await;
    for instance in ["127.0.0.1", "10.0.0.8", "[::1]"] {
        let response = app
            .post(
                "alice",
                "/v1/connections/mastodon",
                json!({ "instance": instance }),
            )
            .await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{instance}"
        );
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            body["error"]["code"], "instance_not_allowed",
            "{instance}: {body}"
        );
    }
    let missing = app
        .post("alice", "/v1/connections/mastodon", json!({}))
        .await;
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
}
