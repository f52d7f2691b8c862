//! LinkedIn: 3-legged OAuth with the client secret in the form, OIDC `userinfo`, revocation,
//! and publishing through the versioned `/rest` Posts, Images and Videos APIs. Shapes follow
//! LinkedIn's "Authorization Code Flow", "Sign In with LinkedIn using OpenID Connect", "Posts
//! API", "Images API", "Videos API" and "little Text Format" pages.

mod follow_ups;

use std::time::Duration;

use chrono::Utc;
use domain::AccountKind;
use platform_adapters::{
    platforms::linkedin::{self, LinkedinAdapter},
    AccountRef, AdapterError, AuthorizeParams, CodeExchange, PlatformAdapter, PostOptions,
    PublishRequest, Published, Revocation, Stats,
};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use wiremock::{
    matchers::{
        any, body_bytes, body_json, body_string_contains, header, method, path, query_param,
    },
    Mock, MockServer, Request, ResponseTemplate,
};

use crate::support::form_is;
use crate::support::{self, param, secret, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI};

const REDIRECT_URI_FORM: &str =
    "redirect_uri=http%3A%2F%2F127.0.0.1%3A8080%2Fv1%2Foauth%2Fcallback";
const EXCHANGE: CodeExchange<'static> = CodeExchange {
    code: "li-code-1",
    pkce_verifier: None,
    redirect_uri: REDIRECT_URI,
};

fn adapter(server: &MockServer) -> LinkedinAdapter {
    LinkedinAdapter::new(platform_adapters::http::client(), support::settings(server))
}

fn account(access: &SecretString) -> AccountRef<'_> {
    AccountRef {
        platform_account_id: "782bbtaQ",
        access_token: access,
        refresh_token: None,
        instance_url: None,
    }
}

async fn mount_userinfo(server: &MockServer, token: &str) {
    Mock::given(method("GET"))
        .and(path("/v2/userinfo"))
        .and(header("authorization", format!("Bearer {token}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "sub": "782bbtaQ",
            "name": "John Doe",
            "given_name": "John",
            "family_name": "Doe",
            "picture": "https://media.licdn-ei.com/dms/image/C5F03AQHqK8v7tB1HCQ/profile-displayphoto-shrink_100_100/0/",
            "locale": {"country": "US", "language": "en"},
            "email": "doe@email.com",
            "email_verified": true
        })))
        .expect(1)
        .mount(server)
        .await;
}

#[test]
fn descriptor_has_no_pkce_and_sixty_day_tokens() {
    let d = linkedin::descriptor();
    assert!(!d.pkce);
    assert!(!d.refresh_token_rotates);
    assert_eq!(
        d.access_token_lifetime,
        Some(Duration::from_secs(60 * 86_400))
    );
    assert_eq!(d.capabilities.text_limit, 3000);
    assert_eq!(
        linkedin::default_endpoints().token_url,
        "https://www.linkedin.com/oauth/v2/accessToken"
    );
}

#[tokio::test]
async fn authorize_url_requests_oidc_and_member_share_scopes() {
    let server = MockServer::start().await;
    let url = adapter(&server)
        .authorize_url(&AuthorizeParams {
            state: "state-li",
            pkce_challenge: None,
            redirect_uri: REDIRECT_URI,
        })
        .expect("authorize URL");
    assert!(url.starts_with(&format!("{}/oauth/authorize?", server.uri())));
    assert_eq!(param(&url, "response_type").as_deref(), Some("code"));
    assert_eq!(param(&url, "client_id").as_deref(), Some(CLIENT_ID));
    assert_eq!(param(&url, "redirect_uri").as_deref(), Some(REDIRECT_URI));
    assert_eq!(param(&url, "state").as_deref(), Some("state-li"));
    assert_eq!(
        param(&url, "scope").as_deref(),
        Some("openid profile email w_member_social")
    );
    assert_eq!(param(&url, "code_challenge"), None);
}

#[tokio::test]
async fn code_exchange_sends_client_credentials_in_the_form_and_reads_userinfo() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(body_string_contains("grant_type=authorization_code"))
        .and(body_string_contains("code=li-code-1"))
        .and(body_string_contains("client_id=test-client-id"))
        .and(body_string_contains("client_secret=test-client-secret"))
        .and(body_string_contains(REDIRECT_URI_FORM))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "li-access-1",
            "expires_in": 5_184_000,
            "scope": "email,openid,profile,w_member_social",
            "token_type": "Bearer",
            "id_token": "eyJ6aXAiOiJERUYiLCJlbmMiOiJBMjU2R0NNIiwiYWxnIjoiUlNBLU9BRVAifQ.e30.sig"
        })))
        .expect(1)
        .mount(&server)
        .await;
    mount_userinfo(&server, "li-access-1").await;

    let before = Utc::now();
    let connections = adapter(&server)
        .exchange_code(&EXCHANGE)
        .await
        .expect("exchange");
    let connection = &connections[0];
    assert_eq!(
        connection.tokens.access_token.expose_secret(),
        "li-access-1"
    );
    assert!(connection.tokens.refresh_token.is_none());
    assert_eq!(
        connection.tokens.scopes,
        ["email", "openid", "profile", "w_member_social"]
    );
    assert!(connection.tokens.expires_at.expect("expiry") >= before + chrono::Duration::days(60));
    assert_eq!(connection.profile.platform_account_id, "782bbtaQ");
    assert_eq!(connection.profile.display_name.as_deref(), Some("John Doe"));
    assert!(connection
        .profile
        .avatar_url
        .as_deref()
        .is_some_and(|u| u.starts_with("https://media.licdn")));
    assert_eq!(connection.profile.handle, None);
    assert_eq!(connection.stats, Some(Stats::default()));
}

#[tokio::test]
async fn a_programmatic_refresh_token_and_its_expiry_are_kept() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "li-access-2", "expires_in": 5_184_000,
            "refresh_token": "li-refresh-2", "refresh_token_expires_in": 31_536_000,
            "scope": "openid,profile,w_member_social"
        })))
        .expect(1)
        .mount(&server)
        .await;
    mount_userinfo(&server, "li-access-2").await;
    let before = Utc::now();
    let connections = adapter(&server)
        .exchange_code(&EXCHANGE)
        .await
        .expect("exchange");
    let tokens = &connections[0].tokens;
    assert_eq!(
        tokens
            .refresh_token
            .as_ref()
            .map(|t| t.expose_secret().to_owned())
            .as_deref(),
        Some("li-refresh-2")
    );
    assert!(
        tokens.refresh_expires_at.expect("refresh expiry") >= before + chrono::Duration::days(365)
    );
}

#[tokio::test]
async fn missing_expires_in_falls_back_to_the_documented_sixty_days() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"access_token": "li-access-3", "scope": "openid"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    mount_userinfo(&server, "li-access-3").await;
    let before = Utc::now();
    let connections = adapter(&server)
        .exchange_code(&EXCHANGE)
        .await
        .expect("exchange");
    let expires_at = connections[0].tokens.expires_at.expect("fallback lifetime");
    assert!(
        expires_at >= before + chrono::Duration::days(60)
            && expires_at <= Utc::now() + chrono::Duration::days(60)
    );
}

#[tokio::test]
async fn stats_are_unknown_without_calling_linkedin() {
    let server = MockServer::start().await;
    let token = secret("li-access-4");
    let stats = adapter(&server)
        .stats(&account(&token))
        .await
        .expect("stats");
    assert_eq!(
        stats,
        Stats {
            followers_count: None,
            following_count: None,
            posts_count: None
        }
    );
    assert!(server
        .received_requests()
        .await
        .unwrap_or_default()
        .is_empty());
}

#[tokio::test]
async fn revoke_posts_the_token_with_client_credentials() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/revoke"))
        .and(body_string_contains("client_id=test-client-id"))
        .and(body_string_contains("client_secret=test-client-secret"))
        .and(body_string_contains("token=li-access-5"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    let token = secret("li-access-5");
    assert_eq!(
        adapter(&server)
            .revoke(&account(&token))
            .await
            .expect("revoke"),
        Revocation::Revoked
    );
}

#[tokio::test]
async fn errors_are_classified_reauth_rate_limited_and_transient() {
    let server = MockServer::start().await;
    let cases = [
        ("li-401", ResponseTemplate::new(401).set_body_json(json!({"serviceErrorCode": 65600, "message": "Invalid access token", "status": 401}))),
        ("li-429", ResponseTemplate::new(429).insert_header("retry-after", "30")),
        ("li-500", ResponseTemplate::new(500).set_body_json(json!({"message": "Internal Server Error", "status": 500}))),
    ];
    for (token, response) in cases {
        Mock::given(method("GET"))
            .and(path("/v2/userinfo"))
            .and(header("authorization", format!("Bearer {token}").as_str()))
            .respond_with(response)
            .expect(1)
            .mount(&server)
            .await;
    }
    let adapter = adapter(&server);
    let profile_of = |t: &'static str| {
        let token = secret(t);
        let adapter = &adapter;
        async move { adapter.profile(&account(&token)).await.expect_err("error") }
    };
    assert!(matches!(
        profile_of("li-401").await,
        AdapterError::NeedsReauth { .. }
    ));
    assert_eq!(
        profile_of("li-429").await,
        AdapterError::RateLimited {
            retry_after: Some(Duration::from_secs(30))
        }
    );
    assert!(matches!(
        profile_of("li-500").await,
        AdapterError::Transient { .. }
    ));
}

#[tokio::test]
async fn an_invalid_grant_on_the_code_exchange_means_needs_reauth() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "error": "invalid_grant",
            "error_description": "The provided authorization grant or refresh token is invalid, expired or revoked."
        })))
        .expect(1)
        .mount(&server)
        .await;
    let err = adapter(&server)
        .exchange_code(&EXCHANGE)
        .await
        .expect_err("invalid grant");
    assert!(matches!(err, AdapterError::NeedsReauth { .. }));
}

// ---------------------------------------------------------------------------------------------
// Refresh ("Refresh Tokens with OAuth 2.0": programmatic refresh tokens)
// ---------------------------------------------------------------------------------------------

fn account_with_refresh<'a>(access: &'a SecretString, refresh: &'a SecretString) -> AccountRef<'a> {
    AccountRef {
        refresh_token: Some(refresh),
        ..account(access)
    }
}

/// The token endpoint expecting exactly one refresh of `li-refresh-old`, answered with `answer`.
async fn mount_refresh(server: &MockServer, answer: ResponseTemplate) {
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(form_is(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "li-refresh-old"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
        ]))
        .respond_with(answer)
        .expect(1)
        .mount(server)
        .await;
}

async fn refresh_failing_with(answer: ResponseTemplate) -> AdapterError {
    let server = MockServer::start().await;
    mount_refresh(&server, answer).await;
    let (access, refresh) = (secret("li-access-old"), secret("li-refresh-old"));
    adapter(&server)
        .refresh(&account_with_refresh(&access, &refresh))
        .await
        .expect_err("a failed refresh")
}

fn assert_no_secret_in(err: &AdapterError) {
    let text = format!("{err} {err:?}");
    for secret in ["li-refresh-old", "li-access-old", CLIENT_SECRET] {
        assert!(!text.contains(secret), "`{secret}` leaked into: {text}");
    }
}

#[tokio::test]
async fn linkedin_refresh_sends_the_client_credentials_in_the_form_and_keeps_the_yearly_deadline() {
    let server = MockServer::start().await;
    // Day 59 of LinkedIn's example: a new 60-day access token, 306 days left on the refresh
    // token.
    mount_refresh(
        &server,
        ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "li-access-new",
            "expires_in": 5_184_000,
            "refresh_token": "li-refresh-old",
            "refresh_token_expires_in": 26_438_400,
            "scope": "email,openid,profile,w_member_social"
        })),
    )
    .await;
    let (access, refresh) = (secret("li-access-old"), secret("li-refresh-old"));

    let before = Utc::now();
    let tokens = adapter(&server)
        .refresh(&account_with_refresh(&access, &refresh))
        .await
        .expect("refresh");

    assert_eq!(tokens.access_token.expose_secret(), "li-access-new");
    assert_eq!(
        tokens
            .refresh_token
            .as_ref()
            .map(ExposeSecret::expose_secret),
        Some("li-refresh-old")
    );
    let expires_at = tokens.expires_at.expect("expiry");
    assert!(
        expires_at >= before + chrono::Duration::days(60)
            && expires_at <= Utc::now() + chrono::Duration::days(60)
    );
    let refresh_expires_at = tokens.refresh_expires_at.expect("refresh expiry");
    assert!(
        refresh_expires_at >= before + chrono::Duration::days(306)
            && refresh_expires_at <= Utc::now() + chrono::Duration::days(306),
        "the refresh token's deadline counts down, it is not extended"
    );
    assert_eq!(tokens.scopes.len(), 4);
}

#[tokio::test]
async fn linkedin_refresh_without_expires_in_falls_back_to_the_documented_sixty_days() {
    let server = MockServer::start().await;
    mount_refresh(
        &server,
        ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "li-access-new",
            "refresh_token": "li-refresh-old",
            "refresh_token_expires_in": 26_438_400
        })),
    )
    .await;
    let (access, refresh) = (secret("li-access-old"), secret("li-refresh-old"));

    let before = Utc::now();
    let tokens = adapter(&server)
        .refresh(&account_with_refresh(&access, &refresh))
        .await
        .expect("refresh");

    let expires_at = tokens
        .expires_at
        .expect("a missing expires_in must not mean never");
    assert!(
        expires_at >= before + chrono::Duration::days(60)
            && expires_at <= Utc::now() + chrono::Duration::days(60)
    );
}

#[tokio::test]
async fn linkedin_without_a_refresh_token_asks_the_user_to_reconnect() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let access = secret("li-access-old");

    let err = adapter(&server)
        .refresh(&account(&access))
        .await
        .expect_err("no programmatic refresh token");

    assert_eq!(
        err,
        AdapterError::NeedsReauth {
            message: "LinkedIn did not grant a refresh token: reconnect your LinkedIn account before the 60-day token expires".into()
        }
    );
}

#[tokio::test]
async fn linkedin_refresh_with_an_expired_or_revoked_refresh_token_asks_the_user_to_reconnect() {
    for error in ["invalid_grant", "invalid_request"] {
        let err = refresh_failing_with(ResponseTemplate::new(400).set_body_json(json!({
            "error": error,
            "error_description": "The provided authorization grant or refresh token is invalid, expired or revoked."
        })))
        .await;

        assert!(
            matches!(&err, AdapterError::NeedsReauth { message }
                if message.contains("reconnect your LinkedIn account") && message.contains("expired or revoked")),
            "{error}: {err:?}"
        );
        assert_no_secret_in(&err);
    }
}

#[tokio::test]
async fn linkedin_refresh_refused_for_the_app_credentials_is_a_rejection_not_a_reconnect() {
    let err = refresh_failing_with(ResponseTemplate::new(401).set_body_json(json!({
        "error": "invalid_client",
        "error_description": "Client authentication failed"
    })))
    .await;

    assert!(
        matches!(&err, AdapterError::Rejected { code, message }
            if code == "invalid_client" && message.contains("client id and secret")),
        "{err:?}"
    );
    assert_no_secret_in(&err);
}

#[tokio::test]
async fn linkedin_refresh_rate_limited_waits_as_linkedin_asks() {
    let err = refresh_failing_with(
        ResponseTemplate::new(429)
            .insert_header("retry-after", "30")
            .set_body_json(json!({"message": "Resource level throttle limit for calls to this resource is reached.", "status": 429})),
    )
    .await;

    assert_eq!(
        err,
        AdapterError::RateLimited {
            retry_after: Some(Duration::from_secs(30))
        }
    );
}

#[tokio::test]
async fn linkedin_refresh_server_errors_are_transient() {
    let err = refresh_failing_with(
        ResponseTemplate::new(500)
            .set_body_json(json!({"message": "Internal Server Error", "status": 500})),
    )
    .await;

    assert!(
        matches!(&err, AdapterError::Transient { message } if message.contains("500")),
        "{err:?}"
    );
    assert!(err.is_retryable());
}

// ---------------------------------------------------------------------------------------------
// Publishing (Posts API, Images API, Videos API, little text format)
// ---------------------------------------------------------------------------------------------

const SHARE: &str = "urn:li:share:6844785523593134080";
const IMAGE_1: &str = "urn:li:image:C4E10AQFoyyAjHPMQuQ";
const IMAGE_2: &str = "urn:li:image:C5610AQFrPsEd5ehTRQ";
const VIDEO: &str = "urn:li:video:C5505AQH-oV1qvnFtKA";

/// An adapter whose HTTP client gives up after 300 ms.
fn impatient(server: &MockServer) -> LinkedinAdapter {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .expect("client");
    LinkedinAdapter::new(http, support::settings(server))
}

fn organization(access: &SecretString) -> AccountRef<'_> {
    AccountRef {
        platform_account_id: "2414183",
        ..account(access)
    }
}

fn as_organization(post: PublishRequest<'_>) -> PublishRequest<'_> {
    PublishRequest {
        account_kind: AccountKind::Organization,
        ..post
    }
}

/// `/rest` calls carry the bearer token, the pinned version and Rest.li 2.0.0.
fn rest(mock: wiremock::MockBuilder, token: &str) -> wiremock::MockBuilder {
    mock.and(header("authorization", format!("Bearer {token}").as_str()))
        .and(header("linkedin-version", linkedin::LINKEDIN_VERSION))
        .and(header("x-restli-protocol-version", "2.0.0"))
}

/// The body `POST /rest/posts` must carry for `author`, `commentary` and `content`.
fn post_body(
    author: &str,
    commentary: &str,
    content: Option<serde_json::Value>,
) -> serde_json::Value {
    let mut body = json!({
        "author": author,
        "commentary": commentary,
        "visibility": "PUBLIC",
        "distribution": {
            "feedDistribution": "MAIN_FEED",
            "targetEntities": [],
            "thirdPartyDistributionChannels": []
        },
        "lifecycleState": "PUBLISHED",
        "isReshareDisabledByAuthor": false
    });
    if let Some(content) = content {
        body["content"] = content;
    }
    body
}

/// `POST /rest/posts` with exactly `body`, answered 201 with the new post's URN.
async fn mount_create(server: &MockServer, body: serde_json::Value) {
    rest(
        Mock::given(method("POST")).and(path("/rest/posts")),
        "li-pub",
    )
    .and(header("content-type", "application/json"))
    .and(body_json(body))
    .respond_with(ResponseTemplate::new(201).insert_header("x-restli-id", SHARE))
    .expect(1)
    .mount(server)
    .await;
}

fn expected_post() -> Published {
    Published {
        platform_post_id: SHARE.into(),
        url: Some(format!("https://www.linkedin.com/feed/update/{SHARE}")),
    }
}

/// `initializeUpload` of an image owned by `owner` answering `image`, then its upload.
async fn mount_image(server: &MockServer, owner: &str, image: &str, bytes: &[u8]) {
    let upload_path = format!(
        "/dms-uploads/{}/uploadedImage",
        image.rsplit(':').next().unwrap_or(image)
    );
    rest(
        Mock::given(method("POST"))
            .and(path("/rest/images"))
            .and(query_param("action", "initializeUpload")),
        "li-pub",
    )
    .and(body_json(
        json!({"initializeUploadRequest": {"owner": owner}}),
    ))
    .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": {
        "uploadUrlExpiresAt": 1_650_567_510_704_u64,
        "uploadUrl": format!("{}{upload_path}?sau=signed", server.uri()),
        "image": image
    }})))
    .up_to_n_times(1)
    .expect(1)
    .mount(server)
    .await;
    Mock::given(method("PUT"))
        .and(path(upload_path.as_str()))
        .and(query_param("sau", "signed"))
        .and(header("authorization", "Bearer li-pub"))
        .and(body_bytes(bytes.to_vec()))
        .respond_with(ResponseTemplate::new(201))
        .expect(1)
        .mount(server)
        .await;
}

#[tokio::test]
async fn a_member_text_post_is_authored_by_the_person_urn() {
    let server = MockServer::start().await;
    mount_create(
        &server,
        post_body("urn:li:person:782bbtaQ", "Hello from Postbridge", None),
    )
    .await;
    let token = secret("li-pub");

    let published = adapter(&server)
        .publish(
            &account(&token),
            &support::post("Hello from Postbridge", &[], support::no_options()),
        )
        .await
        .expect("published");

    assert_eq!(published, expected_post());
}

#[tokio::test]
async fn an_organization_post_is_authored_by_the_organization_urn() {
    let server = MockServer::start().await;
    mount_create(
        &server,
        post_body("urn:li:organization:2414183", "News from the company", None),
    )
    .await;
    let token = secret("li-pub");

    let published = adapter(&server)
        .publish(
            &organization(&token),
            &as_organization(support::post(
                "News from the company",
                &[],
                support::no_options(),
            )),
        )
        .await
        .expect("published");

    assert_eq!(published, expected_post());
}

#[tokio::test]
async fn a_single_image_is_registered_for_the_author_uploaded_and_attached_with_its_alt_text() {
    let server = MockServer::start().await;
    let image = support::image(&server.uri());
    mount_image(
        &server,
        "urn:li:organization:2414183",
        IMAGE_1,
        &image.bytes,
    )
    .await;
    mount_create(
        &server,
        post_body(
            "urn:li:organization:2414183",
            "One picture",
            Some(json!({"media": {"id": IMAGE_1, "altText": "a test picture"}})),
        ),
    )
    .await;
    let token = secret("li-pub");
    let media = [image];

    let published = adapter(&server)
        .publish(
            &organization(&token),
            &as_organization(support::post("One picture", &media, support::no_options())),
        )
        .await
        .expect("published");

    assert_eq!(published, expected_post());
}

#[tokio::test]
async fn several_images_become_a_multi_image_post_in_their_order() {
    let server = MockServer::start().await;
    let first = support::image(&server.uri());
    let mut second = support::image(&server.uri());
    second.bytes = bytes::Bytes::from_static(b"\x89PNG second picture");
    second.alt_text = None;
    // Registrations are answered in order: the first one names IMAGE_1.
    mount_image(&server, "urn:li:person:782bbtaQ", IMAGE_1, &first.bytes).await;
    mount_image(&server, "urn:li:person:782bbtaQ", IMAGE_2, &second.bytes).await;
    mount_create(
        &server,
        post_body(
            "urn:li:person:782bbtaQ",
            "Two pictures",
            Some(json!({"multiImage": {"images": [
                {"id": IMAGE_1, "altText": "a test picture"},
                {"id": IMAGE_2}
            ]}})),
        ),
    )
    .await;
    let token = secret("li-pub");
    let media = [first, second];

    let published = adapter(&server)
        .publish(
            &account(&token),
            &support::post("Two pictures", &media, support::no_options()),
        )
        .await
        .expect("published");

    assert_eq!(published, expected_post());
}

#[tokio::test]
async fn a_video_is_uploaded_in_the_parts_linkedin_asks_for_and_finalized_with_their_etags() {
    let server = MockServer::start().await;
    let video = support::video(&server.uri());
    let size = video.bytes.len();
    rest(
        Mock::given(method("POST"))
            .and(path("/rest/videos"))
            .and(query_param("action", "initializeUpload")),
        "li-pub",
    )
    .and(body_json(json!({"initializeUploadRequest": {
        "owner": "urn:li:person:782bbtaQ",
        "fileSizeBytes": size,
        "uploadCaptions": false,
        "uploadThumbnail": false
    }})))
    .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": {
        "uploadUrlsExpireAt": 1_641_340_800_000_u64,
        "video": VIDEO,
        "uploadInstructions": [
            {"uploadUrl": format!("{}/dms-uploads/C5505AQH/part-1?sau=one", server.uri()), "firstByte": 0, "lastByte": 9},
            {"uploadUrl": format!("{}/dms-uploads/C5505AQH/part-2?sau=two", server.uri()), "firstByte": 10, "lastByte": size - 1}
        ],
        "uploadToken": "upload-token-1"
    }})))
    .expect(1)
    .mount(&server)
    .await;
    for (part, range, etag) in [
        ("part-1", 0..10, "/AQHWwVPPEZWGZwAAAYSgm2fq"),
        ("part-2", 10..size, "/AQGxgbHJkuxmHgAAAYSgm2fr"),
    ] {
        Mock::given(method("PUT"))
            .and(path(format!("/dms-uploads/C5505AQH/{part}")))
            .and(header("content-type", "application/octet-stream"))
            .and(|request: &Request| !request.headers.contains_key("authorization"))
            .and(body_bytes(video.bytes.slice(range).to_vec()))
            .respond_with(ResponseTemplate::new(200).insert_header("etag", etag))
            .expect(1)
            .mount(&server)
            .await;
    }
    rest(
        Mock::given(method("POST"))
            .and(path("/rest/videos"))
            .and(query_param("action", "finalizeUpload")),
        "li-pub",
    )
    .and(body_json(json!({"finalizeUploadRequest": {
        "video": VIDEO,
        "uploadToken": "upload-token-1",
        "uploadedPartIds": ["/AQHWwVPPEZWGZwAAAYSgm2fq", "/AQGxgbHJkuxmHgAAAYSgm2fr"]
    }})))
    .respond_with(ResponseTemplate::new(200))
    .expect(1)
    .mount(&server)
    .await;
    mount_create(
        &server,
        post_body(
            "urn:li:person:782bbtaQ",
            "Watch this",
            Some(json!({"media": {"id": VIDEO, "title": "Launch video"}})),
        ),
    )
    .await;
    let token = secret("li-pub");
    let media = [video];
    let options = PostOptions {
        title: Some("Launch video".into()),
        ..PostOptions::default()
    };

    let published = adapter(&server)
        .publish(
            &account(&token),
            &support::post("Watch this", &media, &options),
        )
        .await
        .expect("published");

    assert_eq!(published, expected_post());
}

#[tokio::test]
async fn a_link_without_media_becomes_an_article() {
    let server = MockServer::start().await;
    mount_create(
        &server,
        post_body(
            "urn:li:person:782bbtaQ",
            "Read the launch notes",
            Some(json!({"article": {
                "source": "https://postbridge.dev/launch",
                "title": "Postbridge launches"
            }})),
        ),
    )
    .await;
    let token = secret("li-pub");
    let options = PostOptions {
        link: Some("https://postbridge.dev/launch".into()),
        title: Some("Postbridge launches".into()),
        ..PostOptions::default()
    };

    let published = adapter(&server)
        .publish(
            &account(&token),
            &support::post("Read the launch notes", &[], &options),
        )
        .await
        .expect("published");

    assert_eq!(published, expected_post());
}

#[tokio::test]
async fn commentary_escapes_little_text_so_linkedin_does_not_cut_the_post() {
    let server = MockServer::start().await;
    mount_create(
        &server,
        post_body(
            "urn:li:person:782bbtaQ",
            r"Launch \(beta\) \@ 9:00 \<today\> \[C\#\] \*not\* \~ \_ \| \{\} \\ #Postbridge: https://example.com/a_b(c).",
            None,
        ),
    )
    .await;
    let token = secret("li-pub");

    adapter(&server)
        .publish(
            &account(&token),
            &support::post(
                r"Launch (beta) @ 9:00 <today> [C#] *not* ~ _ | {} \ #Postbridge: https://example.com/a_b(c).",
                &[],
                support::no_options(),
            ),
        )
        .await
        .expect("published");
}

#[test]
fn little_text_keeps_hashtags_and_links_and_escapes_the_rest() {
    assert_eq!(
        linkedin::little_text("#rust and C# #1"),
        r"#rust and C\# #1"
    );
    assert_eq!(linkedin::little_text("# alone"), r"\# alone");
    assert_eq!(
        linkedin::little_text("(see https://en.wikipedia.org/wiki/Rust_(language))"),
        r"\(see https://en.wikipedia.org/wiki/Rust_(language)\)"
    );
    assert_eq!(
        linkedin::little_text("mail me@example.com"),
        r"mail me\@example.com"
    );
    assert_eq!(linkedin::little_text("plain text"), "plain text");
}

#[tokio::test]
async fn a_video_with_other_media_is_rejected_before_anything_is_uploaded() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let token = secret("li-pub");
    let media = [support::video(&server.uri()), support::image(&server.uri())];

    let err = adapter(&server)
        .publish(
            &account(&token),
            &support::post("Mixed", &media, support::no_options()),
        )
        .await
        .expect_err("mixed media");

    assert!(
        matches!(&err, AdapterError::Rejected { code, .. } if code == "unsupported_media_combination"),
        "{err:?}"
    );
}

#[tokio::test]
async fn more_than_twenty_images_are_rejected_before_anything_is_uploaded() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let token = secret("li-pub");
    let media: Vec<_> = (0..21).map(|_| support::image(&server.uri())).collect();

    let err = adapter(&server)
        .publish(
            &account(&token),
            &support::post("Too many", &media, support::no_options()),
        )
        .await
        .expect_err("too many images");

    assert!(matches!(err, AdapterError::Rejected { .. }), "{err:?}");
}

#[tokio::test]
async fn an_account_that_is_neither_member_nor_organization_cannot_post() {
    let server = MockServer::start().await;
    let token = secret("li-pub");
    let post = PublishRequest {
        account_kind: AccountKind::Page,
        ..support::post("Hello", &[], support::no_options())
    };

    let err = adapter(&server)
        .publish(&account(&token), &post)
        .await
        .expect_err("not a LinkedIn author");

    assert!(matches!(err, AdapterError::Unsupported { .. }), "{err:?}");
}

/// The error `answer` of `POST /rest/posts` for a text post.
async fn create_failing_with(answer: ResponseTemplate) -> AdapterError {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/rest/posts"))
        .respond_with(answer)
        .expect(1)
        .mount(&server)
        .await;
    let token = secret("li-pub");
    adapter(&server)
        .publish(
            &account(&token),
            &support::post("Hello again", &[], support::no_options()),
        )
        .await
        .expect_err("refused")
}

#[tokio::test]
async fn a_401_on_create_means_needs_reauth_with_linkedin_message() {
    let err = create_failing_with(ResponseTemplate::new(401).set_body_json(json!({
        "status": 401, "serviceErrorCode": 65601, "code": "REVOKED_ACCESS_TOKEN",
        "message": "The token used in the request has been revoked by the user"
    })))
    .await;

    assert_eq!(
        err,
        AdapterError::NeedsReauth {
            message: "The token used in the request has been revoked by the user".into()
        }
    );
}

#[tokio::test]
async fn a_429_on_create_is_rate_limited_for_the_time_linkedin_asks() {
    let err = create_failing_with(
        ResponseTemplate::new(429)
            .insert_header("retry-after", "3600")
            .set_body_json(json!({"status": 429, "message": "Resource level throttle APPLICATION DAY limit for calls to this resource is reached."})),
    )
    .await;

    assert_eq!(
        err,
        AdapterError::RateLimited {
            retry_after: Some(Duration::from_secs(3600))
        }
    );
}

#[tokio::test]
async fn a_422_duplicate_is_rejected_with_linkedin_message() {
    let err = create_failing_with(ResponseTemplate::new(422).set_body_json(json!({
        "message": "Content is a duplicate of urn:li:share:7123456789012345678",
        "status": 422
    })))
    .await;

    assert_eq!(
        err,
        AdapterError::Rejected {
            code: "422".into(),
            message: "Content is a duplicate of urn:li:share:7123456789012345678".into()
        }
    );
}

#[tokio::test]
async fn a_422_with_input_errors_is_rejected_with_their_descriptions() {
    let err = create_failing_with(ResponseTemplate::new(422).set_body_json(json!({
        "errorDetailType": "com.linkedin.common.error.BadRequest",
        "message": "Invalid request body",
        "errorDetails": {"inputErrors": [{
            "description": "Commentary length 3050 exceeds the maximum of 3000",
            "input": {"inputPath": {"fieldPath": "/commentary"}},
            "code": "INVALID_VALUE"
        }]},
        "status": 422
    })))
    .await;

    assert_eq!(
        err,
        AdapterError::Rejected {
            code: "422".into(),
            message: "Invalid request body: Commentary length 3050 exceeds the maximum of 3000"
                .into()
        }
    );
}

#[tokio::test]
async fn a_403_on_create_is_rejected_with_linkedin_code() {
    let err = create_failing_with(ResponseTemplate::new(403).set_body_json(json!({
        "status": 403, "serviceErrorCode": 100, "code": "ACCESS_DENIED",
        "message": "Not enough permissions to access: partnerApiPostsExternal.CREATE.20260701"
    })))
    .await;

    assert_eq!(
        err,
        AdapterError::Rejected {
            code: "ACCESS_DENIED".into(),
            message: "Not enough permissions to access: partnerApiPostsExternal.CREATE.20260701"
                .into()
        }
    );
}

#[tokio::test]
async fn a_201_without_the_post_urn_leaves_the_outcome_unknown() {
    let err = create_failing_with(ResponseTemplate::new(201)).await;

    assert!(
        matches!(err, AdapterError::OutcomeUnknown { .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_create_call_that_times_out_leaves_the_outcome_unknown() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/rest/posts"))
        .respond_with(
            ResponseTemplate::new(201)
                .insert_header("x-restli-id", SHARE)
                .set_delay(Duration::from_secs(2)),
        )
        .expect(1)
        .mount(&server)
        .await;
    let token = secret("li-pub");

    let err = impatient(&server)
        .publish(
            &account(&token),
            &support::post("slow", &[], support::no_options()),
        )
        .await
        .expect_err("no answer in time");

    assert!(
        matches!(err, AdapterError::OutcomeUnknown { .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn an_image_registration_that_times_out_is_transient_and_nothing_is_posted() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/rest/images"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"value": {"uploadUrl": server.uri(), "image": IMAGE_1}}))
                .set_delay(Duration::from_secs(2)),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/rest/posts"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let token = secret("li-pub");
    let media = [support::image(&server.uri())];

    let err = impatient(&server)
        .publish(
            &account(&token),
            &support::post("slow upload", &media, support::no_options()),
        )
        .await
        .expect_err("no answer in time");

    assert!(matches!(err, AdapterError::Transient { .. }), "{err:?}");
}

/// The author's posts as `GET /rest/posts?q=author` answers them.
async fn mount_author_posts(server: &MockServer, author: &str, answer: ResponseTemplate) {
    rest(
        Mock::given(method("GET"))
            .and(path("/rest/posts"))
            .and(query_param("author", author))
            .and(query_param("q", "author"))
            .and(query_param("count", "50"))
            .and(query_param("sortBy", "CREATED")),
        "li-pub",
    )
    .respond_with(answer)
    .expect(1)
    .mount(server)
    .await;
}

fn element(id: &str, commentary: &str, minutes_ago: i64) -> serde_json::Value {
    let at = (Utc::now() - chrono::Duration::minutes(minutes_ago)).timestamp_millis();
    json!({
        "isReshareDisabledByAuthor": false,
        "createdAt": at,
        "lifecycleState": "PUBLISHED",
        "lastModifiedAt": at,
        "visibility": "PUBLIC",
        "publishedAt": at,
        "author": "urn:li:organization:2414183",
        "id": id,
        "distribution": {"feedDistribution": "MAIN_FEED", "targetEntities": [], "thirdPartyDistributionChannels": []},
        "commentary": commentary,
        "lifecycleStateInfo": {"isEditedByAuthor": false}
    })
}

#[tokio::test]
async fn find_published_recognises_the_post_by_its_commentary_read_back_from_little_text() {
    let server = MockServer::start().await;
    mount_author_posts(
        &server,
        "urn:li:organization:2414183",
        ResponseTemplate::new(200).set_body_json(json!({
            "paging": {"start": 0, "count": 50, "links": [], "total": 2},
            "elements": [
                element("urn:li:share:1", "Something else", 5),
                element(SHARE, r"Launch \(beta\) {hashtag|\#|Postbridge}", 2)
            ]
        })),
    )
    .await;
    let token = secret("li-pub");

    let found = adapter(&server)
        .find_published(
            &organization(&token),
            &as_organization(support::post(
                "Launch (beta) #Postbridge",
                &[],
                support::no_options(),
            )),
        )
        .await
        .expect("looked up");

    assert_eq!(found, Some(expected_post()));
}

#[tokio::test]
async fn find_published_answers_none_when_only_older_or_different_posts_exist() {
    let server = MockServer::start().await;
    mount_author_posts(
        &server,
        "urn:li:person:782bbtaQ",
        ResponseTemplate::new(200).set_body_json(json!({
            "paging": {"start": 0, "count": 50, "links": []},
            "elements": [
                element("urn:li:share:1", "Hello from Postbridge", 60 * 25),
                element("urn:li:share:2", "Hello from Postbridge!", 1)
            ]
        })),
    )
    .await;
    let token = secret("li-pub");

    let found = adapter(&server)
        .find_published(
            &account(&token),
            &support::post("Hello from Postbridge", &[], support::no_options()),
        )
        .await
        .expect("looked up");

    assert_eq!(found, None);
}

#[tokio::test]
async fn find_published_without_permission_to_read_posts_is_unsupported() {
    let server = MockServer::start().await;
    mount_author_posts(
        &server,
        "urn:li:person:782bbtaQ",
        ResponseTemplate::new(403).set_body_json(json!({
            "status": 403, "serviceErrorCode": 100, "code": "ACCESS_DENIED",
            "message": "Not enough permissions to access: partnerApiPostsExternal.FINDER-author.20260701"
        })),
    )
    .await;
    let token = secret("li-pub");

    let err = adapter(&server)
        .find_published(
            &account(&token),
            &support::post("Hello from Postbridge", &[], support::no_options()),
        )
        .await
        .expect_err("not readable");

    assert!(matches!(err, AdapterError::Unsupported { .. }), "{err:?}");
}
