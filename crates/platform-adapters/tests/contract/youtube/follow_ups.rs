//! YouTube after publishing: `videos.list?part=statistics`, `videos.delete` and
//! `commentThreads.insert`, answered with the shapes of the Data API v3 reference.

use std::time::Duration;

use platform_adapters::{AdapterError, Deletion, PlatformAdapter, PostMetrics, PostRef, Published};
use serde_json::json;
use wiremock::{
    matchers::{body_json, header, method, path, query_param},
    Mock, MockServer, ResponseTemplate,
};

use super::{account, adapter};
use crate::support::{self, secret};

const TOKEN: &str = "ya29.yt-access-1";

fn post(id: &str) -> PostRef<'_> {
    PostRef {
        platform_post_id: id,
        url: None,
    }
}

/// A `youtube#videoListResponse` holding `items`.
fn video_list(items: serde_json::Value) -> serde_json::Value {
    json!({
        "kind": "youtube#videoListResponse",
        "etag": "etag",
        "items": items,
        "pageInfo": {"totalResults": 1, "resultsPerPage": 1}
    })
}

#[tokio::test]
async fn statistics_of_a_batch_come_from_one_videos_list_and_a_missing_video_is_left_out() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/youtube/v3/videos"))
        .and(query_param("part", "statistics"))
        .and(query_param("id", "Ks-_Mh1QhMc,gone0000000,c0KYU2j0TM4"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(video_list(json!([
            {
                "kind": "youtube#video",
                "etag": "etag-1",
                "id": "Ks-_Mh1QhMc",
                "statistics": {
                    "viewCount": "18942134",
                    "likeCount": "381029",
                    "favoriteCount": "0",
                    "commentCount": "12563"
                }
            },
            {
                "kind": "youtube#video",
                "etag": "etag-2",
                "id": "c0KYU2j0TM4",
                // Likes hidden by the owner and comments turned off: the counts are absent.
                "statistics": {"viewCount": "42", "favoriteCount": "0"}
            }
        ]))))
        .expect(1)
        .mount(&server)
        .await;
    let token = secret(TOKEN);
    let posts = [
        post("Ks-_Mh1QhMc"),
        post("gone0000000"),
        post("c0KYU2j0TM4"),
    ];

    let metrics = adapter(&server)
        .post_metrics(&account(&token, None), &posts)
        .await
        .expect("metrics");

    assert_eq!(
        metrics,
        [
            PostMetrics {
                platform_post_id: "Ks-_Mh1QhMc".into(),
                likes: Some(381_029),
                replies: Some(12_563),
                views: Some(18_942_134),
                ..PostMetrics::default()
            },
            PostMetrics {
                platform_post_id: "c0KYU2j0TM4".into(),
                views: Some(42),
                ..PostMetrics::default()
            },
        ]
    );
}

#[test]
fn fifty_videos_are_read_per_request() {
    let follow_ups = platform_adapters::platforms::youtube::descriptor()
        .capabilities
        .follow_ups;
    assert_eq!(follow_ups.metrics_batch, 50);
    assert!(follow_ups.delete && follow_ups.first_comment && !follow_ups.threads);
}

#[tokio::test]
async fn a_deleted_video_answers_deleted_and_a_missing_one_already_gone() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path("/youtube/v3/videos"))
        .and(query_param("id", "Ks-_Mh1QhMc"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/youtube/v3/videos"))
        .and(query_param("id", "gone0000000"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"error": {
            "code": 404,
            "message": "The video identified by the <code>id</code> parameter could not be found.",
            "errors": [{"message": "Video not found", "domain": "youtube.video", "reason": "videoNotFound", "location": "id", "locationType": "parameter"}]
        }})))
        .expect(1)
        .mount(&server)
        .await;
    let token = secret(TOKEN);
    let adapter = adapter(&server);

    let deleted = adapter
        .delete_post(&account(&token, None), &post("Ks-_Mh1QhMc"))
        .await;
    let gone = adapter
        .delete_post(&account(&token, None), &post("gone0000000"))
        .await;

    assert_eq!(deleted, Ok(Deletion::Deleted));
    assert_eq!(gone, Ok(Deletion::AlreadyGone));
}

#[tokio::test]
async fn a_rate_limited_delete_waits_as_told() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path("/youtube/v3/videos"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "30"))
        .expect(1)
        .mount(&server)
        .await;
    let token = secret(TOKEN);

    let result = adapter(&server)
        .delete_post(&account(&token, None), &post("Ks-_Mh1QhMc"))
        .await;

    assert_eq!(
        result,
        Err(AdapterError::RateLimited {
            retry_after: Some(Duration::from_secs(30))
        })
    );
}

#[tokio::test]
async fn a_channel_without_the_force_ssl_scope_is_told_to_reconnect_not_failed_for_good() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path("/youtube/v3/videos"))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({"error": {
            "code": 403,
            "message": "Request had insufficient authentication scopes.",
            "errors": [{"message": "Insufficient Permission", "domain": "global", "reason": "insufficientPermissions"}]
        }})))
        .expect(1)
        .mount(&server)
        .await;
    let token = secret(TOKEN);

    let result = adapter(&server)
        .delete_post(&account(&token, None), &post("Ks-_Mh1QhMc"))
        .await;

    assert!(
        matches!(&result, Err(AdapterError::Rejected { code, message })
            if code == "missing_permission" && message.contains("youtube.force-ssl")),
        "{result:?}"
    );
}

#[tokio::test]
async fn a_first_comment_is_a_top_level_comment_thread_on_the_video() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/youtube/v3/commentThreads"))
        .and(query_param("part", "snippet"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .and(body_json(json!({"snippet": {
            "channelId": "UC_x5XG1OV2P6uZZ5FSM9Ttw",
            "videoId": "Ks-_Mh1QhMc",
            "topLevelComment": {"snippet": {"textOriginal": "Links in the description"}}
        }})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "kind": "youtube#commentThread",
            "etag": "etag",
            "id": "UgzDE2tasfmrYLyNkGt4AaABAg",
            "snippet": {
                "channelId": "UC_x5XG1OV2P6uZZ5FSM9Ttw",
                "videoId": "Ks-_Mh1QhMc",
                "topLevelComment": {
                    "kind": "youtube#comment",
                    "etag": "etag",
                    "id": "UgzDE2tasfmrYLyNkGt4AaABAg",
                    "snippet": {
                        "videoId": "Ks-_Mh1QhMc",
                        "textDisplay": "Links in the description",
                        "textOriginal": "Links in the description",
                        "canRate": true,
                        "likeCount": 0,
                        "publishedAt": "2026-12-03T18:00:00Z",
                        "updatedAt": "2026-12-03T18:00:00Z"
                    }
                },
                "canReply": true,
                "totalReplyCount": 0,
                "isPublic": true
            }
        })))
        .expect(1)
        .mount(&server)
        .await;
    let token = secret(TOKEN);
    let text = support::post(" Links in the description ", &[], support::no_options());

    let comment = adapter(&server)
        .comment(&account(&token, None), &post("Ks-_Mh1QhMc"), &text)
        .await;

    assert_eq!(
        comment,
        Ok(Published {
            platform_post_id: "UgzDE2tasfmrYLyNkGt4AaABAg".into(),
            url: Some(
                "https://www.youtube.com/watch?v=Ks-_Mh1QhMc&lc=UgzDE2tasfmrYLyNkGt4AaABAg".into()
            ),
        })
    );
}
