//! Issue 16's findings 2–7 and 9: hostile input is refused in the error shape (never a 500),
//! tokens are checked strictly, and every response carries the security headers.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use wiremock::{
    matchers::{method, path},
    Mock, MockServer, ResponseTemplate,
};

use crate::support::{spawn_app, spawn_app_with, TestApp, FRONTEND};

const DEV_SECRET: &str = "postbridge-development-secret-change-me";

/// An HS256 token with exactly `claims`, signed with the development secret.
fn token_with(claims: Value) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(DEV_SECRET.as_bytes()),
    )
    .unwrap()
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

async fn status_with_token(app: &TestApp, token: &str) -> (StatusCode, Value) {
    let response = app
        .http
        .get(app.url("/v1/accounts"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn assert_error_shape(body: &Value) {
    assert!(
        body["error"]["code"].is_string() && body["error"]["message"].is_string(),
        "error shape: {body}"
    );
}

fn post_rows(app: &TestApp) -> i64 {
    use db::diesel::{dsl::count_star, QueryDsl, RunQueryDsl};
    db::schema::posts::table
        .select(count_star())
        .first(&mut app.db.conn())
        .unwrap()
}

fn draft_rows(app: &TestApp) -> i64 {
    use db::diesel::{dsl::count_star, QueryDsl, RunQueryDsl};
    db::schema::drafts::table
        .select(count_star())
        .first(&mut app.db.conn())
        .unwrap()
}

/// Sends `body` and expects a 400 or 422 in the error shape whose message names `field`.
async fn assert_refused_naming(
    app: &TestApp,
    method: Method,
    path: &str,
    body: Value,
    field: &str,
) {
    let response = app
        .http
        .request(method.clone(), app.url(path))
        .bearer_auth(crate::support::token_for("alice"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert!(
        status == StatusCode::BAD_REQUEST || status == StatusCode::UNPROCESSABLE_ENTITY,
        "{method} {path}: {status} {body}"
    );
    assert_error_shape(&body);
    assert!(
        body["error"]["message"].as_str().unwrap().contains(field),
        "{method} {path}: the message names `{field}`: {body}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn nul_bytes_in_any_text_field_are_refused_naming_the_field() {
    let app = spawn_app().await;
    let account = app.connect_sandbox("alice", "alice").await;
    let scheduled = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let created = app
        .post(
            "alice",
            "/v1/posts",
            json!({ "text": "later", "account_ids": [account], "scheduled_at": scheduled }),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let post: Value = created.json().await.unwrap();
    let post_id = post["id"].as_str().unwrap().to_owned();
    let (posts, drafts) = (post_rows(&app), draft_rows(&app));

    assert_refused_naming(
        &app,
        Method::POST,
        "/v1/posts",
        json!({ "text": "a\u{0}b", "account_ids": [account] }),
        "text",
    )
    .await;
    assert_refused_naming(
        &app,
        Method::POST,
        "/v1/posts",
        json!({ "text": "ok", "account_ids": [account], "variants": { "sandbox": { "text": "\u{0}" } } }),
        "variants.sandbox.text",
    )
    .await;
    assert_refused_naming(
        &app,
        Method::PATCH,
        &format!("/v1/posts/{post_id}"),
        json!({ "text": "edited\u{0}" }),
        "text",
    )
    .await;
    assert_refused_naming(
        &app,
        Method::POST,
        "/v1/drafts",
        json!({ "text": "draft\u{0}" }),
        "text",
    )
    .await;
    assert_refused_naming(
        &app,
        Method::POST,
        "/v1/connections/sandbox",
        json!({ "redirect_to": format!("{FRONTEND}/\u{0}") }),
        "redirect_to",
    )
    .await;
    assert_eq!(post_rows(&app), posts, "nothing created");
    assert_eq!(draft_rows(&app), drafts, "nothing created");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_nul_byte_in_the_token_subject_is_refused_naming_sub() {
    let app = spawn_app().await;
    let token = token_with(
        json!({ "sub": "al\u{0}ice", "iss": "postbridge-dev", "iat": now(), "exp": now() + 600 }),
    );
    let (status, body) = status_with_token(&app, &token).await;
    assert!(
        status == StatusCode::BAD_REQUEST || status == StatusCode::UNPROCESSABLE_ENTITY,
        "{status} {body}"
    );
    assert_error_shape(&body);
    assert!(
        body["error"]["message"].as_str().unwrap().contains("sub"),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn tokens_without_exp_or_iss_or_not_yet_valid_are_refused() {
    let app = spawn_app().await;
    let cases = [
        (
            "no iss",
            json!({ "sub": "alice", "iat": now(), "exp": now() + 600 }),
        ),
        (
            "no exp",
            json!({ "sub": "alice", "iss": "postbridge-dev", "iat": now() }),
        ),
        (
            "expired",
            json!({ "sub": "alice", "iss": "postbridge-dev", "iat": now() - 7200, "exp": now() - 3600 }),
        ),
        (
            "wrong iss",
            json!({ "sub": "alice", "iss": "someone-else", "iat": now(), "exp": now() + 600 }),
        ),
        (
            "nbf in an hour",
            json!({ "sub": "alice", "iss": "postbridge-dev", "iat": now(), "nbf": now() + 3600, "exp": now() + 7200 }),
        ),
    ];
    for (what, claims) in cases {
        let (status, body) = status_with_token(&app, &token_with(claims)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}: {body}");
        assert_error_shape(&body);
    }
    // A clock a few seconds ahead of ours is tolerated.
    let skewed = token_with(
        json!({ "sub": "alice", "iss": "postbridge-dev", "iat": now(), "nbf": now() + 5, "exp": now() + 600 }),
    );
    assert_eq!(status_with_token(&app, &skewed).await.0, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_configured_audience_is_required() {
    let app = spawn_app_with(&[("auth.jwt_audience", "postbridge-api".into())]).await;
    let without = token_with(
        json!({ "sub": "alice", "iss": "postbridge-dev", "iat": now(), "exp": now() + 600 }),
    );
    assert_eq!(
        status_with_token(&app, &without).await.0,
        StatusCode::UNAUTHORIZED
    );
    let with = token_with(
        json!({ "sub": "alice", "iss": "postbridge-dev", "aud": "postbridge-api", "iat": now(), "exp": now() + 600 }),
    );
    assert_eq!(status_with_token(&app, &with).await.0, StatusCode::OK);
}

#[test]
fn production_refuses_to_start_without_an_audience() {
    let settings = auth_gateway::auth::AuthSettings {
        jwt_hs256_secret: None,
        jwt_issuer: Some("https://issuer.example".into()),
        jwt_audience: None,
        jwks_url: Some("https://issuer.example/.well-known/jwks.json".into()),
    };
    let production =
        auth_gateway::auth::Authenticator::new(&settings, false, reqwest::Client::new());
    let err = production.unwrap_err();
    assert!(err.contains("jwt_audience"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_jwks_outage_is_a_503_in_the_error_shape() {
    let idp = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/jwks.json"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&idp)
        .await;
    let app = spawn_app_with(&[("auth.jwks_url", format!("{}/jwks.json", idp.uri()))]).await;
    use base64::Engine;
    let b64 = |v: Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(&v).unwrap())
    };
    let token = format!(
        "{}.{}.c2ln",
        b64(json!({ "alg": "RS256", "typ": "JWT", "kid": "k1" })),
        b64(json!({ "sub": "alice", "iss": "postbridge-dev", "exp": now() + 600 }))
    );
    let (status, body) = status_with_token(&app, &token).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_error_shape(&body);
}

#[tokio::test(flavor = "multi_thread")]
async fn out_of_range_dates_are_refused_not_500() {
    let app = spawn_app().await;
    let account = app.connect_sandbox("alice", "alice").await;
    for query in [
        "from=-100000-01-01T00:00:00Z",
        "to=+100000-01-01T00:00:00Z",
        "from=1000-01-01T00:00:00Z",
        "to=9999-12-31T00:00:00Z",
    ] {
        let response = app.get("alice", &format!("/v1/posts?{query}")).await;
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert_error_shape(&body);
    }
    let posts = post_rows(&app);
    for at in ["9999-12-31T00:00:00Z", "+100000-01-01T00:00:00Z"] {
        let response = app
            .post(
                "alice",
                "/v1/posts",
                json!({ "text": "far", "account_ids": [account], "scheduled_at": at }),
            )
            .await;
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert!(
            status == StatusCode::BAD_REQUEST || status == StatusCode::UNPROCESSABLE_ENTITY,
            "{at}: {status} {body}"
        );
        assert_error_shape(&body);
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("scheduled_at"),
            "{body}"
        );
    }
    assert_eq!(post_rows(&app), posts);
}

#[tokio::test(flavor = "multi_thread")]
async fn api_responses_and_the_callback_carry_security_headers() {
    let app = spawn_app().await;
    for response in [
        app.get("alice", "/v1/accounts").await,
        app.http.get(app.url("/v1/accounts")).send().await.unwrap(),
    ] {
        let headers = response.headers();
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(headers["cache-control"], "no-store");
    }
    let callback = app
        .http
        .get(app.url("/v1/oauth/sandbox/callback?code=x&state=forged"))
        .send()
        .await
        .unwrap();
    assert_eq!(callback.status(), StatusCode::FOUND);
    assert_eq!(callback.headers()["cache-control"], "no-store");
    assert_eq!(callback.headers()["referrer-policy"], "no-referrer");
    assert_eq!(callback.headers()["x-content-type-options"], "nosniff");
    assert!(
        !callback.headers().contains_key("strict-transport-security"),
        "HSTS only in production"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn ops_endpoints_are_not_on_the_public_port() {
    let app = spawn_app().await;
    for path in ["/metrics", "/readyz"] {
        let response = app.http.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let healthz = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(
        healthz.status(),
        StatusCode::OK,
        "load balancers keep /healthz"
    );
    for path in ["/healthz", "/readyz", "/metrics"] {
        let response = app
            .http
            .get(format!("{}{path}", app.ops_address))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "ops listener serves {path}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_routes_methods_and_oversized_bodies_answer_in_the_error_shape() {
    let app = spawn_app().await;
    let token = crate::support::token_for("alice");
    let requests = [
        (Method::GET, "/nope", None, StatusCode::NOT_FOUND),
        (Method::GET, "/v1/nope", None, StatusCode::NOT_FOUND),
        (
            Method::PUT,
            "/v1/posts",
            None,
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        (
            Method::DELETE,
            "/v1/drafts",
            None,
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        (
            Method::POST,
            "/v1/connections/sandbox",
            Some("x".repeat(70_000)),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        (
            Method::POST,
            "/v1/posts",
            Some(format!("{{\"text\": \"{}\"}}", "x".repeat(70_000))),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
    ];
    for (method, path, body, expected) in requests {
        let mut request = app
            .http
            .request(method.clone(), app.url(path))
            .bearer_auth(&token);
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        assert_eq!(status, expected, "{method} {path}: {text}");
        let body: Value = serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("{method} {path}: not JSON: {text:?}"));
        assert_error_shape(&body);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn cors_preflight_allows_and_exposes_x_request_id() {
    let app = spawn_app().await;
    let response = app
        .http
        .request(Method::OPTIONS, app.url("/v1/accounts"))
        .header("origin", FRONTEND)
        .header("access-control-request-method", "GET")
        .header(
            "access-control-request-headers",
            "authorization, x-request-id",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let allowed = response.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(allowed.contains("x-request-id"), "{allowed}");
    let actual = app
        .http
        .get(app.url("/v1/accounts"))
        .header("origin", FRONTEND)
        .bearer_auth(crate::support::token_for("alice"))
        .send()
        .await
        .unwrap();
    let exposed = actual.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(exposed.contains("x-request-id"), "{exposed}");
}

/// A page opened at `http://127.0.0.1:3000` instead of `http://localhost:3000` fails its
/// preflight, and the browser shows only "CORS error". The gateway says which origin it
/// refused and which it allows (both in its log and in the refusal's body, which the browser's
/// network panel shows), and that the two differ only in the host name.
#[tokio::test(flavor = "multi_thread")]
async fn a_near_miss_origin_is_refused_and_the_log_names_it_and_the_allowed_origins() {
    let db = testkit::TestDb::new();
    let mut service = service_kit::testing::ServiceProcess::start(
        env!("CARGO_BIN_EXE_auth-gateway"),
        "auth_gateway",
        db.url(),
        &testkit::amqp_url(),
        &testkit::unique_name("auth-gateway-test"),
    );
    service
        .wait_for("listening", std::time::Duration::from_secs(30))
        .await;
    // Two listeners log "listening"; the public one also names the ops port.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let port = loop {
        let public = service.log().iter().find_map(|line| {
            let event: Value = serde_json::from_str(line).ok()?;
            let fields = if event["fields"].is_object() {
                &event["fields"]
            } else {
                &event
            };
            (fields["message"] == "listening" && fields["ops_port"].is_u64())
                .then(|| fields["port"].as_u64())
                .flatten()
        });
        if let Some(port) = public {
            break port;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the public listener's port was not logged:\n{}",
            service.log().join("\n")
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let near_miss = "http://127.0.0.1:3000";
    let response = reqwest::Client::new()
        .request(
            Method::OPTIONS,
            format!("http://127.0.0.1:{port}/v1/accounts"),
        )
        .header("origin", near_miss)
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "authorization")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response
        .headers()
        .get("access-control-allow-origin")
        .is_none());
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "origin_not_allowed", "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains(near_miss), "{message}");
    assert!(message.contains(FRONTEND), "{message}");

    let event = service
        .wait_for(
            "CORS refused a request: its origin is not in auth_gateway.cors_allowed_origins",
            std::time::Duration::from_secs(5),
        )
        .await;
    let text = event.to_string();
    assert!(text.contains(near_miss), "{text}");
    assert!(text.contains(FRONTEND), "{text}");
    assert!(
        text.contains("only in the host name"),
        "the near miss is pointed out: {text}"
    );
    service
        .assert_stops_gracefully(std::time::Duration::from_secs(30))
        .await;
}
