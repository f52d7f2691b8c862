//! X threads: a thread's next part is `POST /2/tweets` with `reply.in_reply_to_tweet_id` set
//! to the part before it (X API v2 OpenAPI, `CreatePostsRequest.reply` /
//! `CreatePostsReply`; docs.x.com, "Manage Posts"). X needs only the parent: the root is
//! implied by it.

use chrono::Utc;
use platform_adapters::{PlatformAdapter, PostRef, ReplyTo};
use serde_json::json;
use wiremock::{
    matchers::{method, path, query_param},
    Mock, MockServer, ResponseTemplate,
};

use super::{account, expected_post, mount_create, publisher, POST_ID};
use crate::support::{self, secret};

#[tokio::test]
async fn a_threads_next_part_replies_to_the_previous_part_by_its_tweet_id() {
    let server = MockServer::start().await;
    mount_create(
        &server,
        "x-pub",
        json!({"text": "3/3", "reply": {"in_reply_to_tweet_id": "1445880548472328192"}}),
    )
    .await;
    let token = secret("x-pub");
    let mut request = support::post("3/3", &[], support::no_options());
    request.reply_to = Some(reply_to());

    let published = publisher(&server)
        .publish(&account(&token, None), &request)
        .await
        .expect("published");

    assert_eq!(published, expected_post());
}

fn reply_to() -> ReplyTo<'static> {
    ReplyTo {
        root: PostRef {
            platform_post_id: "1445880548472328190",
            url: None,
        },
        parent: PostRef {
            platform_post_id: "1445880548472328192",
            url: None,
        },
    }
}

/// A single post is looked for among the account's own posts (`exclude=replies,retweets`), but
/// a thread's part is a reply: it is looked for among replies too, or an accepted part whose
/// answer was lost would never be found and would be posted again.
#[tokio::test]
async fn an_unanswered_part_is_looked_for_among_the_accounts_replies() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/2/users/2244994945/tweets"))
        .and(query_param("exclude", "retweets"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [{"id": POST_ID, "text": "3/3", "created_at": Utc::now(),
                      "edit_history_tweet_ids": [POST_ID]}],
            "meta": {"result_count": 1, "newest_id": POST_ID, "oldest_id": POST_ID}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let token = secret("x-pub");
    let mut request = support::post("3/3", &[], support::no_options());
    request.reply_to = Some(reply_to());

    let found = publisher(&server)
        .find_published(&account(&token, None), &request)
        .await
        .expect("looked up");

    assert_eq!(found, Some(expected_post()));
}
