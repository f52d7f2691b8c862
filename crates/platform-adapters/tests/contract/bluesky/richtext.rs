//! Bluesky posts as the network reads them: hashtags, bare domains, links and mentions become
//! facets over UTF-8 byte ranges with the rules of Bluesky's own client (`@atproto/api`
//! `rich-text/detection.ts`), and record keys are TIDs that carry the target's creation time
//! (<https://atproto.com/specs/tid>), checked against a PDS fake that echoes the record key.

use chrono::{DateTime, Duration, Utc};
use platform_adapters::{
    platforms::bluesky::BlueskyAdapter, AccountRef, AdapterSettings, PlatformAdapter,
    PublishRequest,
};
use serde_json::{json, Value};
use wiremock::{
    matchers::{method, path, query_param},
    Mock, MockServer, Request, Respond, ResponseTemplate,
};

use crate::support::{endpoints, no_options, post, secret, target_created_at};

const DID: &str = "did:plc:z72i7hdynmk6r22z27h6tvur";

/// `createRecord` as a PDS answers it: the record's URI at the key the client chose.
struct CreatedAtTheRequestedKey;

impl Respond for CreatedAtTheRequestedKey {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).unwrap_or_default();
        let rkey = body["rkey"].as_str().unwrap_or_default();
        ResponseTemplate::new(200).set_body_json(json!({
            "uri": format!("at://{DID}/app.bsky.feed.post/{rkey}"),
            "cid": "bafyreibjifzpqj6o6wcq3hejh7y4z4z2vmiklkvykc57tw3pcbx3kxifpm",
            "commit": {"cid": "bafyreihd6wqgmbndw4zrxfmnwhdwvgkqc5qaxx3mdgfkrq6nyifvvcrv2i", "rev": "3lbwf2gaqvk2a"},
            "validationStatus": "valid"
        }))
    }
}

async fn pds() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/xrpc/com.atproto.repo.createRecord"))
        .respond_with(CreatedAtTheRequestedKey)
        .mount(&server)
        .await;
    server
}

async fn mount_handle(server: &MockServer, handle: &str, did: &str) {
    Mock::given(method("GET"))
        .and(path("/xrpc/com.atproto.identity.resolveHandle"))
        .and(query_param("handle", handle))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "did": did })))
        .expect(1)
        .mount(server)
        .await;
}

/// Publishes `request` to `server` as the one account of these tests.
async fn publish(server: &MockServer, request: &PublishRequest<'_>) {
    let adapter = BlueskyAdapter::new(
        platform_adapters::http::client(),
        AdapterSettings {
            credentials: None,
            endpoints: endpoints(server),
        },
    );
    let access = secret("access-jwt");
    let service = server.uri();
    let account = AccountRef {
        platform_account_id: DID,
        access_token: &access,
        refresh_token: None,
        instance_url: Some(&service),
    };
    adapter.publish(&account, request).await.expect("published");
}

/// The bodies of every `createRecord` the server received, in order.
async fn created_records(server: &MockServer) -> Vec<Value> {
    server
        .received_requests()
        .await
        .expect("recording")
        .iter()
        .filter(|r| r.url.path() == "/xrpc/com.atproto.repo.createRecord")
        .map(|r| serde_json::from_slice(&r.body).expect("a JSON body"))
        .collect()
}

/// The facets of the one post published with `text`.
async fn facets_of(server: &MockServer, text: &str) -> Value {
    publish(server, &post(text, &[], no_options())).await;
    let records = created_records(server).await;
    assert_eq!(records.len(), 1, "one createRecord");
    assert_eq!(records[0]["record"]["text"], text);
    records[0]["record"]["facets"].clone()
}

/// A facet over `needle` (its first occurrence at or after byte `from` of `text`), with the
/// byte range computed here from the text itself.
fn facet(text: &str, from: usize, needle: &str, feature: Value) -> Value {
    let start = from + text[from..].find(needle).expect("needle in text");
    json!({
        "index": {"byteStart": start, "byteEnd": start + needle.len()},
        "features": [feature],
    })
}

fn tag(name: &str) -> Value {
    json!({"$type": "app.bsky.richtext.facet#tag", "tag": name})
}

fn link(uri: &str) -> Value {
    json!({"$type": "app.bsky.richtext.facet#link", "uri": uri})
}

fn mention(did: &str) -> Value {
    json!({"$type": "app.bsky.richtext.facet#mention", "did": did})
}

#[tokio::test]
async fn hashtags_become_tag_facets_over_their_bytes() {
    let server = pds().await;

    let facets = facets_of(&server, "tags #postbridge #atproto").await;

    assert_eq!(
        facets,
        json!([
            {"index": {"byteStart": 5, "byteEnd": 16}, "features": [tag("postbridge")]},
            {"index": {"byteStart": 17, "byteEnd": 25}, "features": [tag("atproto")]},
        ])
    );
}

#[tokio::test]
async fn tags_links_bare_domains_and_mentions_share_one_post_at_utf8_offsets() {
    let server = pds().await;
    mount_handle(&server, "alice.bsky.social", "did:plc:alice4mention").await;
    // Multi-byte text before every facet: "ü" is two bytes, "日本" six, the emoji four, the
    // full-width "＃" three. "#2024" is digits only and "path#intro" a URL fragment: neither is
    // a tag. Trailing punctuation ends a tag and a link.
    let text = "Grüße 🎉 #Release2, docs: example.com/path#intro. \
                日本 ＃タグ! and #2024 (https://bsky.app/profile/x) cc @alice.bsky.social";

    let facets = facets_of(&server, text).await;

    let release = text.find("#Release2").expect("tag");
    let domain = text.find("example.com").expect("domain");
    let full_width = text.find("＃タグ").expect("full-width tag");
    let url = text.find("https://").expect("url");
    let at = text.find("@alice").expect("mention");
    assert_eq!(
        facets,
        json!([
            facet(text, release, "#Release2", tag("Release2")),
            facet(
                text,
                domain,
                "example.com/path#intro",
                link("https://example.com/path#intro")
            ),
            facet(text, full_width, "＃タグ", tag("タグ")),
            facet(
                text,
                url,
                "https://bsky.app/profile/x",
                link("https://bsky.app/profile/x")
            ),
            facet(
                text,
                at,
                "@alice.bsky.social",
                mention("did:plc:alice4mention")
            ),
        ])
    );
}

#[tokio::test]
async fn words_that_only_look_like_domains_or_tags_stay_text() {
    let server = pds().await;

    let facets = facets_of(
        &server,
        "notes.txt e.g. website.com.jpg something-cool.jpg #123 #1? a#b x/#y #️⃣ done",
    )
    .await;

    assert_eq!(facets, Value::Null, "no facets at all");
}

// ---- record keys ----

/// The TID syntax and layout of atproto.com/specs/tid, decoded independently of the adapter:
/// 13 base32-sortable characters of a 64-bit integer whose top bit is 0, then 53 bits of
/// microseconds since the Unix epoch, then a 10-bit clock id.
fn decode_tid(tid: &str) -> (DateTime<Utc>, u64) {
    const ALPHABET: &str = "234567abcdefghijklmnopqrstuvwxyz";
    assert_eq!(tid.len(), 13, "{tid} has 13 characters");
    assert!(
        tid.starts_with(|c: char| "234567abcdefghij".contains(c)),
        "{tid}: the top bit is 0"
    );
    let value = tid.chars().fold(0u64, |acc, c| {
        let digit = ALPHABET.find(c).expect("a base32-sortable character");
        (acc << 5) | digit as u64
    });
    let micros = i64::try_from(value >> 10).expect("53 bits");
    let time = DateTime::from_timestamp_micros(micros).expect("a time");
    (time, value & 0x3ff)
}

async fn published_rkeys(server: &MockServer) -> Vec<String> {
    created_records(server)
        .await
        .iter()
        .map(|body| body["rkey"].as_str().expect("an rkey").to_owned())
        .collect()
}

#[tokio::test]
async fn a_record_key_decodes_to_the_targets_creation_time() {
    let server = pds().await;

    publish(&server, &post("hello", &[], no_options())).await;

    let rkeys = published_rkeys(&server).await;
    let (time, _clock_id) = decode_tid(&rkeys[0]);
    assert_eq!(time, target_created_at(), "the microsecond of creation");
}

#[tokio::test]
async fn record_keys_sort_like_their_targets_creation_and_a_retry_reuses_its_key() {
    let server = pds().await;
    // Targets created in this order (two within one microsecond of each other, one a second
    // later), published in another; the first is then retried.
    let base = target_created_at();
    let ids = [
        "9f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f",
        "00000000-0000-4000-8000-000000000001",
        "ffffffff-ffff-4fff-bfff-ffffffffffff",
        "0b7c6a3e-5f1d-4c2b-9a8e-7d6f5e4c3b2a",
    ];
    let created = [
        base,
        base + Duration::microseconds(1),
        base + Duration::seconds(1),
        base + Duration::days(30),
    ];
    let requests: Vec<PublishRequest<'_>> = ids
        .iter()
        .zip(created)
        .map(|(id, created_at)| PublishRequest {
            idempotency_key: id,
            created_at,
            ..post("scheduled", &[], no_options())
        })
        .collect();

    for i in [3, 1, 0, 2, 0] {
        publish(&server, &requests[i]).await;
    }

    let rkeys = published_rkeys(&server).await;
    let (retried, first) = (&rkeys[4], &rkeys[2]);
    assert_eq!(retried, first, "a retry writes the same key");
    let mut in_creation_order = vec![&rkeys[2], &rkeys[1], &rkeys[3], &rkeys[0]];
    let expected = in_creation_order.clone();
    in_creation_order.sort();
    assert_eq!(
        in_creation_order, expected,
        "string order is creation order"
    );
    for (rkey, created_at) in expected.iter().zip(created) {
        assert_eq!(decode_tid(rkey).0, created_at, "{rkey}");
    }
}

#[tokio::test]
async fn targets_created_in_the_same_microsecond_get_different_clock_ids() {
    let server = pds().await;
    let first = post("a", &[], no_options());
    let second = PublishRequest {
        idempotency_key: "9f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f",
        ..first
    };

    publish(&server, &first).await;
    publish(&server, &second).await;

    let rkeys = published_rkeys(&server).await;
    let (first_time, first_clock) = decode_tid(&rkeys[0]);
    let (second_time, second_clock) = decode_tid(&rkeys[1]);
    assert_eq!(first_time, second_time);
    assert_ne!(
        first_clock, second_clock,
        "the clock id comes from the target"
    );
    assert_ne!(rkeys[0], rkeys[1]);
}
