//! Starting and finishing connections, and every way a callback is refused.

use db::diesel::{ExpressionMethods, RunQueryDsl};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::{param, spawn_app, FRONTEND};

#[tokio::test(flavor = "multi_thread")]
async fn platforms_lists_every_platform_and_which_are_configured() {
    let app = spawn_app().await;
    let body: Value = app
        .get("alice", "/v1/platforms")
        .await
        .json()
        .await
        .unwrap();
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 11);
    let find = |name: &str| {
        items
            .iter()
            .find(|p| p["platform"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(find("sandbox")["configured"], true);
    assert_eq!(
        find("x")["configured"],
        false,
        "no X credentials in the test configuration"
    );
    assert_eq!(find("bluesky")["auth_kind"], "app_password");
    assert_eq!(find("x")["capabilities"]["text_limit"], 280);
    assert!(body["next_cursor"].is_null());
}

#[tokio::test(flavor = "multi_thread")]
async fn starting_an_unconfigured_platform_is_a_clear_400() {
    let app = spawn_app().await;
    let response = app.post("alice", "/v1/connections/x", json!({})).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "platform_not_configured");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("POSTBRIDGE__PLATFORMS__X__CLIENT_ID"));
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_platforms_and_foreign_redirects_are_refused() {
    let app = spawn_app().await;
    let unknown = app
        .post("alice", "/v1/connections/myspace", json!({}))
        .await;
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);
    let foreign = app
        .post(
            "alice",
            "/v1/connections/sandbox",
            json!({ "redirect_to": "https://evil.example/steal" }),
        )
        .await;
    assert_eq!(foreign.status(), StatusCode::BAD_REQUEST);
    let body: Value = foreign.json().await.unwrap();
    assert_eq!(body["error"]["code"], "redirect_not_allowed");
}

#[tokio::test(flavor = "multi_thread")]
async fn requests_without_a_valid_token_are_401() {
    let app = spawn_app().await;
    let none = app.http.get(app.url("/v1/accounts")).send().await.unwrap();
    assert_eq!(none.status(), StatusCode::UNAUTHORIZED);
    let forged = app
        .http
        .get(app.url("/v1/accounts"))
        .bearer_auth("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJtYWxsb3J5In0.bad")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
    let body: Value = forged.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthorized");
}

#[tokio::test(flavor = "multi_thread")]
async fn authorize_url_carries_state_and_an_s256_pkce_challenge() {
    let app = spawn_app().await;
    let url = app.start_sandbox("alice").await;
    assert!(url.starts_with(&app.sim.base_url()));
    assert_eq!(
        param(&url, "code_challenge_method").as_deref(),
        Some("S256")
    );
    assert!(param(&url, "code_challenge").unwrap().len() >= 43);
    assert!(
        param(&url, "state").unwrap().len() >= 40,
        "a long random state"
    );
    assert_eq!(
        param(&url, "redirect_uri").as_deref(),
        Some("http://gateway.test/v1/oauth/sandbox/callback")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_connect_flow_stores_the_account_with_encrypted_tokens_and_shows_it_sanitized() {
    let app = spawn_app().await;
    let id = app.connect_sandbox("alice", "alice").await;

    let response = app.get("alice", &format!("/v1/accounts/{id}")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.unwrap();
    let account: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(account["platform"], "sandbox");
    assert_eq!(account["status"], "active");
    assert_eq!(account["handle"], "alice");
    assert!(
        account["followers_count"].is_i64(),
        "counts come with the connection: {account}"
    );
    for field in [
        "access_token",
        "refresh_token",
        "access_token_enc",
        "refresh_token_enc",
        "token_key_id",
    ] {
        assert!(account.get(field).is_none(), "{field} must never be served");
    }
    for token in app.sim.issued_tokens() {
        assert!(
            !text.contains(&token),
            "a token issued by the platform leaked into a response"
        );
    }

    // At rest the tokens are ciphertext, bound to their row and column.
    let mut conn = app.db.conn();
    let row = db::accounts::Account::find(&mut conn, id).unwrap().unwrap();
    let access = row.access_token_enc.clone().unwrap();
    for token in app.sim.issued_tokens() {
        assert!(
            !access.windows(token.len()).any(|w| w == token.as_bytes()),
            "plaintext token in the database"
        );
    }
    let vault = service_kit::testing::dev_vault();
    assert!(
        service_kit::tokens::access_token(&vault, &row)
            .unwrap()
            .is_some(),
        "decrypts with the right associated data"
    );
    let wrong_row = service_kit::tokens::aad(
        db::domain::AccountId::new(),
        service_kit::tokens::ACCESS_TOKEN,
    );
    assert!(
        vault.decrypt(&access, &wrong_row).is_err(),
        "another row's associated data fails"
    );
    let wrong_field = service_kit::tokens::aad(id, service_kit::tokens::REFRESH_TOKEN);
    assert!(
        vault.decrypt(&access, &wrong_field).is_err(),
        "another column's associated data fails"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn reconnecting_the_same_platform_account_updates_the_row_instead_of_duplicating_it() {
    let app = spawn_app().await;
    let first = app.connect_sandbox("alice", "alice").await;
    let second = app.connect_sandbox("alice", "alice").await;
    assert_eq!(first, second);
    assert_eq!(app.account_rows(), 1);
    let other = app.connect_sandbox("alice", "bob").await;
    assert_ne!(
        first, other,
        "another account on the same platform is a second connection"
    );
    assert_eq!(app.account_rows(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_callback_without_or_with_a_forged_state_is_rejected_and_stores_nothing() {
    let app = spawn_app().await;
    let url = app.start_sandbox("alice").await;
    let callback = app.approve(&url, "alice").await;
    let code = param(&callback, "code").unwrap();
    for query in [
        format!("code={code}"),
        format!("code={code}&state=forged-state-value"),
    ] {
        let back = app
            .follow_callback(
                &app.url(&format!("/v1/oauth/sandbox/callback?{query}")),
                None,
            )
            .await;
        assert!(back.starts_with(FRONTEND));
        assert_eq!(
            param(&back, "error").as_deref(),
            Some("invalid_state"),
            "{query}"
        );
    }
    assert_eq!(app.account_rows(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_replayed_state_is_rejected() {
    let app = spawn_app().await;
    let url = app.start_sandbox("alice").await;
    let callback = app.approve(&url, "alice").await;
    let ticket = app.ticket_from_callback(&callback).await;
    let replay = app.follow_callback(&callback, None).await;
    assert_eq!(param(&replay, "error").as_deref(), Some("invalid_state"));
    assert_eq!(
        app.complete("alice", &ticket).await.status(),
        StatusCode::OK
    );
    assert_eq!(app.account_rows(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_state_is_rejected() {
    let app = spawn_app().await;
    let url = app.start_sandbox("alice").await;
    let callback = app.approve(&url, "alice").await;
    db::diesel::update(db::schema::oauth_states::table)
        .set(
            db::schema::oauth_states::expires_at
                .eq(chrono::Utc::now() - chrono::Duration::seconds(1)),
        )
        .execute(&mut app.db.conn())
        .unwrap();
    let back = app.follow_callback(&callback, None).await;
    assert_eq!(param(&back, "error").as_deref(), Some("invalid_state"));
    assert_eq!(app.account_rows(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn another_users_state_is_rejected() {
    let app = spawn_app().await;
    let url = app.start_sandbox("alice").await;
    let callback = app.approve(&url, "alice").await;
    let back = app.follow_callback(&callback, Some("mallory")).await;
    assert_eq!(param(&back, "error").as_deref(), Some("invalid_state"));
    assert_eq!(app.account_rows(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_code_presented_with_another_authorizations_pkce_verifier_fails() {
    let app = spawn_app().await;
    // Two authorizations: the code of the first with the state (and so the verifier) of the second.
    let first = app
        .approve(&app.start_sandbox("alice").await, "alice")
        .await;
    let second = app
        .approve(&app.start_sandbox("alice").await, "alice")
        .await;
    let mixed = app.url(&format!(
        "/v1/oauth/sandbox/callback?code={}&state={}",
        param(&first, "code").unwrap(),
        param(&second, "state").unwrap()
    ));
    let back = app.follow_callback(&mixed, None).await;
    assert_eq!(
        param(&back, "error").as_deref(),
        Some("authorization_failed")
    );
    assert_eq!(app.account_rows(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_user_who_declines_is_sent_back_with_access_denied() {
    let app = spawn_app().await;
    let url = app.start_sandbox("alice").await;
    let state = param(&url, "state").unwrap();
    let back = app
        .follow_callback(
            &app.url(&format!(
                "/v1/oauth/sandbox/callback?error=access_denied&state={state}"
            )),
            None,
        )
        .await;
    assert_eq!(param(&back, "error").as_deref(), Some("access_denied"));
    assert_eq!(app.account_rows(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn reconnecting_with_a_grant_that_omits_the_refresh_token_keeps_the_stored_one() {
    use secrecy::ExposeSecret;
    use wiremock::{
        matchers::{method, path},
        Mock, MockServer, ResponseTemplate,
    };
    // The platform: platform-sim authorizes (codes and state), this server answers the token
    // exchange, first with a refresh token and then, on the reconnect, without one.
    let platform = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "access_token": "first-access", "token_type": "bearer", "expires_in": 3600, "refresh_token": "first-refresh" })))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&platform)
        .await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({ "access_token": "second-access", "token_type": "bearer", "expires_in": 3600 }),
        ))
        .with_priority(2)
        .mount(&platform)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/me"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({ "id": "sim-alice", "username": "alice" })),
        )
        .mount(&platform)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/me/stats"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "followers_count": 1 })))
        .mount(&platform)
        .await;
    let app = crate::support::spawn_app_with(&[
        (
            "platforms.sandbox.token_url",
            format!("{}/oauth/token", platform.uri()),
        ),
        ("platforms.sandbox.api_base", platform.uri()),
    ])
    .await;

    let first = app.connect_sandbox("alice", "alice").await;
    let second = app.connect_sandbox("alice", "alice").await;
    assert_eq!(first, second);

    let vault = service_kit::testing::dev_vault();
    let row = db::accounts::Account::find(&mut app.db.conn(), first)
        .unwrap()
        .unwrap();
    let access = service_kit::tokens::access_token(&vault, &row)
        .unwrap()
        .unwrap();
    let refresh = service_kit::tokens::refresh_token(&vault, &row)
        .unwrap()
        .unwrap();
    assert_eq!(
        access.expose_secret(),
        "second-access",
        "the new access token is stored"
    );
    assert_eq!(
        refresh.expose_secret(),
        "first-refresh",
        "the refresh token survives a grant without one"
    );
}

/// Issue 16, finding 1: someone who sends their own authorize URL to a victim must not get the
/// victim's account. The victim's browser follows the callback (no bearer token, as a real
/// redirect): nothing is connected to anyone by the callback itself.
#[tokio::test(flavor = "multi_thread")]
async fn a_callback_followed_by_another_browser_connects_nothing_by_itself() {
    let app = spawn_app().await;
    let mallorys_url = app.start_sandbox("mallory").await;
    // Alice approves with her platform account ("alice") in her own browser.
    let callback = app.approve(&mallorys_url, "alice").await;
    let back = app.follow_callback(&callback, None).await;
    assert!(back.starts_with(FRONTEND), "{back}");
    assert!(param(&back, "account").is_none(), "no account id: {back}");
    assert!(
        param(&back, "ticket").is_some(),
        "a ticket for the frontend: {back}"
    );
    assert_eq!(
        app.account_rows(),
        0,
        "the callback connects nothing by itself"
    );
    assert_eq!(app.outbox_rows(), 0, "and announces nothing");
}

#[tokio::test(flavor = "multi_thread")]
async fn another_users_ticket_is_404_its_tokens_are_discarded_and_nothing_is_emitted() {
    let app = spawn_app().await;
    let mallorys_url = app.start_sandbox("mallory").await;
    let callback = app.approve(&mallorys_url, "alice").await;
    let ticket = app.ticket_from_callback(&callback).await;

    // Alice's frontend redeems the ticket in Alice's session: the flow was Mallory's.
    let response = app.complete("alice", &ticket).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");
    // Mallory cannot redeem it afterwards either: the tokens are gone.
    assert_eq!(
        app.complete("mallory", &ticket).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.account_rows(), 0);
    assert_eq!(app.outbox_rows(), 0, "nothing emitted");
    let pending: i64 = {
        use db::diesel::{dsl::count_star, QueryDsl};
        db::schema::pending_connections::table
            .select(count_star())
            .first(&mut app.db.conn())
            .unwrap()
    };
    assert_eq!(pending, 0, "the exchanged tokens are discarded");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_starting_user_completes_once_with_the_ticket() {
    let app = spawn_app().await;
    let url = app.start_sandbox("alice").await;
    let callback = app.approve(&url, "alice").await;
    let ticket = app.ticket_from_callback(&callback).await;
    assert_eq!(app.account_rows(), 0);

    let response = app.complete("alice", &ticket).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["platform"], "sandbox");
    assert_eq!(body["accounts"][0]["handle"], "alice");
    assert_eq!(app.account_rows(), 1);
    assert_eq!(
        app.complete("alice", &ticket).await.status(),
        StatusCode::NOT_FOUND,
        "a ticket is single-use"
    );
    for garbage in ["", "not-a-ticket", &"x".repeat(5000)] {
        let response = app.complete("alice", garbage).await;
        assert!(
            response.status() == StatusCode::NOT_FOUND
                || response.status() == StatusCode::BAD_REQUEST,
            "{garbage:?}: {}",
            response.status()
        );
    }
    assert_eq!(app.account_rows(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_ticket_is_refused() {
    let app = spawn_app().await;
    let url = app.start_sandbox("alice").await;
    let callback = app.approve(&url, "alice").await;
    let ticket = app.ticket_from_callback(&callback).await;
    db::diesel::update(db::schema::pending_connections::table)
        .set(
            db::schema::pending_connections::expires_at
                .eq(chrono::Utc::now() - chrono::Duration::seconds(1)),
        )
        .execute(&mut app.db.conn())
        .unwrap();
    assert_eq!(
        app.complete("alice", &ticket).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.account_rows(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn live_authorizations_are_capped_per_user() {
    let app = spawn_app().await;
    for _ in 0..20 {
        app.start_sandbox("alice").await;
    }
    let response = app
        .post("alice", "/v1/connections/sandbox", json!({}))
        .await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "too_many_pending_connections");
    // Another user is not affected.
    app.start_sandbox("bob").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn starting_connections_is_rate_limited_per_user() {
    let app = crate::support::spawn_app_with(&[(
        "auth_gateway.connection_starts_per_minute",
        "3".into(),
    )])
    .await;
    for _ in 0..3 {
        app.start_sandbox("alice").await;
    }
    let response = app
        .post("alice", "/v1/connections/sandbox", json!({}))
        .await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().contains_key("retry-after"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");
    app.start_sandbox("bob").await;
}
