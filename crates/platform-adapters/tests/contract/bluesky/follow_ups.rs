//! Bluesky after publishing: `app.bsky.feed.getPosts` (lexicon `getPosts.json`, `postView` of
//! `app.bsky.feed.defs`) and `com.atproto.repo.deleteRecord` (lexicon `deleteRecord.json`, the
//! reference PDS answering without `commit` when there was no record).

use std::time::Duration;

use platform_adapters::{AdapterError, Deletion, PlatformAdapter, PostMetrics, PostRef};
use serde_json::{json, Value};
use wiremock::{
    matchers::{body_json, header, method, path},
    Mock, MockServer, ResponseTemplate,
};

use super::{account_ref, adapter, now, xrpc_error, DID, HANDLE};
use crate::support::secret;

const FIRST: &str = "at://did:plc:z72i7hdynmk6r22z27h6tvur/app.bsky.feed.post/3l6oveex3ii2l";
const SECOND: &str = "at://did:plc:z72i7hdynmk6r22z27h6tvur/app.bsky.feed.post/3l6ovfcg2ib2c";

fn post(uri: &str) -> PostRef<'_> {
    PostRef {
        platform_post_id: uri,
        url: None,
    }
}

/// An `app.bsky.feed.defs#postView` as the AppView hydrates it, with `counts` merged in.
fn post_view(uri: &str, counts: Value) -> Value {
    let mut view = json!({
        "uri": uri,
        "cid": "bafyreib2rxk3rybk3aobmv5cjuql3bm2twh4jo5uxgf5pmscsn3zjf6hpy",
        "author": {
            "did": DID,
            "handle": HANDLE,
            "displayName": "Alice",
            "avatar": "https://cdn.bsky.app/img/avatar/plain/did:plc:z72i7hdynmk6r22z27h6tvur/bafkrei@jpeg",
            "labels": [],
            "createdAt": "2023-04-12T04:53:57.057Z"
        },
        "record": {
            "$type": "app.bsky.feed.post",
            "text": "Hello from Postbridge",
            "createdAt": "2026-12-01T10:00:00.000Z",
            "langs": ["en"]
        },
        "indexedAt": "2026-12-01T10:00:01.120Z",
        "viewer": {"threadMuted": false, "embeddingDisabled": false},
        "labels": []
    });
    if let (Some(view), Some(counts)) = (view.as_object_mut(), counts.as_object()) {
        view.extend(counts.clone());
    }
    view
}

fn uris_of(request: &wiremock::Request) -> Vec<String> {
    request
        .url
        .query_pairs()
        .filter(|(k, _)| k == "uris")
        .map(|(_, v)| v.into_owned())
        .collect()
}

#[tokio::test]
async fn metrics_of_a_batch_come_from_one_get_posts_with_every_count() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/xrpc/app.bsky.feed.getPosts"))
        .and(header("authorization", "Bearer access"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"posts": [
            post_view(FIRST, json!({"bookmarkCount": 4, "replyCount": 3, "repostCount": 7, "likeCount": 42, "quoteCount": 1})),
            post_view(SECOND, json!({"bookmarkCount": 0, "replyCount": 0, "repostCount": 0, "likeCount": 1, "quoteCount": 0})),
        ]})))
        .expect(1)
        .mount(&server)
        .await;
    let access = secret("access");

    let metrics = adapter(&server)
        .post_metrics(
            &account_ref(&access, None, None),
            &[post(FIRST), post(SECOND)],
        )
        .await
        .expect("metrics");

    assert_eq!(
        metrics,
        vec![
            PostMetrics {
                platform_post_id: FIRST.into(),
                likes: Some(42),
                replies: Some(3),
                reposts: Some(7),
                quotes: Some(1),
                saves: Some(4),
                impressions: None,
                views: None,
                reach: None,
            },
            PostMetrics {
                platform_post_id: SECOND.into(),
                likes: Some(1),
                replies: Some(0),
                reposts: Some(0),
                quotes: Some(0),
                saves: Some(0),
                impressions: None,
                views: None,
                reach: None,
            },
        ]
    );
    let requests = server.received_requests().await.expect("recorded");
    assert_eq!(uris_of(&requests[0]), vec![FIRST, SECOND]);
}

#[tokio::test]
async fn a_post_the_appview_no_longer_has_is_left_out() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/xrpc/app.bsky.feed.getPosts"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"posts": [
            post_view(SECOND, json!({"replyCount": 0, "repostCount": 2, "likeCount": 5, "quoteCount": 0})),
        ]})))
        .mount(&server)
        .await;
    let access = secret("access");

    let metrics = adapter(&server)
        .post_metrics(
            &account_ref(&access, None, None),
            &[post(FIRST), post(SECOND)],
        )
        .await
        .expect("metrics");

    let ids: Vec<&str> = metrics
        .iter()
        .map(|m| m.platform_post_id.as_str())
        .collect();
    assert_eq!(ids, vec![SECOND]);
    assert_eq!(metrics[0].reposts, Some(2));
}

#[tokio::test]
async fn counts_the_appview_does_not_send_are_unknown_not_zero() {
    // Every count of `postView` is optional; an AppView without bookmarks (or quotes) omits
    // them. There are no scopes on an app-password session, so this is the only way a figure
    // goes missing on Bluesky.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/xrpc/app.bsky.feed.getPosts"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"posts": [
            post_view(FIRST, json!({"replyCount": 1, "repostCount": 2, "likeCount": 3})),
        ]})))
        .mount(&server)
        .await;
    let access = secret("access");

    let metrics = adapter(&server)
        .post_metrics(&account_ref(&access, None, None), &[post(FIRST)])
        .await
        .expect("metrics");

    assert_eq!(metrics[0].likes, Some(3));
    assert_eq!(metrics[0].quotes, None);
    assert_eq!(metrics[0].saves, None);
}

#[tokio::test]
async fn more_posts_than_a_batch_are_read_in_runs_of_twenty_five() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/xrpc/app.bsky.feed.getPosts"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"posts": []})))
        .expect(2)
        .mount(&server)
        .await;
    let access = secret("access");
    let uris: Vec<String> = (0..26)
        .map(|i| format!("at://{DID}/app.bsky.feed.post/3l6ove{i:07}"))
        .collect();
    let posts: Vec<PostRef<'_>> = uris.iter().map(|u| post(u)).collect();

    adapter(&server)
        .post_metrics(&account_ref(&access, None, None), &posts)
        .await
        .expect("metrics");

    let requests = server.received_requests().await.expect("recorded");
    let sizes: Vec<usize> = requests.iter().map(|r| uris_of(r).len()).collect();
    assert_eq!(sizes, vec![25, 1]);
}

#[tokio::test]
async fn reads_go_to_the_accounts_own_service() {
    let default = MockServer::start().await;
    let own = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/xrpc/app.bsky.feed.getPosts"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"posts": []})))
        .expect(1)
        .mount(&own)
        .await;
    let access = secret("access");
    let service = own.uri();

    adapter(&default)
        .post_metrics(&account_ref(&access, None, Some(&service)), &[post(FIRST)])
        .await
        .expect("metrics");

    assert!(default
        .received_requests()
        .await
        .expect("recorded")
        .is_empty());
}

#[tokio::test]
async fn delete_removes_the_record_named_by_the_uri() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/xrpc/com.atproto.repo.deleteRecord"))
        .and(header("authorization", "Bearer access"))
        .and(body_json(json!({
            "repo": DID,
            "collection": "app.bsky.feed.post",
            "rkey": "3l6oveex3ii2l"
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "commit": {"cid": "bafyreigh4xvcwzbsyrkgtxmrbvjczmtxwqlqyxbazqasyqb7rr7ybe4rpe", "rev": "3l6ovh2w7sk2d"}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let access = secret("access");

    let deletion = adapter(&server)
        .delete_post(&account_ref(&access, None, None), &post(FIRST))
        .await
        .expect("deleted");

    assert_eq!(deletion, Deletion::Deleted);
}

#[tokio::test]
async fn deleting_a_record_that_is_not_there_is_already_gone() {
    let access = secret("access");

    // The reference PDS: 200 without a commit.
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/xrpc/com.atproto.repo.deleteRecord"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .mount(&server)
        .await;
    let deletion = adapter(&server)
        .delete_post(&account_ref(&access, None, None), &post(FIRST))
        .await
        .expect("gone");
    assert_eq!(deletion, Deletion::AlreadyGone);

    // Another implementation: 400 RecordNotFound.
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/xrpc/com.atproto.repo.deleteRecord"))
        .respond_with(ResponseTemplate::new(400).set_body_json(xrpc_error(
            "RecordNotFound",
            "Could not locate record: at://did:plc:z72i7hdynmk6r22z27h6tvur/app.bsky.feed.post/3l6oveex3ii2l",
        )))
        .mount(&server)
        .await;
    let deletion = adapter(&server)
        .delete_post(&account_ref(&access, None, None), &post(FIRST))
        .await
        .expect("gone");
    assert_eq!(deletion, Deletion::AlreadyGone);
}

#[tokio::test]
async fn a_429_on_delete_waits_until_the_rate_limit_reset() {
    let server = MockServer::start().await;
    let reset = now() + 45;
    Mock::given(method("POST"))
        .and(path("/xrpc/com.atproto.repo.deleteRecord"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("ratelimit-limit", "5000")
                .insert_header("ratelimit-remaining", "0")
                .insert_header("ratelimit-reset", reset.to_string().as_str())
                .insert_header("ratelimit-policy", "5000;w=3600")
                .set_body_json(xrpc_error("RateLimitExceeded", "Rate Limit Exceeded")),
        )
        .mount(&server)
        .await;
    let access = secret("access");

    let err = adapter(&server)
        .delete_post(&account_ref(&access, None, None), &post(FIRST))
        .await
        .expect_err("limited");

    let AdapterError::RateLimited {
        retry_after: Some(wait),
    } = err
    else {
        panic!("expected a wait, got {err:?}")
    };
    assert!(
        (Duration::from_secs(43)..=Duration::from_secs(45)).contains(&wait),
        "{wait:?}"
    );
}

#[tokio::test]
async fn a_post_of_another_repository_or_not_a_post_is_refused_before_any_request() {
    let server = MockServer::start().await;
    let access = secret("access");

    for uri in [
        "at://did:plc:someoneelse/app.bsky.feed.post/3l6oveex3ii2l",
        "at://did:plc:z72i7hdynmk6r22z27h6tvur/app.bsky.actor.profile/self",
        "https://bsky.app/profile/alice.bsky.social/post/3l6oveex3ii2l",
    ] {
        let err = adapter(&server)
            .delete_post(&account_ref(&access, None, None), &post(uri))
            .await
            .expect_err("refused");
        assert!(
            matches!(err, AdapterError::Rejected { .. }),
            "{uri}: {err:?}"
        );
    }
    assert!(server
        .received_requests()
        .await
        .expect("recorded")
        .is_empty());
}
