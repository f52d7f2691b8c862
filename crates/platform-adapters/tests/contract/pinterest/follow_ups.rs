//! Pinterest after publishing: `GET /v5/pins/{pin_id}/analytics` and `DELETE /v5/pins/{pin_id}`,
//! answered with the shapes of the v5 OpenAPI description (`PinAnalyticsResponse`, `Error`).

use std::time::Duration;

use chrono::Utc;
use platform_adapters::{AdapterError, Deletion, PlatformAdapter, PostMetrics, PostRef};
use serde_json::json;
use wiremock::{
    matchers::{header, method, path, query_param},
    Mock, MockServer, ResponseTemplate,
};

use super::{account, adapter};
use crate::support::{param, secret};

const TOKEN: &str = "pina_access-1";
const PIN: &str = "813744226420795884";

fn pin(id: &str) -> PostRef<'_> {
    PostRef {
        platform_post_id: id,
        url: None,
    }
}

/// The documented example figures, under the `ALL` app type.
fn analytics() -> serde_json::Value {
    json!({"ALL": {
        "daily_metrics": [{
            "data_status": "READY",
            "date": "2026-12-01",
            "metrics": {"IMPRESSION": 240, "SAVE": 20, "SAVE_RATE": 0.18}
        }],
        "summary_metrics": {"IMPRESSION": 240, "SAVE": 20, "SAVE_RATE": 0.18},
        "lifetime_metrics": {"TOTAL_COMMENTS": 10, "TOTAL_REACTIONS": 12}
    }})
}

#[tokio::test]
async fn pin_analytics_read_impressions_saves_reactions_and_comments_over_the_allowed_window() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/v5/pins/{PIN}/analytics")))
        .and(query_param(
            "metric_types",
            "IMPRESSION,SAVE,TOTAL_COMMENTS,TOTAL_REACTIONS",
        ))
        .and(query_param("app_types", "ALL"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(analytics()))
        .expect(1)
        .mount(&server)
        .await;
    let token = secret(TOKEN);

    let metrics = adapter(&server)
        .post_metrics(&account(&token), &[pin(PIN)])
        .await
        .expect("metrics");

    assert_eq!(
        metrics,
        [PostMetrics {
            platform_post_id: PIN.into(),
            likes: Some(12),
            replies: Some(10),
            saves: Some(20),
            impressions: Some(240),
            ..PostMetrics::default()
        }]
    );
    let requests = server.received_requests().await.expect("recorded");
    let url = requests[0].url.to_string();
    let today = Utc::now().date_naive();
    assert_eq!(param(&url, "end_date"), Some(today.to_string()));
    assert_eq!(
        param(&url, "start_date"),
        Some((today - chrono::Duration::days(89)).to_string()),
        "within the 90 days Pinterest allows"
    );
}

#[tokio::test]
async fn a_pin_pinterest_no_longer_has_is_left_out_and_one_without_analytics_access_is_all_unknown()
{
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v5/pins/111/analytics"))
        .respond_with(
            ResponseTemplate::new(404)
                .set_body_json(json!({"code": 404, "message": "Pin not found."})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v5/pins/222/analytics"))
        .respond_with(ResponseTemplate::new(403).set_body_json(
            json!({"code": 403, "message": "Not authorized to access board or Pin."}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let token = secret(TOKEN);

    let metrics = adapter(&server)
        .post_metrics(&account(&token), &[pin("111"), pin("222"), pin("../me")])
        .await
        .expect("metrics");

    assert_eq!(
        metrics,
        [PostMetrics {
            platform_post_id: "222".into(),
            ..PostMetrics::default()
        }],
        "the id that is no pin id is not requested at all"
    );
}

#[tokio::test]
async fn a_deleted_pin_answers_deleted_and_a_missing_one_already_gone() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path(format!("/v5/pins/{PIN}")))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/v5/pins/111"))
        .respond_with(
            ResponseTemplate::new(404)
                .set_body_json(json!({"code": 404, "message": "Pin not found."})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let token = secret(TOKEN);
    let adapter = adapter(&server);

    assert_eq!(
        adapter.delete_post(&account(&token), &pin(PIN)).await,
        Ok(Deletion::Deleted)
    );
    assert_eq!(
        adapter.delete_post(&account(&token), &pin("111")).await,
        Ok(Deletion::AlreadyGone)
    );
}

#[tokio::test]
async fn a_rate_limited_delete_waits_as_told() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path(format!("/v5/pins/{PIN}")))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "60")
                .set_body_json(
                    json!({"code": 8, "message": "This request exceeded a rate limit."}),
                ),
        )
        .expect(1)
        .mount(&server)
        .await;
    let token = secret(TOKEN);

    let result = adapter(&server)
        .delete_post(&account(&token), &pin(PIN))
        .await;

    assert_eq!(
        result,
        Err(AdapterError::RateLimited {
            retry_after: Some(Duration::from_secs(60))
        })
    );
}

#[tokio::test]
async fn pins_take_no_comments_through_the_api() {
    let server = MockServer::start().await;
    let token = secret(TOKEN);
    let text = crate::support::post("first comment", &[], crate::support::no_options());

    let result = adapter(&server)
        .comment(&account(&token), &pin(PIN), &text)
        .await;

    assert!(matches!(result, Err(AdapterError::Unsupported { .. })));
    assert!(
        !platform_adapters::platforms::pinterest::descriptor()
            .capabilities
            .follow_ups
            .first_comment
    );
}
