//! Sandbox threads: a thread's next part is `POST /api/v1/posts` with `reply_to`, the id of
//! the post it answers (platform-sim's `replies.rs`, modelled on Mastodon's
//! `in_reply_to_id`), under the part's own idempotency key.

use platform_adapters::{PlatformAdapter, PostRef, ReplyTo};
use serde_json::json;
use wiremock::{
    matchers::{body_json, header, method, path},
    Mock, MockServer, ResponseTemplate,
};

use super::{account, adapter, post_answer};
use crate::support::{self, secret};

#[tokio::test]
async fn a_threads_next_part_is_created_with_reply_to_the_previous_part() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/posts"))
        .and(header("idempotency-key", "target-1:2"))
        .and(body_json(
            json!({"text": "3/3", "media_ids": [], "reply_to": "42"}),
        ))
        .respond_with(ResponseTemplate::new(201).set_body_json(post_answer(
            &server,
            "43",
            "3/3",
            &[],
        )))
        .expect(1)
        .mount(&server)
        .await;
    let access = secret("simat_1");
    let mut request = support::post("3/3", &[], support::no_options());
    request.idempotency_key = "target-1:2";
    request.reply_to = Some(ReplyTo {
        root: PostRef {
            platform_post_id: "41",
            url: None,
        },
        parent: PostRef {
            platform_post_id: "42",
            url: None,
        },
    });

    let published = adapter(&server)
        .publish(&account(&access, None), &request)
        .await
        .expect("publish");

    assert_eq!(published.platform_post_id, "43");
}
