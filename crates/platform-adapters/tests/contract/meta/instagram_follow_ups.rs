//! Instagram after publishing: counts and insights through Graph's multiple-id read
//! (`GET /?ids=…&fields=…`), comments (`POST /{ig-media-id}/comments`), and no delete. Shapes
//! follow the IG Media, IG Media Insights and IG Comments references and Graph's error object.

use platform_adapters::{AdapterError, PlatformAdapter, PostMetrics, PostRef, Published};
use serde_json::json;
use wiremock::{
    matchers::{method, path},
    Mock, MockServer, ResponseTemplate,
};

use super::{account, graph_error, instagram_adapter, query_is};
use crate::support::{self, form_is, secret};

const IG_USER: &str = "17841405822304914";
const TOKEN: &str = "EAAB-page-token";
const MEDIA_A: &str = "17895695668004550";
const MEDIA_B: &str = "17918920912340654";
const COUNTS: &str = "like_count,comments_count";
const INSIGHTS: &str = "insights.metric(reach,saved,shares,views)";

fn media(id: &str) -> PostRef<'_> {
    PostRef {
        platform_post_id: id,
        url: None,
    }
}

/// One lifetime metric of an insights edge, as the reference's example answers it.
fn metric(media: &str, name: &str, value: i64) -> serde_json::Value {
    json!({
        "name": name,
        "period": "lifetime",
        "values": [{"value": value}],
        "title": name,
        "description": "…",
        "id": format!("{media}/insights/{name}/lifetime")
    })
}

async fn mount_read(server: &MockServer, ids: &str, fields: &str, answer: ResponseTemplate) {
    Mock::given(method("GET"))
        .and(path("/v26.0/"))
        .and(query_is(&[
            ("ids", ids),
            ("fields", fields),
            ("access_token", TOKEN),
        ]))
        .respond_with(answer)
        .expect(1)
        .mount(server)
        .await;
}

#[tokio::test]
async fn two_reads_give_every_figure_of_a_batch_counts_and_insights() {
    let server = MockServer::start().await;
    let ids = format!("{MEDIA_A},{MEDIA_B}");
    mount_read(
        &server,
        &ids,
        COUNTS,
        ResponseTemplate::new(200).set_body_json(json!({
            MEDIA_A: {"like_count": 120, "comments_count": 9, "id": MEDIA_A},
            // Like counts hidden by the owner: the field is omitted.
            MEDIA_B: {"comments_count": 2, "id": MEDIA_B}
        })),
    )
    .await;
    mount_read(
        &server,
        &ids,
        INSIGHTS,
        ResponseTemplate::new(200).set_body_json(json!({
            MEDIA_A: {"insights": {"data": [
                metric(MEDIA_A, "reach", 1500),
                metric(MEDIA_A, "saved", 31),
                metric(MEDIA_A, "shares", 12),
                metric(MEDIA_A, "views", 2300)
            ]}, "id": MEDIA_A},
            // Data not available yet: an empty data set, not zeros.
            MEDIA_B: {"insights": {"data": []}, "id": MEDIA_B}
        })),
    )
    .await;
    let token = secret(TOKEN);

    let metrics = instagram_adapter(&server)
        .post_metrics(&account(IG_USER, &token), &[media(MEDIA_A), media(MEDIA_B)])
        .await
        .expect("metrics");

    assert_eq!(
        metrics,
        [
            PostMetrics {
                platform_post_id: MEDIA_A.into(),
                likes: Some(120),
                replies: Some(9),
                reposts: Some(12),
                saves: Some(31),
                views: Some(2300),
                reach: Some(1500),
                ..PostMetrics::default()
            },
            PostMetrics {
                platform_post_id: MEDIA_B.into(),
                replies: Some(2),
                ..PostMetrics::default()
            },
        ]
    );
}

#[tokio::test]
async fn without_the_insights_permission_the_counts_still_come_and_insights_are_unknown() {
    let server = MockServer::start().await;
    mount_read(
        &server,
        MEDIA_A,
        COUNTS,
        ResponseTemplate::new(200)
            .set_body_json(json!({MEDIA_A: {"like_count": 5, "comments_count": 1, "id": MEDIA_A}})),
    )
    .await;
    mount_read(
        &server,
        MEDIA_A,
        INSIGHTS,
        ResponseTemplate::new(403).set_body_json(graph_error(
            10,
            None,
            "(#10) Application does not have permission for this action",
        )),
    )
    .await;
    let token = secret(TOKEN);

    let metrics = instagram_adapter(&server)
        .post_metrics(&account(IG_USER, &token), &[media(MEDIA_A)])
        .await;

    assert_eq!(
        metrics,
        Ok(vec![PostMetrics {
            platform_post_id: MEDIA_A.into(),
            likes: Some(5),
            replies: Some(1),
            ..PostMetrics::default()
        }])
    );
}

#[tokio::test]
async fn a_media_graph_no_longer_has_is_taken_out_of_the_read_and_left_out() {
    let server = MockServer::start().await;
    let ids = format!("{MEDIA_A},{MEDIA_B}");
    mount_read(
        &server,
        &ids,
        COUNTS,
        ResponseTemplate::new(400).set_body_json(graph_error(
            803,
            None,
            &format!("(#803) Some of the aliases you requested do not exist: {MEDIA_B}"),
        )),
    )
    .await;
    mount_read(
        &server,
        MEDIA_A,
        COUNTS,
        ResponseTemplate::new(200)
            .set_body_json(json!({MEDIA_A: {"like_count": 7, "comments_count": 0, "id": MEDIA_A}})),
    )
    .await;
    mount_read(
        &server,
        MEDIA_A,
        INSIGHTS,
        ResponseTemplate::new(200).set_body_json(json!({
            MEDIA_A: {"insights": {"data": [metric(MEDIA_A, "reach", 40)]}, "id": MEDIA_A}
        })),
    )
    .await;
    let token = secret(TOKEN);

    let metrics = instagram_adapter(&server)
        .post_metrics(&account(IG_USER, &token), &[media(MEDIA_A), media(MEDIA_B)])
        .await;

    assert_eq!(
        metrics,
        Ok(vec![PostMetrics {
            platform_post_id: MEDIA_A.into(),
            likes: Some(7),
            replies: Some(0),
            reach: Some(40),
            ..PostMetrics::default()
        }])
    );
}

#[tokio::test]
async fn throttled_reads_are_rate_limited_not_empty() {
    let server = MockServer::start().await;
    mount_read(
        &server,
        MEDIA_A,
        COUNTS,
        ResponseTemplate::new(400).set_body_json(graph_error(
            32,
            None,
            "(#32) Page request limit reached",
        )),
    )
    .await;
    let token = secret(TOKEN);

    let result = instagram_adapter(&server)
        .post_metrics(&account(IG_USER, &token), &[media(MEDIA_A)])
        .await;

    assert!(
        matches!(result, Err(AdapterError::RateLimited { .. })),
        "{result:?}"
    );
}

#[tokio::test]
async fn a_first_comment_is_posted_on_the_media_and_answers_its_id() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/v26.0/{MEDIA_A}/comments")))
        .and(form_is(&[
            ("message", "More in our bio"),
            ("access_token", TOKEN),
        ]))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "17870913679156914"})))
        .expect(1)
        .mount(&server)
        .await;
    let token = secret(TOKEN);
    let text = support::post("More in our bio", &[], support::no_options());
    let on = PostRef {
        platform_post_id: MEDIA_A,
        url: Some("https://www.instagram.com/p/DA1b2C3d4E5/"),
    };

    let comment = instagram_adapter(&server)
        .comment(&account(IG_USER, &token), &on, &text)
        .await;

    assert_eq!(
        comment,
        Ok(Published {
            platform_post_id: "17870913679156914".into(),
            url: Some("https://www.instagram.com/p/DA1b2C3d4E5/".into()),
        })
    );
}

#[tokio::test]
async fn a_comment_refused_for_want_of_the_comments_permission_names_it_and_is_no_reconnect() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/v26.0/{MEDIA_A}/comments")))
        .respond_with(ResponseTemplate::new(403).set_body_json(graph_error(
            200,
            None,
            "(#200) Requires instagram_manage_comments permission to manage the object",
        )))
        .expect(1)
        .mount(&server)
        .await;
    let token = secret(TOKEN);
    let text = support::post("More in our bio", &[], support::no_options());

    let result = instagram_adapter(&server)
        .comment(&account(IG_USER, &token), &media(MEDIA_A), &text)
        .await;

    assert!(
        matches!(&result, Err(AdapterError::Rejected { code, message })
            if code == "missing_permission" && message.contains("instagram_manage_comments")),
        "{result:?}"
    );
}

#[tokio::test]
async fn deleting_is_unsupported_and_names_instagram_without_calling_it() {
    let server = MockServer::start().await;
    let token = secret(TOKEN);

    let result = instagram_adapter(&server)
        .delete_post(&account(IG_USER, &token), &media(MEDIA_A))
        .await;

    assert!(
        matches!(&result, Err(AdapterError::Unsupported { what }) if what.contains("Instagram")),
        "{result:?}"
    );
    assert!(server
        .received_requests()
        .await
        .unwrap_or_default()
        .is_empty());
    let follow_ups = platform_adapters::platforms::instagram::descriptor()
        .capabilities
        .follow_ups;
    assert!(!follow_ups.delete && follow_ups.first_comment);
    assert_eq!(follow_ups.metrics_batch, 50);
}
