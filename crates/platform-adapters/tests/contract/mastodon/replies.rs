//! Mastodon threads: a thread's next part is `POST /api/v1/statuses` with `in_reply_to_id`,
//! the id of the status it answers (docs.joinmastodon.org, methods/statuses "Post a new
//! status", form parameter `in_reply_to_id`; the Status entity's `in_reply_to_id` in the
//! OpenAPI description's context example). Only the parent is sent; the root is implied.

use platform_adapters::{PostRef, Published, ReplyTo};
use serde_json::json;
use wiremock::{MockServer, ResponseTemplate};

use super::{mount_status, publish, publisher, status};
use crate::support::{no_options, post};

#[tokio::test]
async fn a_threads_next_part_is_a_status_in_reply_to_the_previous_one() {
    let server = MockServer::start().await;
    let mut answer = status("103188982235527758", "3/3", "public", json!([]));
    answer["in_reply_to_id"] = json!("103188971072973252");
    mount_status(
        &server,
        json!({"status": "3/3", "visibility": "public", "in_reply_to_id": "103188971072973252"}),
        ResponseTemplate::new(200).set_body_json(answer),
        1,
    )
    .await;
    let mut request = post("3/3", &[], no_options());
    request.reply_to = Some(ReplyTo {
        root: PostRef {
            platform_post_id: "103188938570975982",
            url: None,
        },
        parent: PostRef {
            platform_post_id: "103188971072973252",
            url: None,
        },
    });

    let published = publish(&publisher(&server), &server, &request)
        .await
        .expect("published");

    assert_eq!(
        published,
        Published {
            platform_post_id: "103188982235527758".into(),
            url: Some("https://mastodon.social/@trwnh/103188982235527758".into()),
        }
    );
}
