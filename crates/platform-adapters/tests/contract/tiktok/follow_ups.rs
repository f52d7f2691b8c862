//! TikTok after publishing: `POST /v2/video/query/` ("Query Videos") with TikTok's envelope,
//! and no delete or comment API.

use std::time::Duration;

use platform_adapters::{AdapterError, PlatformAdapter, PostMetrics, PostRef};
use serde_json::json;
use wiremock::{
    matchers::{body_json, header, method, path, query_param},
    Mock, MockServer, ResponseTemplate,
};

use super::{account, adapter};
use crate::support::secret;

const TOKEN: &str = "act.example12345Example12345Example";
const FIELDS: &str = "id,like_count,comment_count,share_count,view_count";

fn video(id: &str) -> PostRef<'_> {
    PostRef {
        platform_post_id: id,
        url: None,
    }
}

fn envelope(data: serde_json::Value, code: &str, message: &str) -> serde_json::Value {
    json!({"data": data, "error": {"code": code, "message": message, "log_id": "20220829194722CBE87ED59D524E727021"}})
}

#[tokio::test]
async fn one_query_reads_every_count_and_leaves_out_videos_tiktok_does_not_return() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/video/query/"))
        .and(query_param("fields", FIELDS))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .and(body_json(json!({"filters": {"video_ids": [
            "7077642457847991554", "7080217258529737986"
        ]}})))
        .respond_with(ResponseTemplate::new(200).set_body_json(envelope(
            json!({"videos": [{
                "id": "7077642457847991554",
                "like_count": 120,
                "comment_count": 8,
                "share_count": 3,
                "view_count": 4512
            }], "cursor": 0, "has_more": false}),
            "ok",
            "",
        )))
        .expect(1)
        .mount(&server)
        .await;
    let token = secret(TOKEN);
    // A private post recorded by its publish_id has no video id to ask about.
    let posts = [
        video("7077642457847991554"),
        video("v_pub_file~v2-1.7353297546398451718"),
        video("7080217258529737986"),
    ];

    let metrics = adapter(&server)
        .post_metrics(&account(&token), &posts)
        .await
        .expect("metrics");

    assert_eq!(
        metrics,
        [PostMetrics {
            platform_post_id: "7077642457847991554".into(),
            likes: Some(120),
            replies: Some(8),
            reposts: Some(3),
            views: Some(4512),
            ..PostMetrics::default()
        }]
    );
}

#[tokio::test]
async fn without_the_video_list_scope_every_figure_is_unknown_not_an_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/video/query/"))
        .respond_with(ResponseTemplate::new(401).set_body_json(envelope(
            json!({}),
            "scope_not_authorized",
            "The user did not authorize the scope required for completing this request.",
        )))
        .expect(1)
        .mount(&server)
        .await;
    let token = secret(TOKEN);

    let metrics = adapter(&server)
        .post_metrics(&account(&token), &[video("7077642457847991554")])
        .await;

    assert_eq!(
        metrics,
        Ok(vec![PostMetrics {
            platform_post_id: "7077642457847991554".into(),
            ..PostMetrics::default()
        }])
    );
}

#[tokio::test]
async fn a_rate_limited_query_waits_as_told() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/video/query/"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "15")
                .set_body_json(envelope(json!({}), "rate_limit_exceeded", "slow down")),
        )
        .expect(1)
        .mount(&server)
        .await;
    let token = secret(TOKEN);

    let result = adapter(&server)
        .post_metrics(&account(&token), &[video("7077642457847991554")])
        .await;

    assert_eq!(
        result,
        Err(AdapterError::RateLimited {
            retry_after: Some(Duration::from_secs(15))
        })
    );
}

#[tokio::test]
async fn deleting_and_commenting_are_unsupported_and_say_so() {
    let server = MockServer::start().await;
    let token = secret(TOKEN);
    let adapter = adapter(&server);
    let text = crate::support::post("first comment", &[], crate::support::no_options());

    let deleted = adapter
        .delete_post(&account(&token), &video("7077642457847991554"))
        .await;
    let commented = adapter
        .comment(&account(&token), &video("7077642457847991554"), &text)
        .await;

    assert!(
        matches!(&deleted, Err(AdapterError::Unsupported { what }) if what.contains("TikTok")),
        "{deleted:?}"
    );
    assert!(matches!(commented, Err(AdapterError::Unsupported { .. })));
    let follow_ups = platform_adapters::platforms::tiktok::descriptor()
        .capabilities
        .follow_ups;
    assert!(!follow_ups.delete && !follow_ups.first_comment);
    assert_eq!(follow_ups.metrics_batch, 20);
    assert!(
        server
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty(),
        "nothing was sent to TikTok"
    );
}
