//! Publishing through the running gateway, publisher and RabbitMQ against platform-sim: a post
//! now to two accounts, one scheduled a few seconds ahead, one canceled before it is due.
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "an end-to-end test fails by panicking"
)]

use std::{net::TcpListener, time::Duration};

use chrono::Utc;
use events::CancellationToken;
use platform_sim::SimOptions;
use reqwest::{redirect::Policy, Client, StatusCode};
use serde_json::{json, Value};

const FRONTEND: &str = "http://localhost:3000";
const PUBLIC_URL: &str = "http://gateway.test";

struct Gateway {
    http: Client,
    url: String,
    bearer: String,
}

impl Gateway {
    /// Connects sim user `login` as a sandbox account through the OAuth flow.
    async fn connect(&self, login: &str) -> String {
        let started: Value = self
            .http
            .post(format!("{}/v1/connections/sandbox", self.url))
            .bearer_auth(&self.bearer)
            .json(&json!({ "redirect_to": FRONTEND }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
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
        // The callback hands the frontend a one-time ticket; the user's session completes it.
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

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let response = self
            .http
            .post(format!("{}{path}", self.url))
            .bearer_auth(&self.bearer)
            .json(&body)
            .send()
            .await
            .unwrap();
        (response.status(), response.json().await.unwrap())
    }

    async fn get(&self, path: &str) -> Value {
        self.http
            .get(format!("{}{path}", self.url))
            .bearer_auth(&self.bearer)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Waits until the post reaches `status`.
    async fn until_status(&self, id: &str, status: &str, within: Duration) -> Value {
        testkit::eventually(within, &format!("post {id} {status}"), || async {
            let post = self.get(&format!("/v1/posts/{id}")).await;
            (post["status"] == status).then_some(post)
        })
        .await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn posts_go_out_now_on_time_or_not_at_all_when_canceled_across_the_services() {
    let test_db = testkit::TestDb::new();
    let (sim, server) = platform_sim::start(
        TcpListener::bind("127.0.0.1:0").unwrap(),
        SimOptions::default(),
    )
    .unwrap();
    tokio::spawn(server);
    let prefix = testkit::unique_name("e2e-publish");
    let mut loaded =
        service_kit::testing::loaded_for_tests(test_db.url(), &testkit::amqp_url(), &prefix);
    let base = sim.base_url();
    let media_dir = std::env::temp_dir().join(&prefix);
    for (key, value) in [
        (
            "platforms.sandbox.authorize_url",
            format!("{base}/oauth/authorize"),
        ),
        ("platforms.sandbox.token_url", format!("{base}/oauth/token")),
        (
            "platforms.sandbox.revoke_url",
            format!("{base}/oauth/revoke"),
        ),
        ("platforms.sandbox.api_base", base.clone()),
        ("platforms.sandbox.upload_base", base.clone()),
        ("auth_gateway.public_url", PUBLIC_URL.into()),
        ("media.root_dir", media_dir.to_string_lossy().into_owned()),
    ] {
        loaded.set(key, &value);
    }
    let shutdown = CancellationToken::new();
    let gateway = auth_gateway::startup::Application::build(
        auth_gateway::configuration::from(&loaded).unwrap(),
        shutdown.clone(),
    )
    .await
    .unwrap();
    let publisher = publisher::startup::Application::build(
        publisher::configuration::from(&loaded).unwrap(),
        shutdown.clone(),
    )
    .await
    .unwrap();
    let api = Gateway {
        http: Client::builder().redirect(Policy::none()).build().unwrap(),
        url: format!("http://127.0.0.1:{}", gateway.port()),
        bearer: service_kit::testing::dev_token("alice"),
    };
    tokio::spawn(gateway.run_until_stopped());
    tokio::spawn(publisher.run_until_stopped());

    let carol = api.connect("carol").await;
    let dave = api.connect("dave").await;

    // Now, to both accounts.
    let (status, now) = api
        .post(
            "/v1/posts",
            json!({"text": "Hello, both of you", "account_ids": [carol, dave]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{now}");
    // A few seconds ahead.
    let due = Utc::now() + chrono::Duration::seconds(4);
    let (status, later) = api
        .post(
            "/v1/posts",
            json!({"text": "See you later", "account_ids": [carol], "scheduled_at": due}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{later}");
    // Canceled before it is due.
    let (_, doomed) = api
        .post(
            "/v1/posts",
            json!({"text": "Never mind", "account_ids": [dave], "scheduled_at": Utc::now() + chrono::Duration::seconds(3)}),
        )
        .await;
    let doomed_id = doomed["id"].as_str().unwrap();
    let (status, canceled) = api
        .post(&format!("/v1/posts/{doomed_id}/cancel"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{canceled}");

    let now = api
        .until_status(
            now["id"].as_str().unwrap(),
            "published",
            Duration::from_secs(15),
        )
        .await;
    for target in now["targets"].as_array().unwrap() {
        assert_eq!(target["status"], "published");
        assert!(target["platform_post_id"].is_string());
        assert_eq!(target["attempt_log"][0]["outcome"], "success");
    }
    let early = api
        .get(&format!("/v1/posts/{}", later["id"].as_str().unwrap()))
        .await;
    assert_eq!(early["status"], "scheduled", "not before its due time");

    let later = api
        .until_status(
            later["id"].as_str().unwrap(),
            "published",
            Duration::from_secs(15),
        )
        .await;
    let published_at: chrono::DateTime<Utc> = later["targets"][0]["published_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(published_at >= due, "published {published_at}, due {due}");

    tokio::time::sleep(Duration::from_secs(2)).await;
    let doomed = api.get(&format!("/v1/posts/{doomed_id}")).await;
    assert_eq!(doomed["status"], "canceled");
    let mut texts: Vec<String> = sim.posts().into_iter().map(|p| p.text).collect();
    texts.sort();
    assert_eq!(
        texts,
        ["Hello, both of you", "Hello, both of you", "See you later"]
    );

    let listed = api.get("/v1/posts?status=published").await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 2);
    shutdown.cancel();
    let _ = std::fs::remove_dir_all(media_dir);
}
