//! X threads: a thread's next part is `POST /2/tweets` with `reply.in_reply_to_tweet_id` set
//! to the part before it (X API v2 OpenAPI, `CreatePostsRequest.reply` /
//! `CreatePostsReply`; docs.x.com, "Manage Posts"). X needs only the parent: the root is
//! implied by it.

use platform_adapters::{PlatformAdapter, PostRef, ReplyTo};
use serde_json::json;
use wiremock::MockServer;

use super::{account, expected_post, mount_create, publisher};
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
    request.reply_to = Some(ReplyTo {
        root: PostRef {
            platform_post_id: "1445880548472328190",
            url: None,
        },
        parent: PostRef {
            platform_post_id: "1445880548472328192",
            url: None,
        },
    });

    let published = publisher(&server)
        .publish(&account(&token, None), &request)
        .await
        .expect("published");

    assert_eq!(published, expected_post());
}
