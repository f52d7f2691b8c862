//! A gateway on port 0 against its own database and an in-process platform-sim.

use std::net::TcpListener;

use auth_gateway::{configuration, startup::Application};
use db::domain::AccountId;
use events::CancellationToken;
use platform_sim::{SimHandle, SimOptions};
use reqwest::{redirect::Policy, Client, Response, StatusCode};
use serde_json::Value;
use testkit::TestDb;

pub const FRONTEND: &str = "http://localhost:3000";
const PUBLIC_URL: &str = "http://gateway.test";

pub struct TestApp {
    pub address: String,
    /// The ops listener (`/healthz`, `/readyz`, `/metrics`).
    pub ops_address: String,
    pub db: TestDb,
    pub sim: SimHandle,
    pub http: Client,
    shutdown: CancellationToken,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// [`spawn_app`] with extra configuration keys set.
pub async fn spawn_app_with(overrides: &[(&str, String)]) -> TestApp {
    spawn_app_on(TestDb::new(), overrides).await
}

/// [`spawn_app_with`] on a given database (e.g. one on a [`testkit::PrivatePostgres`]).
pub async fn spawn_app_on(db: TestDb, overrides: &[(&str, String)]) -> TestApp {
    let (sim, server) = platform_sim::start(
        TcpListener::bind("127.0.0.1:0").unwrap(),
        SimOptions::default(),
    )
    .unwrap();
    tokio::spawn(server);
    let mut loaded = service_kit::testing::loaded_for_tests(
        db.url(),
        &testkit::amqp_url(),
        &testkit::unique_name("gateway-test"),
    );
    let base = sim.base_url();
    loaded.set(
        "platforms.sandbox.authorize_url",
        &format!("{base}/oauth/authorize"),
    );
    loaded.set(
        "platforms.sandbox.token_url",
        &format!("{base}/oauth/token"),
    );
    loaded.set(
        "platforms.sandbox.revoke_url",
        &format!("{base}/oauth/revoke"),
    );
    loaded.set("platforms.sandbox.api_base", &base);
    loaded.set("platforms.sandbox.upload_base", &base);
    loaded.set("auth_gateway.public_url", PUBLIC_URL);
    for (key, value) in overrides {
        loaded.set(key, value);
    }
    let settings = configuration::from(&loaded).unwrap();
    let shutdown = CancellationToken::new();
    let app = Application::build(settings, shutdown.clone())
        .await
        .unwrap();
    let address = format!("http://127.0.0.1:{}", app.port());
    let ops_address = format!("http://127.0.0.1:{}", app.ops_port());
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        ops_address,
        db,
        sim,
        http: Client::builder().redirect(Policy::none()).build().unwrap(),
        shutdown,
    }
}

/// A development token for `user`, as `make token` prints it.
pub fn token_for(user: &str) -> String {
    service_kit::testing::dev_token(user)
}

/// The query parameters of a URL.
pub fn query(url: &str) -> Vec<(String, String)> {
    reqwest::Url::parse(url)
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

pub fn param(url: &str, name: &str) -> Option<String> {
    query(url)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

fn location(response: &Response) -> String {
    response.headers()["location"].to_str().unwrap().to_owned()
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn get(&self, user: &str, path: &str) -> Response {
        self.http
            .get(self.url(path))
            .bearer_auth(token_for(user))
            .send()
            .await
            .unwrap()
    }

    pub async fn post(&self, user: &str, path: &str, body: Value) -> Response {
        self.http
            .post(self.url(path))
            .bearer_auth(token_for(user))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn delete(&self, user: &str, path: &str) -> Response {
        self.http
            .delete(self.url(path))
            .bearer_auth(token_for(user))
            .send()
            .await
            .unwrap()
    }

    /// `POST /v1/connections/sandbox` → the authorize URL.
    pub async fn start_sandbox(&self, user: &str) -> String {
        let response = self
            .post(
                user,
                "/v1/connections/sandbox",
                serde_json::json!({ "redirect_to": format!("{FRONTEND}/accounts") }),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        body["authorize_url"].as_str().unwrap().to_owned()
    }

    /// Lets platform-sim approve `authorize_url` for sim user `login`; returns the callback URL
    /// it redirects to, pointed at this gateway.
    pub async fn approve(&self, authorize_url: &str, login: &str) -> String {
        let response = self
            .http
            .get(format!("{authorize_url}&login_hint={login}"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::FOUND,
            "platform-sim approves"
        );
        location(&response).replace(PUBLIC_URL, &self.address)
    }

    /// Follows a callback URL; returns where the gateway sends the browser.
    pub async fn follow_callback(&self, callback_url: &str, bearer: Option<&str>) -> String {
        let mut request = self.http.get(callback_url);
        if let Some(user) = bearer {
            request = request.bearer_auth(token_for(user));
        }
        let response = request.send().await.unwrap();
        assert_eq!(
            response.status(),
            StatusCode::FOUND,
            "the callback always redirects"
        );
        location(&response)
    }

    /// Follows a callback URL without a bearer token (as a browser does) and returns the
    /// one-time ticket the gateway sends the frontend, asserting the redirect's shape.
    pub async fn ticket_from_callback(&self, callback_url: &str) -> String {
        let back = self.follow_callback(callback_url, None).await;
        assert!(
            back.starts_with(&format!("{FRONTEND}/accounts?")),
            "back to the frontend: {back}"
        );
        assert_eq!(
            param(&back, "platform").as_deref(),
            Some("sandbox"),
            "{back}"
        );
        assert!(
            param(&back, "account").is_none() && param(&back, "connected").is_none(),
            "the callback itself connects nothing: {back}"
        );
        let ticket = param(&back, "ticket");
        assert!(ticket.is_some(), "a ticket in the redirect: {back}");
        ticket.unwrap()
    }

    /// `POST /v1/connections/complete {ticket}` as `user`.
    pub async fn complete(&self, user: &str, ticket: &str) -> Response {
        self.post(
            user,
            "/v1/connections/complete",
            serde_json::json!({ "ticket": ticket }),
        )
        .await
    }

    /// The whole connect flow for `user` as sim user `login`; returns the new account's id.
    pub async fn connect_sandbox(&self, user: &str, login: &str) -> AccountId {
        let authorize_url = self.start_sandbox(user).await;
        let callback = self.approve(&authorize_url, login).await;
        let ticket = self.ticket_from_callback(&callback).await;
        let response = self.complete(user, &ticket).await;
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "the starting user completes"
        );
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["platform"], "sandbox", "{body}");
        body["accounts"][0]["id"].as_str().unwrap().parse().unwrap()
    }

    pub fn outbox_rows(&self) -> i64 {
        use db::diesel::{dsl::count_star, QueryDsl, RunQueryDsl};
        db::schema::outbox::table
            .select(count_star())
            .first(&mut self.db.conn())
            .unwrap()
    }

    pub fn account_rows(&self) -> i64 {
        use db::diesel::{dsl::count_star, QueryDsl, RunQueryDsl};
        db::schema::social_accounts::table
            .select(count_star())
            .first(&mut self.db.conn())
            .unwrap()
    }
}
