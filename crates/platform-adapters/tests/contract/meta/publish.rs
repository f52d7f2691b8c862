//! Publishing to Meta: Facebook Pages (`/feed`, `/photos`, `/videos`), Instagram (media
//! containers, `status_code`, `media_publish`) and Threads (containers, `status`,
//! `threads_publish`), and finding a post whose publish went unanswered. Answers follow the
//! Pages API posts guide, the IG User media and IG Container references, the Threads posts,
//! publishing and troubleshooting references, and Graph's error object.

use std::time::Duration;

use platform_adapters::{
    platforms::{facebook::FacebookAdapter, instagram::InstagramAdapter, threads::ThreadsAdapter},
    AdapterError, MediaItem, PlatformAdapter, PostOptions, Published,
};
use serde_json::json;
use wiremock::{
    matchers::{any, method, path},
    Mock, MockServer, ResponseTemplate,
};

use crate::{
    meta::{account, graph_error, graph_settings, query_is, threads_settings},
    support::{self, form_is, secret},
};

const PAGE_TOKEN: &str = "page-token-1";
const THREADS_TOKEN: &str = "threads-token-1";

/// Container checks in tests: milliseconds apart.
const POLL: Duration = Duration::from_millis(10);

fn facebook(server: &MockServer) -> FacebookAdapter {
    FacebookAdapter::new(platform_adapters::http::client(), graph_settings(server))
}

fn instagram(server: &MockServer) -> InstagramAdapter {
    InstagramAdapter::new(platform_adapters::http::client(), graph_settings(server))
        .with_poll_interval(POLL)
}

fn threads(server: &MockServer) -> ThreadsAdapter {
    ThreadsAdapter::new(platform_adapters::http::client(), threads_settings(server))
        .with_poll_interval(POLL)
}

/// A client that gives up after 300 ms, for calls the platform never answers in time.
fn impatient_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .expect("a client")
}

/// A second image, at its own signed URL.
fn second_image(base: &str) -> MediaItem {
    MediaItem {
        url: format!("{base}/media/img-2.jpg?sig=signed"),
        ..support::image(base)
    }
}

fn media_base(server: &MockServer) -> String {
    server.uri()
}

/// A Graph timestamp (`2026-11-20T10:15:00+0000`) `hours` ago.
fn hours_ago(hours: i64) -> String {
    (chrono::Utc::now() - chrono::Duration::hours(hours))
        .format("%Y-%m-%dT%H:%M:%S%z")
        .to_string()
}

fn created(id: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({ "id": id }))
}

/// `POST {path}` with exactly `form`, answered with `answer`, expected once.
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

/// `GET {path}` with exactly `query`, answered with `answer`, expected `times`.
async fn mount_get(
    server: &MockServer,
    at: &str,
    query: &[(&str, &str)],
    answer: ResponseTemplate,
    times: u64,
) {
    Mock::given(method("GET"))
        .and(path(at))
        .and(query_is(query))
        .respond_with(answer)
        .expect(times)
        .mount(server)
        .await;
}

/// Nothing at all may reach `server`.
async fn expect_no_calls(server: &MockServer) {
    Mock::given(any())
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(server)
        .await;
}

// ---------------------------------------------------------------------------------------------
// Facebook Pages
// ---------------------------------------------------------------------------------------------

async fn mount_fb_permalink(server: &MockServer, id: &str, answer: ResponseTemplate) {
    mount_get(
        server,
        &format!("/v26.0/{id}"),
        &[("fields", "permalink_url"), ("access_token", PAGE_TOKEN)],
        answer,
        1,
    )
    .await;
}

#[tokio::test]
async fn facebook_text_post_with_a_link_goes_to_the_page_feed() {
    let server = MockServer::start().await;
    mount_post(
        &server,
        "/v26.0/page-1/feed",
        &[
            ("message", "Our spring menu is out"),
            ("link", "https://example.com/menu"),
            ("access_token", PAGE_TOKEN),
        ],
        created("page-1_1116689038356556"),
    )
    .await;
    mount_fb_permalink(
        &server,
        "page-1_1116689038356556",
        ResponseTemplate::new(200).set_body_json(json!({
            "permalink_url": "https://www.facebook.com/122100/posts/1116689038356556",
            "id": "page-1_1116689038356556"
        })),
    )
    .await;
    let options = PostOptions {
        link: Some("https://example.com/menu".into()),
        ..PostOptions::default()
    };
    let token = secret(PAGE_TOKEN);

    let published = facebook(&server)
        .publish(
            &account("page-1", &token),
            &support::post("Our spring menu is out", &[], &options),
        )
        .await
        .expect("published");

    assert_eq!(
        published,
        Published {
            platform_post_id: "page-1_1116689038356556".into(),
            url: Some("https://www.facebook.com/122100/posts/1116689038356556".into()),
        }
    );
}

#[tokio::test]
async fn facebook_single_photo_is_published_by_url_and_keeps_a_link_when_the_permalink_read_fails()
{
    let server = MockServer::start().await;
    let image = support::image(&media_base(&server));
    mount_post(
        &server,
        "/v26.0/page-1/photos",
        &[
            ("url", image.url.as_str()),
            ("message", "Fresh bread"),
            ("access_token", PAGE_TOKEN),
        ],
        ResponseTemplate::new(200)
            .set_body_json(json!({ "id": "photo-9", "post_id": "page-1_222" })),
    )
    .await;
    mount_fb_permalink(
        &server,
        "page-1_222",
        ResponseTemplate::new(500).set_body_json(graph_error(
            2,
            None,
            "Service temporarily unavailable",
        )),
    )
    .await;
    let token = secret(PAGE_TOKEN);
    let media = [image];

    let published = facebook(&server)
        .publish(
            &account("page-1", &token),
            &support::post("Fresh bread", &media, support::no_options()),
        )
        .await
        .expect("published despite the permalink failure");

    assert_eq!(
        published,
        Published {
            platform_post_id: "page-1_222".into(),
            url: Some("https://www.facebook.com/page-1_222".into()),
        }
    );
}

#[tokio::test]
async fn facebook_several_photos_are_uploaded_unpublished_then_attached_to_one_feed_post() {
    let server = MockServer::start().await;
    let base = media_base(&server);
    let media = [support::image(&base), second_image(&base)];
    for (item, id) in media.iter().zip(["photo-1", "photo-2"]) {
        mount_post(
            &server,
            "/v26.0/page-1/photos",
            &[
                ("url", item.url.as_str()),
                ("published", "false"),
                ("access_token", PAGE_TOKEN),
            ],
            created(id),
        )
        .await;
    }
    mount_post(
        &server,
        "/v26.0/page-1/feed",
        &[
            ("message", "Two views of the bakery"),
            ("attached_media[0]", r#"{"media_fbid":"photo-1"}"#),
            ("attached_media[1]", r#"{"media_fbid":"photo-2"}"#),
            ("access_token", PAGE_TOKEN),
        ],
        created("page-1_333"),
    )
    .await;
    mount_fb_permalink(
        &server,
        "page-1_333",
        ResponseTemplate::new(200).set_body_json(
            json!({ "permalink_url": "https://www.facebook.com/page/posts/333", "id": "page-1_333" }),
        ),
    )
    .await;
    let token = secret(PAGE_TOKEN);

    let published = facebook(&server)
        .publish(
            &account("page-1", &token),
            &support::post("Two views of the bakery", &media, support::no_options()),
        )
        .await
        .expect("published");

    assert_eq!(published.platform_post_id, "page-1_333");
    assert_eq!(
        published.url.as_deref(),
        Some("https://www.facebook.com/page/posts/333")
    );
}

#[tokio::test]
async fn facebook_video_is_published_from_its_signed_url_with_description_and_title() {
    let server = MockServer::start().await;
    let video = support::video(&media_base(&server));
    mount_post(
        &server,
        "/v26.0/page-1/videos",
        &[
            ("file_url", video.url.as_str()),
            ("description", "How we bake"),
            ("title", "Bakery tour"),
            ("access_token", PAGE_TOKEN),
        ],
        created("vid-7"),
    )
    .await;
    // Graph gives video permalinks relative to facebook.com.
    mount_fb_permalink(
        &server,
        "vid-7",
        ResponseTemplate::new(200)
            .set_body_json(json!({ "permalink_url": "/page-1/videos/vid-7/", "id": "vid-7" })),
    )
    .await;
    let options = PostOptions {
        title: Some("Bakery tour".into()),
        ..PostOptions::default()
    };
    let token = secret(PAGE_TOKEN);
    let media = [video];

    let published = facebook(&server)
        .publish(
            &account("page-1", &token),
            &support::post("How we bake", &media, &options),
        )
        .await
        .expect("published");

    assert_eq!(
        published,
        Published {
            platform_post_id: "vid-7".into(),
            url: Some("https://www.facebook.com/page-1/videos/vid-7/".into()),
        }
    );
}

#[tokio::test]
async fn facebook_link_with_media_or_a_video_among_photos_is_rejected_before_any_call() {
    let server = MockServer::start().await;
    expect_no_calls(&server).await;
    let base = media_base(&server);
    let token = secret(PAGE_TOKEN);
    let options = PostOptions {
        link: Some("https://example.com".into()),
        ..PostOptions::default()
    };
    let photo = [support::image(&base)];
    let mixed = [support::image(&base), support::video(&base)];

    let with_link = facebook(&server)
        .publish(
            &account("page-1", &token),
            &support::post("Look", &photo, &options),
        )
        .await;
    let with_video = facebook(&server)
        .publish(
            &account("page-1", &token),
            &support::post("Look", &mixed, support::no_options()),
        )
        .await;

    assert!(
        matches!(&with_link, Err(AdapterError::Rejected { code, .. }) if code == "link_with_media"),
        "{with_link:?}"
    );
    assert!(
        matches!(&with_video, Err(AdapterError::Rejected { code, .. }) if code == "video_with_other_media"),
        "{with_video:?}"
    );
}

async fn mount_fb_feed(server: &MockServer, posts: serde_json::Value) {
    mount_get(
        server,
        "/v26.0/page-1/feed",
        &[
            ("fields", "id,message,created_time,permalink_url"),
            ("limit", "50"),
            ("access_token", PAGE_TOKEN),
        ],
        ResponseTemplate::new(200).set_body_json(json!({
            "data": posts,
            "paging": { "cursors": { "before": "b", "after": "a" } }
        })),
        1,
    )
    .await;
}

#[tokio::test]
async fn facebook_find_published_matches_the_exact_message_of_a_recent_post() {
    let server = MockServer::start().await;
    mount_fb_feed(
        &server,
        json!([
            { "id": "page-1_9", "message": "Something else", "created_time": hours_ago(0),
              "permalink_url": "https://www.facebook.com/page/posts/9" },
            { "id": "page-1_8", "message": "Our spring menu is out", "created_time": hours_ago(0),
              "permalink_url": "https://www.facebook.com/page/posts/8" },
        ]),
    )
    .await;
    let token = secret(PAGE_TOKEN);

    let found = facebook(&server)
        .find_published(
            &account("page-1", &token),
            &support::post("Our spring menu is out", &[], support::no_options()),
        )
        .await
        .expect("a lookup");

    assert_eq!(
        found,
        Some(Published {
            platform_post_id: "page-1_8".into(),
            url: Some("https://www.facebook.com/page/posts/8".into()),
        })
    );
}

#[tokio::test]
async fn facebook_find_published_ignores_other_messages_and_old_posts_with_the_same_text() {
    let server = MockServer::start().await;
    mount_fb_feed(
        &server,
        json!([
            { "id": "page-1_9", "message": "Our spring menu is out!", "created_time": hours_ago(0) },
            { "id": "page-1_2", "message": "Our spring menu is out", "created_time": hours_ago(24 * 30) },
        ]),
    )
    .await;
    let token = secret(PAGE_TOKEN);

    let found = facebook(&server)
        .find_published(
            &account("page-1", &token),
            &support::post("Our spring menu is out", &[], support::no_options()),
        )
        .await
        .expect("a lookup");

    assert_eq!(found, None);
}

// ---------------------------------------------------------------------------------------------
// Instagram
// ---------------------------------------------------------------------------------------------

async fn mount_ig_status(server: &MockServer, container: &str, status: &str, times: u64) {
    mount_get(
        server,
        &format!("/v26.0/{container}"),
        &[
            ("fields", "status_code,status"),
            ("access_token", PAGE_TOKEN),
        ],
        ResponseTemplate::new(200).set_body_json(json!({ "status_code": status, "id": container })),
        times,
    )
    .await;
}

async fn mount_ig_publish(server: &MockServer, container: &str, answer: ResponseTemplate) {
    mount_post(
        server,
        "/v26.0/ig-1/media_publish",
        &[("creation_id", container), ("access_token", PAGE_TOKEN)],
        answer,
    )
    .await;
}

async fn mount_ig_permalink(server: &MockServer, media: &str, answer: ResponseTemplate) {
    mount_get(
        server,
        &format!("/v26.0/{media}"),
        &[("fields", "permalink"), ("access_token", PAGE_TOKEN)],
        answer,
        1,
    )
    .await;
}

fn ig_permalink(media: &str, shortcode: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(
        json!({ "permalink": format!("https://www.instagram.com/p/{shortcode}/"), "id": media }),
    )
}

#[tokio::test]
async fn instagram_image_post_creates_a_container_waits_for_it_and_publishes_it() {
    let server = MockServer::start().await;
    let image = support::image(&media_base(&server));
    mount_post(
        &server,
        "/v26.0/ig-1/media",
        &[
            ("image_url", image.url.as_str()),
            ("caption", "Sourdough #bread"),
            ("access_token", PAGE_TOKEN),
        ],
        created("17889455560051444"),
    )
    .await;
    mount_ig_status(&server, "17889455560051444", "FINISHED", 1).await;
    mount_ig_publish(&server, "17889455560051444", created("17920238422030506")).await;
    mount_ig_permalink(
        &server,
        "17920238422030506",
        ig_permalink("17920238422030506", "Cx1"),
    )
    .await;
    let token = secret(PAGE_TOKEN);
    let media = [image];

    let published = instagram(&server)
        .publish(
            &account("ig-1", &token),
            &support::post("Sourdough #bread", &media, support::no_options()),
        )
        .await
        .expect("published");

    assert_eq!(
        published,
        Published {
            platform_post_id: "17920238422030506".into(),
            url: Some("https://www.instagram.com/p/Cx1/".into()),
        }
    );
}

#[tokio::test]
async fn instagram_carousel_creates_item_containers_then_a_carousel_container() {
    let server = MockServer::start().await;
    let base = media_base(&server);
    let media = [support::image(&base), support::video(&base)];
    mount_post(
        &server,
        "/v26.0/ig-1/media",
        &[
            ("image_url", media[0].url.as_str()),
            ("is_carousel_item", "true"),
            ("access_token", PAGE_TOKEN),
        ],
        created("child-1"),
    )
    .await;
    mount_post(
        &server,
        "/v26.0/ig-1/media",
        &[
            ("media_type", "VIDEO"),
            ("video_url", media[1].url.as_str()),
            ("is_carousel_item", "true"),
            ("access_token", PAGE_TOKEN),
        ],
        created("child-2"),
    )
    .await;
    // Only the video item needs processing before the carousel may name it.
    mount_ig_status(&server, "child-2", "FINISHED", 1).await;
    mount_post(
        &server,
        "/v26.0/ig-1/media",
        &[
            ("media_type", "CAROUSEL"),
            ("children", "child-1,child-2"),
            ("caption", "A day at the bakery"),
            ("access_token", PAGE_TOKEN),
        ],
        created("carousel-1"),
    )
    .await;
    mount_ig_status(&server, "carousel-1", "FINISHED", 1).await;
    mount_ig_publish(&server, "carousel-1", created("media-5")).await;
    mount_ig_permalink(&server, "media-5", ig_permalink("media-5", "Cx5")).await;
    let token = secret(PAGE_TOKEN);

    let published = instagram(&server)
        .publish(
            &account("ig-1", &token),
            &support::post("A day at the bakery", &media, support::no_options()),
        )
        .await
        .expect("published");

    assert_eq!(published.platform_post_id, "media-5");
    assert_eq!(
        published.url.as_deref(),
        Some("https://www.instagram.com/p/Cx5/")
    );
}

#[tokio::test]
async fn instagram_reel_is_checked_while_in_progress_and_published_once_finished() {
    let server = MockServer::start().await;
    let video = support::video(&media_base(&server));
    mount_post(
        &server,
        "/v26.0/ig-1/media",
        &[
            ("media_type", "REELS"),
            ("video_url", video.url.as_str()),
            ("caption", "Kneading"),
            ("access_token", PAGE_TOKEN),
        ],
        created("reel-c"),
    )
    .await;
    // Two answers IN_PROGRESS, then FINISHED.
    Mock::given(method("GET"))
        .and(path("/v26.0/reel-c"))
        .and(query_is(&[
            ("fields", "status_code,status"),
            ("access_token", PAGE_TOKEN),
        ]))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({ "status_code": "IN_PROGRESS", "id": "reel-c" })),
        )
        .up_to_n_times(2)
        .expect(2)
        .mount(&server)
        .await;
    mount_ig_status(&server, "reel-c", "FINISHED", 1).await;
    mount_ig_publish(&server, "reel-c", created("reel-m")).await;
    mount_ig_permalink(&server, "reel-m", ig_permalink("reel-m", "Rl1")).await;
    let token = secret(PAGE_TOKEN);
    let media = [video];

    let published = instagram(&server)
        .publish(
            &account("ig-1", &token),
            &support::post("Kneading", &media, support::no_options()),
        )
        .await
        .expect("published");

    assert_eq!(published.platform_post_id, "reel-m");
}

#[tokio::test]
async fn instagram_container_error_is_rejected_with_the_reason_and_never_published() {
    let server = MockServer::start().await;
    let image = support::image(&media_base(&server));
    mount_post(
        &server,
        "/v26.0/ig-1/media",
        &[
            ("image_url", image.url.as_str()),
            ("caption", "Broken"),
            ("access_token", PAGE_TOKEN),
        ],
        created("bad-c"),
    )
    .await;
    mount_get(
        &server,
        "/v26.0/bad-c",
        &[("fields", "status_code,status"), ("access_token", PAGE_TOKEN)],
        ResponseTemplate::new(200).set_body_json(json!({
            "status_code": "ERROR",
            "status": "Error: Media download has failed. The media URI doesn't meet our requirements. (2207052)",
            "id": "bad-c"
        })),
        1,
    )
    .await;
    Mock::given(path("/v26.0/ig-1/media_publish"))
        .respond_with(created("never"))
        .expect(0)
        .mount(&server)
        .await;
    let token = secret(PAGE_TOKEN);
    let media = [image];

    let err = instagram(&server)
        .publish(
            &account("ig-1", &token),
            &support::post("Broken", &media, support::no_options()),
        )
        .await
        .expect_err("rejected");

    assert!(
        matches!(&err, AdapterError::Rejected { code, message } if code == "container_error" && message.contains("2207052")),
        "{err:?}"
    );
}

#[tokio::test]
async fn instagram_container_still_processing_after_every_check_is_transient() {
    let server = MockServer::start().await;
    let video = support::video(&media_base(&server));
    Mock::given(method("POST"))
        .and(path("/v26.0/ig-1/media"))
        .respond_with(created("slow-c"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v26.0/slow-c"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({ "status_code": "IN_PROGRESS", "id": "slow-c" })),
        )
        .expect(18)
        .mount(&server)
        .await;
    Mock::given(path("/v26.0/ig-1/media_publish"))
        .respond_with(created("never"))
        .expect(0)
        .mount(&server)
        .await;
    let token = secret(PAGE_TOKEN);
    let media = [video];

    let err = instagram(&server)
        .publish(
            &account("ig-1", &token),
            &support::post("Slow", &media, support::no_options()),
        )
        .await
        .expect_err("gave up");

    assert!(matches!(err, AdapterError::Transient { .. }), "{err:?}");
}

#[tokio::test]
async fn instagram_without_media_is_rejected_before_any_call() {
    let server = MockServer::start().await;
    expect_no_calls(&server).await;
    let token = secret(PAGE_TOKEN);

    let err = instagram(&server)
        .publish(
            &account("ig-1", &token),
            &support::post("Just words", &[], support::no_options()),
        )
        .await
        .expect_err("rejected");

    assert!(
        matches!(&err, AdapterError::Rejected { code, .. } if code == "media_required"),
        "{err:?}"
    );
}

#[tokio::test]
async fn instagram_permalink_failure_does_not_fail_the_publish() {
    let server = MockServer::start().await;
    let image = support::image(&media_base(&server));
    Mock::given(method("POST"))
        .and(path("/v26.0/ig-1/media"))
        .respond_with(created("c-1"))
        .expect(1)
        .mount(&server)
        .await;
    mount_ig_status(&server, "c-1", "FINISHED", 1).await;
    mount_ig_publish(&server, "c-1", created("m-1")).await;
    mount_ig_permalink(
        &server,
        "m-1",
        ResponseTemplate::new(500).set_body_json(graph_error(1, None, "An unknown error occurred")),
    )
    .await;
    let token = secret(PAGE_TOKEN);
    let media = [image];

    let published = instagram(&server)
        .publish(
            &account("ig-1", &token),
            &support::post("Hi", &media, support::no_options()),
        )
        .await
        .expect("published");

    assert_eq!(
        published,
        Published {
            platform_post_id: "m-1".into(),
            url: None,
        }
    );
}

async fn mount_ig_recent(server: &MockServer, media: serde_json::Value) {
    mount_get(
        server,
        "/v26.0/ig-1/media",
        &[
            ("fields", "id,caption,permalink,timestamp"),
            ("limit", "50"),
            ("access_token", PAGE_TOKEN),
        ],
        ResponseTemplate::new(200).set_body_json(json!({ "data": media })),
        1,
    )
    .await;
}

#[tokio::test]
async fn instagram_find_published_matches_the_exact_caption() {
    let server = MockServer::start().await;
    mount_ig_recent(
        &server,
        json!([
            { "id": "m-2", "caption": "Other", "permalink": "https://www.instagram.com/p/B/",
              "timestamp": hours_ago(0) },
            { "id": "m-1", "caption": "Sourdough #bread", "permalink": "https://www.instagram.com/p/A/",
              "timestamp": hours_ago(1) },
        ]),
    )
    .await;
    let token = secret(PAGE_TOKEN);
    let media = [support::image(&media_base(&server))];

    let found = instagram(&server)
        .find_published(
            &account("ig-1", &token),
            &support::post("Sourdough #bread", &media, support::no_options()),
        )
        .await
        .expect("a lookup");

    assert_eq!(
        found,
        Some(Published {
            platform_post_id: "m-1".into(),
            url: Some("https://www.instagram.com/p/A/".into()),
        })
    );
}

#[tokio::test]
async fn instagram_find_published_without_a_matching_caption_is_none() {
    let server = MockServer::start().await;
    // A media without caption has none in the answer at all.
    mount_ig_recent(&server, json!([{ "id": "m-3", "timestamp": hours_ago(0) }])).await;
    let token = secret(PAGE_TOKEN);
    let media = [support::image(&media_base(&server))];

    let found = instagram(&server)
        .find_published(
            &account("ig-1", &token),
            &support::post("Sourdough #bread", &media, support::no_options()),
        )
        .await
        .expect("a lookup");

    assert_eq!(found, None);
}

// ---------------------------------------------------------------------------------------------
// Threads
// ---------------------------------------------------------------------------------------------

async fn mount_threads_publish(server: &MockServer, container: &str, answer: ResponseTemplate) {
    mount_post(
        server,
        "/v1.0/th-1/threads_publish",
        &[("creation_id", container), ("access_token", THREADS_TOKEN)],
        answer,
    )
    .await;
}

async fn mount_threads_permalink(server: &MockServer, id: &str) {
    mount_get(
        server,
        &format!("/v1.0/{id}"),
        &[("fields", "permalink"), ("access_token", THREADS_TOKEN)],
        ResponseTemplate::new(200).set_body_json(json!({
            "permalink": format!("https://www.threads.com/@bakery/post/{id}"),
            "id": id
        })),
        1,
    )
    .await;
}

#[tokio::test]
async fn threads_text_post_publishes_a_text_container_without_waiting() {
    let server = MockServer::start().await;
    mount_post(
        &server,
        "/v1.0/th-1/threads",
        &[
            ("media_type", "TEXT"),
            ("text", "Ovens are hot"),
            ("link_attachment", "https://example.com/hours"),
            ("access_token", THREADS_TOKEN),
        ],
        created("tc-1"),
    )
    .await;
    // A text container is ready at once: its status is never asked for.
    Mock::given(method("GET"))
        .and(path("/v1.0/tc-1"))
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&server)
        .await;
    mount_threads_publish(&server, "tc-1", created("t-1")).await;
    mount_threads_permalink(&server, "t-1").await;
    let token = secret(THREADS_TOKEN);
    let options = PostOptions {
        link: Some("https://example.com/hours".into()),
        ..PostOptions::default()
    };

    let published = threads(&server)
        .publish(
            &account("th-1", &token),
            &support::post("Ovens are hot", &[], &options),
        )
        .await
        .expect("published");

    assert_eq!(
        published,
        Published {
            platform_post_id: "t-1".into(),
            url: Some("https://www.threads.com/@bakery/post/t-1".into()),
        }
    );
}

#[tokio::test]
async fn threads_image_post_sends_alt_text_and_waits_for_its_container() {
    let server = MockServer::start().await;
    let image = support::image(&media_base(&server));
    mount_post(
        &server,
        "/v1.0/th-1/threads",
        &[
            ("media_type", "IMAGE"),
            ("image_url", image.url.as_str()),
            ("alt_text", "a test picture"),
            ("text", "Crumb shot"),
            ("access_token", THREADS_TOKEN),
        ],
        created("ic-1"),
    )
    .await;
    mount_get(
        &server,
        "/v1.0/ic-1",
        &[
            ("fields", "status,error_message"),
            ("access_token", THREADS_TOKEN),
        ],
        ResponseTemplate::new(200).set_body_json(json!({ "status": "FINISHED", "id": "ic-1" })),
        1,
    )
    .await;
    mount_threads_publish(&server, "ic-1", created("t-2")).await;
    mount_threads_permalink(&server, "t-2").await;
    let token = secret(THREADS_TOKEN);
    let media = [image];

    let published = threads(&server)
        .publish(
            &account("th-1", &token),
            &support::post("Crumb shot", &media, support::no_options()),
        )
        .await
        .expect("published");

    assert_eq!(published.platform_post_id, "t-2");
}

#[tokio::test]
async fn threads_video_container_error_is_rejected_with_the_error_message() {
    let server = MockServer::start().await;
    let video = support::video(&media_base(&server));
    Mock::given(method("POST"))
        .and(path("/v1.0/th-1/threads"))
        .respond_with(created("vc-1"))
        .expect(1)
        .mount(&server)
        .await;
    mount_get(
        &server,
        "/v1.0/vc-1",
        &[
            ("fields", "status,error_message"),
            ("access_token", THREADS_TOKEN),
        ],
        ResponseTemplate::new(200).set_body_json(json!({
            "status": "ERROR",
            "id": "vc-1",
            "error_message": "FAILED_DOWNLOADING_VIDEO"
        })),
        1,
    )
    .await;
    Mock::given(path("/v1.0/th-1/threads_publish"))
        .respond_with(created("never"))
        .expect(0)
        .mount(&server)
        .await;
    let token = secret(THREADS_TOKEN);
    let media = [video];

    let err = threads(&server)
        .publish(
            &account("th-1", &token),
            &support::post("Watch", &media, support::no_options()),
        )
        .await
        .expect_err("rejected");

    assert!(
        matches!(&err, AdapterError::Rejected { code, message } if code == "container_error" && message.contains("FAILED_DOWNLOADING_VIDEO")),
        "{err:?}"
    );
}

async fn mount_threads_recent(server: &MockServer, posts: serde_json::Value) {
    mount_get(
        server,
        "/v1.0/th-1/threads",
        &[
            ("fields", "id,text,permalink,timestamp"),
            ("limit", "50"),
            ("access_token", THREADS_TOKEN),
        ],
        ResponseTemplate::new(200).set_body_json(json!({ "data": posts })),
        1,
    )
    .await;
}

#[tokio::test]
async fn threads_find_published_matches_the_exact_text() {
    let server = MockServer::start().await;
    mount_threads_recent(
        &server,
        json!([{ "id": "t-9", "text": "Ovens are hot", "timestamp": hours_ago(0),
                 "permalink": "https://www.threads.com/@bakery/post/X" }]),
    )
    .await;
    let token = secret(THREADS_TOKEN);

    let found = threads(&server)
        .find_published(
            &account("th-1", &token),
            &support::post("Ovens are hot", &[], support::no_options()),
        )
        .await
        .expect("a lookup");

    assert_eq!(
        found,
        Some(Published {
            platform_post_id: "t-9".into(),
            url: Some("https://www.threads.com/@bakery/post/X".into()),
        })
    );
}

#[tokio::test]
async fn threads_find_published_without_the_text_is_none() {
    let server = MockServer::start().await;
    mount_threads_recent(
        &server,
        json!([{ "id": "t-8", "text": "Ovens are cold", "timestamp": hours_ago(0) }]),
    )
    .await;
    let token = secret(THREADS_TOKEN);

    let found = threads(&server)
        .find_published(
            &account("th-1", &token),
            &support::post("Ovens are hot", &[], support::no_options()),
        )
        .await
        .expect("a lookup");

    assert_eq!(found, None);
}

#[tokio::test]
async fn a_post_without_text_cannot_be_looked_up() {
    let server = MockServer::start().await;
    expect_no_calls(&server).await;
    let token = secret(PAGE_TOKEN);
    let media = [support::image(&media_base(&server))];

    let result = instagram(&server)
        .find_published(
            &account("ig-1", &token),
            &support::post("", &media, support::no_options()),
        )
        .await;

    assert!(
        matches!(result, Err(AdapterError::Unsupported { .. })),
        "{result:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Error classes while publishing
// ---------------------------------------------------------------------------------------------

/// A Facebook text post whose `/feed` call is answered with `answer`.
async fn facebook_text_post_failing_with(answer: ResponseTemplate) -> AdapterError {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v26.0/page-1/feed"))
        .respond_with(answer)
        .expect(1)
        .mount(&server)
        .await;
    let token = secret(PAGE_TOKEN);
    facebook(&server)
        .publish(
            &account("page-1", &token),
            &support::post("Hello", &[], support::no_options()),
        )
        .await
        .expect_err("a failure")
}

/// An Instagram image post whose container creation is answered with `answer`.
async fn instagram_container_failing_with(answer: ResponseTemplate) -> AdapterError {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v26.0/ig-1/media"))
        .respond_with(answer)
        .expect(1)
        .mount(&server)
        .await;
    let token = secret(PAGE_TOKEN);
    let media = [support::image(&media_base(&server))];
    instagram(&server)
        .publish(
            &account("ig-1", &token),
            &support::post("Hello", &media, support::no_options()),
        )
        .await
        .expect_err("a failure")
}

#[tokio::test]
async fn an_expired_token_on_publish_means_needs_reauth_without_the_token() {
    for status in [400, 401] {
        let err = facebook_text_post_failing_with(ResponseTemplate::new(status).set_body_json(
            graph_error(
                190,
                Some(463),
                "Error validating access token: Session has expired.",
            ),
        ))
        .await;

        assert!(
            matches!(&err, AdapterError::NeedsReauth { message } if message.contains("Session has expired")),
            "{status}: {err:?}"
        );
        assert!(!err.to_string().contains(PAGE_TOKEN), "{err}");
    }
}

#[tokio::test]
async fn graph_throttling_codes_and_429_on_publish_mean_rate_limited() {
    for code in [17, 32, 613] {
        let err = instagram_container_failing_with(
            ResponseTemplate::new(400).set_body_json(graph_error(code, None, "limit reached")),
        )
        .await;
        assert!(
            matches!(err, AdapterError::RateLimited { .. }),
            "code {code}: {err:?}"
        );
    }
    let err = facebook_text_post_failing_with(
        ResponseTemplate::new(429)
            .insert_header("retry-after", "120")
            .set_body_json(graph_error(32, None, "Page request limit reached")),
    )
    .await;
    assert_eq!(
        err,
        AdapterError::RateLimited {
            retry_after: Some(Duration::from_secs(120))
        }
    );
}

#[tokio::test]
async fn an_oauth_exception_on_publish_is_rejected_with_the_platform_message() {
    let err =
        instagram_container_failing_with(ResponseTemplate::new(400).set_body_json(graph_error(
            100,
            Some(2207003),
            "(#100) The aspect ratio is not supported.",
        )))
        .await;

    assert_eq!(
        err,
        AdapterError::Rejected {
            code: "graph_100_2207003".into(),
            message: "(#100) The aspect ratio is not supported.".into(),
        }
    );
}

#[tokio::test]
async fn platform_messages_quoting_the_signed_media_url_are_redacted() {
    let server = MockServer::start().await;
    let image = support::image(&media_base(&server));
    let message = format!("Could not fetch {} for this request", image.url);
    Mock::given(method("POST"))
        .and(path("/v26.0/page-1/photos"))
        .respond_with(ResponseTemplate::new(400).set_body_json(graph_error(324, None, &message)))
        .expect(1)
        .mount(&server)
        .await;
    let token = secret(PAGE_TOKEN);
    let media = [image];

    let err = facebook(&server)
        .publish(
            &account("page-1", &token),
            &support::post("Hi", &media, support::no_options()),
        )
        .await
        .expect_err("rejected");

    assert!(
        matches!(&err, AdapterError::Rejected { message, .. } if message.contains("Could not fetch [redacted]")),
        "{err:?}"
    );
    assert!(!err.to_string().contains("sig=signed"), "{err}");
}

#[tokio::test]
async fn an_unanswered_media_publish_leaves_the_outcome_unknown() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v26.0/ig-1/media"))
        .respond_with(created("c-1"))
        .expect(1)
        .mount(&server)
        .await;
    mount_ig_status(&server, "c-1", "FINISHED", 1).await;
    mount_ig_publish(
        &server,
        "c-1",
        created("m-1").set_delay(Duration::from_secs(2)),
    )
    .await;
    let token = secret(PAGE_TOKEN);
    let media = [support::image(&media_base(&server))];
    let adapter =
        InstagramAdapter::new(impatient_client(), graph_settings(&server)).with_poll_interval(POLL);

    let err = adapter
        .publish(
            &account("ig-1", &token),
            &support::post("Hello", &media, support::no_options()),
        )
        .await
        .expect_err("no answer in time");

    assert!(
        matches!(err, AdapterError::OutcomeUnknown { .. }),
        "{err:?}"
    );
    assert!(!err.to_string().contains(PAGE_TOKEN), "{err}");
}

#[tokio::test]
async fn an_unanswered_container_call_is_transient_and_nothing_is_published() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v26.0/ig-1/media"))
        .respond_with(created("c-1").set_delay(Duration::from_secs(2)))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/v26.0/ig-1/media_publish"))
        .respond_with(created("never"))
        .expect(0)
        .mount(&server)
        .await;
    let token = secret(PAGE_TOKEN);
    let media = [support::image(&media_base(&server))];
    let adapter =
        InstagramAdapter::new(impatient_client(), graph_settings(&server)).with_poll_interval(POLL);

    let err = adapter
        .publish(
            &account("ig-1", &token),
            &support::post("Hello", &media, support::no_options()),
        )
        .await
        .expect_err("no answer in time");

    assert!(matches!(err, AdapterError::Transient { .. }), "{err:?}");
}

#[tokio::test]
async fn an_unanswered_facebook_feed_post_leaves_the_outcome_unknown() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v26.0/page-1/feed"))
        .respond_with(created("page-1_1").set_delay(Duration::from_secs(2)))
        .expect(1)
        .mount(&server)
        .await;
    let token = secret(PAGE_TOKEN);
    let adapter = FacebookAdapter::new(impatient_client(), graph_settings(&server));

    let err = adapter
        .publish(
            &account("page-1", &token),
            &support::post("Hello", &[], support::no_options()),
        )
        .await
        .expect_err("no answer in time");

    assert!(
        matches!(err, AdapterError::OutcomeUnknown { .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_server_error_on_threads_publish_leaves_the_outcome_unknown() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1.0/th-1/threads"))
        .respond_with(created("tc-1"))
        .expect(1)
        .mount(&server)
        .await;
    // Meta answers "unknown error" and sometimes publishes all the same.
    mount_threads_publish(
        &server,
        "tc-1",
        ResponseTemplate::new(500).set_body_json(graph_error(1, None, "An unknown error occurred")),
    )
    .await;
    let token = secret(THREADS_TOKEN);

    let err = threads(&server)
        .publish(
            &account("th-1", &token),
            &support::post("Hello", &[], support::no_options()),
        )
        .await
        .expect_err("unknown");

    assert!(
        matches!(err, AdapterError::OutcomeUnknown { .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_rate_limited_threads_publish_is_rate_limited_not_unknown() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1.0/th-1/threads"))
        .respond_with(created("tc-1"))
        .expect(1)
        .mount(&server)
        .await;
    mount_threads_publish(
        &server,
        "tc-1",
        ResponseTemplate::new(429).set_body_json(graph_error(
            17,
            None,
            "User request limit reached",
        )),
    )
    .await;
    let token = secret(THREADS_TOKEN);

    let err = threads(&server)
        .publish(
            &account("th-1", &token),
            &support::post("Hello", &[], support::no_options()),
        )
        .await
        .expect_err("limited");

    assert!(matches!(err, AdapterError::RateLimited { .. }), "{err:?}");
}
