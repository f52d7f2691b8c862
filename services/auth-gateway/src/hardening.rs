//! What every request and response of the public API passes through, whatever its route:
//! input PostgreSQL cannot store is refused up front, and every answer carries the security
//! headers and, when it is an error, the one JSON error shape.
//!
//! Why here and not in each handler: a NUL character (U+0000) is valid JSON and valid UTF-8,
//! but PostgreSQL's `text` cannot hold it, so it used to surface as a 500 from whichever
//! query met it first. Checking the raw request once covers every field of every route,
//! including the ones added later. Likewise, actix answers unknown routes, wrong methods and
//! oversized payloads itself, with plain-text or empty bodies; rewriting those here keeps
//! `{"error": {"code", "message"}}` true for every error.

use actix_web::{
    body::{BoxBody, MessageBody},
    dev::{Payload, ServiceRequest, ServiceResponse},
    http::{
        header::{self, HeaderValue},
        StatusCode,
    },
    middleware::Next,
    web, HttpMessage, HttpResponse,
};
use futures_util::StreamExt;
use serde_json::{json, Value};

use crate::error::ApiError;

/// The origins the CORS policy allows (`auth_gateway.cors_allowed_origins`); in app data.
#[derive(Debug, Clone)]
pub struct AllowedOrigins(pub std::sync::Arc<[String]>);

/// Why `origin` is not allowed, in words a developer can act on; `None` when it is allowed.
/// The common mistake is a near miss: the page opened at `http://127.0.0.1:3000` while
/// `http://localhost:3000` is allowed (browsers treat them as different origins), or another
/// port or scheme; the explanation names the allowed origin it nearly matched.
pub fn origin_refusal(origin: &str, allowed: &[String]) -> Option<String> {
    let same = |a: &str| a.trim_end_matches('/').eq_ignore_ascii_case(origin);
    if allowed.iter().any(|a| same(a)) {
        return None;
    }
    let list = if allowed.is_empty() {
        "none".to_owned()
    } else {
        allowed.join(", ")
    };
    let mut message = format!("origin {origin} is not allowed to call this API (allowed: {list})");
    let theirs = Origin::parse(origin);
    let hint = allowed.iter().find_map(|a| {
        let ours = Origin::parse(a);
        let (theirs, ours) = (theirs.as_ref()?, ours?);
        if theirs.scheme == ours.scheme
            && theirs.port == ours.port
            && theirs.is_loopback()
            && ours.is_loopback()
        {
            Some(format!(
                "; it differs from {a} only in the host name: browsers treat localhost, 127.0.0.1 \
                 and [::1] as different origins, so open the page at {a}"
            ))
        } else if theirs.host == ours.host {
            Some(format!("; it differs from {a} only in its scheme or port"))
        } else {
            None
        }
    });
    message.push_str(&hint.unwrap_or_default());
    message.push_str(
        ", or add it to auth_gateway.cors_allowed_origins (POSTBRIDGE__AUTH_GATEWAY__CORS_ALLOWED_ORIGINS)",
    );
    Some(message)
}

/// An origin's parts, lowercased, with the scheme's default port filled in.
struct Origin {
    scheme: String,
    host: String,
    port: Option<u16>,
}

impl Origin {
    fn parse(raw: &str) -> Option<Self> {
        let raw = raw.trim().trim_end_matches('/').to_ascii_lowercase();
        let (scheme, rest) = raw.split_once("://")?;
        let (host, port) = match rest.rsplit_once(':') {
            Some((host, port)) if !port.contains(']') => (host, Some(port.parse().ok()?)),
            _ => (rest, None),
        };
        let default = match scheme {
            "http" => Some(80),
            "https" => Some(443),
            _ => None,
        };
        Some(Self {
            scheme: scheme.to_owned(),
            host: host.to_owned(),
            port: port.or(default),
        })
    }

    fn is_loopback(&self) -> bool {
        matches!(self.host.as_str(), "localhost" | "127.0.0.1" | "[::1]")
    }
}

/// Refuses a request from an origin the CORS policy does not allow, before `actix-cors` does,
/// so that the refusal explains itself: a warning names the refused and the allowed origins
/// (the browser's console only says "CORS error"), and the 400 says the same in the error
/// shape (the browser's network panel shows it). Origins are public; nothing secret is logged.
pub async fn explain_cors_refusal(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let allowed = req.app_data::<web::Data<AllowedOrigins>>().cloned();
    if let (Some(origin), Some(allowed)) = (origin, allowed) {
        if let Some(message) = origin_refusal(&origin, &allowed.0) {
            tracing::warn!(
                cors.origin = %origin,
                cors.allowed = %allowed.0.join(", "),
                http.method = %req.method(),
                http.path = %req.path(),
                reason = %message,
                "CORS refused a request: its origin is not in auth_gateway.cors_allowed_origins"
            );
            let refusal = ApiError::bad_request("origin_not_allowed", message);
            return Ok(req.error_response(refusal));
        }
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

/// Largest body read for inspection: the largest JSON body any route accepts (drafts).
pub const MAX_INSPECTED_BODY: usize = crate::drafts::MAX_BODY_BYTES;

/// How the response headers are set; in app data.
#[derive(Debug, Clone, Copy)]
pub struct Headers {
    /// Send `Strict-Transport-Security` (production, served over HTTPS).
    pub hsts: bool,
}

/// Where in a JSON document the first NUL character is, as a field path
/// (`variants.x.text`, `media_ids[2]`), or `None`.
pub fn nul_path(value: &Value) -> Option<String> {
    fn walk(value: &Value, path: &mut String) -> bool {
        match value {
            Value::String(s) => s.contains('\0'),
            Value::Array(items) => items.iter().enumerate().any(|(i, item)| {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                let found = walk(item, path);
                if !found {
                    path.truncate(len);
                }
                found
            }),
            Value::Object(fields) => fields.iter().any(|(key, item)| {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(&key.replace('\0', "\\u0000"));
                let found = key.contains('\0') || walk(item, path);
                if !found {
                    path.truncate(len);
                }
                found
            }),
            _ => false,
        }
    }
    let mut path = String::new();
    walk(value, &mut path).then(|| if path.is_empty() { "body".into() } else { path })
}

/// The refusal of a NUL character in `field`.
pub fn nul_refused(field: &str) -> ApiError {
    ApiError::bad_request(
        "invalid_character",
        format!("`{field}` contains a NUL character (\\u0000), which is not accepted"),
    )
}

/// The first query parameter whose name or value holds a NUL character.
fn nul_in_query(query: &str) -> Option<String> {
    if !query.contains("%00") && !query.contains('\0') {
        return None;
    }
    let url = reqwest::Url::parse(&format!("http://q/?{query}")).ok()?;
    url.query_pairs()
        .find(|(k, v)| k.contains('\0') || v.contains('\0'))
        .map(|(k, _)| k.replace('\0', "\\u0000"))
}

/// Refuses a query parameter or JSON body field holding a NUL character, naming it. JSON bodies
/// are read here (up to [`MAX_INSPECTED_BODY`]; more is a 413) and handed on unchanged;
/// multipart uploads are streamed to their handler, which checks its own text part.
pub async fn refuse_nul(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if let Some(param) = nul_in_query(req.query_string()) {
        return Ok(req.error_response(nul_refused(&param)));
    }
    let is_multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/")
        });
    let has_body = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.trim() != "0");
    if !is_multipart && has_body {
        let mut payload = req.take_payload();
        let mut body = web::BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let chunk = match chunk {
                Ok(chunk) => chunk,
                Err(err) => {
                    return Ok(req.error_response(ApiError::bad_request(
                        "invalid_body",
                        format!("could not read the request body: {err}"),
                    )))
                }
            };
            if body.len() + chunk.len() > MAX_INSPECTED_BODY {
                return Ok(req.error_response(too_large(MAX_INSPECTED_BODY)));
            }
            body.extend_from_slice(&chunk);
        }
        let body = body.freeze();
        if body.contains(&b'\\') || body.contains(&0) {
            if let Ok(value) = serde_json::from_slice::<Value>(&body) {
                if let Some(field) = nul_path(&value) {
                    return Ok(req.error_response(nul_refused(&field)));
                }
            }
        }
        req.set_payload(Payload::from(body));
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

/// 413 in the error shape.
pub fn too_large(limit: usize) -> ApiError {
    ApiError::Refused {
        status: StatusCode::PAYLOAD_TOO_LARGE,
        code: "body_too_large",
        message: format!("the request body is larger than {limit} bytes"),
    }
}

/// Sets the security headers on every response and turns any error that is not already in
/// the JSON error shape (actix's own 404, 405, 413, 415, …) into it.
pub async fn finish(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let hsts = req.app_data::<web::Data<Headers>>().is_some_and(|h| h.hsts);
    let res = next.call(req).await?;
    let status = res.status();
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let mut res = if (status.is_client_error() || status.is_server_error()) && !is_json {
        let (req, old) = res.into_parts();
        let mut answer = shaped(status);
        // Keep what the original said about retrying or allowed methods.
        for name in [header::RETRY_AFTER, header::ALLOW] {
            if let Some(value) = old.headers().get(&name) {
                answer.headers_mut().insert(name, value.clone());
            }
        }
        ServiceResponse::new(req, answer)
    } else {
        res.map_into_boxed_body()
    };
    let headers = res.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if hsts {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=63072000; includeSubDomains"),
        );
    }
    Ok(res)
}

/// The error shape for a status actix produced by itself.
fn shaped(status: StatusCode) -> HttpResponse {
    let (code, message) = match status {
        StatusCode::NOT_FOUND => ("not_found", "no such route".to_owned()),
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            "this route does not take that method".to_owned(),
        ),
        StatusCode::PAYLOAD_TOO_LARGE => {
            ("body_too_large", "the request body is too large".to_owned())
        }
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            "unsupported_media_type",
            "this content type is not accepted here".to_owned(),
        ),
        StatusCode::UNAUTHORIZED => ("unauthorized", "authentication required".to_owned()),
        other if other.is_server_error() => {
            ("internal", "something went wrong on our side".to_owned())
        }
        other => (
            "bad_request",
            other
                .canonical_reason()
                .unwrap_or("the request was refused")
                .to_owned(),
        ),
    };
    HttpResponse::build(status).json(json!({ "error": { "code": code, "message": message } }))
}

/// The app's answer to a path no route matches (also used by resources for other methods).
pub async fn no_route() -> HttpResponse {
    shaped(StatusCode::NOT_FOUND)
}

/// A resource's answer to a method it does not take.
pub async fn wrong_method() -> HttpResponse {
    shaped(StatusCode::METHOD_NOT_ALLOWED)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_allowed_origin_is_not_refused() {
        let allowed = ["http://localhost:3000".to_owned()];
        assert_eq!(origin_refusal("http://localhost:3000", &allowed), None);
        assert_eq!(origin_refusal("HTTP://LOCALHOST:3000", &allowed), None);
    }

    #[test]
    fn a_loopback_near_miss_names_the_origin_it_nearly_matched() {
        let allowed = [
            "https://app.example".to_owned(),
            "http://localhost:3000".to_owned(),
        ];
        let message = origin_refusal("http://127.0.0.1:3000", &allowed).unwrap();
        assert!(
            message.contains("origin http://127.0.0.1:3000 is not allowed"),
            "{message}"
        );
        assert!(
            message.contains("allowed: https://app.example, http://localhost:3000"),
            "{message}"
        );
        assert!(
            message.contains("differs from http://localhost:3000 only in the host name"),
            "{message}"
        );
        assert!(message.contains("cors_allowed_origins"), "{message}");
    }

    #[test]
    fn another_port_or_scheme_is_pointed_out_and_a_stranger_only_gets_the_list() {
        let allowed = ["http://localhost:3000".to_owned()];
        let port = origin_refusal("http://localhost:3001", &allowed).unwrap();
        assert!(port.contains("only in its scheme or port"), "{port}");
        let scheme = origin_refusal("https://localhost:3000", &allowed).unwrap();
        assert!(scheme.contains("only in its scheme or port"), "{scheme}");
        let stranger = origin_refusal("https://evil.example", &allowed).unwrap();
        assert!(!stranger.contains("differs"), "{stranger}");
        assert!(
            stranger.contains("allowed: http://localhost:3000"),
            "{stranger}"
        );
    }

    #[test]
    fn a_nul_is_located_by_its_field_path() {
        assert_eq!(nul_path(&json!({ "text": "ok" })), None);
        assert_eq!(
            nul_path(&json!({ "text": "a\u{0}b" })).as_deref(),
            Some("text")
        );
        assert_eq!(
            nul_path(&json!({ "variants": { "x": { "text": "\u{0}" } } })).as_deref(),
            Some("variants.x.text")
        );
        assert_eq!(
            nul_path(&json!({ "ok": 1, "media_ids": ["a", "b\u{0}"] })).as_deref(),
            Some("media_ids[1]")
        );
        assert_eq!(nul_path(&json!("\u{0}")).as_deref(), Some("body"));
        assert!(nul_path(&json!({ "k\u{0}": 1 })).unwrap().starts_with('k'));
    }

    #[test]
    fn a_nul_in_the_query_names_its_parameter() {
        assert_eq!(nul_in_query("a=1&b=2"), None);
        assert_eq!(nul_in_query("status=x%00y").as_deref(), Some("status"));
    }
}

/// Whatever JSON a client sends, a NUL character anywhere in it is found and named, and a
/// document without one passes.
#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            "[^\\x00]{0,20}".prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::from),
                proptest::collection::btree_map("[a-z_]{1,8}", inner, 0..8)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    /// Puts a NUL into the first string found, depth first; false when there is none.
    fn plant(value: &mut Value) -> bool {
        match value {
            Value::String(s) => {
                s.push('\0');
                true
            }
            Value::Array(items) => items.iter_mut().any(plant),
            Value::Object(fields) => fields.values_mut().any(plant),
            _ => false,
        }
    }

    proptest! {
        #[test]
        fn a_document_without_nul_passes(value in json_value()) {
            prop_assert_eq!(nul_path(&value), None);
        }

        #[test]
        fn a_planted_nul_is_found_and_named(mut value in json_value()) {
            if plant(&mut value) {
                let path = nul_path(&value);
                prop_assert!(path.is_some());
                // The named path leads to a string holding the NUL.
                let steps = path.unwrap().replace(['.', '['], "/").replace(']', "");
                let pointer = format!("/{}", steps.trim_start_matches('/'));
                let found = if pointer == "/body" { Some(&value) } else { value.pointer(&pointer) };
                prop_assert!(found.and_then(Value::as_str).is_some_and(|s| s.contains('\0')), "{pointer}");
            }
        }

        #[test]
        fn any_query_string_is_inspected_without_panicking(query in any::<String>()) {
            let _ = nul_in_query(&query);
        }
    }
}
