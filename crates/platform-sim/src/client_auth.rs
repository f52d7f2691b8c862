//! Client authentication at the token and revocation endpoints (RFC 6749 §2.3.1): HTTP Basic
//! or `client_id` + `client_secret` in the form body, never both.
//!
//! The sim keeps no client registry: any client id with a non-empty secret is accepted, which
//! is what lets `make run` work with zero configuration. What it does enforce is the shape (one
//! method, both halves present) and, in [`crate::Sim`], that codes and tokens are only used by
//! the client they were issued to.

use actix_web::http::header::{HeaderMap, AUTHORIZATION};
use base64::{engine::general_purpose::STANDARD, Engine};

use crate::{error::OAuthError, urlenc};

/// The authenticated client id.
pub(crate) fn authenticate(
    headers: &HeaderMap,
    body_client_id: Option<&str>,
    body_secret: Option<&str>,
) -> Result<String, OAuthError> {
    let basic = match headers.get(AUTHORIZATION) {
        Some(value) => Some(parse_basic(value.to_str().ok())?),
        None => None,
    };
    let (client_id, secret) = match (basic, body_secret) {
        (Some(_), Some(_)) => {
            return Err(OAuthError::InvalidRequest(
                "use one client authentication method, not Basic and client_secret both",
            ))
        }
        (Some((id, secret)), None) => {
            // A body `client_id` beside Basic is allowed (some libraries send it) if it agrees.
            if body_client_id.is_some_and(|b| b != id) {
                return Err(OAuthError::InvalidClient(
                    "client_id in the body differs from Basic",
                ));
            }
            (id, secret)
        }
        (None, Some(secret)) => (
            body_client_id.unwrap_or_default().to_owned(),
            secret.to_owned(),
        ),
        (None, None) => {
            return Err(OAuthError::InvalidClient(
                "client authentication is required",
            ))
        }
    };
    if client_id.is_empty() || secret.is_empty() {
        return Err(OAuthError::InvalidClient(
            "client_id and client_secret must not be empty",
        ));
    }
    Ok(client_id)
}

/// `Basic base64(urlencode(id) ":" urlencode(secret))`.
fn parse_basic(value: Option<&str>) -> Result<(String, String), OAuthError> {
    const MALFORMED: OAuthError = OAuthError::InvalidClient("malformed Basic credentials");
    let (scheme, encoded) = value
        .and_then(|v| v.trim().split_once(' '))
        .ok_or(MALFORMED)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(MALFORMED);
    }
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| MALFORMED)?;
    let text = String::from_utf8(decoded).map_err(|_| MALFORMED)?;
    let (id, secret) = text.split_once(':').ok_or(MALFORMED)?;
    Ok((
        urlenc::decode(id).ok_or(MALFORMED)?,
        urlenc::decode(secret).ok_or(MALFORMED)?,
    ))
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::HeaderValue;

    use super::*;

    fn basic(id: &str, secret: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let value = format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")));
        headers.insert(AUTHORIZATION, HeaderValue::from_str(&value).unwrap());
        headers
    }

    #[test]
    fn basic_or_body_credentials_are_accepted() {
        assert_eq!(
            authenticate(&basic("app", "s3cret"), None, None).unwrap(),
            "app"
        );
        assert_eq!(
            authenticate(&basic("my%20app", "s"), Some("my app"), None).unwrap(),
            "my app"
        );
        assert_eq!(
            authenticate(&HeaderMap::new(), Some("app"), Some("s3cret")).unwrap(),
            "app"
        );
    }

    #[test]
    fn missing_mixed_or_empty_credentials_are_refused() {
        let none = authenticate(&HeaderMap::new(), Some("app"), None).unwrap_err();
        assert_eq!(none.code(), "invalid_client");
        let both = authenticate(&basic("app", "s"), None, Some("s")).unwrap_err();
        assert_eq!(both.code(), "invalid_request");
        let empty = authenticate(&basic("app", ""), None, None).unwrap_err();
        assert_eq!(empty.code(), "invalid_client");
        let disagree = authenticate(&basic("app", "s"), Some("other"), None).unwrap_err();
        assert_eq!(disagree.code(), "invalid_client");
    }
}
