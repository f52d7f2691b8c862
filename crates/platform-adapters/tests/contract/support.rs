//! Shared fixtures of the contract tests.

use platform_adapters::{AdapterSettings, ClientCredentials, Endpoints};
use secrecy::SecretString;
use wiremock::{Match, MockServer, Request};

pub const CLIENT_ID: &str = "test-client-id";
pub const CLIENT_SECRET: &str = "test-client-secret";
pub const REDIRECT_URI: &str = "http://127.0.0.1:8080/v1/oauth/callback";

/// Configured credentials.
pub fn credentials() -> ClientCredentials {
    ClientCredentials {
        client_id: CLIENT_ID.into(),
        client_secret: secret(CLIENT_SECRET),
    }
}

/// Every endpoint on `server`: authorize `/oauth/authorize`, token `/oauth/token`, revoke
/// `/oauth/revoke`, API and uploads at the root. Tests override what their platform differs in.
pub fn endpoints(server: &MockServer) -> Endpoints {
    let base = server.uri();
    Endpoints {
        authorize_url: format!("{base}/oauth/authorize"),
        token_url: format!("{base}/oauth/token"),
        revoke_url: Some(format!("{base}/oauth/revoke")),
        api_base: base.clone(),
        upload_base: base,
    }
}

/// Configured settings against `server`.
pub fn settings(server: &MockServer) -> AdapterSettings {
    AdapterSettings {
        credentials: Some(credentials()),
        endpoints: endpoints(server),
    }
}

pub fn secret(value: &str) -> SecretString {
    SecretString::from(value.to_owned())
}

/// The query parameters of a URL, in order.
pub fn query_of(url: &str) -> Vec<(String, String)> {
    reqwest::Url::parse(url)
        .expect("valid URL")
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The value of query parameter `name`.
pub fn param(url: &str, name: &str) -> Option<String> {
    query_of(url)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// Matches an `application/x-www-form-urlencoded` body with exactly these parameters (in any
/// order).
pub struct FormIs(Vec<(String, String)>);

pub fn form_is(pairs: &[(&str, &str)]) -> FormIs {
    let mut expected: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    expected.sort();
    FormIs(expected)
}

impl Match for FormIs {
    fn matches(&self, request: &Request) -> bool {
        let is_form = request
            .headers
            .get("content-type")
            .is_some_and(|v| v.as_bytes() == b"application/x-www-form-urlencoded");
        let body = String::from_utf8_lossy(&request.body);
        let Ok(url) = reqwest::Url::parse(&format!("http://form.invalid/?{body}")) else {
            return false;
        };
        let mut actual: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        actual.sort();
        is_form && actual == self.0
    }
}
