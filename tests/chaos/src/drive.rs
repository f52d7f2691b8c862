//! Driving the system as a frontend would: a development JWT, sandbox accounts connected
//! through the OAuth flow, and a burst of posts created with Idempotency-Keys.

use std::{process::Command, time::Duration};

use anyhow::{bail, Context};
use chrono::{DateTime, Utc};
use futures_util::{stream, StreamExt};
use reqwest::{redirect::Policy, Client, StatusCode};
use serde_json::{json, Value};

const FRONTEND: &str = "http://localhost:3000";

/// The frontend's view of the gateway.
#[derive(Debug, Clone)]
pub struct Frontend {
    http: Client,
    gateway: String,
    bearer: String,
}

impl Frontend {
    /// A frontend signed in as `user` (a token from the gateway's own `postbridge-token`).
    pub fn sign_in(gateway: &str, user: &str) -> anyhow::Result<Self> {
        let root = testkit::workspace_root();
        let out = Command::new(root.join("target/release/postbridge-token"))
            .arg(user)
            .env("POSTBRIDGE_CONFIG_DIR", root.join("config"))
            .output()
            .context("cannot run postbridge-token")?;
        if !out.status.success() {
            bail!(
                "postbridge-token failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(Self {
            http: Client::builder()
                .redirect(Policy::none())
                .timeout(Duration::from_secs(10))
                .build()?,
            gateway: gateway.to_owned(),
            bearer: String::from_utf8(out.stdout)?.trim().to_owned(),
        })
    }

    /// Connects sim user `login` through the whole OAuth flow; returns the account id.
    pub async fn connect(&self, login: &str) -> anyhow::Result<String> {
        let started: Value = self
            .http
            .post(format!("{}/v1/connections/sandbox", self.gateway))
            .bearer_auth(&self.bearer)
            .json(&json!({ "redirect_to": FRONTEND }))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let authorize = started["authorize_url"]
            .as_str()
            .context("no authorize_url")?;
        let callback = location(
            self.http
                .get(format!("{authorize}&login_hint={login}"))
                .send()
                .await?,
        )?;
        let back = location(self.http.get(&callback).send().await?)?;
        // The callback only leaves a one-time ticket; the signed-in frontend completes it.
        let ticket = reqwest::Url::parse(&back)?
            .query_pairs()
            .find(|(k, _)| k == "ticket")
            .map(|(_, v)| v.into_owned())
            .with_context(|| format!("the callback gave no ticket: {back}"))?;
        let completed: Value = self
            .http
            .post(format!("{}/v1/connections/complete", self.gateway))
            .bearer_auth(&self.bearer)
            .json(&json!({ "ticket": ticket }))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        completed["accounts"][0]["id"]
            .as_str()
            .map(str::to_owned)
            .with_context(|| format!("the connection did not complete: {completed}"))
    }

    /// Creates post `i` (one account, due at `due`) with the key `chaos-<i>`, repeating the
    /// request after a network error or a 5xx as a careful client does (the key makes that
    /// safe), for at most two minutes.
    pub async fn create_post(
        &self,
        i: usize,
        account: &str,
        due: DateTime<Utc>,
    ) -> anyhow::Result<String> {
        let body = json!({
            "text": format!("chaos post {i}"),
            "account_ids": [account],
            "scheduled_at": due.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        });
        let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
        loop {
            let answer = self
                .http
                .post(format!("{}/v1/posts", self.gateway))
                .bearer_auth(&self.bearer)
                .header("Idempotency-Key", format!("chaos-{i}"))
                .json(&body)
                .send()
                .await;
            match answer {
                Ok(r) if r.status() == StatusCode::CREATED || r.status() == StatusCode::OK => {
                    let post: Value = r.json().await?;
                    return post["id"]
                        .as_str()
                        .map(str::to_owned)
                        .context("a post without an id");
                }
                Ok(r) if r.status().is_client_error() => {
                    bail!("post {i} refused: {} {}", r.status(), r.text().await?)
                }
                _ if tokio::time::Instant::now() > deadline => {
                    bail!("post {i} could not be created within two minutes")
                }
                _ => tokio::time::sleep(Duration::from_millis(250)).await,
            }
        }
    }

    /// Creates `n` posts over `accounts`, due evenly from `first_due` over `window`, 32 requests
    /// at a time. Returns the post ids in order.
    pub async fn burst(
        &self,
        n: usize,
        accounts: &[String],
        first_due: DateTime<Utc>,
        window: Duration,
    ) -> anyhow::Result<Vec<String>> {
        let step = window.as_millis() as i64 / n.max(1) as i64;
        let mut ids: Vec<(usize, String)> = stream::iter(0..n)
            .map(|i| {
                let account = &accounts[i % accounts.len()];
                let due = first_due + chrono::Duration::milliseconds(step * i as i64);
                async move { self.create_post(i, account, due).await.map(|id| (i, id)) }
            })
            .buffer_unordered(32)
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect::<anyhow::Result<_>>()?;
        ids.sort();
        Ok(ids.into_iter().map(|(_, id)| id).collect())
    }
}

fn location(response: reqwest::Response) -> anyhow::Result<String> {
    response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .with_context(|| format!("expected a redirect, got {}", response.status()))
}
