//! Starting a sim and walking the OAuth flow like a well-behaved client.

use std::net::TcpListener;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use platform_sim::{Knobs, SimHandle, SimOptions};
use serde::Deserialize;

pub const CLIENT_ID: &str = "test-app";
pub const CLIENT_SECRET: &str = "test-app-secret";
pub const REDIRECT_URI: &str = "http://127.0.0.1:8080/v1/oauth/sandbox/callback";

/// A running sim and an HTTP client that does not follow redirects (the tests inspect them).
pub struct TestSim {
    pub handle: SimHandle,
    pub http: reqwest::Client,
}

/// A sim with default knobs.
pub fn spawn_sim() -> TestSim {
    spawn_sim_with(Knobs::default())
}

/// A sim with `knobs`.
pub fn spawn_sim_with(knobs: Knobs) -> TestSim {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind port 0");
    let options = SimOptions {
        knobs,
        workers: 1,
        ..SimOptions::default()
    };
    let (handle, server) = platform_sim::start(listener, options).expect("start sim");
    tokio::spawn(server);
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("HTTP client");
    TestSim { handle, http }
}

/// A PKCE pair: (verifier, S256 challenge).
pub fn pkce() -> (String, String) {
    let verifier = format!("verifier-{}", "x".repeat(50));
    let digest = ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes());
    (verifier, URL_SAFE_NO_PAD.encode(digest.as_ref()))
}

/// A token endpoint answer.
#[derive(Debug, Clone, Deserialize)]
pub struct Tokens {
    pub access_token: String,
    pub token_type: String,
    pub expires_in: u64,
    pub refresh_token: String,
    pub scope: String,
}

/// The query parameters of a URL.
pub fn query(url: &str) -> Vec<(String, String)> {
    reqwest::Url::parse(url)
        .expect("valid URL")
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The value of query parameter `name`.
pub fn param(url: &str, name: &str) -> Option<String> {
    query(url)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// The `Location` of a redirect answer.
pub fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .expect("a Location header")
        .to_str()
        .expect("ASCII Location")
        .to_owned()
}

impl TestSim {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.handle.base_url())
    }

    /// `GET /oauth/authorize` with the given extra or overriding parameters on top of a valid
    /// request for `challenge`.
    pub async fn authorize_with(
        &self,
        challenge: &str,
        overrides: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut params = vec![
            ("response_type", "code"),
            ("client_id", CLIENT_ID),
            ("redirect_uri", REDIRECT_URI),
            ("state", "state-1"),
            ("scope", "profile publish"),
            ("code_challenge", challenge),
            ("code_challenge_method", "S256"),
        ];
        for (name, value) in overrides {
            params.retain(|(n, _)| n != name);
            if !value.is_empty() {
                params.push((name, value));
            }
        }
        self.http
            .get(self.url("/oauth/authorize"))
            .query(&params)
            .send()
            .await
            .expect("GET /oauth/authorize")
    }

    /// A code for `login_hint` (or the default user), auto-approved.
    pub async fn code_for(&self, challenge: &str, login_hint: Option<&str>) -> String {
        let response = self
            .authorize_with(challenge, &[("login_hint", login_hint.unwrap_or_default())])
            .await;
        assert_eq!(response.status(), 302, "auto-approval redirects");
        param(&location(&response), "code").expect("a code in the redirect")
    }

    /// `POST /oauth/token` with Basic client authentication.
    pub async fn token(&self, form: &[(&str, &str)]) -> reqwest::Response {
        self.http
            .post(self.url("/oauth/token"))
            .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
            .form(form)
            .send()
            .await
            .expect("POST /oauth/token")
    }

    /// Exchanges `code`.
    pub async fn exchange(&self, code: &str, verifier: &str) -> reqwest::Response {
        self.token(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", verifier),
        ])
        .await
    }

    /// The whole code flow for `user`: the tokens.
    pub async fn connect(&self, user: &str) -> Tokens {
        let (verifier, challenge) = pkce();
        let code = self.code_for(&challenge, Some(user)).await;
        let response = self.exchange(&code, &verifier).await;
        assert_eq!(response.status(), 200);
        response.json().await.expect("token JSON")
    }

    /// Refreshes with `refresh_token`.
    pub async fn refresh(&self, refresh_token: &str) -> reqwest::Response {
        self.token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ])
        .await
    }

    /// `GET` an API path with a bearer token.
    pub async fn api(&self, path: &str, access_token: &str) -> reqwest::Response {
        self.http
            .get(self.url(path))
            .bearer_auth(access_token)
            .send()
            .await
            .expect("API call")
    }

    /// `POST /api/v1/posts` with `body`, and `Idempotency-Key: key` when given.
    pub async fn create_post(
        &self,
        access_token: &str,
        key: Option<&str>,
        body: &serde_json::Value,
    ) -> reqwest::Response {
        let mut request = self
            .http
            .post(self.url("/api/v1/posts"))
            .bearer_auth(access_token)
            .json(body);
        if let Some(key) = key {
            request = request.header("idempotency-key", key);
        }
        request.send().await.expect("POST /api/v1/posts")
    }

    /// `POST /api/v1/media` with `bytes` as the body, typed `content_type`.
    pub async fn upload(
        &self,
        access_token: &str,
        content_type: &str,
        bytes: &'static [u8],
    ) -> reqwest::Response {
        self.http
            .post(self.url("/api/v1/media"))
            .bearer_auth(access_token)
            .header("content-type", content_type)
            .body(bytes)
            .send()
            .await
            .expect("POST /api/v1/media")
    }

    /// A token of `user` with both scopes, minted without the browser.
    pub fn publisher_token(&self, user: &str) -> String {
        self.handle
            .mint_grant(user, CLIENT_ID, &["profile", "publish"])
            .expect("mint")
            .access_token
    }

    /// `GET` a `/_sim/*` control (no authentication): its JSON.
    pub async fn control(&self, path: &str) -> serde_json::Value {
        self.http
            .get(self.url(path))
            .send()
            .await
            .expect("GET control")
            .json()
            .await
            .expect("control JSON")
    }

    /// `POST /oauth/revoke` with Basic client authentication.
    pub async fn revoke(&self, token: &str) -> reqwest::Response {
        self.http
            .post(self.url("/oauth/revoke"))
            .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
            .form(&[("token", token)])
            .send()
            .await
            .expect("POST /oauth/revoke")
    }
}

/// The `error` of an OAuth error answer.
pub async fn oauth_error(response: reqwest::Response) -> String {
    let body: serde_json::Value = response.json().await.expect("error JSON");
    body["error"].as_str().expect("an error code").to_owned()
}
