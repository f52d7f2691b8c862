//! Sandbox engagement reads: `GET /api/v1/metrics?ids=…` (platform-sim's batched read), at
//! most 100 ids a request, figures the sim leaves out kept as `None`.

use platform_adapters::{AccountRef, PlatformAdapter, PostMetrics, PostRef};
use secrecy::SecretString;
use serde_json::json;
use wiremock::{
    matchers::{header, method, path, query_param},
    Mock, MockServer, ResponseTemplate,
};

use super::adapter;

fn account(access: &SecretString) -> AccountRef<'_> {
    AccountRef {
        platform_account_id: "sim-alice",
        access_token: access,
        refresh_token: None,
        instance_url: None,
    }
}

#[tokio::test]
async fn engagement_is_read_in_batches_of_100_and_missing_figures_stay_missing() {
    let server = MockServer::start().await;
    let ids: Vec<String> = (1..=150).map(|i| i.to_string()).collect();
    let first: Vec<&str> = ids[..100].iter().map(String::as_str).collect();
    let second: Vec<&str> = ids[100..].iter().map(String::as_str).collect();
    Mock::given(method("GET"))
        .and(path("/api/v1/metrics"))
        .and(query_param("ids", first.join(",").as_str()))
        .and(header("authorization", "Bearer simat_a"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": [
            {"id": "1", "likes": 4, "replies": 1, "reposts": 2, "quotes": 0,
             "saves": 0, "impressions": 130, "views": null, "reach": 85}
        ]})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/metrics"))
        .and(query_param("ids", second.join(",").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": [
            {"id": "150", "likes": 7, "replies": 0, "reposts": 0, "quotes": 0,
             "saves": null, "impressions": null, "views": null, "reach": null}
        ]})))
        .expect(1)
        .mount(&server)
        .await;
    let access = SecretString::from("simat_a");
    let posts: Vec<PostRef<'_>> = ids
        .iter()
        .map(|id| PostRef {
            platform_post_id: id,
            url: None,
        })
        .collect();
    let read = adapter(&server)
        .post_metrics(&account(&access), &posts)
        .await
        .unwrap();
    assert_eq!(
        read,
        vec![
            PostMetrics {
                platform_post_id: "1".into(),
                likes: Some(4),
                replies: Some(1),
                reposts: Some(2),
                quotes: Some(0),
                saves: Some(0),
                impressions: Some(130),
                views: None,
                reach: Some(85),
            },
            PostMetrics {
                platform_post_id: "150".into(),
                likes: Some(7),
                replies: Some(0),
                reposts: Some(0),
                quotes: Some(0),
                ..PostMetrics::default()
            },
        ],
        "unknown posts left out, figures not given kept as None"
    );
}

#[tokio::test]
async fn a_429_on_an_engagement_read_is_rate_limited() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/metrics"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "7"))
        .mount(&server)
        .await;
    let access = SecretString::from("simat_a");
    let posts = [PostRef {
        platform_post_id: "1",
        url: None,
    }];
    let err = adapter(&server)
        .post_metrics(&account(&access), &posts)
        .await
        .unwrap_err();
    assert!(
        matches!(err, platform_adapters::AdapterError::RateLimited { .. }),
        "{err:?}"
    );
}
