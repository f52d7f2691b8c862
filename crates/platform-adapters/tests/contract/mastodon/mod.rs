//! Mastodon: instance normalization, the SSRF guard, per-instance app registration, the
//! OAuth flow with PKCE, publishing (media uploads with background processing, statuses with an
//! `Idempotency-Key`) and instance limits, against fixtures shaped like docs.joinmastodon.org's
//! entities.

mod follow_ups;
mod replies;

use std::time::Duration;

use domain::{AccountKind, AuthKind};
use platform_adapters::{
    platforms::mastodon::{self, InstanceLimits, MastodonAdapter, MediaPolling},
    AccountRef, AdapterError, AuthorizeParams, ClientCredentials, CodeExchange, PlatformAdapter,
    PostOptions, PublishRequest, Published, Revocation,
};
use secrecy::ExposeSecret;
use serde_json::{json, Value};
use wiremock::{
    matchers::{any, body_json, header, method, path},
    Mock, MockServer, Request, ResponseTemplate,
};

use crate::support::{
    credentials, image, no_options, post, query_of, secret, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI,
};

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
        let err = platform_adapters::hosts::resolve_public(origin, false)
            .await
            .expect_err(origin);
        let AdapterError::Rejected { code, message } = &err else {
            panic!("{origin}: {err:?}")
        };
        assert_eq!(code, "instance_not_allowed", "{origin}");
        assert!(message.contains("public"), "{origin}: {message}");
        assert_eq!(
            platform_adapters::hosts::resolve_public(origin, true).await,
            Ok(()),
            "{origin} allowed for tests"
        );
    }
    assert_eq!(
        platform_adapters::hosts::resolve_public("https://8.8.8.8", false).await,
        Ok(())
    );
    let server = MockServer::start().await;
    assert_eq!(
        platform_adapters::hosts::resolve_public(&server.uri(), true).await,
        Ok(())
    );
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

// Publishing.

/// The idempotency key `support::post` publishes with.
const KEY: &str = "0b7c6a3e-5f1d-4c2b-9a8e-7d6f5e4c3b2a";

/// A publishing adapter (no app credentials) that polls background processing quickly.
fn publisher(server: &MockServer) -> MastodonAdapter {
    MastodonAdapter::for_publishing(platform_adapters::http::client(), server.uri())
        .with_media_polling(MediaPolling {
            interval: Duration::from_millis(10),
            attempts: 5,
        })
}

/// `Status`, as `POST /api/v1/statuses` answers.
fn status(id: &str, text: &str, visibility: &str, media: Value) -> Value {
    json!({
        "id": id,
        "created_at": "2024-11-22T06:29:00.000Z",
        "in_reply_to_id": null,
        "in_reply_to_account_id": null,
        "sensitive": false,
        "spoiler_text": "",
        "visibility": visibility,
        "language": "en",
        "uri": format!("https://mastodon.social/users/trwnh/statuses/{id}"),
        "url": format!("https://mastodon.social/@trwnh/{id}"),
        "replies_count": 0,
        "reblogs_count": 0,
        "favourites_count": 0,
        "edited_at": null,
        "content": format!("<p>{text}</p>"),
        "reblog": null,
        "application": {"name": "Postbridge", "website": null},
        "account": credential_account(),
        "media_attachments": media,
        "mentions": [],
        "tags": [],
        "emojis": [],
        "card": null,
        "poll": null
    })
}

/// `MediaAttachment`; `url` is null while the instance is still processing the file.
fn attachment(id: &str, processed: bool) -> Value {
    let url = processed.then(|| {
        format!(
            "https://files.mastodon.social/media_attachments/files/022/348/641/original/{id}.jpeg"
        )
    });
    json!({
        "id": id,
        "type": "image",
        "url": url,
        "preview_url": format!("https://files.mastodon.social/media_attachments/files/022/348/641/small/{id}.jpeg"),
        "remote_url": null,
        "text_url": null,
        "meta": {
            "original": {"width": 1080, "height": 1080, "size": "1080x1080", "aspect": 1.0},
            "small": {"width": 400, "height": 400, "size": "400x400", "aspect": 1.0}
        },
        "description": "a test picture",
        "blurhash": "UFBWY:8_0Jxv4mx]t8t64.%M-:IUWGWAt6M}"
    })
}

async fn mount_status(server: &MockServer, body: Value, response: ResponseTemplate, times: u64) {
    Mock::given(method("POST"))
        .and(path("/api/v1/statuses"))
        .and(header("authorization", "Bearer user-token"))
        .and(header("idempotency-key", KEY))
        .and(header("content-type", "application/json"))
        .and(body_json(body))
        .respond_with(response)
        .expect(times)
        .mount(server)
        .await;
}

async fn mount_upload(server: &MockServer, response: ResponseTemplate, times: u64) {
    Mock::given(method("POST"))
        .and(path("/api/v2/media"))
        .and(header("authorization", "Bearer user-token"))
        .respond_with(response)
        .expect(times)
        .mount(server)
        .await;
}

async fn publish(
    adapter: &MastodonAdapter,
    server: &MockServer,
    request: &PublishRequest<'_>,
) -> Result<Published, AdapterError> {
    let token = secret("user-token");
    let instance = server.uri();
    adapter
        .publish(&account_ref(&token, Some(&instance)), request)
        .await
}

#[tokio::test]
async fn a_status_is_posted_with_the_idempotency_key_and_public_visibility_by_default() {
    let server = MockServer::start().await;
    mount_status(
        &server,
        json!({"status": "Hello, fediverse!", "visibility": "public"}),
        ResponseTemplate::new(200).set_body_json(status(
            "103704874086360371",
            "Hello, fediverse!",
            "public",
            json!([]),
        )),
        1,
    )
    .await;

    let published = publish(
        &publisher(&server),
        &server,
        &post("Hello, fediverse!", &[], no_options()),
    )
    .await
    .expect("published");

    assert_eq!(
        published,
        Published {
            platform_post_id: "103704874086360371".into(),
            url: Some("https://mastodon.social/@trwnh/103704874086360371".into()),
        }
    );
}

#[tokio::test]
async fn a_repeated_publish_sends_the_same_idempotency_key_so_the_instance_answers_the_same_status()
{
    let server = MockServer::start().await;
    mount_status(
        &server,
        json!({"status": "once", "visibility": "public"}),
        ResponseTemplate::new(200).set_body_json(status("1", "once", "public", json!([]))),
        2,
    )
    .await;
    let adapter = publisher(&server);
    let request = post("once", &[], no_options());

    let first = publish(&adapter, &server, &request).await.expect("first");
    let again = publish(&adapter, &server, &request).await.expect("again");

    assert_eq!(first, again);
}

#[tokio::test]
async fn visibility_comes_from_the_privacy_option() {
    let server = MockServer::start().await;
    mount_status(
        &server,
        json!({"status": "followers only", "visibility": "private"}),
        ResponseTemplate::new(200).set_body_json(status(
            "2",
            "followers only",
            "private",
            json!([]),
        )),
        1,
    )
    .await;
    let options = PostOptions {
        privacy: Some("Private".into()),
        ..PostOptions::default()
    };

    publish(
        &publisher(&server),
        &server,
        &post("followers only", &[], &options),
    )
    .await
    .expect("published");
}

#[tokio::test]
async fn an_unknown_visibility_is_rejected_before_any_request() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&server)
        .await;
    let options = PostOptions {
        privacy: Some("PUBLIC_TO_EVERYONE".into()),
        ..PostOptions::default()
    };
    let media = [image(&server.uri())];

    let err = publish(&publisher(&server), &server, &post("x", &media, &options))
        .await
        .expect_err("rejected");

    assert!(
        matches!(&err, AdapterError::Rejected { code, .. } if code == "invalid_visibility"),
        "{err:?}"
    );
}

/// The multipart parts of a request body, as (headers, content) per part.
fn multipart_parts(request: &Request) -> Vec<(String, Vec<u8>)> {
    let content_type = request
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .expect("a content type");
    let boundary = content_type
        .split("boundary=")
        .nth(1)
        .expect("multipart/form-data with a boundary");
    let delimiter = format!("--{boundary}");
    let body = &request.body;
    let mut parts = Vec::new();
    let mut rest: &[u8] = body;
    while let Some(start) = find(rest, delimiter.as_bytes()) {
        rest = &rest[start + delimiter.len()..];
        if rest.starts_with(b"--") {
            break;
        }
        let end = find(rest, delimiter.as_bytes()).expect("a closing delimiter");
        let part = &rest[..end];
        let split = find(part, b"\r\n\r\n").expect("part headers");
        let headers = String::from_utf8_lossy(&part[..split]).trim().to_owned();
        let content = part[split + 4..part.len() - 2].to_vec();
        parts.push((headers, content));
        rest = &rest[end..];
    }
    parts
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[tokio::test]
async fn media_is_uploaded_with_its_description_and_attached_to_the_status() {
    let server = MockServer::start().await;
    mount_upload(
        &server,
        ResponseTemplate::new(200).set_body_json(attachment("22348641", true)),
        1,
    )
    .await;
    mount_status(
        &server,
        json!({"status": "with a picture", "media_ids": ["22348641"], "visibility": "public"}),
        ResponseTemplate::new(200).set_body_json(status(
            "3",
            "with a picture",
            "public",
            json!([attachment("22348641", true)]),
        )),
        1,
    )
    .await;
    let item = image(&server.uri());
    let media = [item.clone()];

    publish(
        &publisher(&server),
        &server,
        &post("with a picture", &media, no_options()),
    )
    .await
    .expect("published");

    let requests = server.received_requests().await.expect("recording");
    let upload = requests
        .iter()
        .find(|r| r.url.path() == "/api/v2/media")
        .expect("an upload");
    let parts = multipart_parts(upload);
    assert_eq!(parts.len(), 2, "file and description");
    let (file_headers, file) = &parts[0];
    assert!(file_headers.contains(r#"name="file""#), "{file_headers}");
    assert!(
        file_headers.contains(&format!(r#"filename="{}.jpg""#, item.id)),
        "{file_headers}"
    );
    assert!(
        file_headers
            .to_ascii_lowercase()
            .contains("content-type: image/jpeg"),
        "{file_headers}"
    );
    assert_eq!(file.as_slice(), &item.bytes[..]);
    let (description_headers, description) = &parts[1];
    assert!(
        description_headers.contains(r#"name="description""#),
        "{description_headers}"
    );
    assert_eq!(description.as_slice(), b"a test picture");
}

#[tokio::test]
async fn media_processed_in_the_background_is_polled_until_ready_before_posting() {
    let server = MockServer::start().await;
    mount_upload(
        &server,
        ResponseTemplate::new(202).set_body_json(attachment("22348642", false)),
        1,
    )
    .await;
    // First poll: still processing (206 Partial Content, `url` null); second: done.
    Mock::given(method("GET"))
        .and(path("/api/v1/media/22348642"))
        .and(header("authorization", "Bearer user-token"))
        .respond_with(ResponseTemplate::new(206).set_body_json(attachment("22348642", false)))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/media/22348642"))
        .and(header("authorization", "Bearer user-token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(attachment("22348642", true)))
        .expect(1)
        .mount(&server)
        .await;
    mount_status(
        &server,
        json!({"status": "a video", "media_ids": ["22348642"], "visibility": "public"}),
        ResponseTemplate::new(200).set_body_json(status(
            "4",
            "a video",
            "public",
            json!([attachment("22348642", true)]),
        )),
        1,
    )
    .await;
    let media = [image(&server.uri())];

    let published = publish(
        &publisher(&server),
        &server,
        &post("a video", &media, no_options()),
    )
    .await
    .expect("published");

    assert_eq!(published.platform_post_id, "4");
    let paths: Vec<String> = server
        .received_requests()
        .await
        .expect("recording")
        .iter()
        .map(|r| format!("{} {}", r.method, r.url.path()))
        .collect();
    assert_eq!(
        paths,
        [
            "POST /api/v2/media",
            "GET /api/v1/media/22348642",
            "GET /api/v1/media/22348642",
            "POST /api/v1/statuses"
        ]
    );
}

#[tokio::test]
async fn media_that_never_finishes_processing_is_transient_and_nothing_is_posted() {
    let server = MockServer::start().await;
    mount_upload(
        &server,
        ResponseTemplate::new(202).set_body_json(attachment("22348643", false)),
        1,
    )
    .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/media/22348643"))
        .respond_with(ResponseTemplate::new(206).set_body_json(attachment("22348643", false)))
        .expect(5)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v1/statuses"))
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&server)
        .await;
    let media = [image(&server.uri())];

    let err = publish(
        &publisher(&server),
        &server,
        &post("slow", &media, no_options()),
    )
    .await
    .expect_err("still processing");

    assert!(
        matches!(&err, AdapterError::Transient { message } if message.contains("22348643")),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_validation_failure_is_rejected_with_the_instances_sentence() {
    let server = MockServer::start().await;
    mount_status(
        &server,
        json!({"status": "far too long", "visibility": "public"}),
        ResponseTemplate::new(422).set_body_json(json!({
            "error": "Validation failed: Text character limit of 500 exceeded"
        })),
        1,
    )
    .await;

    let err = publish(
        &publisher(&server),
        &server,
        &post("far too long", &[], no_options()),
    )
    .await
    .expect_err("rejected");

    assert!(
        matches!(&err, AdapterError::Rejected { code, message } if code == "422" && message == "Validation failed: Text character limit of 500 exceeded"),
        "{err:?}"
    );
}

#[tokio::test]
async fn attachments_still_processing_at_posting_time_are_transient() {
    let server = MockServer::start().await;
    mount_upload(
        &server,
        ResponseTemplate::new(200).set_body_json(attachment("22348644", true)),
        1,
    )
    .await;
    mount_status(
        &server,
        json!({"status": "soon", "media_ids": ["22348644"], "visibility": "public"}),
        ResponseTemplate::new(422).set_body_json(json!({
            "error": "Cannot attach files that have not finished processing. Try again in a moment!"
        })),
        1,
    )
    .await;
    let media = [image(&server.uri())];

    let err = publish(
        &publisher(&server),
        &server,
        &post("soon", &media, no_options()),
    )
    .await
    .expect_err("not yet");

    assert!(matches!(err, AdapterError::Transient { .. }), "{err:?}");
}

#[tokio::test]
async fn a_revoked_token_on_publish_means_needs_reauth() {
    let server = MockServer::start().await;
    mount_status(
        &server,
        json!({"status": "hello", "visibility": "public"}),
        ResponseTemplate::new(401).set_body_json(json!({"error": "The access token is invalid"})),
        1,
    )
    .await;

    let err = publish(
        &publisher(&server),
        &server,
        &post("hello", &[], no_options()),
    )
    .await
    .expect_err("revoked");

    assert!(
        matches!(&err, AdapterError::NeedsReauth { message } if message.contains("access token is invalid")),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_rate_limited_publish_waits_until_the_iso_reset_time() {
    let server = MockServer::start().await;
    let reset = (chrono::Utc::now() + chrono::Duration::seconds(1800))
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    mount_status(
        &server,
        json!({"status": "hello", "visibility": "public"}),
        ResponseTemplate::new(429)
            .insert_header("x-ratelimit-limit", "300")
            .insert_header("x-ratelimit-remaining", "0")
            .insert_header("x-ratelimit-reset", reset.as_str())
            .set_body_json(json!({"error": "Too many requests"})),
        1,
    )
    .await;

    let err = publish(
        &publisher(&server),
        &server,
        &post("hello", &[], no_options()),
    )
    .await
    .expect_err("rate limited");

    let AdapterError::RateLimited {
        retry_after: Some(wait),
    } = err
    else {
        panic!("expected a wait, got {err:?}")
    };
    assert!(
        (Duration::from_secs(1795)..=Duration::from_secs(1800)).contains(&wait),
        "{wait:?}"
    );
}

#[tokio::test]
async fn a_status_create_that_gets_no_answer_in_time_leaves_the_outcome_unknown() {
    let server = MockServer::start().await;
    mount_status(
        &server,
        json!({"status": "hello", "visibility": "public"}),
        ResponseTemplate::new(200)
            .set_body_json(status("5", "hello", "public", json!([])))
            .set_delay(Duration::from_secs(2)),
        1,
    )
    .await;
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .expect("client");
    let adapter = MastodonAdapter::for_publishing(impatient, server.uri());

    let err = publish(&adapter, &server, &post("hello", &[], no_options()))
        .await
        .expect_err("no answer");

    assert!(
        matches!(err, AdapterError::OutcomeUnknown { .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn publishing_refuses_an_account_of_another_instance() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&server)
        .await;
    let token = secret("user-token");

    let err = publisher(&server)
        .publish(
            &account_ref(&token, Some("https://other.example")),
            &post("hello", &[], no_options()),
        )
        .await
        .expect_err("refused");

    assert!(
        matches!(&err, AdapterError::Rejected { code, .. } if code == "wrong_instance"),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_publishing_adapter_has_no_app_credentials_for_the_oauth_steps() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&server)
        .await;
    let adapter = publisher(&server);
    let token = secret("user-token");
    let instance = server.uri();

    let authorize = adapter
        .authorize_url(&AuthorizeParams {
            state: "state",
            pkce_challenge: None,
            redirect_uri: REDIRECT_URI,
        })
        .expect_err("no app");
    let exchange = adapter
        .exchange_code(&CodeExchange {
            code: "code",
            pkce_verifier: None,
            redirect_uri: REDIRECT_URI,
        })
        .await
        .map(|_| ())
        .expect_err("no app");
    let revoke = adapter
        .revoke(&account_ref(&token, Some(&instance)))
        .await
        .map(|_| ())
        .expect_err("no app");

    for err in [authorize, exchange, revoke] {
        assert!(
            matches!(&err, AdapterError::Unsupported { what } if what.contains("no app credentials")),
            "{err:?}"
        );
    }
}

#[tokio::test]
async fn mastodon_find_published_is_unsupported_because_the_idempotency_key_covers_repeats() {
    let server = MockServer::start().await;
    let token = secret("user-token");
    let instance = server.uri();

    let err = publisher(&server)
        .find_published(
            &account_ref(&token, Some(&instance)),
            &post("hello", &[], no_options()),
        )
        .await
        .expect_err("unsupported");

    assert!(matches!(err, AdapterError::Unsupported { .. }), "{err:?}");
}

// Instance limits.

/// `GET /api/v2/instance`, trimmed to what matters here, with the documented shape.
fn instance_v2(statuses: Value) -> Value {
    json!({
        "domain": "mastodon.example",
        "title": "Mastodon",
        "version": "4.3.2",
        "source_url": "https://github.com/mastodon/mastodon",
        "description": "An example instance",
        "usage": {"users": {"active_month": 123}},
        "thumbnail": {"url": "https://mastodon.example/packs/media/images/preview.png"},
        "languages": ["en"],
        "configuration": {
            "urls": {"streaming": "wss://mastodon.example"},
            "accounts": {"max_featured_tags": 10, "max_pinned_statuses": 5},
            "statuses": statuses,
            "media_attachments": {"image_size_limit": 16777216, "image_matrix_limit": 33177600, "video_size_limit": 103809024, "video_frame_rate_limit": 120, "video_matrix_limit": 8294400, "supported_mime_types": ["image/jpeg", "image/png"]},
            "polls": {"max_options": 4, "max_characters_per_option": 50, "min_expiration": 300, "max_expiration": 2629746},
            "translation": {"enabled": false}
        },
        "registrations": {"enabled": false, "approval_required": false, "message": null},
        "contact": {"email": "admin@mastodon.example", "account": null},
        "rules": []
    })
}

#[tokio::test]
async fn instance_limits_are_read_from_the_v2_instance_configuration() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/instance"))
        .respond_with(ResponseTemplate::new(200).set_body_json(instance_v2(json!({
            "max_characters": 5000,
            "max_media_attachments": 6,
            "characters_reserved_per_url": 23
        }))))
        .expect(1)
        .mount(&server)
        .await;

    let limits = mastodon::instance_limits(&platform_adapters::http::client(), &server.uri())
        .await
        .expect("limits");

    assert_eq!(
        limits,
        InstanceLimits {
            max_characters: 5000,
            max_media_attachments: 6,
            characters_reserved_per_url: 23,
        }
    );
}

#[tokio::test]
async fn missing_instance_limits_take_the_stock_defaults() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/instance"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(instance_v2(json!({"max_characters": 1000}))),
        )
        .expect(1)
        .mount(&server)
        .await;

    let limits = mastodon::instance_limits(&platform_adapters::http::client(), &server.uri())
        .await
        .expect("limits");

    assert_eq!(
        limits,
        InstanceLimits {
            max_characters: 1000,
            max_media_attachments: 4,
            characters_reserved_per_url: 23,
        }
    );
    assert_eq!(
        InstanceLimits::default(),
        InstanceLimits {
            max_characters: 500,
            max_media_attachments: 4,
            characters_reserved_per_url: 23,
        }
    );
}

#[tokio::test]
async fn instances_without_the_v2_description_are_read_from_v1() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/instance"))
        .respond_with(
            ResponseTemplate::new(404).set_body_json(json!({"error": "Record not found"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    // A Pleroma-style v1 description: the limit in `max_toot_chars`, no `configuration`.
    Mock::given(method("GET"))
        .and(path("/api/v1/instance"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "uri": "pleroma.example",
            "title": "Pleroma",
            "version": "2.7.2 (compatible; Pleroma 2.6.0)",
            "max_toot_chars": 5000
        })))
        .expect(1)
        .mount(&server)
        .await;

    let limits = mastodon::instance_limits(&platform_adapters::http::client(), &server.uri())
        .await
        .expect("limits");

    assert_eq!(
        limits,
        InstanceLimits {
            max_characters: 5000,
            ..InstanceLimits::default()
        }
    );
}

#[tokio::test]
async fn an_unreachable_instance_description_is_transient() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/instance"))
        .respond_with(ResponseTemplate::new(503))
        .expect(1)
        .mount(&server)
        .await;

    let err = mastodon::instance_limits(&platform_adapters::http::client(), &server.uri())
        .await
        .expect_err("down");

    assert!(matches!(err, AdapterError::Transient { .. }), "{err:?}");
}
