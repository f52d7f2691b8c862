//! The sandbox adapter of `platform-adapters` against a real (in-process) sim: the path
//! `make run` takes when a user connects a sandbox account, refreshes and disconnects.

use std::time::Duration;

use platform_adapters::{
    platforms::sandbox::SandboxAdapter, AccountRef, AdapterError, AdapterSettings, AuthorizeParams,
    ClientCredentials, CodeExchange, Endpoints, PlatformAdapter, Revocation,
};
use platform_sim::Knobs;
use secrecy::{ExposeSecret, SecretString};

use crate::support::{location, param, pkce, spawn_sim, TestSim, REDIRECT_URI};

fn adapter(sim: &TestSim) -> SandboxAdapter {
    let base = sim.handle.base_url();
    let settings = AdapterSettings {
        credentials: Some(ClientCredentials {
            client_id: "postbridge-local".into(),
            client_secret: SecretString::from("postbridge-local-secret".to_owned()),
        }),
        endpoints: Endpoints {
            authorize_url: format!("{base}/oauth/authorize"),
            token_url: format!("{base}/oauth/token"),
            revoke_url: Some(format!("{base}/oauth/revoke")),
            api_base: base.clone(),
            upload_base: base,
        },
    };
    SandboxAdapter::new(platform_adapters::http::client(), settings)
}

fn account<'a>(access: &'a SecretString, refresh: Option<&'a SecretString>) -> AccountRef<'a> {
    AccountRef {
        platform_account_id: "sim-demo",
        access_token: access,
        refresh_token: refresh,
        instance_url: None,
    }
}

#[tokio::test]
async fn the_sandbox_adapter_connects_refreshes_and_revokes_against_the_sim() {
    let sim = spawn_sim();
    let adapter = adapter(&sim);

    // Connect: the browser follows the authorize URL, the sim redirects back with a code.
    let (verifier, challenge) = pkce();
    let url = adapter
        .authorize_url(&AuthorizeParams {
            state: "state-9",
            pkce_challenge: Some(&challenge),
            redirect_uri: REDIRECT_URI,
        })
        .expect("authorize URL");
    let redirect = location(&sim.http.get(&url).send().await.expect("GET authorize"));
    assert_eq!(param(&redirect, "state").as_deref(), Some("state-9"));
    let code = param(&redirect, "code").expect("code");
    let exchange = CodeExchange {
        code: &code,
        pkce_verifier: Some(&verifier),
        redirect_uri: REDIRECT_URI,
    };
    let connections = adapter.exchange_code(&exchange).await.expect("exchange");
    assert_eq!(connections.len(), 1);
    let connection = &connections[0];
    assert_eq!(connection.profile.platform_account_id, "sim-demo");
    assert_eq!(connection.profile.handle.as_deref(), Some("demo"));
    assert_eq!(connection.tokens.scopes, ["profile", "publish"]);
    assert!(connection.tokens.expires_at.is_some());
    let stats = connection.stats.expect("stats fetched at connect");
    assert!(stats.followers_count.is_some() && stats.posts_count.is_some());

    // Nothing the sim issued shows in what the adapter hands out for logging.
    let printed = format!("{connections:?}");
    for secret in sim.handle.issued_tokens() {
        assert!(
            !printed.contains(&secret),
            "a token leaked into Debug output"
        );
    }

    let access = connection.tokens.access_token.clone();
    let refresh = connection
        .tokens
        .refresh_token
        .clone()
        .expect("refresh token");
    assert_eq!(
        adapter
            .profile(&account(&access, None))
            .await
            .expect("profile"),
        connection.profile
    );
    assert_eq!(
        adapter.stats(&account(&access, None)).await.expect("stats"),
        stats
    );

    // Refresh (through the adapter trait, as token-refresher calls it) rotates; the old refresh
    // token is dead and its reuse is counted.
    let rotated = adapter
        .refresh(&account(&access, Some(&refresh)))
        .await
        .expect("refresh");
    let new_refresh = rotated
        .refresh_token
        .clone()
        .expect("rotated refresh token");
    assert_ne!(new_refresh.expose_secret(), refresh.expose_secret());
    let reuse = adapter
        .refresh(&account(&access, Some(&refresh)))
        .await
        .expect_err("single use");
    assert!(matches!(reuse, AdapterError::NeedsReauth { .. }));
    assert_eq!(sim.handle.refresh_count(refresh.expose_secret()), 2);
    assert_eq!(sim.handle.stats().refresh_reuse_rejections, 1);

    // Disconnect: revoking the refresh token ends the grant.
    let outcome = adapter
        .revoke(&account(&rotated.access_token, Some(&new_refresh)))
        .await
        .expect("revoke");
    assert_eq!(outcome, Revocation::Revoked);
    assert_eq!(
        sim.handle.revoked_tokens(),
        [new_refresh.expose_secret().to_owned()]
    );
    let after = adapter
        .profile(&account(&rotated.access_token, None))
        .await
        .expect_err("revoked");
    assert!(matches!(after, AdapterError::NeedsReauth { .. }));
}

#[tokio::test]
async fn injected_faults_reach_the_adapter_as_rate_limited_and_transient() {
    let sim = spawn_sim();
    let adapter = adapter(&sim);
    let grant = sim
        .handle
        .mint_grant("alice", "postbridge-local", &["profile", "publish"])
        .expect("mint");
    let access = SecretString::from(grant.access_token);

    sim.handle
        .set_knobs(Knobs {
            rate_limit_rate: 1.0,
            ..Knobs::default()
        })
        .expect("knobs");
    let limited = adapter
        .stats(&account(&access, None))
        .await
        .expect_err("429");
    assert_eq!(
        limited,
        AdapterError::RateLimited {
            retry_after: Some(Duration::from_secs(1))
        }
    );

    sim.handle
        .set_knobs(Knobs {
            error_rate: 1.0,
            ..Knobs::default()
        })
        .expect("knobs");
    let unavailable = adapter
        .profile(&account(&access, None))
        .await
        .expect_err("503");
    assert!(matches!(unavailable, AdapterError::Transient { .. }));

    sim.handle.set_knobs(Knobs::default()).expect("knobs");
    let expired = {
        sim.handle.expire_access_tokens();
        adapter
            .profile(&account(&access, None))
            .await
            .expect_err("expired")
    };
    assert!(matches!(expired, AdapterError::NeedsReauth { .. }));
}
