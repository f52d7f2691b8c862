//! Threads (the platform) threads: a thread's next part is a container created with
//! `reply_to_id`, the id of the post it answers, then published with `threads_publish` like
//! any post (developers.facebook.com, Threads "Create Replies": `POST /me/threads` with
//! `media_type`, `text`, `reply_to_id`, then `POST /{threads-user-id}/threads_publish` with
//! `creation_id`).

use platform_adapters::{AdapterError, PlatformAdapter, PostRef, Published, ReplyTo};
use serde_json::json;
use wiremock::{matchers::method, matchers::path, Mock, MockServer, ResponseTemplate};

use crate::{
    meta::{account, query_is, threads_settings},
    support::{self, form_is, secret},
};

const TOKEN: &str = "threads-token-1";

fn created(id: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({ "id": id }))
}

async fn mount_post(
    server: &MockServer,
    at: &str,
    form: &[(&str, &str)],
    answer: ResponseTemplate,
) {
    Mock::given(method("POST"))
        .and(path(at))
        .and(form_is(form))
        .respond_with(answer)
        .expect(1)
        .mount(server)
        .await;
}

#[tokio::test]
async fn a_threads_next_part_is_a_container_replying_to_the_previous_part() {
    let server = MockServer::start().await;
    mount_post(
        &server,
        "/v1.0/th-1/threads",
        &[
            ("media_type", "TEXT"),
            ("text", "2/2"),
            ("reply_to_id", "17890000000000001"),
            ("access_token", TOKEN),
        ],
        created("tc-2"),
    )
    .await;
    mount_post(
        &server,
        "/v1.0/th-1/threads_publish",
        &[("creation_id", "tc-2"), ("access_token", TOKEN)],
        created("17890000000000002"),
    )
    .await;
    Mock::given(method("GET"))
        .and(path("/v1.0/17890000000000002"))
        .and(query_is(&[
            ("fields", "permalink"),
            ("access_token", TOKEN),
        ]))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "permalink": "https://www.threads.com/@bakery/post/C2",
            "id": "17890000000000002"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let token = secret(TOKEN);
    let mut request = support::post("2/2", &[], support::no_options());
    request.reply_to = Some(ReplyTo {
        root: PostRef {
            platform_post_id: "17890000000000001",
            url: None,
        },
        parent: PostRef {
            platform_post_id: "17890000000000001",
            url: None,
        },
    });

    let published = platform_adapters::platforms::threads::ThreadsAdapter::new(
        platform_adapters::http::client(),
        threads_settings(&server),
    )
    .publish(&account("th-1", &token), &request)
    .await
    .expect("published");

    assert_eq!(
        published,
        Published {
            platform_post_id: "17890000000000002".into(),
            url: Some("https://www.threads.com/@bakery/post/C2".into()),
        }
    );
}

/// Replies are listed only by `GET /{user}/replies`, which needs `threads_read_replies` (not
/// requested): an unanswered reply cannot be looked up, and saying so (rather than "not
/// there") keeps it from being posted twice.
#[tokio::test]
async fn an_unanswered_reply_cannot_be_looked_up_and_nothing_is_called() {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let token = secret(TOKEN);
    let mut request = support::post("2/2", &[], support::no_options());
    let root = PostRef {
        platform_post_id: "17890000000000001",
        url: None,
    };
    request.reply_to = Some(ReplyTo { root, parent: root });

    let err = platform_adapters::platforms::threads::ThreadsAdapter::new(
        platform_adapters::http::client(),
        threads_settings(&server),
    )
    .find_published(&account("th-1", &token), &request)
    .await
    .expect_err("unsupported");

    assert!(matches!(err, AdapterError::Unsupported { .. }), "{err:?}");
}
