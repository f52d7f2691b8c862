//! Mastodon end to end against a fake instance answering with the shapes of
//! docs.joinmastodon.org: the gateway connects an account (app registration, instance limits,
//! OAuth with PKCE, `verify_credentials`), then the adapter the services build for that account
//! through `Registry::for_account` publishes a post with an image and revokes the token. The
//! instance is `http://127.0.0.1:…`, reachable only because `[platforms]
//! allow_private_instances` is set, as in any test against a local server.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers fail the test by panicking"
)]

#[path = "api/support.rs"]
#[allow(
    dead_code,
    reason = "shared with the api tests; this file uses part of it"
)]
mod support;

use db::domain::Platform;
use platform_adapters::{AccountRef, ClientCredentials, PlatformsConfig, Registry, Revocation};
use reqwest::StatusCode;
use secrecy::SecretString;
use serde_json::{json, Value};
use support::{param, spawn_app_with, FRONTEND};
use wiremock::{
    matchers::{body_string_contains, header, method, path},
    Mock, MockServer, ResponseTemplate,
};

const CLIENT_ID: &str = "TWhM-tNSuncnqN7DBJmoyeLnk6K3iJJ71KKXxgL1hPM";
const CLIENT_SECRET: &str = "ZEaFUFmF0umgBX1qKJDjaU99Q31lDkOU8NutzTOoliw";
const ACCESS_TOKEN: &str = "ZA-Yj3aBD8U8Cm7lKUp-lm9O9BmDgdhHzDeqsY8tlL0";

/// `CredentialApplication`, as `POST /api/v1/apps` answers.
fn application() -> Value {
    json!({
        "id": "563419",
        "name": "Postbridge",
        "website": null,
        "scopes": ["read:accounts", "write:statuses", "write:media"],
        "redirect_uri": "http://gateway.test/v1/oauth/mastodon/callback",
        "redirect_uris": ["http://gateway.test/v1/oauth/mastodon/callback"],
        "vapid_key": "BCk-QqERU0q-CfYZjcuB6lnyyOYfJ2AifKqfeGIm7Z-HiTU5T9eTG5GxVA0_OH5mMlI4UkkDTpaZwozy0TzdZ2M=",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "client_secret_expires_at": 0
    })
}

/// `CredentialAccount`, as `GET /api/v1/accounts/verify_credentials` answers.
fn credential_account(instance: &str) -> Value {
    json!({
        "id": "14715",
        "username": "trwnh",
        "acct": "trwnh",
        "display_name": "infinite love ⴳ",
        "locked": false,
        "bot": false,
        "created_at": "2016-11-24T00:00:00.000Z",
        "note": "<p>writing about bridges</p>",
        "url": format!("{instance}/@trwnh"),
        "avatar": format!("{instance}/avatars/original/missing.png"),
        "avatar_static": format!("{instance}/avatars/original/missing.png"),
        "header": format!("{instance}/headers/original/missing.png"),
        "header_static": format!("{instance}/headers/original/missing.png"),
        "followers_count": 821,
        "following_count": 178,
        "statuses_count": 33120,
        "last_status_at": "2019-11-24",
        "source": {"privacy": "public", "sensitive": false, "language": "", "note": "", "fields": [], "follow_requests_count": 0},
        "emojis": [],
        "fields": []
    })
}

/// `Instance` (v2), as `GET /api/v2/instance` answers: only the part Postbridge reads matters.
fn instance_v2() -> Value {
    json!({
        "domain": "mastodon.test",
        "title": "Mastodon",
        "version": "4.3.0",
        "configuration": {
            "urls": {"streaming": "wss://mastodon.test"},
            "statuses": {"max_characters": 1000, "max_media_attachments": 4, "characters_reserved_per_url": 23},
            "media_attachments": {"supported_mime_types": ["image/jpeg", "image/png"], "image_size_limit": 16777216}
        }
    })
}

/// `MediaAttachment`, processed (200), as `POST /api/v2/media` answers for a small image.
fn media_attachment(instance: &str) -> Value {
    json!({
        "id": "22348641",
        "type": "image",
        "url": format!("{instance}/media_attachments/files/022/348/641/original/e96382f26c72a29c.jpeg"),
        "preview_url": format!("{instance}/media_attachments/files/022/348/641/small/e96382f26c72a29c.jpeg"),
        "remote_url": null,
        "text_url": null,
        "meta": {"original": {"width": 640, "height": 480, "size": "640x480", "aspect": 1.3333333333333333}},
        "description": "a bridge at dusk",
        "blurhash": "UFBWY:8_0Jxv4mx]t8t64.%M-:IUWGWAt6M}"
    })
}

/// `Status`, as `POST /api/v1/statuses` answers.
fn status(instance: &str) -> Value {
    json!({
        "id": "103270115826048975",
        "created_at": "2019-12-08T03:48:33.901Z",
        "in_reply_to_id": null,
        "in_reply_to_account_id": null,
        "sensitive": false,
        "spoiler_text": "",
        "visibility": "public",
        "language": "en",
        "uri": format!("{instance}/users/trwnh/statuses/103270115826048975"),
        "url": format!("{instance}/@trwnh/103270115826048975"),
        "replies_count": 0,
        "reblogs_count": 0,
        "favourites_count": 0,
        "content": "<p>Bridges at dusk</p>",
        "reblog": null,
        "account": credential_account(instance),
        "media_attachments": [media_attachment(instance)],
        "mentions": [],
        "tags": [],
        "emojis": [],
        "card": null,
        "poll": null
    })
}

async fn fake_instance() -> MockServer {
    let server = MockServer::start().await;
    let instance = server.uri();
    Mock::given(method("POST"))
        .and(path("/api/v1/apps"))
        .and(body_string_contains("client_name=Postbridge"))
        .and(body_string_contains(
            "scopes=read%3Aaccounts+write%3Astatuses+write%3Amedia",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(application()))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/instance"))
        .respond_with(ResponseTemplate::new(200).set_body_json(instance_v2()))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(body_string_contains("grant_type=authorization_code"))
        .and(body_string_contains("code=mastodon-code-1"))
        .and(body_string_contains(
            format!("client_id={CLIENT_ID}").as_str(),
        ))
        .and(body_string_contains("code_verifier="))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": ACCESS_TOKEN,
            "token_type": "Bearer",
            "scope": "read:accounts write:statuses write:media",
            "created_at": 1573979017
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/accounts/verify_credentials"))
        .and(header(
            "authorization",
            format!("Bearer {ACCESS_TOKEN}").as_str(),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(credential_account(&instance)))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v2/media"))
        .and(header(
            "authorization",
            format!("Bearer {ACCESS_TOKEN}").as_str(),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(media_attachment(&instance)))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v1/statuses"))
        .and(header(
            "authorization",
            format!("Bearer {ACCESS_TOKEN}").as_str(),
        ))
        .and(header(
            "idempotency-key",
            "0b7c6a3e-5f1d-4c2b-9a8e-7d6f5e4c3b2a",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(status(&instance)))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/oauth/revoke"))
        .and(body_string_contains(
            format!("token={ACCESS_TOKEN}").as_str(),
        ))
        .and(body_string_contains(
            format!("client_secret={CLIENT_SECRET}").as_str(),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .expect(1)
        .mount(&server)
        .await;
    server
}

#[tokio::test(flavor = "multi_thread")]
async fn a_mastodon_account_connects_publishes_an_image_and_is_revoked_against_a_test_instance() {
    let fake = fake_instance().await;
    let instance = fake.uri();
    let app = spawn_app_with(&[("platforms.allow_private_instances", "true".into())]).await;

    // Connect: the gateway registers our app, reads the limits, and sends the browser to the
    // instance's authorization page.
    let response = app
        .post(
            "alice",
            "/v1/connections/mastodon",
            json!({ "instance": format!("{instance}/"), "redirect_to": format!("{FRONTEND}/accounts") }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    let authorize_url = body["authorize_url"].as_str().unwrap().to_owned();
    assert!(
        authorize_url.starts_with(&format!("{instance}/oauth/authorize?")),
        "http:// kept for a test instance: {authorize_url}"
    );
    assert_eq!(
        param(&authorize_url, "client_id").as_deref(),
        Some(CLIENT_ID)
    );
    assert_eq!(
        param(&authorize_url, "code_challenge_method").as_deref(),
        Some("S256")
    );
    let state = param(&authorize_url, "state").unwrap();

    // The instance sends the browser back with a code; the user completes in their session.
    let callback = format!(
        "{}/v1/oauth/mastodon/callback?code=mastodon-code-1&state={state}",
        app.address
    );
    let back = app.follow_callback(&callback, None).await;
    let ticket = param(&back, "ticket").unwrap_or_else(|| panic!("a ticket: {back}"));
    let response = app.complete("alice", &ticket).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    let account = &body["accounts"][0];
    assert_eq!(body["platform"], "mastodon", "{body}");
    assert_eq!(
        account["handle"],
        format!("trwnh@{}", instance.trim_start_matches("http://")),
        "{body}"
    );

    // Publish and revoke as the services do: the adapter for this account from the registry.
    let config = PlatformsConfig {
        allow_private_instances: true,
        ..PlatformsConfig::default()
    };
    let registry = Registry::from_config(platform_adapters::http::client(), &config).unwrap();
    let app_credentials = ClientCredentials {
        client_id: CLIENT_ID.into(),
        client_secret: SecretString::from(CLIENT_SECRET),
    };
    let adapter = registry
        .for_account(Platform::Mastodon, Some(&instance), Some(app_credentials))
        .unwrap();
    let token = SecretString::from(ACCESS_TOKEN);
    let account_ref = AccountRef {
        platform_account_id: account["platform_account_id"].as_str().unwrap_or("14715"),
        access_token: &token,
        refresh_token: None,
        instance_url: Some(&instance),
    };
    let image = platform_adapters::MediaItem {
        id: db::domain::MediaId::new(),
        kind: platform_adapters::MediaKind::Image,
        mime_type: "image/jpeg".into(),
        width: Some(640),
        height: Some(480),
        duration_ms: None,
        alt_text: Some("a bridge at dusk".into()),
        url: format!("{instance}/unused.jpg"),
        bytes: bytes::Bytes::from_static(b"\xff\xd8\xff\xe0 fake jpeg bytes"),
    };
    let media = [image];
    let options = platform_adapters::PostOptions::default();
    let request = platform_adapters::PublishRequest {
        idempotency_key: "0b7c6a3e-5f1d-4c2b-9a8e-7d6f5e4c3b2a",
        created_at: chrono::Utc::now(),
        text: "Bridges at dusk",
        media: &media,
        options: &options,
        account_kind: db::domain::AccountKind::Profile,
        reply_to: None,
    };
    let published = adapter.publish(&account_ref, &request).await.unwrap();
    assert_eq!(published.platform_post_id, "103270115826048975");
    assert_eq!(
        adapter.revoke(&account_ref).await.unwrap(),
        Revocation::Revoked
    );
}
