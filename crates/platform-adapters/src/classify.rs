//! Mapping HTTP answers to [`AdapterError`] classes, once for every platform.

use std::time::Duration;

use reqwest::{header::HeaderMap, StatusCode};

use crate::AdapterError;

/// Parses `Retry-After` given in seconds (the form platforms use; HTTP dates are ignored),
/// falling back to `x-rate-limit-reset` (X: epoch seconds of the window's end).
pub fn parse_retry_after(headers: &HeaderMap, now_epoch_secs: i64) -> Option<Duration> {
    if let Some(secs) = headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
    {
        return Some(Duration::from_secs(secs));
    }
    headers
        .get("x-rate-limit-reset")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok())
        .map(|reset| Duration::from_secs(u64::try_from(reset - now_epoch_secs).unwrap_or(0)))
}

/// Classifies a non-success response. `body` is the response text (possibly JSON with an
/// OAuth `error` field); only short, sanitized excerpts of it end up in messages.
pub fn classify_response(status: StatusCode, headers: &HeaderMap, body: &str) -> AdapterError {
    let oauth_error = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("error").and_then(|e| e.as_str().map(str::to_owned)));
    let excerpt = excerpt(body);
    if status == StatusCode::TOO_MANY_REQUESTS {
        return AdapterError::RateLimited {
            retry_after: parse_retry_after(headers, chrono::Utc::now().timestamp()),
        };
    }
    if status == StatusCode::UNAUTHORIZED
        || matches!(
            oauth_error.as_deref(),
            Some("invalid_grant" | "invalid_token")
        )
    {
        return AdapterError::NeedsReauth { message: excerpt };
    }
    if status.is_server_error() || status == StatusCode::REQUEST_TIMEOUT {
        return AdapterError::Transient {
            message: format!("HTTP {}: {excerpt}", status.as_u16()),
        };
    }
    AdapterError::Rejected {
        code: oauth_error.unwrap_or_else(|| status.as_u16().to_string()),
        message: excerpt,
    }
}

/// At most 300 characters of a body, on one line.
fn excerpt(body: &str) -> String {
    let one_line: String = body
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(300)
        .collect();
    one_line.trim().to_owned()
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, HeaderValue::from_static(v));
        }
        map
    }

    #[test]
    fn unauthorized_means_needs_reauth() {
        let err = classify_response(StatusCode::UNAUTHORIZED, &HeaderMap::new(), "{}");
        assert!(matches!(err, AdapterError::NeedsReauth { .. }));
    }

    #[test]
    fn invalid_grant_on_a_400_means_needs_reauth() {
        let body =
            r#"{"error":"invalid_grant","error_description":"Token has been expired or revoked."}"#;
        let err = classify_response(StatusCode::BAD_REQUEST, &HeaderMap::new(), body);
        assert!(
            matches!(err, AdapterError::NeedsReauth { message } if message.contains("revoked"))
        );
    }

    #[test]
    fn too_many_requests_carries_retry_after() {
        let err = classify_response(
            StatusCode::TOO_MANY_REQUESTS,
            &headers(&[("retry-after", "120")]),
            "",
        );
        assert_eq!(
            err,
            AdapterError::RateLimited {
                retry_after: Some(Duration::from_secs(120))
            }
        );
    }

    #[test]
    fn x_rate_limit_reset_is_read_when_retry_after_is_absent() {
        let map = headers(&[("x-rate-limit-reset", "1000060")]);
        assert_eq!(
            parse_retry_after(&map, 1_000_000),
            Some(Duration::from_secs(60))
        );
    }

    #[test]
    fn server_errors_are_transient_and_retryable() {
        let err = classify_response(StatusCode::BAD_GATEWAY, &HeaderMap::new(), "upstream down");
        assert!(matches!(&err, AdapterError::Transient { message } if message.contains("502")));
        assert!(err.is_retryable());
    }

    #[test]
    fn other_client_errors_are_rejections_with_the_platform_code() {
        let body = r#"{"error":"text_too_long"}"#;
        let err = classify_response(StatusCode::UNPROCESSABLE_ENTITY, &HeaderMap::new(), body);
        assert!(matches!(&err, AdapterError::Rejected { code, .. } if code == "text_too_long"));
        assert!(!err.is_retryable());
    }

    #[test]
    fn long_bodies_are_cut_to_an_excerpt() {
        let body = "x".repeat(10_000);
        let AdapterError::Rejected { message, .. } =
            classify_response(StatusCode::BAD_REQUEST, &HeaderMap::new(), &body)
        else {
            panic!("expected a rejection");
        };
        assert_eq!(message.len(), 300);
    }
}
