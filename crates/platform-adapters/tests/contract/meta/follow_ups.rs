//! After publishing on Facebook Pages (Graph's multiple-id read with field expansion,
//! `DELETE /{post-id}`, `POST /{post-id}/comments`) and Threads (`/{media-id}/insights`,
//! `DELETE /{media-id}`). Answers follow the Graph API reference (post, reactions and comments
//! edges with `summary`, multiple-id reads, the error object and codes 10, 32, 100/33, 803),
//! the Pages API comments guide, and the Threads insights and delete-posts guides.

use std::time::Duration;

use platform_adapters::{
    platforms::{facebook::FacebookAdapter, threads::ThreadsAdapter},
    AdapterError, Deletion, PlatformAdapter, PostMetrics, PostRef, Published,
};
use serde_json::{json, Value};
use wiremock::{
    matchers::{method, path},
    Mock, MockServer, ResponseTemplate,
};

use crate::{
    meta::{account, graph_error, graph_settings, query_is, threads_settings},
    support::{self, form_is, no_options, secret},
};

const PAGE_ID: &str = "104361198391047";
const PAGE_TOKEN: &str = "page-token-1";
const THREADS_USER: &str = "17841400008460056";
const THREADS_TOKEN: &str = "threads-token-1";

const POST_FIELDS: &str = "reactions.limit(0).summary(true),comments.limit(0).summary(true),shares";
const MEDIA_FIELDS: &str = "reactions.limit(0).summary(true),comments.limit(0).summary(true)";
const THREADS_METRICS: &str = "views,likes,replies,reposts,quotes";

fn facebook(server: &MockServer) -> FacebookAdapter {
    FacebookAdapter::new(platform_adapters::http::client(), graph_settings(server))
}

fn threads(server: &MockServer) -> ThreadsAdapter {
    ThreadsAdapter::new(platform_adapters::http::client(), threads_settings(server))
}

fn post(id: &str) -> PostRef<'_> {
    PostRef {
        platform_post_id: id,
        url: None,
    }
}

/// A Page post's counts as field expansion answers them; `shares` only when it has some.
fn counts(id: &str, reactions: i64, comments: i64, shares: Option<i64>) -> Value {
    let mut node = json!({
        "id": id,
        "reactions": {"data": [], "summary": {"total_count": reactions, "viewer_reaction": "NONE"}},
        "comments": {"data": [], "summary": {"order": "ranked", "total_count": comments, "can_comment": true}}
    });
    if let Some(count) = shares {
        node["shares"] = json!({"count": count});
    }
    node
}

/// A multiple-id read's answer: an object keyed by the ids asked for.
fn by_id(nodes: &[(&str, Value)]) -> Value {
    Value::Object(
        nodes
            .iter()
            .map(|(id, node)| ((*id).to_owned(), node.clone()))
            .collect(),
    )
}

fn unknown(id: &str) -> PostMetrics {
    PostMetrics {
        platform_post_id: id.into(),
        ..PostMetrics::default()
    }
}

// ---------------------------------------------------------------------------------------------
// Facebook: metrics
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn facebook_metrics_of_a_batch_come_from_one_multiple_id_read() {
    let server = MockServer::start().await;
    let first = format!("{PAGE_ID}_122100000000000001");
    let second = format!("{PAGE_ID}_122100000000000002");
    Mock::given(method("GET"))
        .and(path("/v26.0/"))
        .and(query_is(&[
            ("ids", &format!("{first},{second}")),
            ("fields", POST_FIELDS),
            ("access_token", PAGE_TOKEN),
        ]))
        .respond_with(ResponseTemplate::new(200).set_body_json(by_id(&[
            (&second, counts(&second, 3, 0, None)),
            (&first, counts(&first, 57, 12, Some(4))),
        ])))
        .expect(1)
        .mount(&server)
        .await;
    let token = secret(PAGE_TOKEN);

    let metrics = facebook(&server)
        .post_metrics(&account(PAGE_ID, &token), &[post(&first), post(&second)])
        .await
        .expect("metrics");

    assert_eq!(
        metrics,
        vec![
            PostMetrics {
                platform_post_id: first.clone(),
                likes: Some(57),
                replies: Some(12),
                reposts: Some(4),
                ..PostMetrics::default()
            },
            // No `shares` on a post nobody shared: zero, since it was asked for.
            PostMetrics {
                platform_post_id: second.clone(),
                likes: Some(3),
                replies: Some(0),
                reposts: Some(0),
                ..PostMetrics::default()
            },
        ]
    );
}

#[tokio::test]
async fn facebook_videos_are_read_without_shares_which_their_nodes_lack() {
    let server = MockServer::start().await;
    let feed_post = format!("{PAGE_ID}_122100000000000001");
    Mock::given(method("GET"))
        .and(path("/v26.0/"))
        .and(query_is(&[
            ("ids", &feed_post),
            ("fields", POST_FIELDS),
            ("access_token", PAGE_TOKEN),
        ]))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(by_id(&[(&feed_post, counts(&feed_post, 1, 1, Some(1)))])),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v26.0/"))
        .and(query_is(&[
            ("ids", "1234567890123456"),
            ("fields", MEDIA_FIELDS),
            ("access_token", PAGE_TOKEN),
        ]))
        .respond_with(ResponseTemplate::new(200).set_body_json(by_id(&[(
            "1234567890123456",
            counts("1234567890123456", 8, 2, None),
        )])))
        .expect(1)
        .mount(&server)
        .await;
    let token = secret(PAGE_TOKEN);

    let metrics = facebook(&server)
        .post_metrics(
            &account(PAGE_ID, &token),
            &[post("1234567890123456"), post(&feed_post)],
        )
        .await
        .expect("metrics");

    assert_eq!(
        metrics,
        vec![
            PostMetrics {
                platform_post_id: "1234567890123456".into(),
                likes: Some(8),
                replies: Some(2),
                reposts: None,
                ..PostMetrics::default()
            },
            PostMetrics {
                platform_post_id: feed_post.clone(),
                likes: Some(1),
                replies: Some(1),
                reposts: Some(1),
                ..PostMetrics::default()
            },
        ]
    );
}

#[tokio::test]
async fn facebook_a_post_graph_no_longer_has_is_left_out_and_the_rest_read_again() {
    let server = MockServer::start().await;
    let kept = format!("{PAGE_ID}_122100000000000001");
    let gone = format!("{PAGE_ID}_122100000000000009");
    Mock::given(method("GET"))
        .and(path("/v26.0/"))
        .and(query_is(&[
            ("ids", &format!("{kept},{gone}")),
            ("fields", POST_FIELDS),
            ("access_token", PAGE_TOKEN),
        ]))
        .respond_with(ResponseTemplate::new(404).set_body_json(graph_error(
            803,
            None,
            &format!("(#803) Some of the aliases you requested do not exist: {gone}"),
        )))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v26.0/"))
        .and(query_is(&[
            ("ids", &kept),
            ("fields", POST_FIELDS),
            ("access_token", PAGE_TOKEN),
        ]))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(by_id(&[(&kept, counts(&kept, 2, 1, Some(0)))])),
        )
        .expect(1)
        .mount(&server)
        .await;
    let token = secret(PAGE_TOKEN);

    let metrics = facebook(&server)
        .post_metrics(&account(PAGE_ID, &token), &[post(&kept), post(&gone)])
        .await
        .expect("metrics");

    let ids: Vec<&str> = metrics
        .iter()
        .map(|m| m.platform_post_id.as_str())
        .collect();
    assert_eq!(ids, vec![kept.as_str()]);
}

#[tokio::test]
async fn facebook_a_gone_post_graph_does_not_name_makes_each_post_read_alone() {
    let server = MockServer::start().await;
    let kept = format!("{PAGE_ID}_122100000000000001");
    let gone = format!("{PAGE_ID}_122100000000000009");
    Mock::given(method("GET"))
        .and(path("/v26.0/"))
        .respond_with(ResponseTemplate::new(400).set_body_json(graph_error(
            100,
            Some(33),
            "Unsupported get request. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api",
        )))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/v26.0/{kept}")))
        .and(query_is(&[
            ("fields", POST_FIELDS),
            ("access_token", PAGE_TOKEN),
        ]))
        .respond_with(ResponseTemplate::new(200).set_body_json(counts(&kept, 5, 0, None)))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/v26.0/{gone}")))
        .respond_with(ResponseTemplate::new(400).set_body_json(graph_error(
            100,
            Some(33),
            &format!("Unsupported get request. Object with ID '{gone}' does not exist, cannot be loaded due to missing permissions, or does not support this operation."),
        )))
        .expect(1)
        .mount(&server)
        .await;
    let token = secret(PAGE_TOKEN);

    let metrics = facebook(&server)
        .post_metrics(&account(PAGE_ID, &token), &[post(&kept), post(&gone)])
        .await
        .expect("metrics");

    assert_eq!(
        metrics,
        vec![PostMetrics {
            platform_post_id: kept.clone(),
            likes: Some(5),
            replies: Some(0),
            reposts: Some(0),
            ..PostMetrics::default()
        }]
    );
}

#[tokio::test]
async fn facebook_a_page_token_without_the_read_permission_answers_no_figures_not_an_error() {
    let server = MockServer::start().await;
    let first = format!("{PAGE_ID}_1");
    Mock::given(method("GET"))
        .and(path("/v26.0/"))
        .respond_with(ResponseTemplate::new(403).set_body_json(graph_error(
            10,
            None,
            "(#10) This endpoint requires the 'pages_read_engagement' permission or the 'Page Public Content Access' feature.",
        )))
        .mount(&server)
        .await;
    let token = secret(PAGE_TOKEN);

    let metrics = facebook(&server)
        .post_metrics(&account(PAGE_ID, &token), &[post(&first)])
        .await
        .expect("a missing permission is not a failure");

    assert_eq!(metrics, vec![unknown(&first)]);
}

#[tokio::test]
async fn facebook_an_expired_page_token_still_asks_to_reconnect() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v26.0/"))
        .respond_with(ResponseTemplate::new(400).set_body_json(graph_error(
            190,
            Some(460),
            "Error validating access token: The session has been invalidated because the user changed their password.",
        )))
        .mount(&server)
        .await;
    let token = secret(PAGE_TOKEN);

    let err = facebook(&server)
        .post_metrics(&account(PAGE_ID, &token), &[post("1_2")])
        .await
        .expect_err("dead token");

    assert!(matches!(err, AdapterError::NeedsReauth { .. }), "{err:?}");
}

// ---------------------------------------------------------------------------------------------
// Facebook: delete
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn facebook_delete_sends_delete_post_id_with_the_page_token() {
    let server = MockServer::start().await;
    let id = format!("{PAGE_ID}_122100000000000001");
    Mock::given(method("DELETE"))
        .and(path(format!("/v26.0/{id}")))
        .and(query_is(&[("access_token", PAGE_TOKEN)]))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"success": true})))
        .expect(1)
        .mount(&server)
        .await;
    let token = secret(PAGE_TOKEN);

    let deletion = facebook(&server)
        .delete_post(&account(PAGE_ID, &token), &post(&id))
        .await
        .expect("deleted");

    assert_eq!(deletion, Deletion::Deleted);
}

#[tokio::test]
async fn facebook_deleting_a_post_that_is_gone_is_already_gone() {
    let server = MockServer::start().await;
    let id = format!("{PAGE_ID}_122100000000000009");
    Mock::given(method("DELETE"))
        .and(path(format!("/v26.0/{id}")))
        .respond_with(ResponseTemplate::new(400).set_body_json(graph_error(
            100,
            Some(33),
            &format!("Unsupported delete request. Object with ID '{id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation."),
        )))
        .mount(&server)
        .await;
    let token = secret(PAGE_TOKEN);

    let deletion = facebook(&server)
        .delete_post(&account(PAGE_ID, &token), &post(&id))
        .await
        .expect("gone");

    assert_eq!(deletion, Deletion::AlreadyGone);
}

#[tokio::test]
async fn facebook_a_throttled_delete_is_rate_limited_for_the_time_graph_states() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .respond_with(
            ResponseTemplate::new(400)
                .insert_header(
                    "x-business-use-case-usage",
                    r#"{"104361198391047":[{"type":"pages","call_count":100,"total_cputime":12,"total_time":9,"estimated_time_to_regain_access":5}]}"#,
                )
                .set_body_json(graph_error(32, None, "(#32) Page request limit reached")),
        )
        .mount(&server)
        .await;
    let token = secret(PAGE_TOKEN);

    let err = facebook(&server)
        .delete_post(&account(PAGE_ID, &token), &post("1_2"))
        .await
        .expect_err("limited");

    assert_eq!(
        err,
        AdapterError::RateLimited {
            retry_after: Some(Duration::from_secs(300))
        }
    );

    // A plain 429 with Retry-After, as Graph's edge answers under load.
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "60"))
        .mount(&server)
        .await;
    let err = facebook(&server)
        .delete_post(&account(PAGE_ID, &token), &post("1_2"))
        .await
        .expect_err("limited");
    assert_eq!(
        err,
        AdapterError::RateLimited {
            retry_after: Some(Duration::from_secs(60))
        }
    );
}

// ---------------------------------------------------------------------------------------------
// Facebook: comments
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn facebook_a_comment_is_posted_as_the_page_and_answers_its_id_and_link() {
    let server = MockServer::start().await;
    let on = format!("{PAGE_ID}_122100000000000001");
    let comment_id = "122100000000000001_1203456789012345";
    Mock::given(method("POST"))
        .and(path(format!("/v26.0/{on}/comments")))
        .and(form_is(&[
            ("message", "First comment: the link is https://example.com"),
            ("access_token", PAGE_TOKEN),
        ]))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": comment_id})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/v26.0/{comment_id}")))
        .and(query_is(&[
            ("fields", "permalink_url"),
            ("access_token", PAGE_TOKEN),
        ]))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "permalink_url": "https://www.facebook.com/104361198391047/posts/122100000000000001/?comment_id=1203456789012345",
            "id": comment_id
        })))
        .mount(&server)
        .await;
    let token = secret(PAGE_TOKEN);
    let comment = support::post(
        "First comment: the link is https://example.com",
        &[],
        no_options(),
    );

    let published = facebook(&server)
        .comment(&account(PAGE_ID, &token), &post(&on), &comment)
        .await
        .expect("commented");

    assert_eq!(
        published,
        Published {
            platform_post_id: comment_id.into(),
            url: Some("https://www.facebook.com/104361198391047/posts/122100000000000001/?comment_id=1203456789012345".into()),
        }
    );
}

#[tokio::test]
async fn facebook_a_comment_with_a_photo_attaches_it_by_url() {
    let server = MockServer::start().await;
    let base = server.uri();
    let photo = support::image(&base);
    Mock::given(method("POST"))
        .and(path("/v26.0/1_2/comments"))
        .and(form_is(&[
            ("message", "Look"),
            ("attachment_url", photo.url.as_str()),
            ("access_token", PAGE_TOKEN),
        ]))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "2_3"})))
        .expect(1)
        .mount(&server)
        .await;
    let token = secret(PAGE_TOKEN);
    let media = [photo.clone()];
    let comment = support::post("Look", &media, no_options());

    let published = facebook(&server)
        .comment(&account(PAGE_ID, &token), &post("1_2"), &comment)
        .await
        .expect("commented");

    assert_eq!(published.platform_post_id, "2_3");

    let video = [support::video(&base)];
    let err = facebook(&server)
        .comment(
            &account(PAGE_ID, &token),
            &post("1_2"),
            &support::post("", &video, no_options()),
        )
        .await
        .expect_err("no video in comments");
    assert!(
        matches!(&err, AdapterError::Rejected { code, .. } if code == "unsupported_media"),
        "{err:?}"
    );
}

#[tokio::test]
async fn facebook_a_comment_the_page_token_may_not_make_is_refused_without_asking_to_reconnect() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v26.0/1_2/comments"))
        .respond_with(ResponseTemplate::new(403).set_body_json(graph_error(
            200,
            None,
            "(#200) The user hasn't authorized the application to perform this action",
        )))
        .mount(&server)
        .await;
    let token = secret(PAGE_TOKEN);

    let err = facebook(&server)
        .comment(
            &account(PAGE_ID, &token),
            &post("1_2"),
            &support::post("Hi", &[], no_options()),
        )
        .await
        .expect_err("refused");

    assert!(
        matches!(&err, AdapterError::Rejected { code, message } if code == "missing_permission" && message.contains("pages_manage_engagement")),
        "{err:?}"
    );
}

#[tokio::test]
async fn facebook_a_comment_whose_answer_is_lost_has_an_unknown_outcome() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v26.0/1_2/comments"))
        .respond_with(ResponseTemplate::new(500).set_body_json(graph_error(
            2,
            None,
            "An unexpected error has occurred. Please retry your request later.",
        )))
        .mount(&server)
        .await;
    let token = secret(PAGE_TOKEN);

    let err = facebook(&server)
        .comment(
            &account(PAGE_ID, &token),
            &post("1_2"),
            &support::post("Hi", &[], no_options()),
        )
        .await
        .expect_err("unknown");

    assert!(
        matches!(err, AdapterError::OutcomeUnknown { .. }),
        "{err:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Threads
// ---------------------------------------------------------------------------------------------

/// `GET /{threads-media-id}/insights`, as the insights guide documents it.
fn insights(values: &[(&str, i64)]) -> Value {
    let data: Vec<Value> = values
        .iter()
        .map(|(name, value)| {
            json!({
                "name": name,
                "period": "lifetime",
                "values": [{"value": value}],
                "title": name,
                "description": format!("The number of {name} on your post."),
                "id": format!("18050206876707110/insights/{name}/lifetime")
            })
        })
        .collect();
    json!({ "data": data })
}

#[tokio::test]
async fn threads_metrics_come_from_the_media_insights_with_every_figure() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1.0/18050206876707110/insights"))
        .and(query_is(&[
            ("metric", THREADS_METRICS),
            ("access_token", THREADS_TOKEN),
        ]))
        .respond_with(ResponseTemplate::new(200).set_body_json(insights(&[
            ("views", 1520),
            ("likes", 100),
            ("replies", 10),
            ("reposts", 4),
            ("quotes", 2),
        ])))
        .expect(1)
        .mount(&server)
        .await;
    let token = secret(THREADS_TOKEN);

    let metrics = threads(&server)
        .post_metrics(&account(THREADS_USER, &token), &[post("18050206876707110")])
        .await
        .expect("metrics");

    assert_eq!(
        metrics,
        vec![PostMetrics {
            platform_post_id: "18050206876707110".into(),
            likes: Some(100),
            replies: Some(10),
            reposts: Some(4),
            quotes: Some(2),
            saves: None,
            impressions: None,
            views: Some(1520),
            reach: None,
        }]
    );
}

#[tokio::test]
async fn threads_a_post_threads_no_longer_has_is_left_out() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1.0/1/insights"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(insights(&[("likes", 1), ("replies", 0)])),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1.0/2/insights"))
        .respond_with(ResponseTemplate::new(400).set_body_json(graph_error(
            100,
            Some(33),
            "Unsupported get request. Object with ID '2' does not exist, cannot be loaded due to missing permissions, or does not support this operation.",
        )))
        .mount(&server)
        .await;
    let token = secret(THREADS_TOKEN);

    let metrics = threads(&server)
        .post_metrics(&account(THREADS_USER, &token), &[post("1"), post("2")])
        .await
        .expect("metrics");

    assert_eq!(
        metrics,
        vec![PostMetrics {
            platform_post_id: "1".into(),
            likes: Some(1),
            replies: Some(0),
            ..PostMetrics::default()
        }]
    );
}

#[tokio::test]
async fn threads_without_the_insights_permission_answers_no_figures_not_an_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1.0/1/insights"))
        .respond_with(ResponseTemplate::new(403).set_body_json(graph_error(
            10,
            None,
            "Application does not have permission for this action",
        )))
        .mount(&server)
        .await;
    let token = secret(THREADS_TOKEN);

    let metrics = threads(&server)
        .post_metrics(&account(THREADS_USER, &token), &[post("1")])
        .await
        .expect("a missing permission is not a failure");

    assert_eq!(metrics, vec![unknown("1")]);
}

#[tokio::test]
async fn threads_delete_sends_delete_media_id_with_the_token() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path("/v1.0/18050206876707110"))
        .and(query_is(&[("access_token", THREADS_TOKEN)]))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"success": true, "deleted_id": "18050206876707110"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let token = secret(THREADS_TOKEN);

    let deletion = threads(&server)
        .delete_post(&account(THREADS_USER, &token), &post("18050206876707110"))
        .await
        .expect("deleted");

    assert_eq!(deletion, Deletion::Deleted);
}

#[tokio::test]
async fn threads_deleting_a_post_that_is_gone_is_already_gone() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path("/v1.0/2"))
        .respond_with(ResponseTemplate::new(400).set_body_json(graph_error(
            100,
            Some(33),
            "Unsupported delete request. Object with ID '2' does not exist, cannot be loaded due to missing permissions, or does not support this operation.",
        )))
        .mount(&server)
        .await;
    let token = secret(THREADS_TOKEN);

    let deletion = threads(&server)
        .delete_post(&account(THREADS_USER, &token), &post("2"))
        .await
        .expect("gone");

    assert_eq!(deletion, Deletion::AlreadyGone);
}

#[tokio::test]
async fn threads_a_missing_object_without_a_subcode_is_gone_too() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path("/v1.0/3"))
        .respond_with(ResponseTemplate::new(400).set_body_json(graph_error(
            100,
            None,
            "(#100) Object with ID '3' does not exist",
        )))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1.0/3/insights"))
        .respond_with(ResponseTemplate::new(400).set_body_json(graph_error(
            100,
            None,
            "(#100) Object with ID '3' does not exist",
        )))
        .mount(&server)
        .await;
    let token = secret(THREADS_TOKEN);

    let deletion = threads(&server)
        .delete_post(&account(THREADS_USER, &token), &post("3"))
        .await
        .expect("gone");
    assert_eq!(deletion, Deletion::AlreadyGone);
    let metrics = threads(&server)
        .post_metrics(&account(THREADS_USER, &token), &[post("3")])
        .await
        .expect("metrics");
    assert!(metrics.is_empty());

    // Any other invalid-parameter answer stays a rejection.
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(400).set_body_json(graph_error(
            100,
            None,
            "(#100) Invalid parameter",
        )))
        .mount(&server)
        .await;
    let err = threads(&server)
        .delete_post(&account(THREADS_USER, &token), &post("3"))
        .await
        .expect_err("rejected");
    assert!(
        matches!(&err, AdapterError::Rejected { code, .. } if code == "graph_100"),
        "{err:?}"
    );
}

#[tokio::test]
async fn threads_a_delete_without_threads_delete_is_refused_naming_it_not_a_reconnect() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path("/v1.0/2"))
        .respond_with(ResponseTemplate::new(403).set_body_json(graph_error(
            10,
            None,
            "Application does not have permission for this action",
        )))
        .mount(&server)
        .await;
    let token = secret(THREADS_TOKEN);

    let err = threads(&server)
        .delete_post(&account(THREADS_USER, &token), &post("2"))
        .await
        .expect_err("refused");

    assert!(
        matches!(&err, AdapterError::Rejected { code, message } if code == "missing_permission" && message.contains("threads_delete")),
        "{err:?}"
    );
}

#[tokio::test]
async fn threads_a_throttled_delete_is_rate_limited() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "3600")
                .set_body_json(graph_error(17, None, "User request limit reached")),
        )
        .mount(&server)
        .await;
    let token = secret(THREADS_TOKEN);

    let err = threads(&server)
        .delete_post(&account(THREADS_USER, &token), &post("2"))
        .await
        .expect_err("limited");

    assert_eq!(
        err,
        AdapterError::RateLimited {
            retry_after: Some(Duration::from_secs(3600))
        }
    );
}

#[test]
fn threads_and_facebook_state_their_batches() {
    let fb = platform_adapters::platforms::facebook::descriptor();
    assert_eq!(fb.capabilities.follow_ups.metrics_batch, 50);
    assert!(fb.capabilities.follow_ups.first_comment);
    assert!(!fb.capabilities.follow_ups.threads);
    let th = platform_adapters::platforms::threads::descriptor();
    assert_eq!(th.capabilities.follow_ups.metrics_batch, 1);
    assert!(th.capabilities.follow_ups.delete);
}
