//! OAuth 2.0 error answers (RFC 6749 §5.2, RFC 6750 §3.1), in the one JSON shape real
//! providers use: `{"error": "<code>", "error_description": "…"}`; the posting API answers its
//! own refusals ([`ApiError`]) in that same shape, so a client parses one format everywhere.

use actix_web::{
    http::{header, StatusCode},
    HttpResponse, ResponseError,
};
use serde_json::json;

/// Why the sim refused a token-endpoint or API request. Descriptions are fixed strings: they
/// never echo a presented token or code back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OAuthError {
    /// A parameter is missing, repeated or malformed.
    #[error("invalid_request: {0}")]
    InvalidRequest(&'static str),
    /// No usable client authentication (401, with a `WWW-Authenticate: Basic` challenge).
    #[error("invalid_client: {0}")]
    InvalidClient(&'static str),
    /// The code or refresh token is unknown, expired, spent, revoked, or was issued to another
    /// client; or the PKCE verifier or redirect URI does not match.
    #[error("invalid_grant: {0}")]
    InvalidGrant(&'static str),
    /// A `grant_type` other than `authorization_code` and `refresh_token`.
    #[error("unsupported_grant_type")]
    UnsupportedGrantType,
    /// A scope the sim does not know.
    #[error("invalid_scope: {0}")]
    InvalidScope(&'static str),
    /// The bearer token is missing, unknown, expired or revoked (401).
    #[error("invalid_token: {0}")]
    InvalidToken(&'static str),
    /// The bearer token lacks a scope the endpoint needs (403).
    #[error("insufficient_scope: {0}")]
    InsufficientScope(&'static str),
}

impl OAuthError {
    /// The registered error code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidRequest(_) => "invalid_request",
            Self::InvalidClient(_) => "invalid_client",
            Self::InvalidGrant(_) => "invalid_grant",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope(_) => "invalid_scope",
            Self::InvalidToken(_) => "invalid_token",
            Self::InsufficientScope(_) => "insufficient_scope",
        }
    }

    fn description(&self) -> &'static str {
        match self {
            Self::InvalidRequest(d)
            | Self::InvalidClient(d)
            | Self::InvalidGrant(d)
            | Self::InvalidScope(d)
            | Self::InvalidToken(d)
            | Self::InsufficientScope(d) => d,
            Self::UnsupportedGrantType => "grant_type must be authorization_code or refresh_token",
        }
    }
}

impl ResponseError for OAuthError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::InvalidClient(_) | Self::InvalidToken(_) => StatusCode::UNAUTHORIZED,
            Self::InsufficientScope(_) => StatusCode::FORBIDDEN,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((header::CACHE_CONTROL, "no-store"));
        match self {
            Self::InvalidClient(_) => {
                response.insert_header((header::WWW_AUTHENTICATE, r#"Basic realm="platform-sim""#));
            }
            Self::InvalidToken(_) | Self::InsufficientScope(_) => {
                let challenge = format!(r#"Bearer realm="platform-sim", error="{}""#, self.code());
                response.insert_header((header::WWW_AUTHENTICATE, challenge));
            }
            _ => {}
        }
        response.json(json!({ "error": self.code(), "error_description": self.description() }))
    }
}

/// Why the sim refused a posting-API request (`/api/v1/media`, `/api/v1/posts`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// The bearer token is missing, unknown, expired or revoked (401), or lacks a scope (403).
    #[error(transparent)]
    Auth(#[from] OAuthError),
    /// Malformed: a body that is not the expected JSON, a bad header or query (400
    /// `invalid_request`).
    #[error("invalid_request: {0}")]
    InvalidRequest(String),
    /// Well-formed but refused (422): `code` is one of `empty_post`, `text_too_long`,
    /// `too_many_media`, `invalid_media`.
    #[error("{code}: {description}")]
    Unprocessable {
        /// The error code clients branch on.
        code: &'static str,
        /// What to fix, for people.
        description: String,
    },
    /// No such post (404 `not_found`).
    #[error("not_found")]
    NotFound,
    /// An upload over [`crate::MAX_MEDIA_BYTES`] (413 `payload_too_large`).
    #[error("payload_too_large")]
    PayloadTooLarge,
    /// An upload whose `Content-Type` the platform does not take (415
    /// `unsupported_media_type`).
    #[error("unsupported_media_type")]
    UnsupportedMediaType,
}

impl ApiError {
    /// The error code of the answer's `error` field.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Auth(inner) => inner.code(),
            Self::InvalidRequest(_) => "invalid_request",
            Self::Unprocessable { code, .. } => code,
            Self::NotFound => "not_found",
            Self::PayloadTooLarge => "payload_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
        }
    }

    pub(crate) fn unprocessable(code: &'static str, description: impl Into<String>) -> Self {
        Self::Unprocessable {
            code,
            description: description.into(),
        }
    }

    fn description(&self) -> String {
        match self {
            Self::Auth(inner) => inner.description().to_owned(),
            Self::InvalidRequest(d) | Self::Unprocessable { description: d, .. } => d.clone(),
            Self::NotFound => "no such post".to_owned(),
            Self::PayloadTooLarge => format!(
                "media uploads are limited to {} bytes",
                crate::MAX_MEDIA_BYTES
            ),
            Self::UnsupportedMediaType => format!(
                "Content-Type must be one of {}",
                crate::posts::MEDIA_TYPES.join(", ")
            ),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Auth(inner) => inner.status_code(),
            Self::InvalidRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::Auth(inner) = self {
            // Keeps the `WWW-Authenticate` challenge of a 401 / 403.
            return inner.error_response();
        }
        HttpResponse::build(self.status_code())
            .json(json!({ "error": self.code(), "error_description": self.description() }))
    }
}
