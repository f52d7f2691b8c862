//! The posting API: uploads, posts, idempotency keys, validation, the stall knob, and the
//! record tests and benchmarks read.

use std::time::{Duration, Instant};

use platform_sim::{Knobs, KnobsUpdate};
use serde_json::{json, Value};

use crate::support::{oauth_error, spawn_sim, spawn_sim_with};

const JPEG: &[u8] = b"\xff\xd8\xff\xe0 fake jpeg bytes";

fn hex_sha256(bytes: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, bytes)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test]
async fn a_post_with_an_uploaded_image_is_created_readable_and_recorded() {
    let sim = spawn_sim();
    let token = sim.publisher_token("alice");
    let base = sim.handle.base_url();

    let upload = sim.upload(&token, "image/jpeg", JPEG).await;
    assert_eq!(upload.status(), 201);
    let media: Value = upload.json().await.expect("media JSON");
    assert_eq!(media["mime_type"], "image/jpeg");
    assert_eq!(media["size"], JPEG.len());
    let media_id = media["id"].as_str().expect("media id").to_owned();

    let created = sim
        .create_post(
            &token,
            Some("key-1"),
            &json!({ "text": "hello <world>", "media_ids": [media_id] }),
        )
        .await;
    assert_eq!(created.status(), 201);
    let post: Value = created.json().await.expect("post JSON");
    let id = post["id"].as_str().expect("post id").to_owned();
    assert_eq!(post["text"], "hello <world>");
    assert_eq!(post["media_ids"], json!([media_id]));
    assert_eq!(post["url"], format!("{base}/u/alice/posts/{id}"));
    assert!(post["created_at"]
        .as_str()
        .expect("created_at")
        .ends_with('Z'));

    let shown: Value = sim
        .api(&format!("/api/v1/posts/{id}"), &token)
        .await
        .json()
        .await
        .expect("post JSON");
    assert_eq!(shown, post);
    assert_eq!(
        sim.api("/api/v1/posts/999", &token).await.status(),
        404,
        "unknown posts are 404"
    );

    let recorded = sim.handle.posts();
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].id, id);
    assert_eq!(recorded[0].user, "alice");
    assert_eq!(recorded[0].idempotency_key.as_deref(), Some("key-1"));
    assert_eq!(recorded[0].media_ids, [media_id.as_str()]);
    assert_eq!(recorded[0].create_calls, 1);
    let uploads = sim.handle.media();
    assert_eq!(
        uploads[0].sha256,
        hex_sha256(JPEG),
        "the bytes arrived intact"
    );
    assert_eq!(uploads[0].post_id.as_deref(), Some(id.as_str()));

    let over_http = sim.control("/_sim/posts").await;
    assert_eq!(over_http[0]["id"], id);
    assert_eq!(over_http[0]["user"], "alice");
    assert_eq!(over_http[0]["idempotency_key"], "key-1");
    assert_eq!(over_http[0]["create_calls"], 1);
    let stats = sim.control("/_sim/stats").await;
    assert_eq!(stats["posts_created"], 1);
    assert_eq!(stats["media_uploads"], 1);

    // The post's URL is a page, escaped, and only under its author.
    let page = sim
        .http
        .get(post["url"].as_str().expect("url"))
        .send()
        .await
        .expect("GET post page");
    assert_eq!(page.status(), 200);
    assert!(page
        .text()
        .await
        .expect("page")
        .contains("hello &lt;world&gt;"));
    let elsewhere = sim
        .http
        .get(sim.url(&format!("/u/bob/posts/{id}")))
        .send()
        .await;
    assert_eq!(elsewhere.expect("GET").status(), 404);
}

#[tokio::test]
async fn the_same_idempotency_key_from_the_same_user_returns_the_first_post_forever() {
    let sim = spawn_sim();
    let alice = sim.publisher_token("alice");
    let bob = sim.publisher_token("bob");

    let first = sim
        .create_post(&alice, Some("target-1"), &json!({ "text": "once" }))
        .await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.expect("post");

    // A retry, even one whose body differs (re-uploaded media, say), gets the original post.
    let replay = sim
        .create_post(&alice, Some("target-1"), &json!({ "text": "twice?" }))
        .await;
    assert_eq!(replay.status(), 200);
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
    let replay: Value = replay.json().await.expect("post");
    assert_eq!(replay, first);

    // Keys belong to their user.
    let other = sim
        .create_post(&bob, Some("target-1"), &json!({ "text": "bob's" }))
        .await;
    assert_eq!(other.status(), 201);
    // Without a key nothing is deduplicated.
    for _ in 0..2 {
        let unkeyed = sim
            .create_post(&alice, None, &json!({ "text": "same" }))
            .await;
        assert_eq!(unkeyed.status(), 201);
    }

    assert_eq!(sim.handle.post_count(), 4);
    let stats = sim.control("/_sim/stats").await;
    assert_eq!(stats["posts_created"], 4);
    assert_eq!(stats["posts_deduplicated"], 1);
    assert_eq!(sim.handle.posts()[0].create_calls, 2);
    assert_eq!(sim.handle.posts()[0].text, "once");
}

#[tokio::test]
async fn posts_are_listed_by_idempotency_key_only_to_their_author() {
    let sim = spawn_sim();
    let alice = sim.publisher_token("alice");
    let bob = sim.publisher_token("bob");
    let created: Value = sim
        .create_post(&alice, Some("k-1"), &json!({ "text": "first" }))
        .await
        .json()
        .await
        .expect("post");
    let _ = sim
        .create_post(&alice, None, &json!({ "text": "second" }))
        .await;

    let by_key = |token: String, key: &'static str| {
        let sim = &sim;
        async move {
            let response = sim
                .http
                .get(sim.url("/api/v1/posts"))
                .query(&[("idempotency_key", key)])
                .bearer_auth(token)
                .send()
                .await
                .expect("GET /api/v1/posts");
            assert_eq!(response.status(), 200);
            response.json::<Value>().await.expect("posts")
        }
    };
    assert_eq!(by_key(alice.clone(), "k-1").await, json!([created]));
    assert_eq!(by_key(alice.clone(), "k-2").await, json!([]));
    assert_eq!(
        by_key(bob, "k-1").await,
        json!([]),
        "another user's key finds nothing"
    );

    let newest: Value = sim
        .api("/api/v1/posts?limit=1", &alice)
        .await
        .json()
        .await
        .expect("posts");
    assert_eq!(newest.as_array().map(Vec::len), Some(1));
    assert_eq!(newest[0]["text"], "second", "newest first");
    let bad = sim.api("/api/v1/posts?limit=0", &alice).await;
    assert_eq!(bad.status(), 400);
    assert_eq!(oauth_error(bad).await, "invalid_request");
}

#[tokio::test]
async fn revoked_expired_and_missing_tokens_get_401_and_a_token_without_publish_403() {
    let sim = spawn_sim();
    let body = json!({ "text": "hello" });

    let tokens = sim.connect("alice").await;
    assert_eq!(sim.revoke(&tokens.access_token).await.status(), 200);
    let revoked = sim
        .create_post(&tokens.access_token, Some("k"), &body)
        .await;
    assert_eq!(revoked.status(), 401);
    assert!(revoked.headers()["www-authenticate"]
        .to_str()
        .expect("ASCII")
        .starts_with("Bearer"));
    let revoked: Value = revoked.json().await.expect("error JSON");
    assert_eq!(revoked["error"], "invalid_token");
    assert!(revoked["error_description"].is_string());
    let upload = sim.upload(&tokens.access_token, "image/jpeg", JPEG).await;
    assert_eq!(upload.status(), 401);

    let expiring = sim.publisher_token("bob");
    sim.handle.expire_access_tokens();
    let expired = sim.create_post(&expiring, None, &body).await;
    assert_eq!(expired.status(), 401);
    assert_eq!(oauth_error(expired).await, "invalid_token");

    let missing = sim
        .http
        .post(sim.url("/api/v1/posts"))
        .json(&body)
        .send()
        .await
        .expect("POST");
    assert_eq!(missing.status(), 401);

    let profile_only = sim
        .handle
        .mint_grant("carol", "test-app", &["profile"])
        .expect("mint")
        .access_token;
    let forbidden = sim.create_post(&profile_only, None, &body).await;
    assert_eq!(forbidden.status(), 403);
    assert_eq!(oauth_error(forbidden).await, "insufficient_scope");

    assert_eq!(sim.handle.post_count(), 0);
    assert!(sim.handle.media().is_empty());
}

#[tokio::test]
async fn invalid_posts_are_refused_with_422_and_create_nothing() {
    let sim = spawn_sim();
    let token = sim.publisher_token("alice");
    let refusal = |body: Value| {
        let (sim, token) = (&sim, &token);
        async move {
            let response = sim.create_post(token, Some("k"), &body).await;
            let status = response.status().as_u16();
            let error: Value = response.json().await.expect("error JSON");
            assert!(
                error["error_description"]
                    .as_str()
                    .is_some_and(|d| !d.is_empty()),
                "{error}"
            );
            (status, error["error"].as_str().expect("code").to_owned())
        }
    };
    let code = |c: &str| (422, c.to_owned());

    assert_eq!(refusal(json!({ "text": "" })).await, code("empty_post"));
    assert_eq!(refusal(json!({ "text": " \n " })).await, code("empty_post"));
    assert_eq!(refusal(json!({})).await, code("empty_post"));
    assert_eq!(
        refusal(json!({ "text": "x".repeat(5001) })).await,
        code("text_too_long")
    );
    assert_eq!(
        refusal(json!({ "text": "hi", "media_ids": ["999"] })).await,
        code("invalid_media")
    );
    assert_eq!(
        refusal(json!({ "text": "hi", "media_ids": ["1", "2", "3", "4", "5"] })).await,
        code("too_many_media")
    );
    assert_eq!(
        refusal(json!({ "text": "hi", "media": ["1"] })).await,
        (400, "invalid_request".to_owned()),
        "a misspelt field is refused, not ignored"
    );
    let not_json = sim
        .http
        .post(sim.url("/api/v1/posts"))
        .bearer_auth(&token)
        .body("text=hi")
        .send()
        .await
        .expect("POST");
    assert_eq!(not_json.status(), 400);

    // A refused key is not spent: the same key then creates the post.
    assert_eq!(sim.handle.post_count(), 0);
    let limit = "é".repeat(5000);
    let ok = sim
        .create_post(&token, Some("k"), &json!({ "text": limit }))
        .await;
    assert_eq!(ok.status(), 201, "5000 characters, counted as characters");
}

#[tokio::test]
async fn media_must_be_the_authors_own_typed_non_empty_and_unattached() {
    let sim = spawn_sim();
    let alice = sim.publisher_token("alice");
    let bob = sim.publisher_token("bob");

    let pdf = sim.upload(&alice, "application/pdf", b"%PDF-1.7").await;
    assert_eq!(pdf.status(), 415);
    assert_eq!(oauth_error(pdf).await, "unsupported_media_type");
    let empty = sim.upload(&alice, "image/png", b"").await;
    assert_eq!(empty.status(), 422);
    assert_eq!(oauth_error(empty).await, "invalid_media");

    let described: Value = sim
        .http
        .post(sim.url("/api/v1/media"))
        .query(&[("alt_text", "a cat")])
        .bearer_auth(&alice)
        .header("content-type", "image/jpeg")
        .body(JPEG)
        .send()
        .await
        .expect("POST /api/v1/media")
        .json()
        .await
        .expect("media");
    assert_eq!(described["alt_text"], "a cat");
    let mine = described["id"].clone();

    let stolen = sim
        .create_post(&bob, None, &json!({ "text": "", "media_ids": [mine] }))
        .await;
    assert_eq!(stolen.status(), 422, "another user's upload is unknown");
    let used = sim
        .create_post(&alice, None, &json!({ "media_ids": [mine] }))
        .await;
    assert_eq!(used.status(), 201, "media alone make a post");
    let again = sim
        .create_post(&alice, None, &json!({ "media_ids": [mine] }))
        .await;
    assert_eq!(again.status(), 422, "an upload attaches to one post");
    assert_eq!(sim.handle.media()[0].alt_text.as_deref(), Some("a cat"));
}

#[tokio::test]
async fn a_stalled_create_has_stored_the_post_when_the_callers_timeout_fires() {
    let sim = spawn_sim();
    let token = sim.publisher_token("alice");
    let knobs: Value = sim
        .http
        .post(sim.url("/_sim/knobs"))
        .json(&json!({ "accept_then_stall_rate": 1.0, "stall_ms": 60_000 }))
        .send()
        .await
        .expect("POST /_sim/knobs")
        .json()
        .await
        .expect("knobs");
    assert_eq!(knobs["accept_then_stall_rate"], 1.0);
    assert_eq!(knobs["stall_ms"], 60_000);

    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .expect("client");
    let timed_out = impatient
        .post(sim.url("/api/v1/posts"))
        .bearer_auth(&token)
        .header("idempotency-key", "stalled-1")
        .json(&json!({ "text": "accepted, unanswered" }))
        .send()
        .await
        .expect_err("the answer is held back past the timeout");
    assert!(timed_out.is_timeout(), "{timed_out}");

    // The platform has the post anyway, and lookups by key are not stalled.
    assert_eq!(sim.handle.post_count(), 1);
    assert_eq!(sim.handle.stats().injected_stalls, 1);
    let found: Value = sim
        .api("/api/v1/posts?idempotency_key=stalled-1", &token)
        .await
        .json()
        .await
        .expect("posts");
    assert_eq!(found[0]["text"], "accepted, unanswered");

    // A retry with the key, once the platform answers promptly again, gets that same post.
    sim.handle
        .update_knobs(KnobsUpdate {
            accept_then_stall_rate: Some(0.0),
            ..KnobsUpdate::default()
        })
        .expect("knobs");
    let retry = sim
        .create_post(
            &token,
            Some("stalled-1"),
            &json!({ "text": "accepted, unanswered" }),
        )
        .await;
    assert_eq!(retry.status(), 200);
    assert_eq!(
        retry.json::<Value>().await.expect("post")["id"],
        found[0]["id"]
    );
    assert_eq!(sim.handle.post_count(), 1);
}

#[tokio::test]
async fn a_stall_delays_a_created_posts_answer_by_stall_ms() {
    let sim = spawn_sim_with(Knobs {
        accept_then_stall_rate: 1.0,
        stall_ms: 400,
        ..Knobs::default()
    });
    let token = sim.publisher_token("alice");
    let started = Instant::now();
    let created = sim
        .create_post(&token, None, &json!({ "text": "slow" }))
        .await;
    assert_eq!(created.status(), 201);
    assert!(started.elapsed() >= Duration::from_millis(400));
    // Other API calls are not stalled.
    assert_eq!(sim.api("/api/v1/posts", &token).await.status(), 200);
    assert_eq!(sim.handle.stats().injected_stalls, 1);
}

#[tokio::test]
async fn injected_faults_strike_posting_before_anything_is_stored() {
    let sim = spawn_sim();
    let token = sim.publisher_token("alice");
    sim.handle
        .update_knobs(KnobsUpdate {
            rate_limit_rate: Some(1.0),
            ..KnobsUpdate::default()
        })
        .expect("knobs");
    let limited = sim
        .create_post(&token, Some("k"), &json!({ "text": "hi" }))
        .await;
    assert_eq!(limited.status(), 429);
    assert_eq!(limited.headers()["retry-after"], "1");

    sim.handle
        .update_knobs(KnobsUpdate {
            rate_limit_rate: Some(0.0),
            error_rate: Some(1.0),
            ..KnobsUpdate::default()
        })
        .expect("knobs");
    let unavailable = sim
        .create_post(&token, Some("k"), &json!({ "text": "hi" }))
        .await;
    assert_eq!(unavailable.status(), 503);
    assert_eq!(sim.upload(&token, "image/jpeg", JPEG).await.status(), 503);

    assert_eq!(sim.handle.post_count(), 0);
    assert!(sim.handle.media().is_empty());
    sim.handle.set_knobs(Knobs::default()).expect("knobs");
    let created = sim
        .create_post(&token, Some("k"), &json!({ "text": "hi" }))
        .await;
    assert_eq!(created.status(), 201, "the key was not spent by the faults");
}

#[tokio::test]
async fn stall_knobs_are_read_and_checked_like_the_others() {
    let sim = spawn_sim();
    let knobs = sim.control("/_sim/knobs").await;
    assert_eq!(knobs["accept_then_stall_rate"], 0.0);
    assert_eq!(knobs["stall_ms"], 30_000);
    for bad in [
        json!({ "accept_then_stall_rate": 1.5 }),
        json!({ "stall_ms": 3_600_000 }),
    ] {
        let response = sim
            .http
            .post(sim.url("/_sim/knobs"))
            .json(&bad)
            .send()
            .await
            .expect("POST /_sim/knobs");
        assert_eq!(response.status(), 400, "{bad}");
    }
    assert_eq!(sim.handle.knobs(), Knobs::default());
}

#[tokio::test]
async fn publish_as_posts_like_the_api_and_shares_its_keys() {
    let sim = spawn_sim();
    let id = sim
        .handle
        .publish_as("Alice", "made by a test", "target-9")
        .expect("publish_as");
    assert_eq!(
        sim.handle
            .publish_as("alice", "again", "target-9")
            .expect("replay"),
        id
    );
    let token = sim.publisher_token("alice");
    let replay = sim
        .create_post(&token, Some("target-9"), &json!({ "text": "from the API" }))
        .await;
    assert_eq!(replay.status(), 200);
    assert_eq!(replay.json::<Value>().await.expect("post")["id"], id);
    assert_eq!(sim.handle.post_count(), 1);
    assert_eq!(sim.handle.posts()[0].user, "alice");
    assert!(sim.handle.publish_as("alice", "", "target-10").is_err());
}
