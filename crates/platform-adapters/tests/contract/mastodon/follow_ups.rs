//! Mastodon after publishing: `GET /api/v1/statuses?id[]=` (4.3+), `GET /api/v1/statuses/:id`
//! where the batch route is missing, and `DELETE /api/v1/statuses/:id`. Answers follow
//! docs.joinmastodon.org (methods/statuses, entities/Status, entities/Error) and the instance's
//! scope refusal for a token without `read:statuses`.

use std::time::Duration;

use platform_adapters::{AdapterError, Deletion, PlatformAdapter, PostMetrics, PostRef};
use serde_json::{json, Value};
use wiremock::{
    matchers::{header, method, path},
    Mock, MockServer, Request, ResponseTemplate,
};

use super::{account_ref, publisher, status};
use crate::support::secret;

fn post(id: &str) -> PostRef<'_> {
    PostRef {
        platform_post_id: id,
        url: None,
    }
}

/// A `Status` with these counts (`quotes_count` is null before 4.5 and for unknown quotes).
fn counted(id: &str, favourites: i64, reblogs: i64, replies: i64, quotes: Value) -> Value {
    let mut status = status(id, "Hello from Postbridge", "public", json!([]));
    status["favourites_count"] = json!(favourites);
    status["reblogs_count"] = json!(reblogs);
    status["replies_count"] = json!(replies);
    status["quotes_count"] = quotes;
    status
}

fn ids_of(request: &Request) -> Vec<String> {
    request
        .url
        .query_pairs()
        .filter(|(k, _)| k == "id[]")
        .map(|(_, v)| v.into_owned())
        .collect()
}

fn anonymous(request: &Request) -> bool {
    !request.headers.contains_key("authorization")
}

#[tokio::test]
async fn metrics_of_a_batch_come_from_one_statuses_read_with_every_count() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/statuses"))
        .and(header("authorization", "Bearer token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            counted("113512", 112, 98, 7, json!(3)),
            counted("113513", 1, 0, 0, Value::Null),
        ])))
        .expect(1)
        .mount(&server)
        .await;
    let token = secret("token");

    let metrics = publisher(&server)
        .post_metrics(
            &account_ref(&token, None),
            &[post("113512"), post("113513")],
        )
        .await
        .expect("metrics");

    assert_eq!(
        metrics,
        vec![
            PostMetrics {
                platform_post_id: "113512".into(),
                likes: Some(112),
                replies: Some(7),
                reposts: Some(98),
                quotes: Some(3),
                saves: None,
                impressions: None,
                views: None,
                reach: None,
            },
            PostMetrics {
                platform_post_id: "113513".into(),
                likes: Some(1),
                replies: Some(0),
                reposts: Some(0),
                quotes: None,
                saves: None,
                impressions: None,
                views: None,
                reach: None,
            },
        ]
    );
    let requests = server.received_requests().await.expect("recorded");
    assert_eq!(ids_of(&requests[0]), vec!["113512", "113513"]);
}

#[tokio::test]
async fn a_status_the_instance_no_longer_has_is_left_out() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/statuses"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([counted(
            "1",
            5,
            1,
            0,
            json!(0)
        )])))
        .mount(&server)
        .await;
    let token = secret("token");

    let metrics = publisher(&server)
        .post_metrics(&account_ref(&token, None), &[post("1"), post("2")])
        .await
        .expect("metrics");

    let ids: Vec<&str> = metrics
        .iter()
        .map(|m| m.platform_post_id.as_str())
        .collect();
    assert_eq!(ids, vec!["1"]);
}

#[tokio::test]
async fn a_token_without_read_statuses_reads_public_statuses_anonymously() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/statuses"))
        .and(header("authorization", "Bearer token"))
        .respond_with(
            ResponseTemplate::new(403)
                .set_body_json(json!({"error": "This action is outside the authorized scopes"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/statuses"))
        .and(anonymous)
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([counted(
            "1",
            5,
            2,
            1,
            json!(0)
        )])))
        .expect(1)
        .mount(&server)
        .await;
    let token = secret("token");

    let metrics = publisher(&server)
        .post_metrics(&account_ref(&token, None), &[post("1")])
        .await
        .expect("metrics");

    assert_eq!(metrics.len(), 1);
    assert_eq!(metrics[0].likes, Some(5));
    assert_eq!(metrics[0].reposts, Some(2));
}

#[tokio::test]
async fn an_instance_that_shows_nothing_without_the_scope_answers_no_figures_not_an_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/statuses"))
        .and(header("authorization", "Bearer token"))
        .respond_with(
            ResponseTemplate::new(403)
                .set_body_json(json!({"error": "This action is outside the authorized scopes"})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/statuses"))
        .and(anonymous)
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(json!({"error": "This API requires an authenticated user"})),
        )
        .mount(&server)
        .await;
    let token = secret("token");

    let metrics = publisher(&server)
        .post_metrics(&account_ref(&token, None), &[post("1"), post("2")])
        .await
        .expect("a missing scope is not a failure");

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
async fn an_instance_before_4_3_is_asked_status_by_status() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/statuses"))
        .respond_with(
            ResponseTemplate::new(404).set_body_json(json!({"error": "Record not found"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/statuses/1"))
        .and(header("authorization", "Bearer token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(counted("1", 9, 8, 7, Value::Null)))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/statuses/2"))
        .respond_with(
            ResponseTemplate::new(404).set_body_json(json!({"error": "Record not found"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let token = secret("token");

    let metrics = publisher(&server)
        .post_metrics(&account_ref(&token, None), &[post("1"), post("2")])
        .await
        .expect("metrics");

    assert_eq!(
        metrics,
        vec![PostMetrics {
            platform_post_id: "1".into(),
            likes: Some(9),
            reposts: Some(8),
            replies: Some(7),
            ..PostMetrics::default()
        }]
    );
}

#[tokio::test]
async fn more_statuses_than_a_batch_are_read_in_runs_of_twenty() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/statuses"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .expect(2)
        .mount(&server)
        .await;
    let token = secret("token");
    let ids: Vec<String> = (1..=21).map(|i| i.to_string()).collect();
    let posts: Vec<PostRef<'_>> = ids.iter().map(|id| post(id)).collect();

    publisher(&server)
        .post_metrics(&account_ref(&token, None), &posts)
        .await
        .expect("metrics");

    let requests = server.received_requests().await.expect("recorded");
    let sizes: Vec<usize> = requests.iter().map(|r| ids_of(r).len()).collect();
    assert_eq!(sizes, vec![20, 1]);
}

#[tokio::test]
async fn delete_sends_delete_statuses_id_with_the_user_token() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path("/api/v1/statuses/103270115826048975"))
        .and(header("authorization", "Bearer token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(status(
            "103270115826048975",
            "Hello from Postbridge",
            "public",
            json!([]),
        )))
        .expect(1)
        .mount(&server)
        .await;
    let token = secret("token");

    let deletion = publisher(&server)
        .delete_post(&account_ref(&token, None), &post("103270115826048975"))
        .await
        .expect("deleted");

    assert_eq!(deletion, Deletion::Deleted);
}

#[tokio::test]
async fn deleting_a_status_that_is_gone_is_already_gone() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path("/api/v1/statuses/42"))
        .respond_with(
            ResponseTemplate::new(404).set_body_json(json!({"error": "Record not found"})),
        )
        .mount(&server)
        .await;
    let token = secret("token");

    let deletion = publisher(&server)
        .delete_post(&account_ref(&token, None), &post("42"))
        .await
        .expect("gone");

    assert_eq!(deletion, Deletion::AlreadyGone);
}

#[tokio::test]
async fn a_429_on_delete_waits_until_the_iso_reset_time() {
    let server = MockServer::start().await;
    let reset = (chrono::Utc::now() + chrono::Duration::seconds(120))
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    Mock::given(method("DELETE"))
        .and(path("/api/v1/statuses/42"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("x-ratelimit-limit", "30")
                .insert_header("x-ratelimit-remaining", "0")
                .insert_header("x-ratelimit-reset", reset.as_str())
                .set_body_json(json!({"error": "Too many requests"})),
        )
        .mount(&server)
        .await;
    let token = secret("token");

    let err = publisher(&server)
        .delete_post(&account_ref(&token, None), &post("42"))
        .await
        .expect_err("limited");

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
async fn a_status_id_stays_one_path_segment() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .respond_with(
            ResponseTemplate::new(404).set_body_json(json!({"error": "Record not found"})),
        )
        .mount(&server)
        .await;
    let token = secret("token");

    publisher(&server)
        .delete_post(&account_ref(&token, None), &post("1/../../accounts/1"))
        .await
        .expect("gone");

    let requests = server.received_requests().await.expect("recorded");
    assert_eq!(
        requests[0].url.path(),
        "/api/v1/statuses/1%2F..%2F..%2Faccounts%2F1"
    );
}
