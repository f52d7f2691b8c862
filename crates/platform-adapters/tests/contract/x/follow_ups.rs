//! X after publishing: `GET /2/tweets?ids=` with `tweet.fields=public_metrics` and
//! `DELETE /2/tweets/:id`. Answers follow the X API v2 OpenAPI description
//! (`GetPostsByIdsResponse`, `PostPublicMetrics`, `DeletePostsResponse`, the
//! `resource-not-found` problem) and the documented examples on docs.x.com (metrics,
//! delete-tweets-id).

use std::time::Duration;

use chrono::Utc;
use platform_adapters::{AdapterError, Deletion, PlatformAdapter, PostMetrics, PostRef};
use serde_json::json;
use wiremock::{
    matchers::{header, method, path, query_param},
    Mock, MockServer, ResponseTemplate,
};

use super::{account, adapter};
use crate::support::secret;

fn post(id: &str) -> PostRef<'_> {
    PostRef {
        platform_post_id: id,
        url: None,
    }
}

/// The `resource-not-found` problem X puts in `errors` for an id it no longer has.
fn not_found(id: &str) -> serde_json::Value {
    json!({
        "value": id,
        "detail": format!("Could not find tweet with ids: [{id}]."),
        "title": "Not Found Error",
        "resource_type": "tweet",
        "parameter": "ids",
        "resource_id": id,
        "type": "https://api.x.com/2/problems/resource-not-found"
    })
}

#[tokio::test]
async fn metrics_of_a_batch_are_read_in_one_lookup_with_every_public_figure() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/2/tweets"))
        .and(query_param(
            "ids",
            "1460323737035677698,1293593516040269825",
        ))
        .and(query_param("tweet.fields", "public_metrics"))
        .and(header("authorization", "Bearer access-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [
                {
                    "id": "1460323737035677698",
                    "text": "Introducing a new era for the Twitter Developer Platform!",
                    "edit_history_tweet_ids": ["1460323737035677698"],
                    "public_metrics": {
                        "retweet_count": 156, "reply_count": 23, "like_count": 1289,
                        "quote_count": 12, "bookmark_count": 31, "impression_count": 48230
                    }
                },
                {
                    "id": "1293593516040269825",
                    "text": "It's now easier to understand Tweet impact",
                    "edit_history_tweet_ids": ["1293593516040269825"],
                    "public_metrics": {
                        "retweet_count": 0, "reply_count": 1, "like_count": 2,
                        "quote_count": 0, "bookmark_count": 0, "impression_count": 97
                    }
                }
            ]
        })))
        .expect(1)
        .mount(&server)
        .await;
    let token = secret("access-1");

    let metrics = adapter(&server)
        .post_metrics(
            &account(&token, None),
            &[post("1460323737035677698"), post("1293593516040269825")],
        )
        .await
        .expect("metrics");

    assert_eq!(
        metrics,
        vec![
            PostMetrics {
                platform_post_id: "1460323737035677698".into(),
                likes: Some(1289),
                replies: Some(23),
                reposts: Some(156),
                quotes: Some(12),
                saves: Some(31),
                impressions: Some(48230),
                views: None,
                reach: None,
            },
            PostMetrics {
                platform_post_id: "1293593516040269825".into(),
                likes: Some(2),
                replies: Some(1),
                reposts: Some(0),
                quotes: Some(0),
                saves: Some(0),
                impressions: Some(97),
                views: None,
                reach: None,
            },
        ]
    );
}

#[tokio::test]
async fn a_post_x_no_longer_has_is_left_out_of_the_metrics() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/2/tweets"))
        .and(query_param("ids", "1,2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [{"id": "1", "text": "still here", "public_metrics": {
                "retweet_count": 1, "reply_count": 2, "like_count": 3,
                "quote_count": 4, "bookmark_count": 5, "impression_count": 6
            }}],
            "errors": [not_found("2")]
        })))
        .expect(1)
        .mount(&server)
        .await;
    let token = secret("access-1");

    let metrics = adapter(&server)
        .post_metrics(&account(&token, None), &[post("1"), post("2")])
        .await
        .expect("metrics");

    let ids: Vec<&str> = metrics
        .iter()
        .map(|m| m.platform_post_id.as_str())
        .collect();
    assert_eq!(ids, vec!["1"]);
    assert_eq!(metrics[0].likes, Some(3));

    // Every post gone: X answers only `errors`.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/2/tweets"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"errors": [not_found("2")]})))
        .mount(&server)
        .await;
    let metrics = adapter(&server)
        .post_metrics(&account(&token, None), &[post("2")])
        .await
        .expect("metrics");
    assert!(metrics.is_empty());
}

#[tokio::test]
async fn a_lookup_the_app_may_not_make_answers_the_posts_without_figures() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/2/tweets"))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({
            "title": "Client Forbidden",
            "detail": "When authenticating requests to the Twitter API v2 endpoints, you must use keys and tokens from a Twitter developer App that is attached to a Project.",
            "reason": "client-not-enrolled",
            "type": "https://api.x.com/2/problems/client-forbidden"
        })))
        .mount(&server)
        .await;
    let token = secret("access-1");

    let metrics = adapter(&server)
        .post_metrics(&account(&token, None), &[post("1"), post("2")])
        .await
        .expect("a missing permission is not a failure");

    assert_eq!(
        metrics,
        vec![
            PostMetrics {
                platform_post_id: "1".into(),
                ..PostMetrics::default()
            },
            PostMetrics {
                platform_post_id: "2".into(),
                ..PostMetrics::default()
            },
        ]
    );
}

#[tokio::test]
async fn more_posts_than_a_batch_are_read_in_runs_of_one_hundred() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/2/tweets"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": []})))
        .expect(2)
        .mount(&server)
        .await;
    let token = secret("access-1");
    let ids: Vec<String> = (1..=101).map(|i| i.to_string()).collect();
    let posts: Vec<PostRef<'_>> = ids.iter().map(|id| post(id)).collect();

    adapter(&server)
        .post_metrics(&account(&token, None), &posts)
        .await
        .expect("metrics");

    let requests = server.received_requests().await.expect("recorded");
    let sizes: Vec<usize> = requests
        .iter()
        .map(|r| {
            r.url
                .query_pairs()
                .find(|(k, _)| k == "ids")
                .map_or(0, |(_, v)| v.split(',').count())
        })
        .collect();
    assert_eq!(sizes, vec![100, 1]);
}

#[tokio::test]
async fn delete_sends_delete_tweets_id_with_the_user_token() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path("/2/tweets/1445880548472328192"))
        .and(header("authorization", "Bearer access-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": {"deleted": true}})))
        .expect(1)
        .mount(&server)
        .await;
    let token = secret("access-1");

    let deletion = adapter(&server)
        .delete_post(&account(&token, None), &post("1445880548472328192"))
        .await
        .expect("deleted");

    assert_eq!(deletion, Deletion::Deleted);
}

#[tokio::test]
async fn deleting_a_post_that_is_gone_is_already_gone() {
    let token = secret("access-1");

    // A 404 with the problem.
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path("/2/tweets/42"))
        .respond_with(ResponseTemplate::new(404).set_body_json(not_found("42")))
        .mount(&server)
        .await;
    let deletion = adapter(&server)
        .delete_post(&account(&token, None), &post("42"))
        .await
        .expect("gone");
    assert_eq!(deletion, Deletion::AlreadyGone);

    // A 200 with `deleted: false` and the problem.
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path("/2/tweets/42"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": {"deleted": false},
            "errors": [not_found("42")]
        })))
        .mount(&server)
        .await;
    let deletion = adapter(&server)
        .delete_post(&account(&token, None), &post("42"))
        .await
        .expect("gone");
    assert_eq!(deletion, Deletion::AlreadyGone);

    // A bare `deleted: false`: the lookup decides.
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path("/2/tweets/42"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": {"deleted": false}})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/2/tweets"))
        .and(query_param("ids", "42"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"errors": [not_found("42")]})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let deletion = adapter(&server)
        .delete_post(&account(&token, None), &post("42"))
        .await
        .expect("gone");
    assert_eq!(deletion, Deletion::AlreadyGone);
}

#[tokio::test]
async fn a_post_still_there_after_deleted_false_is_a_transient_failure() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path("/2/tweets/42"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": {"deleted": false}})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/2/tweets"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"data": [{"id": "42", "text": "still here"}]})),
        )
        .mount(&server)
        .await;
    let token = secret("access-1");

    let err = adapter(&server)
        .delete_post(&account(&token, None), &post("42"))
        .await
        .expect_err("not deleted");

    assert!(matches!(err, AdapterError::Transient { .. }), "{err:?}");
}

#[tokio::test]
async fn a_429_on_delete_is_rate_limited_until_the_window_resets() {
    let server = MockServer::start().await;
    let reset = Utc::now().timestamp() + 600;
    Mock::given(method("DELETE"))
        .and(path("/2/tweets/42"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("x-rate-limit-limit", "50")
                .insert_header("x-rate-limit-remaining", "0")
                .insert_header("x-rate-limit-reset", reset.to_string().as_str())
                .set_body_json(json!({"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank", "status": 429})),
        )
        .mount(&server)
        .await;
    let token = secret("access-1");

    let err = adapter(&server)
        .delete_post(&account(&token, None), &post("42"))
        .await
        .expect_err("limited");

    let AdapterError::RateLimited {
        retry_after: Some(wait),
    } = err
    else {
        panic!("expected RateLimited with a wait, got {err:?}");
    };
    assert!(
        wait > Duration::from_secs(590) && wait <= Duration::from_secs(600),
        "{wait:?}"
    );
}

#[tokio::test]
async fn a_malformed_post_id_is_refused_before_any_request() {
    let server = MockServer::start().await;
    let token = secret("access-1");

    let err = adapter(&server)
        .delete_post(&account(&token, None), &post("42/../../2/users/me"))
        .await
        .expect_err("refused");

    assert!(
        matches!(&err, AdapterError::Rejected { code, .. } if code == "invalid_post_id"),
        "{err:?}"
    );
    assert!(server
        .received_requests()
        .await
        .expect("recorded")
        .is_empty());
}

#[test]
fn the_descriptor_states_batches_of_one_hundred_and_deletion() {
    let d = platform_adapters::platforms::x::descriptor();
    assert_eq!(d.capabilities.follow_ups.metrics_batch, 100);
    assert!(d.capabilities.follow_ups.delete);
}
