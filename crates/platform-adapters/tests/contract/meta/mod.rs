//! Meta: Facebook Pages and Instagram through Facebook Login (Graph API), and Threads. Answers
//! follow Meta's documented shapes: the manual login flow and long-lived token guides, the
//! Pages access-token guide (`/me/accounts`), the IG User reference, the Threads token,
//! profile and insights guides, and Graph's error object
//! `{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}`.

mod follow_ups;
mod instagram_follow_ups;
mod publish;
mod threads_replies;

use std::time::Duration;

use chrono::{DateTime, Utc};
use domain::AccountKind;
use platform_adapters::{
    platforms::{
        facebook::{self, FacebookAdapter},
        instagram::{self, InstagramAdapter},
        threads::{self, ThreadsAdapter},
    },
    AccountRef, AdapterError, AdapterSettings, AuthorizeParams, CodeExchange, Connection,
    Endpoints, PlatformAdapter, Revocation, Stats,
};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};
use wiremock::{
    matchers::{
        any, body_string_contains, header, method, path, query_param, query_param_is_missing,
    },
    Match, Mock, MockServer, Request, ResponseTemplate,
};

use crate::support::{self, param, secret, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI};

const SIXTY_DAYS: i64 = 60 * 24 * 60 * 60;
/// `expires_in` of Meta's documented long-lived token answers.
const LONG_LIVED_EXPIRES_IN: i64 = 5_183_944;

const FB_PAGE_FIELDS: &str =
    "id,name,username,link,picture{url},followers_count,fan_count,access_token";
const IG_PAGE_FIELDS: &str = "id,name,access_token,instagram_business_account{id,username,name,profile_picture_url,followers_count,follows_count,media_count}";
const THREADS_PROFILE_FIELDS: &str =
    "id,username,name,threads_profile_picture_url,threads_biography";

const FB_EXCHANGE: CodeExchange<'static> = CodeExchange {
    code: "fb-code",
    pkce_verifier: None,
    redirect_uri: REDIRECT_URI,
};
const THREADS_EXCHANGE: CodeExchange<'static> = CodeExchange {
    code: "threads-code",
    pkce_verifier: None,
    redirect_uri: REDIRECT_URI,
};

const PARAMS: AuthorizeParams<'static> = AuthorizeParams {
    state: "state-1",
    pkce_challenge: None,
    redirect_uri: REDIRECT_URI,
};

// ---------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------

/// The Graph API laid out as in production (`/v26.0/...`) on `server`.
pub(crate) fn graph_settings(server: &MockServer) -> AdapterSettings {
    let base = format!("{}/v26.0", server.uri());
    AdapterSettings {
        endpoints: Endpoints {
            authorize_url: format!("{}/v26.0/dialog/oauth", server.uri()),
            token_url: format!("{base}/oauth/access_token"),
            revoke_url: None,
            api_base: base.clone(),
            upload_base: base,
        },
        ..support::settings(server)
    }
}

/// Threads laid out as in production: token endpoints at the root, the API under `/v1.0`.
pub(crate) fn threads_settings(server: &MockServer) -> AdapterSettings {
    let base = server.uri();
    AdapterSettings {
        endpoints: Endpoints {
            authorize_url: format!("{base}/oauth/authorize"),
            token_url: format!("{base}/oauth/access_token"),
            revoke_url: None,
            api_base: format!("{base}/v1.0"),
            upload_base: format!("{base}/v1.0"),
        },
        ..support::settings(server)
    }
}

fn facebook_adapter(server: &MockServer) -> FacebookAdapter {
    FacebookAdapter::new(platform_adapters::http::client(), graph_settings(server))
}

fn instagram_adapter(server: &MockServer) -> InstagramAdapter {
    InstagramAdapter::new(platform_adapters::http::client(), graph_settings(server))
}

fn threads_adapter(server: &MockServer) -> ThreadsAdapter {
    ThreadsAdapter::new(platform_adapters::http::client(), threads_settings(server))
}

pub(crate) fn account<'a>(id: &'a str, token: &'a SecretString) -> AccountRef<'a> {
    AccountRef {
        platform_account_id: id,
        access_token: token,
        refresh_token: None,
        instance_url: None,
    }
}

pub(crate) fn graph_error(code: i64, subcode: Option<i64>, message: &str) -> Value {
    let mut error = json!({"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AbCdEfGh123"});
    if let Some(subcode) = subcode {
        error["error_subcode"] = json!(subcode);
    }
    json!({ "error": error })
}

fn assert_expires_in(expires_at: Option<DateTime<Utc>>, seconds: i64) {
    let expires_at = expires_at.expect("an expiry");
    let expected = Utc::now() + chrono::Duration::seconds(seconds);
    assert!(
        (expires_at - expected).num_seconds().abs() < 60,
        "expires at {expires_at}, expected about {expected}"
    );
}

/// Facebook Login step 1: the code for a short-lived user token.
async fn mount_code_exchange(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path("/v26.0/oauth/access_token"))
        .and(query_param("client_id", CLIENT_ID))
        .and(query_param("client_secret", CLIENT_SECRET))
        .and(query_param("redirect_uri", REDIRECT_URI))
        .and(query_param("code", "fb-code"))
        .and(query_param_is_missing("grant_type"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"access_token": "short-user-token", "token_type": "bearer", "expires_in": 5400}),
        ))
        .expect(1)
        .mount(server)
        .await;
}

/// Facebook Login step 2: the short-lived user token for a long-lived one.
async fn mount_long_lived_exchange(server: &MockServer, answer: Value) {
    Mock::given(method("GET"))
        .and(path("/v26.0/oauth/access_token"))
        .and(query_param("grant_type", "fb_exchange_token"))
        .and(query_param("client_id", CLIENT_ID))
        .and(query_param("client_secret", CLIENT_SECRET))
        .and(query_param("fb_exchange_token", "short-user-token"))
        .and(query_param_is_missing("code"))
        .respond_with(ResponseTemplate::new(200).set_body_json(answer))
        .expect(1)
        .mount(server)
        .await;
}

async fn mount_permissions(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path("/v26.0/me/permissions"))
        .and(query_param("access_token", "long-user-token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": [
            {"permission": "pages_show_list", "status": "granted"},
            {"permission": "pages_read_engagement", "status": "granted"},
            {"permission": "pages_manage_posts", "status": "granted"},
            {"permission": "instagram_basic", "status": "granted"},
            {"permission": "business_management", "status": "declined"},
            {"permission": "public_profile", "status": "granted"}
        ]})))
        .expect(1)
        .mount(server)
        .await;
}

/// The first `/me/accounts` page (no cursor) answering `listing`.
async fn mount_pages(server: &MockServer, fields: &str, listing: Value) {
    Mock::given(method("GET"))
        .and(path("/v26.0/me/accounts"))
        .and(query_param("fields", fields))
        .and(query_param("limit", "100"))
        .and(query_param("access_token", "long-user-token"))
        .and(query_param_is_missing("after"))
        .respond_with(ResponseTemplate::new(200).set_body_json(listing))
        .expect(1)
        .mount(server)
        .await;
}

/// Everything before the Page listing of a Facebook Login connect.
async fn mount_facebook_login(server: &MockServer) {
    mount_code_exchange(server).await;
    mount_long_lived_exchange(server, json!({"access_token": "long-user-token", "token_type": "bearer", "expires_in": LONG_LIVED_EXPIRES_IN})).await;
    mount_permissions(server).await;
}

fn granted() -> Vec<String> {
    [
        "pages_show_list",
        "pages_read_engagement",
        "pages_manage_posts",
        "instagram_basic",
        "public_profile",
    ]
    .map(String::from)
    .to_vec()
}

fn by_id<'a>(connections: &'a [Connection], id: &str) -> &'a Connection {
    connections
        .iter()
        .find(|c| c.profile.platform_account_id == id)
        .expect("a connection for that id")
}

// ---------------------------------------------------------------------------------------------
// Descriptors and endpoints
// ---------------------------------------------------------------------------------------------

#[test]
fn descriptors_state_meta_limits_and_documented_lifetimes() {
    let sixty_days = Some(Duration::from_secs(60 * 24 * 60 * 60));
    for d in [
        facebook::descriptor(),
        instagram::descriptor(),
        threads::descriptor(),
    ] {
        assert!(!d.pkce, "{:?} documents no PKCE", d.platform);
        assert!(!d.refresh_token_rotates);
        assert_eq!(d.access_token_lifetime, sixty_days);
    }
    let fb = facebook::descriptor();
    assert_eq!(
        fb.scopes,
        [
            "pages_show_list",
            "pages_read_engagement",
            "pages_manage_posts",
            "business_management",
            "pages_manage_engagement"
        ]
    );
    assert!(!fb.capabilities.requires_media);
    let ig = instagram::descriptor();
    assert!(
        ig.capabilities.requires_media,
        "Instagram posts need an image or a video"
    );
    assert_eq!(
        (ig.capabilities.text_limit, ig.capabilities.max_media),
        (2_200, 10)
    );
    assert!(ig.scopes.iter().any(|s| s == "instagram_content_publish"));
    let th = threads::descriptor();
    assert_eq!(
        (th.capabilities.text_limit, th.capabilities.max_media),
        (500, 20)
    );
    assert_eq!(
        th.scopes,
        [
            "threads_basic",
            "threads_content_publish",
            "threads_manage_insights"
        ]
    );
}

#[test]
fn default_endpoints_pin_one_graph_api_version_and_the_threads_hosts() {
    let fb = facebook::default_endpoints();
    let version = fb
        .api_base
        .strip_prefix("https://graph.facebook.com/")
        .expect("the Graph API host");
    assert!(
        version.starts_with('v') && version.contains('.'),
        "a pinned version, got {version}"
    );
    assert_eq!(
        fb.authorize_url,
        format!("https://www.facebook.com/{version}/dialog/oauth")
    );
    assert_eq!(
        fb.token_url,
        format!("https://graph.facebook.com/{version}/oauth/access_token")
    );
    assert_eq!(fb.revoke_url, None);
    assert_eq!(
        instagram::default_endpoints(),
        fb,
        "Instagram with Facebook Login lives on the Graph API"
    );

    let th = threads::default_endpoints();
    assert_eq!(th.authorize_url, "https://threads.com/oauth/authorize");
    assert_eq!(th.token_url, "https://graph.threads.com/oauth/access_token");
    assert_eq!(th.api_base, "https://graph.threads.com/v1.0");
    assert_eq!(th.revoke_url, None);
}

// ---------------------------------------------------------------------------------------------
// Authorization URLs
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn facebook_authorize_url_opens_the_login_dialog_with_page_permissions() {
    let server = MockServer::start().await;
    let url = facebook_adapter(&server)
        .authorize_url(&PARAMS)
        .expect("authorize URL");
    assert!(
        url.starts_with(&format!("{}/v26.0/dialog/oauth?", server.uri())),
        "{url}"
    );
    assert_eq!(param(&url, "client_id").as_deref(), Some(CLIENT_ID));
    assert_eq!(param(&url, "redirect_uri").as_deref(), Some(REDIRECT_URI));
    assert_eq!(param(&url, "state").as_deref(), Some("state-1"));
    assert_eq!(param(&url, "response_type").as_deref(), Some("code"));
    assert_eq!(
        param(&url, "scope").as_deref(),
        Some("pages_show_list,pages_read_engagement,pages_manage_posts,business_management,pages_manage_engagement")
    );
    assert_eq!(param(&url, "code_challenge"), None);
    assert!(!url.contains(CLIENT_SECRET));
}

#[tokio::test]
async fn instagram_authorize_url_asks_for_instagram_and_page_permissions() {
    let server = MockServer::start().await;
    let url = instagram_adapter(&server)
        .authorize_url(&PARAMS)
        .expect("authorize URL");
    assert!(
        url.starts_with(&format!("{}/v26.0/dialog/oauth?", server.uri())),
        "{url}"
    );
    assert_eq!(param(&url, "state").as_deref(), Some("state-1"));
    assert_eq!(param(&url, "response_type").as_deref(), Some("code"));
    assert_eq!(
        param(&url, "scope").as_deref(),
        Some("instagram_basic,instagram_content_publish,pages_show_list,pages_read_engagement,business_management,instagram_manage_comments,instagram_manage_insights")
    );
}

#[tokio::test]
async fn threads_authorize_url_asks_for_threads_permissions() {
    let server = MockServer::start().await;
    let url = threads_adapter(&server)
        .authorize_url(&PARAMS)
        .expect("authorize URL");
    assert!(
        url.starts_with(&format!("{}/oauth/authorize?", server.uri())),
        "{url}"
    );
    assert_eq!(param(&url, "client_id").as_deref(), Some(CLIENT_ID));
    assert_eq!(param(&url, "redirect_uri").as_deref(), Some(REDIRECT_URI));
    assert_eq!(param(&url, "state").as_deref(), Some("state-1"));
    assert_eq!(param(&url, "response_type").as_deref(), Some("code"));
    assert_eq!(
        param(&url, "scope").as_deref(),
        Some("threads_basic,threads_content_publish,threads_manage_insights")
    );
}

#[tokio::test]
async fn an_unconfigured_meta_platform_cannot_start_a_connection() {
    let server = MockServer::start().await;
    let settings = AdapterSettings {
        credentials: None,
        ..graph_settings(&server)
    };
    let err = FacebookAdapter::new(platform_adapters::http::client(), settings)
        .authorize_url(&PARAMS)
        .expect_err("no credentials");
    assert!(matches!(err, AdapterError::Unsupported { .. }), "{err:?}");
}

// ---------------------------------------------------------------------------------------------
// Facebook Pages
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn facebook_code_exchange_makes_a_long_lived_token_and_one_account_per_page() {
    let server = MockServer::start().await;
    mount_facebook_login(&server).await;
    mount_pages(&server, FB_PAGE_FIELDS, json!({
        "data": [
            {
                "id": "1755847768034402",
                "name": "Metricsaurus",
                "username": "metricsaurus",
                "link": "https://www.facebook.com/metricsaurus",
                "picture": {"data": {"url": "https://scontent.xx.fbcdn.net/v/metricsaurus.jpg"}},
                "followers_count": 1520,
                "fan_count": 1400,
                "access_token": "page-token-1"
            },
            {
                "id": "109876543210987",
                "name": "Corner Bakery",
                "link": "https://www.facebook.com/109876543210987",
                "fan_count": 12,
                "access_token": "page-token-2"
            },
            // Listed without a token: the user has no task on it that we could act with.
            {"id": "100000000000001", "name": "Read-only Page", "fan_count": 3}
        ],
        "paging": {"cursors": {"before": "QVFIUmxtX0", "after": "QVFIUmJzN1"}}
    }))
    .await;

    let connections = facebook_adapter(&server)
        .exchange_code(&FB_EXCHANGE)
        .await
        .expect("connections");

    assert_eq!(
        connections.len(),
        2,
        "one connection per Page with a Page token"
    );
    let first = by_id(&connections, "1755847768034402");
    assert_eq!(first.profile.account_kind, Some(AccountKind::Page));
    assert_eq!(first.profile.display_name.as_deref(), Some("Metricsaurus"));
    assert_eq!(first.profile.handle.as_deref(), Some("metricsaurus"));
    assert_eq!(
        first.profile.avatar_url.as_deref(),
        Some("https://scontent.xx.fbcdn.net/v/metricsaurus.jpg")
    );
    assert_eq!(
        first.profile.profile_url.as_deref(),
        Some("https://www.facebook.com/metricsaurus")
    );
    assert_eq!(
        first.tokens.access_token.expose_secret(),
        "page-token-1",
        "the Page token, not the user token"
    );
    assert!(first.tokens.refresh_token.is_none());
    assert_eq!(
        first.tokens.expires_at, None,
        "Page tokens from a long-lived user token do not expire"
    );
    assert_eq!(
        first.tokens.scopes,
        granted(),
        "declined permissions are not recorded as granted"
    );
    assert_eq!(
        first.stats,
        Some(Stats {
            followers_count: Some(1520),
            following_count: None,
            posts_count: None
        })
    );

    let second = by_id(&connections, "109876543210987");
    assert_eq!(second.tokens.access_token.expose_secret(), "page-token-2");
    assert_eq!(
        second.stats.and_then(|s| s.followers_count),
        Some(12),
        "fans when a Page reports no followers"
    );
}

#[tokio::test]
async fn facebook_follows_the_page_cursor_while_graph_says_there_is_more() {
    let server = MockServer::start().await;
    mount_facebook_login(&server).await;
    mount_pages(&server, FB_PAGE_FIELDS, json!({
        "data": [{"id": "1", "name": "One", "access_token": "page-token-1"}],
        "paging": {
            "cursors": {"before": "QVFIUmxtX0", "after": "QVFIUmJzN1"},
            "next": "https://graph.facebook.com/v26.0/1/accounts?access_token=long-user-token&limit=100&after=QVFIUmJzN1"
        }
    }))
    .await;
    Mock::given(method("GET"))
        .and(path("/v26.0/me/accounts"))
        .and(query_param("fields", FB_PAGE_FIELDS))
        .and(query_param("access_token", "long-user-token"))
        .and(query_param("after", "QVFIUmJzN1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [{"id": "2", "name": "Two", "access_token": "page-token-2"}],
            "paging": {"cursors": {"before": "QVFIUmJzN1", "after": "QVFIUmZAk"}}
        })))
        .expect(1)
        .mount(&server)
        .await;

    let connections = facebook_adapter(&server)
        .exchange_code(&FB_EXCHANGE)
        .await
        .expect("connections");

    let ids: Vec<_> = connections
        .iter()
        .map(|c| c.profile.platform_account_id.as_str())
        .collect();
    assert_eq!(ids, ["1", "2"]);
}

#[tokio::test]
async fn facebook_without_a_shared_page_is_a_clear_rejection() {
    let server = MockServer::start().await;
    mount_facebook_login(&server).await;
    mount_pages(&server, FB_PAGE_FIELDS, json!({"data": []})).await;

    let err = facebook_adapter(&server)
        .exchange_code(&FB_EXCHANGE)
        .await
        .expect_err("no Page");

    assert!(
        matches!(&err, AdapterError::Rejected { code, message } if code == "no_pages" && message.contains("Facebook Page")),
        "{err:?}"
    );
}

#[tokio::test]
async fn facebook_long_lived_token_without_expires_in_is_used_all_the_same() {
    // Meta sometimes omits `expires_in` on long-lived tokens; the Page tokens taken with the
    // user token are what the connections keep, so the connect goes on.
    let server = MockServer::start().await;
    mount_code_exchange(&server).await;
    mount_long_lived_exchange(
        &server,
        json!({"access_token": "long-user-token", "token_type": "bearer"}),
    )
    .await;
    mount_permissions(&server).await;
    mount_pages(
        &server,
        FB_PAGE_FIELDS,
        json!({"data": [{"id": "1", "name": "One", "access_token": "page-token-1"}]}),
    )
    .await;

    let connections = facebook_adapter(&server)
        .exchange_code(&FB_EXCHANGE)
        .await
        .expect("connections");

    assert_eq!(connections.len(), 1);
    assert_eq!(
        connections[0].tokens.access_token.expose_secret(),
        "page-token-1"
    );
}

#[tokio::test]
async fn facebook_profile_and_stats_read_the_page_with_its_page_token() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v26.0/1755847768034402"))
        .and(query_param("fields", "id,name,username,link,picture{url}"))
        .and(query_param("access_token", "page-token-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "1755847768034402",
            "name": "Metricsaurus",
            "username": "metricsaurus",
            "link": "https://www.facebook.com/metricsaurus",
            "picture": {"data": {"url": "https://scontent.xx.fbcdn.net/v/new.jpg"}}
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v26.0/1755847768034402"))
        .and(query_param("fields", "followers_count,fan_count"))
        .and(query_param("access_token", "page-token-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"followers_count": 1600, "fan_count": 1450, "id": "1755847768034402"}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let adapter = facebook_adapter(&server);
    let token = secret("page-token-1");

    let profile = adapter
        .profile(&account("1755847768034402", &token))
        .await
        .expect("profile");
    let stats = adapter
        .stats(&account("1755847768034402", &token))
        .await
        .expect("stats");

    assert_eq!(profile.account_kind, Some(AccountKind::Page));
    assert_eq!(profile.display_name.as_deref(), Some("Metricsaurus"));
    assert_eq!(
        profile.avatar_url.as_deref(),
        Some("https://scontent.xx.fbcdn.net/v/new.jpg")
    );
    assert_eq!(
        stats,
        Stats {
            followers_count: Some(1600),
            following_count: None,
            posts_count: None
        }
    );
}

#[tokio::test]
async fn facebook_and_instagram_revoke_is_not_supported_with_page_tokens() {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let token = secret("page-token-1");

    let fb = facebook_adapter(&server)
        .revoke(&account("1", &token))
        .await
        .expect("revoke");
    let ig = instagram_adapter(&server)
        .revoke(&account("17841405309211844", &token))
        .await
        .expect("revoke");

    assert_eq!(fb, Revocation::NotSupported);
    assert_eq!(ig, Revocation::NotSupported);
}

// ---------------------------------------------------------------------------------------------
// Instagram
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn instagram_connects_the_business_account_of_each_page() {
    let server = MockServer::start().await;
    mount_facebook_login(&server).await;
    mount_pages(&server, IG_PAGE_FIELDS, json!({
        "data": [
            {
                "id": "134895793791914",
                "name": "Blue Bottle Coffee",
                "access_token": "page-token-1",
                "instagram_business_account": {
                    "id": "17841405309211844",
                    "username": "bluebottle",
                    "name": "Blue Bottle Coffee",
                    "profile_picture_url": "https://scontent.cdninstagram.com/v/bluebottle.jpg",
                    "followers_count": 267788,
                    "follows_count": 1020,
                    "media_count": 1205
                }
            },
            // No linked Instagram account: skipped.
            {"id": "134895793791915", "name": "Events Page", "access_token": "page-token-2"},
            {
                "id": "134895793791916",
                "name": "Studio",
                "access_token": "page-token-3",
                "instagram_business_account": {"id": "17841400000000003", "username": "studio", "followers_count": 10, "follows_count": 5, "media_count": 3}
            }
        ],
        "paging": {"cursors": {"before": "QVFIUmxtX0", "after": "QVFIUmJzN1"}}
    }))
    .await;

    let connections = instagram_adapter(&server)
        .exchange_code(&FB_EXCHANGE)
        .await
        .expect("connections");

    assert_eq!(
        connections.len(),
        2,
        "one connection per linked Instagram account"
    );
    let blue = by_id(&connections, "17841405309211844");
    assert_eq!(blue.profile.account_kind, Some(AccountKind::Business));
    assert_eq!(blue.profile.handle.as_deref(), Some("bluebottle"));
    assert_eq!(
        blue.profile.display_name.as_deref(),
        Some("Blue Bottle Coffee")
    );
    assert_eq!(
        blue.profile.avatar_url.as_deref(),
        Some("https://scontent.cdninstagram.com/v/bluebottle.jpg")
    );
    assert_eq!(
        blue.profile.profile_url.as_deref(),
        Some("https://www.instagram.com/bluebottle/")
    );
    assert_eq!(
        blue.tokens.access_token.expose_secret(),
        "page-token-1",
        "the token of the linked Page"
    );
    assert_eq!(blue.tokens.expires_at, None);
    assert_eq!(blue.tokens.scopes, granted());
    assert_eq!(
        blue.stats,
        Some(Stats {
            followers_count: Some(267_788),
            following_count: Some(1020),
            posts_count: Some(1205)
        })
    );

    let studio = by_id(&connections, "17841400000000003");
    assert_eq!(studio.tokens.access_token.expose_secret(), "page-token-3");
    assert_eq!(
        studio.profile.display_name.as_deref(),
        Some("studio"),
        "the username stands in for a missing name"
    );
}

#[tokio::test]
async fn instagram_without_a_business_account_is_a_clear_rejection() {
    let server = MockServer::start().await;
    mount_facebook_login(&server).await;
    mount_pages(&server, IG_PAGE_FIELDS, json!({"data": [{"id": "134895793791915", "name": "Events Page", "access_token": "page-token-2"}]})).await;

    let err = instagram_adapter(&server)
        .exchange_code(&FB_EXCHANGE)
        .await
        .expect_err("no Instagram account");

    assert!(
        matches!(&err, AdapterError::Rejected { code, message }
            if code == "no_instagram_account" && message.contains("no Instagram professional account is linked to your Facebook pages")),
        "{err:?}"
    );
}

#[tokio::test]
async fn instagram_profile_and_stats_read_the_business_account() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v26.0/17841405309211844"))
        .and(query_param(
            "fields",
            "id,username,name,profile_picture_url",
        ))
        .and(query_param("access_token", "page-token-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "17841405309211844",
            "username": "bluebottle",
            "name": "Blue Bottle Coffee",
            "profile_picture_url": "https://scontent.cdninstagram.com/v/bluebottle.jpg"
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v26.0/17841405309211844"))
        .and(query_param("fields", "followers_count,follows_count,media_count"))
        .and(query_param("access_token", "page-token-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"followers_count": 267790, "follows_count": 1021, "media_count": 1206, "id": "17841405309211844"})))
        .expect(1)
        .mount(&server)
        .await;
    let adapter = instagram_adapter(&server);
    let token = secret("page-token-1");

    let profile = adapter
        .profile(&account("17841405309211844", &token))
        .await
        .expect("profile");
    let stats = adapter
        .stats(&account("17841405309211844", &token))
        .await
        .expect("stats");

    assert_eq!(profile.platform_account_id, "17841405309211844");
    assert_eq!(profile.account_kind, Some(AccountKind::Business));
    assert_eq!(profile.handle.as_deref(), Some("bluebottle"));
    assert_eq!(
        stats,
        Stats {
            followers_count: Some(267_790),
            following_count: Some(1021),
            posts_count: Some(1206)
        }
    );
}

// ---------------------------------------------------------------------------------------------
// Threads
// ---------------------------------------------------------------------------------------------

async fn mount_threads_code_exchange(server: &MockServer) {
    Mock::given(method("POST"))
        .and(path("/oauth/access_token"))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(body_string_contains("client_id=test-client-id"))
        .and(body_string_contains("client_secret=test-client-secret"))
        .and(body_string_contains("grant_type=authorization_code"))
        .and(body_string_contains(
            "redirect_uri=http%3A%2F%2F127.0.0.1%3A8080%2Fv1%2Foauth%2Fcallback",
        ))
        .and(body_string_contains("code=threads-code"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"access_token": "short-threads-token", "user_id": 1234567})),
        )
        .expect(1)
        .mount(server)
        .await;
}

async fn mount_threads_long_lived_exchange(server: &MockServer, answer: Value) {
    Mock::given(method("GET"))
        .and(path("/access_token"))
        .and(query_param("grant_type", "th_exchange_token"))
        .and(query_param("client_secret", CLIENT_SECRET))
        .and(query_param("access_token", "short-threads-token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(answer))
        .expect(1)
        .mount(server)
        .await;
}

async fn mount_threads_profile(server: &MockServer, id: &str, token: &str) {
    Mock::given(method("GET"))
        .and(path(format!("/v1.0/{id}")))
        .and(query_param("fields", THREADS_PROFILE_FIELDS))
        .and(query_param("access_token", token))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "1234567",
            "username": "threadsapitestuser",
            "name": "Threads API Test User",
            "threads_profile_picture_url": "https://scontent-sjc3-1.cdninstagram.com/link/to/profile/picture/on/threads/",
            "threads_biography": "This is my Threads bio."
        })))
        .expect(1)
        .mount(server)
        .await;
}

async fn mount_threads_insights(server: &MockServer, token: &str, answer: ResponseTemplate) {
    Mock::given(method("GET"))
        .and(path("/v1.0/1234567/threads_insights"))
        .and(query_param("metric", "followers_count"))
        .and(query_param("access_token", token))
        .respond_with(answer)
        .expect(1)
        .mount(server)
        .await;
}

fn followers_insight(count: i64) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({"data": [{
        "name": "followers_count",
        "period": "day",
        "title": "followers_count",
        "description": "This is the total number of followers on Threads.",
        "total_value": {"value": count},
        "id": "1234567/insights/followers_count/day"
    }]}))
}

#[tokio::test]
async fn threads_exchanges_for_a_long_lived_token() {
    let server = MockServer::start().await;
    mount_threads_code_exchange(&server).await;
    mount_threads_long_lived_exchange(&server, json!({"access_token": "long-threads-token", "token_type": "bearer", "expires_in": LONG_LIVED_EXPIRES_IN})).await;
    mount_threads_profile(&server, "me", "long-threads-token").await;
    mount_threads_insights(&server, "long-threads-token", followers_insight(10)).await;

    let connections = threads_adapter(&server)
        .exchange_code(&THREADS_EXCHANGE)
        .await
        .expect("connection");

    assert_eq!(connections.len(), 1);
    let c = &connections[0];
    assert_eq!(
        c.tokens.access_token.expose_secret(),
        "long-threads-token",
        "the long-lived token, never the short one"
    );
    assert!(c.tokens.refresh_token.is_none());
    assert_expires_in(c.tokens.expires_at, LONG_LIVED_EXPIRES_IN);
    assert_eq!(c.profile.platform_account_id, "1234567");
    assert_eq!(c.profile.account_kind, Some(AccountKind::Profile));
    assert_eq!(c.profile.handle.as_deref(), Some("threadsapitestuser"));
    assert_eq!(
        c.profile.display_name.as_deref(),
        Some("Threads API Test User")
    );
    assert_eq!(
        c.profile.profile_url.as_deref(),
        Some("https://www.threads.com/@threadsapitestuser")
    );
    assert_eq!(
        c.stats,
        Some(Stats {
            followers_count: Some(10),
            following_count: None,
            posts_count: None
        })
    );
}

#[tokio::test]
async fn threads_long_lived_token_without_expires_in_lasts_the_documented_60_days() {
    let server = MockServer::start().await;
    mount_threads_code_exchange(&server).await;
    mount_threads_long_lived_exchange(
        &server,
        json!({"access_token": "long-threads-token", "token_type": "bearer"}),
    )
    .await;
    mount_threads_profile(&server, "me", "long-threads-token").await;
    mount_threads_insights(&server, "long-threads-token", followers_insight(10)).await;

    let connections = threads_adapter(&server)
        .exchange_code(&THREADS_EXCHANGE)
        .await
        .expect("connection");

    assert_expires_in(connections[0].tokens.expires_at, SIXTY_DAYS);
}

#[tokio::test]
async fn threads_connect_survives_an_insights_outage_without_counts() {
    // The code is spent once exchanged: an optional count must not throw the tokens away.
    let server = MockServer::start().await;
    mount_threads_code_exchange(&server).await;
    mount_threads_long_lived_exchange(&server, json!({"access_token": "long-threads-token", "token_type": "bearer", "expires_in": LONG_LIVED_EXPIRES_IN})).await;
    mount_threads_profile(&server, "me", "long-threads-token").await;
    mount_threads_insights(
        &server,
        "long-threads-token",
        ResponseTemplate::new(503).set_body_string("<html>Service Unavailable</html>"),
    )
    .await;

    let connections = threads_adapter(&server)
        .exchange_code(&THREADS_EXCHANGE)
        .await
        .expect("connection");

    assert_eq!(connections[0].stats, None);
    assert_eq!(
        connections[0].tokens.access_token.expose_secret(),
        "long-threads-token"
    );
}

#[tokio::test]
async fn threads_profile_and_stats_of_a_stored_account() {
    let server = MockServer::start().await;
    mount_threads_profile(&server, "1234567", "long-threads-token").await;
    mount_threads_insights(&server, "long-threads-token", followers_insight(42)).await;
    let adapter = threads_adapter(&server);
    let token = secret("long-threads-token");

    let profile = adapter
        .profile(&account("1234567", &token))
        .await
        .expect("profile");
    let stats = adapter
        .stats(&account("1234567", &token))
        .await
        .expect("stats");

    assert_eq!(profile.handle.as_deref(), Some("threadsapitestuser"));
    assert_eq!(stats.followers_count, Some(42));
}

#[tokio::test]
async fn threads_stats_without_the_insights_permission_are_unknown_not_a_reconnect() {
    let server = MockServer::start().await;
    mount_threads_insights(
        &server,
        "long-threads-token",
        ResponseTemplate::new(403).set_body_json(graph_error(
            10,
            None,
            "Application does not have permission for this action",
        )),
    )
    .await;
    let token = secret("long-threads-token");

    let stats = threads_adapter(&server)
        .stats(&account("1234567", &token))
        .await
        .expect("stats");

    assert_eq!(stats, Stats::default());
}

#[tokio::test]
async fn threads_revoke_is_not_supported() {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let token = secret("long-threads-token");

    let outcome = threads_adapter(&server)
        .revoke(&account("1234567", &token))
        .await
        .expect("revoke");

    assert_eq!(outcome, Revocation::NotSupported);
}

// ---------------------------------------------------------------------------------------------
// Error classification
// ---------------------------------------------------------------------------------------------

/// A Facebook Page profile read answered with `answer`.
async fn page_read_failing_with(answer: ResponseTemplate) -> AdapterError {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v26.0/1"))
        .respond_with(answer)
        .expect(1)
        .mount(&server)
        .await;
    let token = secret("page-token-1");
    facebook_adapter(&server)
        .profile(&account("1", &token))
        .await
        .expect_err("a failure")
}

#[tokio::test]
async fn graph_error_190_means_needs_reauth() {
    let err = page_read_failing_with(ResponseTemplate::new(400).set_body_json(graph_error(
        190,
        Some(463),
        "Error validating access token: Session has expired on Tuesday, 10-Nov-26 09:00:00 PST.",
    )))
    .await;

    assert!(
        matches!(&err, AdapterError::NeedsReauth { message } if message.contains("Session has expired")),
        "{err:?}"
    );
    assert!(
        !err.to_string().contains("page-token-1"),
        "no token in an error: {err}"
    );
}

#[tokio::test]
async fn graph_session_and_permission_errors_mean_needs_reauth() {
    for code in [102, 10, 200, 299] {
        let err = page_read_failing_with(ResponseTemplate::new(403).set_body_json(graph_error(
            code,
            None,
            "(#200) Requires pages_read_engagement permission",
        )))
        .await;
        assert!(
            matches!(err, AdapterError::NeedsReauth { .. }),
            "code {code}: {err:?}"
        );
    }
}

#[tokio::test]
async fn graph_throttling_codes_mean_rate_limited_and_the_app_limit_pauses_every_account() {
    let err = page_read_failing_with(ResponseTemplate::new(400).set_body_json(graph_error(
        4,
        None,
        "(#4) Application request limit reached",
    )))
    .await;
    assert_eq!(err, AdapterError::AppRateLimited { retry_after: None });
    for code in [17, 32, 613] {
        let err = page_read_failing_with(ResponseTemplate::new(400).set_body_json(graph_error(
            code,
            None,
            "(#4) Application request limit reached",
        )))
        .await;
        assert_eq!(
            err,
            AdapterError::RateLimited { retry_after: None },
            "code {code}"
        );
    }
}

#[tokio::test]
async fn graph_business_use_case_throttling_waits_the_estimated_minutes() {
    let err = page_read_failing_with(
        ResponseTemplate::new(400)
            .insert_header(
                "x-business-use-case-usage",
                r#"{"1755847768034402":[{"type":"pages","call_count":100,"total_cputime":25,"total_time":25,"estimated_time_to_regain_access":5}]}"#,
            )
            .set_body_json(graph_error(80_001, None, "There have been too many calls to this Page account.")),
    )
    .await;

    assert_eq!(
        err,
        AdapterError::RateLimited {
            retry_after: Some(Duration::from_secs(300))
        }
    );
}

#[tokio::test]
async fn too_many_requests_with_retry_after_is_rate_limited_for_that_long() {
    let err = page_read_failing_with(
        ResponseTemplate::new(429)
            .insert_header("retry-after", "120")
            .set_body_json(graph_error(17, None, "(#17) User request limit reached")),
    )
    .await;

    assert_eq!(
        err,
        AdapterError::RateLimited {
            retry_after: Some(Duration::from_secs(120))
        }
    );
}

#[tokio::test]
async fn server_errors_are_transient() {
    let html = page_read_failing_with(
        ResponseTemplate::new(503)
            .set_body_string("<html><body>Sorry, something went wrong.</body></html>"),
    )
    .await;
    let graph = page_read_failing_with(ResponseTemplate::new(500).set_body_json(json!({"error": {"message": "An unknown error has occurred.", "type": "OAuthException", "code": 1, "is_transient": true}}))).await;

    assert!(matches!(html, AdapterError::Transient { .. }), "{html:?}");
    assert!(matches!(graph, AdapterError::Transient { .. }), "{graph:?}");
    assert!(graph.is_retryable());
}

#[tokio::test]
async fn a_spent_authorization_code_is_rejected_without_leaking_the_secret() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v26.0/oauth/access_token"))
        .and(query_param("code", "fb-code"))
        .respond_with(ResponseTemplate::new(400).set_body_json(graph_error(
            100,
            Some(36009),
            "This authorization code has been used.",
        )))
        .expect(1)
        .mount(&server)
        .await;

    let err = facebook_adapter(&server)
        .exchange_code(&FB_EXCHANGE)
        .await
        .expect_err("a spent code");

    assert!(
        matches!(&err, AdapterError::Rejected { code, .. } if code == "graph_100_36009"),
        "{err:?}"
    );
    assert!(!err.to_string().contains(CLIENT_SECRET));
}

#[tokio::test]
async fn transport_errors_never_carry_the_secrets_of_the_url() {
    // Graph takes the app secret, codes and tokens as query parameters; reqwest would print
    // the URL in its error message.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("a free port")
        .local_addr()
        .expect("its address")
        .port();
    let server = MockServer::start().await;
    let mut settings = graph_settings(&server);
    settings.endpoints.token_url = format!("http://127.0.0.1:{port}/v26.0/oauth/access_token");
    let adapter = FacebookAdapter::new(platform_adapters::http::client(), settings);

    let err = adapter
        .exchange_code(&FB_EXCHANGE)
        .await
        .expect_err("nothing listens there");

    assert!(matches!(err, AdapterError::Transient { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        !text.contains(CLIENT_SECRET) && !text.contains("fb-code"),
        "secrets in: {text}"
    );
}

#[tokio::test]
async fn threads_expired_tokens_mean_needs_reauth() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1.0/1234567"))
        .respond_with(ResponseTemplate::new(400).set_body_json(graph_error(
            190,
            Some(463),
            "Error validating access token: Session has expired.",
        )))
        .expect(1)
        .mount(&server)
        .await;
    let token = secret("long-threads-token");

    let err = threads_adapter(&server)
        .profile(&account("1234567", &token))
        .await
        .expect_err("expired");

    assert!(matches!(err, AdapterError::NeedsReauth { .. }), "{err:?}");
}

// ---------------------------------------------------------------------------------------------
// Refresh: Threads' long-lived tokens; Facebook and Instagram Page tokens do not expire
// ---------------------------------------------------------------------------------------------

/// A query string holding exactly these pairs, in any order: an extra parameter (the app
/// secret, say) or a missing one fails the match.
pub(crate) fn query_is(pairs: &[(&str, &str)]) -> impl Match {
    let mut want: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    want.sort();
    move |request: &Request| {
        let mut got = support::query_of(request.url.as_str());
        got.sort();
        got == want
    }
}

/// `GET /refresh_access_token` at the root of the Threads host, expected exactly once for the
/// long-lived token `long-threads-token`.
async fn mount_threads_refresh(server: &MockServer, answer: ResponseTemplate) {
    Mock::given(method("GET"))
        .and(path("/refresh_access_token"))
        .and(query_is(&[
            ("grant_type", "th_refresh_token"),
            ("access_token", "long-threads-token"),
        ]))
        .respond_with(answer)
        .expect(1)
        .mount(server)
        .await;
}

async fn threads_refresh_failing_with(answer: ResponseTemplate) -> AdapterError {
    let server = MockServer::start().await;
    mount_threads_refresh(&server, answer).await;
    let token = secret("long-threads-token");
    let err = threads_adapter(&server)
        .refresh(&account("1234567", &token))
        .await
        .expect_err("a failed refresh");
    let text = format!("{err} {err:?}");
    assert!(
        !text.contains("long-threads-token") && !text.contains(CLIENT_SECRET),
        "a secret leaked into: {text}"
    );
    err
}

#[tokio::test]
async fn threads_refresh_extends_the_long_lived_token() {
    let server = MockServer::start().await;
    mount_threads_refresh(
        &server,
        ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "refreshed-threads-token",
            "token_type": "bearer",
            "expires_in": LONG_LIVED_EXPIRES_IN
        })),
    )
    .await;
    let token = secret("long-threads-token");

    let tokens = threads_adapter(&server)
        .refresh(&account("1234567", &token))
        .await
        .expect("refresh");

    assert_eq!(
        tokens.access_token.expose_secret(),
        "refreshed-threads-token"
    );
    assert!(
        tokens.refresh_token.is_none(),
        "Threads has no refresh token: None keeps whatever is stored"
    );
    assert_expires_in(tokens.expires_at, LONG_LIVED_EXPIRES_IN);
    assert_eq!(tokens.refresh_expires_at, None);
}

#[tokio::test]
async fn threads_refresh_without_expires_in_lasts_the_documented_60_days() {
    let server = MockServer::start().await;
    mount_threads_refresh(
        &server,
        ResponseTemplate::new(200).set_body_json(
            json!({"access_token": "refreshed-threads-token", "token_type": "bearer"}),
        ),
    )
    .await;
    let token = secret("long-threads-token");

    let tokens = threads_adapter(&server)
        .refresh(&account("1234567", &token))
        .await
        .expect("refresh");

    assert_expires_in(tokens.expires_at, SIXTY_DAYS);
}

#[tokio::test]
async fn threads_refresh_of_an_expired_token_asks_the_user_to_reconnect() {
    let err = threads_refresh_failing_with(ResponseTemplate::new(400).set_body_json(graph_error(
        190,
        Some(463),
        "Error validating access token: Session has expired on Tuesday, 10-Nov-26 09:00:00 PST.",
    )))
    .await;

    assert!(
        matches!(&err, AdapterError::NeedsReauth { message }
            if message.contains("Session has expired") && message.contains("reconnect your Threads account")),
        "{err:?}"
    );
}

#[tokio::test]
async fn threads_refresh_rate_limited_waits_as_threads_asks() {
    let err = threads_refresh_failing_with(
        ResponseTemplate::new(429)
            .insert_header("retry-after", "120")
            .set_body_json(graph_error(17, None, "(#17) User request limit reached")),
    )
    .await;

    assert_eq!(
        err,
        AdapterError::RateLimited {
            retry_after: Some(Duration::from_secs(120))
        }
    );
}

#[tokio::test]
async fn threads_refresh_server_errors_are_transient() {
    let err = threads_refresh_failing_with(
        ResponseTemplate::new(503).set_body_string("<html>Service Unavailable</html>"),
    )
    .await;

    assert!(matches!(err, AdapterError::Transient { .. }), "{err:?}");
    assert!(err.is_retryable());
}

#[tokio::test]
async fn facebook_and_instagram_page_tokens_are_not_refreshed() {
    // Page tokens taken with a long-lived user token do not expire: nothing to call.
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let token = secret("page-token-1");

    let facebook = facebook_adapter(&server)
        .refresh(&account("1", &token))
        .await
        .expect_err("unsupported");
    let instagram = instagram_adapter(&server)
        .refresh(&account("17841400000000000", &token))
        .await
        .expect_err("unsupported");

    assert!(
        matches!(facebook, AdapterError::Unsupported { .. }),
        "{facebook:?}"
    );
    assert!(
        matches!(instagram, AdapterError::Unsupported { .. }),
        "{instagram:?}"
    );
}
