//! The sandbox adapter of `platform-adapters` against a real (in-process) sim: the path
//! `make run` takes when a user connects a sandbox account, refreshes, publishes and
//! disconnects.

use std::time::Duration;

use platform_adapters::{
    platforms::sandbox::SandboxAdapter, AccountRef, AdapterError, AdapterSettings, AuthorizeParams,
    ClientCredentials, CodeExchange, Endpoints, MediaItem, MediaKind, PlatformAdapter, PostOptions,
    PublishRequest, Revocation,
};
use platform_sim::{Knobs, KnobsUpdate};
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

fn photo() -> MediaItem {
    MediaItem {
        id: domain::MediaId::new(),
        kind: MediaKind::Image,
        mime_type: "image/jpeg".into(),
        width: Some(64),
        height: Some(64),
        duration_ms: None,
        alt_text: Some("a test picture".into()),
        url: "http://media.invalid/photo.jpg".into(),
        bytes: bytes::Bytes::from_static(b"\xff\xd8\xff\xe0 fake jpeg bytes"),
    }
}

fn request<'a>(key: &'a str, text: &'a str, media: &'a [MediaItem]) -> PublishRequest<'a> {
    static NO_OPTIONS: std::sync::OnceLock<PostOptions> = std::sync::OnceLock::new();
    PublishRequest {
        idempotency_key: key,
        created_at: chrono::Utc::now(),
        text,
        media,
        options: NO_OPTIONS.get_or_init(PostOptions::default),
        account_kind: domain::AccountKind::Profile,
        reply_to: None,
    }
}

#[tokio::test]
async fn the_sandbox_adapter_publishing_twice_with_one_key_makes_one_post_on_the_sim() {
    let sim = spawn_sim();
    let adapter = adapter(&sim);
    let grant = sim
        .handle
        .mint_grant("alice", "postbridge-local", &["profile", "publish"])
        .expect("mint");
    let access = SecretString::from(grant.access_token);
    let media = [photo()];
    let post = request("target-1", "hello from the adapter", &media);

    let first = adapter
        .publish(&account(&access, None), &post)
        .await
        .expect("publish");
    let second = adapter
        .publish(&account(&access, None), &post)
        .await
        .expect("publish again");
    assert_eq!(second, first, "the key returns the post already made");
    assert_eq!(
        first.url.as_deref(),
        Some(
            format!(
                "{}/u/alice/posts/{}",
                sim.handle.base_url(),
                first.platform_post_id
            )
            .as_str()
        )
    );

    let posts = sim.handle.posts();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].text, "hello from the adapter");
    assert_eq!(posts[0].idempotency_key.as_deref(), Some("target-1"));
    assert_eq!(posts[0].create_calls, 2);
    assert_eq!(sim.handle.stats().posts_deduplicated, 1);
    let uploads = sim.handle.media();
    assert_eq!(
        uploads.len(),
        2,
        "each attempt uploads; only the first is attached"
    );
    assert_eq!(uploads[0].size, media[0].size());
    assert_eq!(uploads[0].alt_text.as_deref(), Some("a test picture"));
    assert_eq!(posts[0].media_ids, [uploads[0].id.clone()]);

    assert_eq!(
        adapter
            .find_published(&account(&access, None), &post)
            .await
            .expect("lookup"),
        Some(first)
    );
    assert_eq!(
        adapter
            .find_published(&account(&access, None), &request("target-2", "x", &[]))
            .await
            .expect("lookup"),
        None
    );
}

#[tokio::test]
async fn a_stalled_create_is_outcome_unknown_then_found_and_never_doubled() {
    let sim = spawn_sim();
    let base = sim.handle.base_url();
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .expect("client");
    let mut settings = AdapterSettings {
        credentials: None,
        endpoints: platform_adapters::platforms::sandbox::default_endpoints(),
    };
    settings.endpoints.api_base = base.clone();
    settings.endpoints.upload_base = base;
    let adapter = SandboxAdapter::new(impatient, settings);
    let grant = sim
        .handle
        .mint_grant("alice", "postbridge-local", &["profile", "publish"])
        .expect("mint");
    let access = SecretString::from(grant.access_token);
    let post = request("target-7", "accepted, unanswered", &[]);

    sim.handle
        .update_knobs(KnobsUpdate {
            accept_then_stall_rate: Some(1.0),
            stall_ms: Some(10_000),
            ..KnobsUpdate::default()
        })
        .expect("knobs");
    let unsure = adapter
        .publish(&account(&access, None), &post)
        .await
        .expect_err("the answer never came");
    assert!(
        matches!(unsure, AdapterError::OutcomeUnknown { .. }),
        "{unsure:?}"
    );
    let found = adapter
        .find_published(&account(&access, None), &post)
        .await
        .expect("lookup")
        .expect("the platform has it");

    sim.handle
        .update_knobs(KnobsUpdate {
            accept_then_stall_rate: Some(0.0),
            ..KnobsUpdate::default()
        })
        .expect("knobs");
    let retried = adapter
        .publish(&account(&access, None), &post)
        .await
        .expect("retry");
    assert_eq!(retried, found);
    assert_eq!(sim.handle.post_count(), 1);
}
