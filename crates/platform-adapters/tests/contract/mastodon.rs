//! Mastodon: instance normalization, the SSRF guard, per-instance app registration and the
//! OAuth flow with PKCE, against fixtures shaped like docs.joinmastodon.org's entities.

use std::time::Duration;

use domain::{AccountKind, AuthKind};
use platform_adapters::{
    platforms::mastodon::{self, MastodonAdapter},
    AccountRef, AdapterError, AuthorizeParams, ClientCredentials, CodeExchange, PlatformAdapter,
    Revocation,
};
use secrecy::ExposeSecret;
use serde_json::{json, Value};
use wiremock::{
    matchers::{any, header, method, path},
    Mock, MockServer, ResponseTemplate,
};

use crate::support::{credentials, query_of, secret, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI};

const SCOPES: &str = "read:accounts write:statuses write:media";
const FORM: &str = "application/x-www-form-urlencoded";

use crate::support::form_is as form;

fn adapter(server: &MockServer) -> MastodonAdapter {
    MastodonAdapter::for_instance(
        platform_adapters::http::client(),
        server.uri(),
        credentials(),
    )
}

/// `host:port` of the wiremock server: the domain part of handles and account ids.
fn authority(server: &MockServer) -> String {
    server.address().to_string()
}

/// `CredentialApplication`, as `POST /api/v1/apps` answers.
fn credential_application(client_id: &str, client_secret: &str) -> Value {
    json!({
        "id": "563419",
        "name": "Postbridge",
        "website": null,
        "scopes": ["read:accounts", "write:statuses", "write:media"],
        "redirect_uri": REDIRECT_URI,
        "redirect_uris": [REDIRECT_URI],
        "vapid_key": "BCk-QqERU0q-CfYZjcuB6lnyyOYfJ2AifKqfeGIm7Z-HiTU5T9eTG5GxVA0_OH5mMlI4UkkDTpaZwozy0TzdZ2M=",
        "client_id": client_id,
        "client_secret": client_secret,
        "client_secret_expires_at": 0
    })
}

/// `CredentialAccount` of `GET /api/v1/accounts/verify_credentials`.
fn credential_account() -> Value {
    json!({
        "id": "14715",
        "username": "trwnh",
        "acct": "trwnh",
        "display_name": "infinite love ⴳ",
        "locked": false,
        "bot": false,
        "discoverable": true,
        "group": false,
        "created_at": "2016-11-24T00:00:00.000Z",
        "note": "<p>writing about bridges</p>",
        "url": "https://mastodon.social/@trwnh",
        "uri": "https://mastodon.social/users/trwnh",
        "avatar": "https://files.mastodon.social/accounts/avatars/000/014/715/original/34aa222f4ae2e0a9.png",
        "avatar_static": "https://files.mastodon.social/accounts/avatars/000/014/715/original/34aa222f4ae2e0a9.png",
        "header": "https://files.mastodon.social/accounts/headers/000/014/715/original/5c6fc24edb3bb873.jpg",
        "header_static": "https://files.mastodon.social/accounts/headers/000/014/715/original/5c6fc24edb3bb873.jpg",
        "followers_count": 821,
        "following_count": 178,
        "statuses_count": 33120,
        "last_status_at": "2019-11-24",
        "source": {"privacy": "public", "sensitive": false, "language": "", "note": "writing about bridges", "fields": [], "follow_requests_count": 0},
        "emojis": [],
        "fields": []
    })
}

fn account_ref<'a>(token: &'a secrecy::SecretString, instance: Option<&'a str>) -> AccountRef<'a> {
    AccountRef {
        platform_account_id: "14715@example",
        access_token: token,
        refresh_token: None,
        instance_url: instance,
    }
}

async fn mount_verify_credentials(server: &MockServer, token: &str, response: ResponseTemplate) {
    Mock::given(method("GET"))
        .and(path("/api/v1/accounts/verify_credentials"))
        .and(header("authorization", format!("Bearer {token}").as_str()))
        .respond_with(response)
        .expect(1)
        .mount(server)
        .await;
}

#[test]
fn descriptor_states_per_instance_oauth_with_pkce_and_tokens_that_do_not_expire() {
    let d = mastodon::descriptor();
    assert_eq!(d.auth_kind, AuthKind::Oauth2PerInstance);
    assert!(d.pkce);
    assert_eq!(d.access_token_lifetime, None);
    assert!(!d.refresh_token_rotates);
    assert_eq!(d.capabilities.text_limit, 500);
    assert_eq!(d.capabilities.max_media, 4);
    assert_eq!(d.scopes.join(" "), SCOPES);
}

#[test]
fn instance_names_are_normalized_to_https_origins() {
    let table = [
        ("mastodon.social", "https://mastodon.social"),
        ("https://mastodon.social/", "https://mastodon.social"),
        ("  HTTPS://Mastodon.Social  ", "https://mastodon.social"),
        ("http://mastodon.social", "https://mastodon.social"),
        (
            "https://mastodon.social/@Gargron?tab=posts#top",
            "https://mastodon.social",
        ),
        ("@Gargron@mastodon.social", "https://mastodon.social"),
        ("Gargron@Mastodon.Social", "https://mastodon.social"),
        ("mastodon.social.", "https://mastodon.social"),
        ("social.example:8443", "https://social.example:8443"),
        ("https://social.example:443/", "https://social.example"),
        ("bücher.example", "https://xn--bcher-kva.example"),
        // IP literals are well-formed; the SSRF guard decides whether they are allowed.
        ("127.0.0.1:3000", "https://127.0.0.1:3000"),
        ("[::1]", "https://[::1]"),
    ];
    for (input, expected) in table {
        assert_eq!(
            mastodon::normalize_instance(input).as_deref(),
            Ok(expected),
            "input {input:?}"
        );
    }
}

#[test]
fn garbage_is_not_an_instance() {
    let garbage = [
        "",
        "   ",
        "not an instance",
        "mastodon",
        "localhost",
        "ftp://mastodon.social",
        "javascript:alert(1)",
        "https://",
        "https://user:secret@mastodon.social",
        "@Gargron",
        "@Gargron@",
        "a@b@mastodon.social",
        "https://mastodon.social:99999",
        "-bad-.example",
        "mastodon..social",
    ];
    for input in garbage {
        let err = mastodon::normalize_instance(input).expect_err(input);
        assert!(
            matches!(&err, AdapterError::Rejected { code, .. } if code == "invalid_instance"),
            "{input:?}: {err:?}"
        );
    }
}

#[tokio::test]
async fn loopback_and_private_instances_are_refused_unless_allowed() {
    let refused = [
        "https://127.0.0.1",
        "https://127.8.9.10:8443",
        "https://10.0.0.8",
        "https://172.20.1.1",
        "https://192.168.1.10",
        "https://100.64.1.1",
        "https://169.254.169.254",
        "https://0.0.0.0",
        "https://[::1]",
        "https://[fd12:3456::1]",
        "https://[fe80::1]",
        "https://[::ffff:10.0.0.1]",
        "https://localhost",
    ];
    for origin in refused {
        let err = mastodon::resolve_public(origin, false)
            .await
            .expect_err(origin);
        let AdapterError::Rejected { code, message } = &err else {
            panic!("{origin}: {err:?}")
        };
        assert_eq!(code, "instance_not_allowed", "{origin}");
        assert!(message.contains("public"), "{origin}: {message}");
        assert_eq!(
            mastodon::resolve_public(origin, true).await,
            Ok(()),
            "{origin} allowed for tests"
        );
    }
    assert_eq!(
        mastodon::resolve_public("https://8.8.8.8", false).await,
        Ok(())
    );
    let server = MockServer::start().await;
    assert_eq!(mastodon::resolve_public(&server.uri(), true).await, Ok(()));
}

#[tokio::test]
async fn registers_an_app_per_instance() {
    let (first, second) = (MockServer::start().await, MockServer::start().await);
    for (server, id) in [(&first, "first-id"), (&second, "second-id")] {
        Mock::given(method("POST"))
            .and(path("/api/v1/apps"))
            .and(header("content-type", FORM))
            .and(form(&[
                ("client_name", "Postbridge"),
                ("redirect_uris", REDIRECT_URI),
                ("scopes", SCOPES),
            ]))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(credential_application(id, &format!("{id}-secret"))),
            )
            .expect(1)
            .mount(server)
            .await;
    }
    let http = platform_adapters::http::client();

    let a = mastodon::register_app(&http, &first.uri(), REDIRECT_URI, SCOPES)
        .await
        .expect("first app");
    let b = mastodon::register_app(&http, &format!("{}/", second.uri()), REDIRECT_URI, SCOPES)
        .await
        .expect("second app");

    assert_eq!(
        (a.client_id.as_str(), a.client_secret.expose_secret()),
        ("first-id", "first-id-secret")
    );
    assert_eq!(
        (b.client_id.as_str(), b.client_secret.expose_secret()),
        ("second-id", "second-id-secret")
    );
    assert!(
        !format!("{a:?}").contains("first-id-secret"),
        "the secret never prints"
    );
}

#[tokio::test]
async fn authorize_url_carries_state_scopes_and_an_s256_challenge() {
    let server = MockServer::start().await;
    let params = AuthorizeParams {
        state: "opaque-state",
        pkce_challenge: Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"),
        redirect_uri: REDIRECT_URI,
    };

    let url = adapter(&server).authorize_url(&params).expect("url");

    assert!(
        url.starts_with(&format!("{}/oauth/authorize?", server.uri())),
        "{url}"
    );
    let expected: Vec<(String, String)> = [
        ("response_type", "code"),
        ("client_id", CLIENT_ID),
        ("redirect_uri", REDIRECT_URI),
        ("scope", SCOPES),
        ("state", "opaque-state"),
        (
            "code_challenge",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        ),
        ("code_challenge_method", "S256"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    assert_eq!(query_of(&url), expected);
}

#[tokio::test]
async fn exchange_reads_the_token_and_verify_credentials() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(header("content-type", FORM))
        .and(form(&[
            ("grant_type", "authorization_code"),
            ("code", "the-code"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("redirect_uri", REDIRECT_URI),
            ("scope", SCOPES),
            ("code_verifier", "the-verifier"),
        ]))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "ZA-Yj3aBD8U8Cm7lKUp-lm9O9BmDgdhHzDeqsY8tlL0",
            "token_type": "Bearer",
            "scope": SCOPES,
            "created_at": 1573979017
        })))
        .expect(1)
        .mount(&server)
        .await;
    mount_verify_credentials(
        &server,
        "ZA-Yj3aBD8U8Cm7lKUp-lm9O9BmDgdhHzDeqsY8tlL0",
        ResponseTemplate::new(200).set_body_json(credential_account()),
    )
    .await;
    let exchange = CodeExchange {
        code: "the-code",
        pkce_verifier: Some("the-verifier"),
        redirect_uri: REDIRECT_URI,
    };

    let mut connections = adapter(&server)
        .exchange_code(&exchange)
        .await
        .expect("connected");

    assert_eq!(connections.len(), 1);
    let connection = connections.pop().expect("one connection");
    let host = authority(&server);
    let profile = &connection.profile;
    assert_eq!(
        profile.platform_account_id,
        format!("14715@{host}"),
        "ids are only unique per instance"
    );
    assert_eq!(profile.account_kind, Some(AccountKind::Profile));
    assert_eq!(
        profile.handle.as_deref(),
        Some(format!("trwnh@{host}").as_str())
    );
    assert_eq!(profile.display_name.as_deref(), Some("infinite love ⴳ"));
    assert_eq!(profile.avatar_url.as_deref(), Some("https://files.mastodon.social/accounts/avatars/000/014/715/original/34aa222f4ae2e0a9.png"));
    assert_eq!(
        profile.profile_url.as_deref(),
        Some("https://mastodon.social/@trwnh")
    );
    let stats = connection.stats.expect("stats");
    assert_eq!(
        (
            stats.followers_count,
            stats.following_count,
            stats.posts_count
        ),
        (Some(821), Some(178), Some(33120))
    );
    let tokens = &connection.tokens;
    assert_eq!(
        tokens.access_token.expose_secret(),
        "ZA-Yj3aBD8U8Cm7lKUp-lm9O9BmDgdhHzDeqsY8tlL0"
    );
    assert!(tokens.refresh_token.is_none());
    assert_eq!(tokens.expires_at, None, "Mastodon tokens do not expire");
    assert_eq!(
        tokens.scopes,
        vec!["read:accounts", "write:statuses", "write:media"]
    );
}

#[tokio::test]
async fn an_unknown_app_means_registering_again() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "error": "invalid_client",
            "error_description": "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method."
        })))
        .expect(1)
        .mount(&server)
        .await;
    let exchange = CodeExchange {
        code: "the-code",
        pkce_verifier: Some("v"),
        redirect_uri: REDIRECT_URI,
    };

    let err = adapter(&server)
        .exchange_code(&exchange)
        .await
        .expect_err("unknown client");

    assert!(
        matches!(&err, AdapterError::Rejected { code, .. } if code == "invalid_client"),
        "{err:?}"
    );
}

#[tokio::test]
async fn revoke_posts_the_token_with_the_app_credentials() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/revoke"))
        .and(header("content-type", FORM))
        .and(form(&[
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("token", "user-token"),
        ]))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .expect(1)
        .mount(&server)
        .await;
    let token = secret("user-token");
    let instance = server.uri();

    let revocation = adapter(&server)
        .revoke(&account_ref(&token, Some(&instance)))
        .await
        .expect("revoked");

    assert_eq!(revocation, Revocation::Revoked);
}

#[tokio::test]
async fn a_token_is_never_sent_to_another_instance() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&server)
        .await;
    let token = secret("user-token");
    let adapter = adapter(&server);
    let elsewhere = account_ref(&token, Some("https://other.example"));

    for err in [
        adapter.profile(&elsewhere).await.expect_err("profile"),
        adapter
            .stats(&elsewhere)
            .await
            .map(|_| ())
            .expect_err("stats"),
        adapter
            .revoke(&elsewhere)
            .await
            .map(|_| ())
            .expect_err("revoke"),
    ]
    .map(|e| match e {
        AdapterError::Rejected { code, .. } => code,
        other => format!("{other:?}"),
    }) {
        assert_eq!(err, "wrong_instance");
    }
}

#[tokio::test]
async fn unauthorized_means_needs_reauth() {
    let server = MockServer::start().await;
    mount_verify_credentials(
        &server,
        "revoked-token",
        ResponseTemplate::new(401).set_body_json(json!({"error": "The access token is invalid"})),
    )
    .await;
    let token = secret("revoked-token");

    let err = adapter(&server)
        .profile(&account_ref(&token, None))
        .await
        .expect_err("revoked");

    assert!(
        matches!(&err, AdapterError::NeedsReauth { message } if message.contains("access token is invalid")),
        "{err:?}"
    );
}

#[tokio::test]
async fn rate_limited_with_retry_after() {
    let server = MockServer::start().await;
    mount_verify_credentials(
        &server,
        "token",
        ResponseTemplate::new(429)
            .insert_header("retry-after", "60")
            .set_body_json(json!({"error": "Too many requests"})),
    )
    .await;
    let token = secret("token");

    let err = adapter(&server)
        .stats(&account_ref(&token, None))
        .await
        .expect_err("rate limited");

    assert_eq!(
        err,
        AdapterError::RateLimited {
            retry_after: Some(Duration::from_secs(60))
        }
    );
}

#[tokio::test]
async fn rate_limited_until_the_iso_reset_time_without_retry_after() {
    let server = MockServer::start().await;
    let reset = (chrono::Utc::now() + chrono::Duration::seconds(120))
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    mount_verify_credentials(
        &server,
        "token",
        ResponseTemplate::new(429)
            .insert_header("x-ratelimit-limit", "300")
            .insert_header("x-ratelimit-remaining", "0")
            .insert_header("x-ratelimit-reset", reset.as_str())
            .set_body_json(json!({"error": "Too many requests"})),
    )
    .await;
    let token = secret("token");

    let err = adapter(&server)
        .profile(&account_ref(&token, None))
        .await
        .expect_err("rate limited");

    let AdapterError::RateLimited {
        retry_after: Some(wait),
    } = err
    else {
        panic!("expected a wait, got {err:?}")
    };
    assert!(
        (Duration::from_secs(115)..=Duration::from_secs(120)).contains(&wait),
        "{wait:?}"
    );
}

#[tokio::test]
async fn server_errors_are_transient() {
    let server = MockServer::start().await;
    mount_verify_credentials(
        &server,
        "token",
        ResponseTemplate::new(503).set_body_json(json!({"error": "Service Unavailable"})),
    )
    .await;
    let token = secret("token");

    let err = adapter(&server)
        .profile(&account_ref(&token, None))
        .await
        .expect_err("down");

    assert!(
        matches!(&err, AdapterError::Transient { message } if message.contains("503")),
        "{err:?}"
    );
}

#[test]
fn app_credentials_are_kept_per_adapter() {
    let adapter = MastodonAdapter::for_instance(
        platform_adapters::http::client(),
        "https://mastodon.social/".into(),
        ClientCredentials {
            client_id: "id".into(),
            client_secret: secret("s"),
        },
    );
    assert_eq!(adapter.instance_origin(), "https://mastodon.social");
    assert_eq!(
        mastodon::default_endpoints().token_url,
        "https://mastodon.social/oauth/token"
    );
}
