//! LinkedIn after publishing: the `socialMetadata` batch get, `DELETE /rest/posts/{urn}` and
//! `POST /rest/socialActions/{urn}/comments`, answered with the shapes of LinkedIn's Social
//! Metadata, Posts and Comments API pages (Rest.li 2.0: URNs encoded in paths and `List(…)`).

use std::time::Duration;

use platform_adapters::{
    platforms::linkedin::LINKEDIN_VERSION, AdapterError, Deletion, PlatformAdapter, PostMetrics,
    PostRef, Published,
};
use serde_json::json;
use wiremock::{
    matchers::{body_json, header, method, path},
    Mock, MockServer, ResponseTemplate,
};

use super::{account, adapter};
use crate::support::{self, secret};

const TOKEN: &str = "li-access-1";
const SHARE: &str = "urn:li:share:6844785523593134080";
const SHARE_PATH: &str = "urn%3Ali%3Ashare%3A6844785523593134080";
const UGC: &str = "urn:li:ugcPost:6850195339262877696";

fn post(urn: &str) -> PostRef<'_> {
    PostRef {
        platform_post_id: urn,
        url: None,
    }
}

fn rest_get() -> wiremock::MockBuilder {
    Mock::given(method("GET"))
        .and(path("/rest/socialMetadata"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .and(header("linkedin-version", LINKEDIN_VERSION))
        .and(header("x-restli-protocol-version", "2.0.0"))
}

#[tokio::test]
async fn one_batch_get_reads_reactions_and_comments_and_leaves_out_posts_in_errors() {
    let server = MockServer::start().await;
    rest_get()
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "results": {
                SHARE: {
                    "reactionSummaries": {
                        "EMPATHY": {"reactionType": "EMPATHY", "count": 1},
                        "LIKE": {"reactionType": "LIKE", "count": 2}
                    },
                    "commentsState": "OPEN",
                    "commentSummary": {"count": 7, "topLevelCount": 4},
                    "entity": SHARE
                }
            },
            "statuses": {SHARE: 200, UGC: 404},
            "errors": {UGC: {"status": 404, "message": "Not found"}}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let token = secret(TOKEN);

    let metrics = adapter(&server)
        .post_metrics(&account(&token), &[post(SHARE), post(UGC)])
        .await
        .expect("metrics");

    assert_eq!(
        metrics,
        [PostMetrics {
            platform_post_id: SHARE.into(),
            likes: Some(3),
            replies: Some(7),
            ..PostMetrics::default()
        }]
    );
    let requests = server.received_requests().await.expect("recorded");
    assert_eq!(
        requests[0].url.query(),
        Some("ids=List(urn%3Ali%3Ashare%3A6844785523593134080,urn%3Ali%3AugcPost%3A6850195339262877696)")
    );
}

#[tokio::test]
async fn without_the_restricted_read_permission_every_figure_is_unknown_not_an_error() {
    let server = MockServer::start().await;
    rest_get()
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({
            "status": 403,
            "serviceErrorCode": 100,
            "code": "ACCESS_DENIED",
            "message": "Not enough permissions to access: socialMetadata.BATCH_GET.20260701"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let token = secret(TOKEN);

    let metrics = adapter(&server)
        .post_metrics(&account(&token), &[post(SHARE)])
        .await;

    assert_eq!(
        metrics,
        Ok(vec![PostMetrics {
            platform_post_id: SHARE.into(),
            ..PostMetrics::default()
        }])
    );
}

#[tokio::test]
async fn a_deleted_post_answers_deleted_and_a_missing_one_already_gone() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path(format!("/rest/posts/{SHARE_PATH}")))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .and(header("x-restli-method", "DELETE"))
        .and(header("linkedin-version", LINKEDIN_VERSION))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/rest/posts/urn%3Ali%3AugcPost%3A6850195339262877696"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({
            "status": 404, "code": "NOT_FOUND", "message": "Not Found"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let token = secret(TOKEN);
    let adapter = adapter(&server);

    assert_eq!(
        adapter.delete_post(&account(&token), &post(SHARE)).await,
        Ok(Deletion::Deleted)
    );
    assert_eq!(
        adapter.delete_post(&account(&token), &post(UGC)).await,
        Ok(Deletion::AlreadyGone)
    );
}

#[tokio::test]
async fn a_rate_limited_delete_waits_as_told() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "120"))
        .expect(1)
        .mount(&server)
        .await;
    let token = secret(TOKEN);

    let result = adapter(&server)
        .delete_post(&account(&token), &post(SHARE))
        .await;

    assert_eq!(
        result,
        Err(AdapterError::RateLimited {
            retry_after: Some(Duration::from_secs(120))
        })
    );
}

#[tokio::test]
async fn a_comment_is_made_by_the_posts_author_and_answers_the_comment_urn() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/rest/socialActions/{SHARE_PATH}/comments")))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .and(header("linkedin-version", LINKEDIN_VERSION))
        .and(body_json(json!({
            "actor": "urn:li:person:782bbtaQ",
            "object": SHARE,
            "message": {"text": "Sources in the comments"}
        })))
        .respond_with(
            ResponseTemplate::new(201)
                .insert_header("x-restli-id", "6844785807296135168")
                .set_body_json(json!({
                    "actor": "urn:li:person:782bbtaQ",
                    "commentUrn": "urn:li:comment:(urn:li:activity:6844785523593134080,6844785807296135168)",
                    "created": {"actor": "urn:li:person:782bbtaQ", "time": 1_764_781_200_000_i64},
                    "id": "6844785807296135168",
                    "lastModified": {"actor": "urn:li:person:782bbtaQ", "time": 1_764_781_200_000_i64},
                    "message": {"text": "Sources in the comments"},
                    "object": SHARE
                })),
        )
        .expect(1)
        .mount(&server)
        .await;
    let token = secret(TOKEN);
    let text = support::post("Sources in the comments", &[], support::no_options());
    let on = PostRef {
        platform_post_id: SHARE,
        url: Some("https://www.linkedin.com/feed/update/urn:li:share:6844785523593134080"),
    };

    let comment = adapter(&server).comment(&account(&token), &on, &text).await;

    assert_eq!(
        comment,
        Ok(Published {
            platform_post_id:
                "urn:li:comment:(urn:li:activity:6844785523593134080,6844785807296135168)".into(),
            url: Some(
                "https://www.linkedin.com/feed/update/urn:li:share:6844785523593134080".into()
            ),
        })
    );
}

#[tokio::test]
async fn a_comment_answered_without_a_body_takes_its_id_from_x_restli_id() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/rest/socialActions/{SHARE_PATH}/comments")))
        .respond_with(ResponseTemplate::new(201).insert_header(
            "x-restli-id",
            "urn:li:comment:(urn:li:activity:6844785523593134080,6844785807296135168)",
        ))
        .expect(1)
        .mount(&server)
        .await;
    let token = secret(TOKEN);
    let text = support::post("Sources", &[], support::no_options());

    let comment = adapter(&server)
        .comment(&account(&token), &post(SHARE), &text)
        .await
        .expect("comment");

    assert_eq!(
        comment.platform_post_id,
        "urn:li:comment:(urn:li:activity:6844785523593134080,6844785807296135168)"
    );
}

#[tokio::test]
async fn a_comment_refused_for_want_of_the_community_management_permission_names_it() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/rest/socialActions/{SHARE_PATH}/comments")))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({
            "status": 403,
            "serviceErrorCode": 100,
            "code": "ACCESS_DENIED",
            "message": "Not enough permissions to access: partnerApiSocialActions.CREATE.20260701"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let token = secret(TOKEN);
    let text = support::post("Sources", &[], support::no_options());

    let result = adapter(&server)
        .comment(&account(&token), &post(SHARE), &text)
        .await;

    assert!(
        matches!(&result, Err(AdapterError::Rejected { code, message })
            if code == "missing_permission" && message.contains("w_member_social_feed")),
        "{result:?}"
    );
}

#[test]
fn first_comments_are_not_offered_without_the_community_management_permission() {
    let follow_ups = platform_adapters::platforms::linkedin::descriptor()
        .capabilities
        .follow_ups;
    assert!(follow_ups.delete);
    assert!(!follow_ups.first_comment && !follow_ups.threads);
    assert_eq!(follow_ups.metrics_batch, 20);
}

#[tokio::test]
async fn a_batch_keyed_by_encoded_urns_is_read_as_well() {
    let server = MockServer::start().await;
    rest_get()
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "results": {SHARE_PATH: {
                "reactionSummaries": {"LIKE": {"reactionType": "LIKE", "count": 4}},
                "commentSummary": {"count": 1, "topLevelCount": 1},
                "entity": SHARE
            }},
            "statuses": {},
            "errors": {}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let token = secret(TOKEN);

    let metrics = adapter(&server)
        .post_metrics(&account(&token), &[post(SHARE)])
        .await;

    assert_eq!(
        metrics,
        Ok(vec![PostMetrics {
            platform_post_id: SHARE.into(),
            likes: Some(4),
            replies: Some(1),
            ..PostMetrics::default()
        }])
    );
}
