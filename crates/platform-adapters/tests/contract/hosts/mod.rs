//! User-chosen hosts (Mastodon instances, Bluesky services): `[platforms]
//! allow_private_instances` is the one switch, and without it a host on a private address is
//! refused whether it is written as an IP literal or resolves to one, as a permanent
//! configuration error that names the setting (never a transient 502 to retry).

use domain::Platform;
use platform_adapters::{AccountRef, AdapterError, PlatformsConfig, Registry};
use serde_json::json;
use wiremock::{matchers::any, Mock, MockServer, ResponseTemplate};

use crate::support::secret;

fn registry() -> Registry {
    Registry::from_config(
        platform_adapters::http::client(),
        &PlatformsConfig::default(),
    )
    .expect("registry")
}

fn account<'a>(token: &'a secrecy::SecretString, instance: &'a str) -> AccountRef<'a> {
    AccountRef {
        platform_account_id: "14715",
        access_token: token,
        refresh_token: None,
        instance_url: Some(instance),
    }
}

/// A server that must not be called.
async fn untouchable() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .expect(0)
        .mount(&server)
        .await;
    server
}

fn assert_refused_permanently(result: Result<impl std::fmt::Debug, AdapterError>) {
    match result {
        Err(err @ AdapterError::Rejected { .. }) => {
            let AdapterError::Rejected { code, message } = &err else {
                unreachable!()
            };
            assert_eq!(code, "instance_not_allowed");
            assert!(
                message.contains("allow_private_instances"),
                "the refusal names the setting: {message}"
            );
            assert!(!err.is_retryable());
        }
        other => panic!("expected a permanent instance_not_allowed refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn a_mastodon_instance_written_as_a_private_ip_literal_is_refused_before_any_request() {
    let server = untouchable().await;
    let token = secret("token");
    let instance = server.uri();
    let result = match registry().for_publishing(Platform::Mastodon, Some(&instance)) {
        Ok(adapter) => adapter.profile_and_stats(&account(&token, &instance)).await,
        Err(err) => Err(err),
    };
    assert_refused_permanently(result);
}

#[tokio::test]
async fn a_mastodon_instance_whose_name_resolves_to_a_private_address_is_refused_permanently() {
    let server = untouchable().await;
    let token = secret("token");
    let instance = server.uri().replace("127.0.0.1", "localhost");
    let result = match registry().for_publishing(Platform::Mastodon, Some(&instance)) {
        Ok(adapter) => adapter.profile_and_stats(&account(&token, &instance)).await,
        Err(err) => Err(err),
    };
    assert_refused_permanently(result);
}

#[tokio::test]
async fn a_bluesky_service_written_as_a_private_ip_literal_is_refused_before_any_request() {
    let server = untouchable().await;
    let token = secret("token");
    let service = server.uri();
    let result = match registry().for_publishing(Platform::Bluesky, Some(&service)) {
        Ok(adapter) => adapter.profile_and_stats(&account(&token, &service)).await,
        Err(err) => Err(err),
    };
    assert_refused_permanently(result);
}

fn allowing_private() -> Registry {
    let config = PlatformsConfig {
        allow_private_instances: true,
        ..PlatformsConfig::default()
    };
    Registry::from_config(platform_adapters::http::client(), &config).expect("registry")
}

#[tokio::test]
async fn with_private_instances_allowed_a_mastodon_instance_on_loopback_is_reached_by_ip_and_by_name(
) {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::path(
        "/api/v1/accounts/verify_credentials",
    ))
    .respond_with(ResponseTemplate::new(200).set_body_json(json!({
        "id": "14715", "username": "trwnh", "acct": "trwnh", "display_name": "t",
        "url": "https://mastodon.example/@trwnh", "avatar": "https://mastodon.example/a.png",
        "followers_count": 821, "following_count": 178, "statuses_count": 33120
    })))
    .expect(2)
    .mount(&server)
    .await;
    let token = secret("token");
    let registry = allowing_private();
    for instance in [server.uri(), server.uri().replace("127.0.0.1", "localhost")] {
        let adapter = registry
            .for_publishing(Platform::Mastodon, Some(&instance))
            .expect("allowed");
        let (_, stats) = adapter
            .profile_and_stats(&account(&token, &instance))
            .await
            .expect("reached");
        assert_eq!(stats.followers_count, Some(821));
    }
}

#[test]
fn allow_private_instances_is_one_setting_of_the_platforms_table_beside_the_platform_tables() {
    let config: PlatformsConfig = serde_json::from_value(json!({
        "allow_private_instances": "true",
        "sandbox": {"client_id": "id", "client_secret": "secret"}
    }))
    .expect("parses");
    assert!(
        config.allow_private_instances,
        "an environment variable arrives as text"
    );
    assert!(config.platforms.contains_key("sandbox"));
    let registry =
        Registry::from_config(platform_adapters::http::client(), &config).expect("registry");
    assert!(registry.host_policy().allow_private);
    assert!(registry.is_configured(Platform::Sandbox));
}

#[tokio::test]
async fn an_http_instance_is_kept_only_where_private_instances_are_allowed() {
    use platform_adapters::{hosts::HostPolicy, platforms::mastodon};
    let allowed = HostPolicy {
        allow_private: true,
    };
    assert_eq!(
        mastodon::normalize_instance_with("http://127.0.0.1:8080/", allowed),
        Ok("http://127.0.0.1:8080".to_owned())
    );
    assert_eq!(
        mastodon::normalize_instance_with("http://mastodon.social", HostPolicy::default()),
        Ok("https://mastodon.social".to_owned())
    );
    let refused = registry()
        .normalize_host("http://127.0.0.1:8080")
        .await
        .expect_err("a loopback instance without the setting");
    assert!(
        matches!(&refused, platform_adapters::AdapterError::Rejected { code, .. } if code == "instance_not_allowed"),
        "{refused:?}"
    );
}

fn with_roots(paths: &[String]) -> Result<Registry, String> {
    let config = PlatformsConfig {
        extra_root_certificates: paths.to_vec(),
        ..PlatformsConfig::default()
    };
    Registry::from_config(platform_adapters::http::client(), &config)
}

#[test]
fn extra_root_certificates_are_read_at_start_and_a_bad_one_is_a_configuration_error() {
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/contract/hosts/test-ca.pem"
    );
    assert!(
        with_roots(&[fixture.to_owned()]).is_ok(),
        "a PEM certificate authority is trusted"
    );
    let missing = with_roots(&["/nonexistent/ca.pem".to_owned()]).expect_err("missing file");
    assert!(
        missing.contains("platforms.extra_root_certificates")
            && missing.contains("/nonexistent/ca.pem"),
        "{missing}"
    );
    let not_pem = with_roots(&[concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml").to_owned()])
        .expect_err("not a certificate");
    assert!(
        not_pem.contains("platforms.extra_root_certificates"),
        "{not_pem}"
    );
}

#[tokio::test]
async fn mastodon_url_settings_point_every_instance_at_a_test_server() {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::path(
        "/api/v1/accounts/verify_credentials",
    ))
    .respond_with(ResponseTemplate::new(200).set_body_json(json!({
        "id": "14715", "username": "trwnh", "acct": "trwnh",
        "followers_count": 821, "following_count": 178, "statuses_count": 33120
    })))
    .expect(1)
    .mount(&server)
    .await;
    let mut config = PlatformsConfig::default();
    config.set(
        Platform::Mastodon,
        serde_json::from_value(json!({ "api_base": server.uri() })).expect("table"),
    );
    let registry =
        Registry::from_config(platform_adapters::http::client(), &config).expect("registry");
    let token = secret("token");
    let instance = "https://mastodon.example";

    let (_, stats) = registry
        .for_account(Platform::Mastodon, Some(instance), None)
        .expect("adapter")
        .profile_and_stats(&account(&token, instance))
        .await
        .expect("answered by the test server");

    assert_eq!(stats.posts_count, Some(33120));
}
