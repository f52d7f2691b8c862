//! Bluesky threads: a thread's next part is an `app.bsky.feed.post` record whose `reply`
//! holds strong references (`{uri, cid}`) to the thread's root and to the post it answers
//! (docs.bsky.app, "Posts" guide, "Replies"; lexicon `app.bsky.feed.post#replyRef`). The
//! CIDs are read with `com.atproto.repo.getRecord` from the account's own repository.

use platform_adapters::{AdapterError, PostRef, ReplyTo};
use serde_json::json;
use wiremock::{
    matchers::{method, path, query_param},
    Mock, MockServer, ResponseTemplate,
};

use super::{create_record_body, created, mount_create_record, post_uri, publish, DID, RKEY};
use crate::support::{no_options, post};

const ROOT: &str = "3l6oveex3ii2l";
const PARENT: &str = "3l6ovf2xr3x2c";
const ROOT_CID: &str = "bafyreiaroot4ebf3k3gxqbxv6l5k2f7kmkh5twu5ar7zq4ba2qd7zxpbca";
const PARENT_CID: &str = "bafyreiaparentq3kpvhugpnjcxmewrhw7skmj3cdyqbwajkmzsb3pm6hxu";

/// `getRecord` of the post at `rkey`, answered with its CID, expected `times`.
async fn mount_record(server: &MockServer, rkey: &str, cid: &str, times: u64) {
    Mock::given(method("GET"))
        .and(path("/xrpc/com.atproto.repo.getRecord"))
        .and(query_param("repo", DID))
        .and(query_param("collection", "app.bsky.feed.post"))
        .and(query_param("rkey", rkey))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "uri": post_uri(rkey),
            "cid": cid,
            "value": {"$type": "app.bsky.feed.post", "text": "earlier", "createdAt": "2024-11-22T06:29:00.000Z"}
        })))
        .expect(times)
        .mount(server)
        .await;
}

#[tokio::test]
async fn a_threads_next_part_carries_strong_refs_to_its_root_and_its_parent() {
    let server = MockServer::start().await;
    mount_record(&server, ROOT, ROOT_CID, 1).await;
    mount_record(&server, PARENT, PARENT_CID, 1).await;
    mount_create_record(
        &server,
        ResponseTemplate::new(200).set_body_json(created(RKEY)),
        1,
    )
    .await;
    let (root, parent) = (post_uri(ROOT), post_uri(PARENT));
    let mut request = post("3/3", &[], no_options());
    request.reply_to = Some(ReplyTo {
        root: PostRef {
            platform_post_id: &root,
            url: None,
        },
        parent: PostRef {
            platform_post_id: &parent,
            url: None,
        },
    });

    publish(&server, &request).await.expect("published");

    let body = create_record_body(&server).await;
    assert_eq!(
        body["record"]["reply"],
        json!({
            "root": {"uri": root, "cid": ROOT_CID},
            "parent": {"uri": parent, "cid": PARENT_CID},
        })
    );
}

#[tokio::test]
async fn a_reply_to_the_root_itself_reads_its_cid_once() {
    let server = MockServer::start().await;
    mount_record(&server, ROOT, ROOT_CID, 1).await;
    mount_create_record(
        &server,
        ResponseTemplate::new(200).set_body_json(created(RKEY)),
        1,
    )
    .await;
    let root = post_uri(ROOT);
    let to = PostRef {
        platform_post_id: &root,
        url: None,
    };
    let mut request = post("2/2", &[], no_options());
    request.reply_to = Some(ReplyTo {
        root: to,
        parent: to,
    });

    publish(&server, &request).await.expect("published");

    let body = create_record_body(&server).await;
    let strong = json!({"uri": root, "cid": ROOT_CID});
    assert_eq!(
        body["record"]["reply"],
        json!({"root": strong, "parent": strong})
    );
}

#[tokio::test]
async fn a_reply_to_a_post_that_is_gone_is_rejected_without_writing() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/xrpc/com.atproto.repo.getRecord"))
        .respond_with(ResponseTemplate::new(400).set_body_json(
            json!({"error": "RecordNotFound", "message": "Could not locate record"}),
        ))
        .mount(&server)
        .await;
    mount_create_record(
        &server,
        ResponseTemplate::new(200).set_body_json(created(RKEY)),
        0,
    )
    .await;
    let root = post_uri(ROOT);
    let to = PostRef {
        platform_post_id: &root,
        url: None,
    };
    let mut request = post("2/2", &[], no_options());
    request.reply_to = Some(ReplyTo {
        root: to,
        parent: to,
    });

    let err = publish(&server, &request).await.expect_err("refused");

    assert!(
        matches!(&err, AdapterError::Rejected { code, .. } if code == "reply_target_missing"),
        "{err:?}"
    );
}
