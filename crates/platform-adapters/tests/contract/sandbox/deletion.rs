//! Sandbox deletes: `DELETE /api/v1/posts/{id}` with the account's bearer token; `204` is
//! `Deleted`, `404` (gone, never there, or another user's) is `AlreadyGone`, a `503` is
//! transient, and an id that is not the sim's kind is refused before any call.

use platform_adapters::{AccountRef, AdapterError, Deletion, PlatformAdapter, PostRef};
use secrecy::SecretString;
use wiremock::{
    matchers::{any, header, method, path},
    Mock, MockServer, ResponseTemplate,
};

use super::adapter;

fn account(access: &SecretString) -> AccountRef<'_> {
    AccountRef {
        platform_account_id: "sim-alice",
        access_token: access,
        refresh_token: None,
        instance_url: None,
    }
}

fn post(id: &str) -> PostRef<'_> {
    PostRef {
        platform_post_id: id,
        url: None,
    }
}

#[tokio::test]
async fn a_delete_answered_204_is_deleted_and_404_already_gone() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path("/api/v1/posts/7"))
        .and(header("authorization", "Bearer simat_a"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/api/v1/posts/8"))
        .respond_with(ResponseTemplate::new(404).set_body_json(
            serde_json::json!({"error": "not_found", "error_description": "no such post"}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let access = SecretString::from("simat_a");
    let sandbox = adapter(&server);
    assert_eq!(
        sandbox
            .delete_post(&account(&access), &post("7"))
            .await
            .unwrap(),
        Deletion::Deleted
    );
    assert_eq!(
        sandbox
            .delete_post(&account(&access), &post("8"))
            .await
            .unwrap(),
        Deletion::AlreadyGone
    );
}

#[tokio::test]
async fn a_503_is_transient_and_a_foreign_id_is_refused_without_a_call() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path("/api/v1/posts/9"))
        .respond_with(ResponseTemplate::new(503))
        .expect(1)
        .mount(&server)
        .await;
    let access = SecretString::from("simat_a");
    let sandbox = adapter(&server);
    let failed = sandbox.delete_post(&account(&access), &post("9")).await;
    assert!(
        matches!(failed, Err(AdapterError::Transient { .. })),
        "{failed:?}"
    );
    Mock::given(any())
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let refused = sandbox.delete_post(&account(&access), &post("../me")).await;
    assert!(
        matches!(&refused, Err(AdapterError::Rejected { code, .. }) if code == "invalid_post_id"),
        "{refused:?}"
    );
}
