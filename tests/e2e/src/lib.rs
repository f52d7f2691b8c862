//! End-to-end tests of Postbridge live in `tests/`: several services in one process, talking
//! through the real RabbitMQ and PostgreSQL, with platform-sim as the only fake. The crate
//! exists so these tests may depend on services, which no regular crate may; this library holds
//! what several of them share: the gateway as the frontend's backend calls it, and the settings
//! that point the sandbox platform at a platform-sim.
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "an end-to-end test fails by panicking"
)]

use std::{path::Path, time::Duration};

use reqwest::{redirect::Policy, Client, Method, StatusCode};
use serde_json::{json, Value};

/// Where the tests' frontend lives: connections return there.
pub const FRONTEND: &str = "http://localhost:3000";
/// The gateway's configured public URL; redirects naming it are followed to the test's port.
pub const PUBLIC_URL: &str = "http://gateway.test";

/// The configuration that points the sandbox platform at the platform-sim at `sim_base`, gives
/// the gateway [`PUBLIC_URL`], and stores media under `media_dir`.
pub fn sandbox_settings(sim_base: &str, media_dir: &Path) -> Vec<(&'static str, String)> {
    vec![
        (
            "platforms.sandbox.authorize_url",
            format!("{sim_base}/oauth/authorize"),
        ),
        (
            "platforms.sandbox.token_url",
            format!("{sim_base}/oauth/token"),
        ),
        (
            "platforms.sandbox.revoke_url",
            format!("{sim_base}/oauth/revoke"),
        ),
        ("platforms.sandbox.api_base", sim_base.to_owned()),
        ("platforms.sandbox.upload_base", sim_base.to_owned()),
        ("auth_gateway.public_url", PUBLIC_URL.to_owned()),
        ("media.root_dir", media_dir.to_string_lossy().into_owned()),
    ]
}

/// The running gateway, called as one user (a development token), redirects not followed.
#[derive(Debug)]
pub struct Gateway {
    http: Client,
    url: String,
    bearer: String,
}

impl Gateway {
    /// The gateway on `127.0.0.1:port`, as `user`.
    pub fn new(port: u16, user: &str) -> Self {
        Self {
            http: Client::builder().redirect(Policy::none()).build().unwrap(),
            url: format!("http://127.0.0.1:{port}"),
            bearer: service_kit::testing::dev_token(user),
        }
    }

    /// One request; the answer's status and JSON body (`null` when it has none).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.url))
            .bearer_auth(&self.bearer);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        (
            response.status(),
            response.json().await.unwrap_or(Value::Null),
        )
    }

    /// `POST path` with `body`.
    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(body)).await
    }

    /// `GET path`'s body.
    pub async fn get(&self, path: &str) -> Value {
        self.call(Method::GET, path, None).await.1
    }

    /// Connects sim user `login` as a sandbox account through the OAuth flow, as a browser
    /// would: authorize at the sim, the callback, then the one-time ticket the callback hands
    /// the frontend, completed by the user's session. Answers the new account's id.
    pub async fn connect(&self, login: &str) -> String {
        let (_, started) = self
            .post(
                "/v1/connections/sandbox",
                json!({ "redirect_to": FRONTEND }),
            )
            .await;
        let authorize_url = started["authorize_url"].as_str().unwrap();
        let approved = self
            .http
            .get(format!("{authorize_url}&login_hint={login}"))
            .send()
            .await
            .unwrap();
        let callback = approved.headers()["location"]
            .to_str()
            .unwrap()
            .replace(PUBLIC_URL, &self.url);
        let back = self.http.get(&callback).send().await.unwrap();
        let back = back.headers()["location"].to_str().unwrap().to_owned();
        let ticket = reqwest::Url::parse(&back)
            .unwrap()
            .query_pairs()
            .find(|(k, _)| k == "ticket")
            .map(|(_, v)| v.into_owned())
            .expect("a ticket");
        let (status, completed) = self
            .post("/v1/connections/complete", json!({ "ticket": ticket }))
            .await;
        assert_eq!(status, StatusCode::OK, "{completed}");
        completed["accounts"][0]["id"]
            .as_str()
            .expect("connected")
            .to_owned()
    }

    /// Waits until post `id` reaches `status`; answers its view then.
    pub async fn until_status(&self, id: &str, status: &str, within: Duration) -> Value {
        testkit::eventually(within, &format!("post {id} {status}"), || async {
            let post = self.get(&format!("/v1/posts/{id}")).await;
            (post["status"] == status).then_some(post)
        })
        .await
    }
}
