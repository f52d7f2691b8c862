//! The gateway's one error type and its single HTTP mapping.
//!
//! Policy: every refusal is a JSON `{"error": {"code", "message"}}` with the right status, and
//! a refused request changes nothing (handlers validate before they write, and write in one
//! transaction). Anything unexpected is logged once, with its cause chain, and answered as an
//! opaque 500: internals never reach the client.
//!
//! An outage is not a bug: when PostgreSQL (or RabbitMQ) cannot be reached, the answer is 503
//! `unavailable` with `Retry-After`, so clients and load balancers retry. Such a failure can
//! interrupt a `COMMIT` the server had already applied, so a 503 on a write does not mean
//! "nothing happened": a retry of `POST /v1/posts` with the same `Idempotency-Key` is the safe
//! way to find out (it answers the post if the first attempt committed, or creates it).

use actix_web::{
    http::{header, StatusCode},
    HttpResponse, ResponseError,
};
use platform_adapters::AdapterError;
use serde_json::json;

/// The documented shape of every refusal, for the OpenAPI document (the answer itself is
/// written by [`ApiError`]'s `error_response`; the gateway's tests pin that the two agree).
pub mod schema {
    use utoipa::ToSchema;

    use crate::views::enums::PlatformSchema;

    /// Every error answer: `{"error": {"code", "message", "details"?}}`.
    #[derive(Debug, ToSchema)]
    #[schema(as = Error, example = json!({"error": {"code": "not_found", "message": "account not found"}}))]
    pub struct ErrorBody {
        /// What went wrong.
        pub error: ErrorObject,
    }

    /// The error itself.
    #[derive(Debug, ToSchema)]
    pub struct ErrorObject {
        /// Machine-readable reason, stable across releases: `unauthorized`, `not_found`,
        /// `invalid_body`, `invalid_query`, `invalid_cursor`, `unknown_platform`,
        /// `invalid_post`, `text_too_long`, `scheduled_in_past`, `unavailable`, … or, for a
        /// platform's refusal, the platform's reason (e.g. `app_password_required`).
        #[schema(example = "invalid_post")]
        pub code: String,
        /// For people; may change wording between releases.
        #[schema(
            example = "the post cannot go to 1 of its 2 accounts: x 1b4e…: 312 characters; X allows 280"
        )]
        pub message: String,
        /// 422 only: what was refused, item by item. Which keys appear depends on `code`.
        #[schema(required = false)]
        pub details: Option<ErrorDetails>,
    }

    /// The structured part of a 422. `invalid_post`: `targets`; `text_too_long`: `field`,
    /// `length`, `max`; `scheduled_in_past` / `scheduled_too_far`: `scheduled_at` (and
    /// `latest`); `unknown_draft`: `draft_id`; `unknown_media` / `unknown_account`: `media_ids`,
    /// `account_ids`; `invalid_template`: `field`, `position`, `reason`; `missing_values`:
    /// `missing`; `env_account_publishing_disabled`: `account_ids`;
    /// media refusals: `declared`, `detected`, `width`, `height`, ….
    #[derive(Debug, ToSchema)]
    pub struct ErrorDetails {
        /// `invalid_post`: every account the post cannot go to, and why.
        #[schema(required = false)]
        pub targets: Option<Vec<TargetProblems>>,
        /// `text_too_long`: the field that is too long (`text` or `variants.<platform>.text`).
        #[schema(required = false)]
        pub field: Option<String>,
        /// `text_too_long`: its length in characters.
        #[schema(required = false)]
        pub length: Option<u64>,
        /// `text_too_long`: the most allowed.
        #[schema(required = false)]
        pub max: Option<u64>,
        /// `scheduled_in_past`, `scheduled_too_far`: the time refused.
        #[schema(required = false)]
        pub scheduled_at: Option<chrono::DateTime<chrono::Utc>>,
        /// `scheduled_too_far`: the latest time allowed.
        #[schema(required = false)]
        pub latest: Option<chrono::DateTime<chrono::Utc>>,
        /// `unknown_draft`, `invalid_draft`: the draft named.
        #[schema(required = false, format = Uuid)]
        pub draft_id: Option<String>,
        /// `unknown_media`: media ids that are not the caller's.
        #[schema(required = false)]
        pub media_ids: Option<Vec<String>>,
        /// `unknown_account`: account ids that are not the caller's;
        /// `env_account_publishing_disabled`: the env accounts named.
        #[schema(required = false)]
        pub account_ids: Option<Vec<String>>,
        /// `invalid_template`: the character (counted from 0) where the text stops being a
        /// template; `field` names the text.
        #[schema(required = false)]
        pub position: Option<u64>,
        /// `invalid_template`: what is wrong there.
        #[schema(required = false)]
        pub reason: Option<String>,
        /// `missing_values`: every placeholder of the template without a value.
        #[schema(required = false)]
        pub missing: Option<Vec<String>>,
    }

    /// One account a post cannot go to.
    #[derive(Debug, ToSchema)]
    pub struct TargetProblems {
        /// The account.
        #[schema(format = Uuid)]
        pub account_id: String,
        /// Its platform; absent when the account is unknown.
        #[schema(required = false, value_type = Option<PlatformSchema>)]
        pub platform: Option<String>,
        /// Everything wrong with this target.
        pub problems: Vec<Problem>,
    }

    /// One problem of a target.
    #[derive(Debug, ToSchema)]
    pub struct Problem {
        /// Machine-readable, e.g. `text_too_long`, `too_many_media`, `media_required`,
        /// `account_needs_reauth`.
        #[schema(example = "text_too_long")]
        pub code: String,
        /// For people.
        pub message: String,
    }

    #[cfg(test)]
    mod tests {
        use serde_json::json;

        use super::*;

        #[test]
        fn the_documented_error_has_the_wrapper_and_typed_targets() {
            let doc =
                serde_json::to_value(<ErrorDetails as utoipa::PartialSchema>::schema()).unwrap();
            assert_eq!(doc["properties"]["targets"]["type"][0], "array", "{doc}");
            let error =
                serde_json::to_value(<ErrorBody as utoipa::PartialSchema>::schema()).unwrap();
            assert_eq!(error["required"], json!(["error"]));
        }
    }
}

/// `Retry-After` of a 503 `unavailable`: long enough for a pool timeout or a database restart
/// to pass, short enough that a user's retry feels immediate.
pub const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 5;

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No or an invalid bearer token.
    #[error("{0}")]
    Unauthorized(String),
    /// The resource does not exist or belongs to someone else (indistinguishable on purpose).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The request is malformed or names something unknown.
    #[error("{message}")]
    BadRequest {
        /// Machine-readable reason.
        code: &'static str,
        /// For people.
        message: String,
    },
    /// The request conflicts with the current state.
    #[error("{message}")]
    Conflict {
        /// Machine-readable reason.
        code: &'static str,
        /// For people.
        message: String,
    },
    /// Well-formed, but refused on its merits (a post too long for X, a past `scheduled_at`);
    /// `details` says what, item by item.
    #[error("{message}")]
    Unprocessable {
        /// Machine-readable reason.
        code: &'static str,
        /// For people.
        message: String,
        /// Structured detail, e.g. the problems of each target.
        details: serde_json::Value,
    },
    /// A refusal with a status of its own: 403 (a media URL without a valid signature), 413
    /// (an upload over its limit), 415 (not a type we accept).
    #[error("{message}")]
    Refused {
        /// 403, 413 or 415.
        status: StatusCode,
        /// Machine-readable reason.
        code: &'static str,
        /// For people.
        message: String,
    },
    /// 503: the gateway is at capacity for this kind of request; try again after
    /// `retry_after_secs`.
    #[error("{message}")]
    Busy {
        /// Machine-readable reason.
        code: &'static str,
        /// For people.
        message: String,
        /// Sent as `Retry-After`.
        retry_after_secs: u64,
    },
    /// 429: this caller is asking too often (connection starts) or holds too many pending
    /// authorizations; try again after `retry_after_secs`.
    #[error("{message}")]
    TooManyRequests {
        /// Machine-readable reason.
        code: &'static str,
        /// For people.
        message: String,
        /// Sent as `Retry-After`.
        retry_after_secs: u64,
    },
    /// The platform refused or failed; the class decides the status.
    #[error(transparent)]
    Platform(#[from] AdapterError),
    /// 503: the database or the broker is unreachable right now (see the module doc: a write
    /// that ends here may still have committed).
    #[error("service temporarily unavailable")]
    Unavailable(#[source] anyhow::Error),
    /// A bug or an outage on our side.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    /// A 400 with `code`.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::BadRequest {
            code,
            message: message.into(),
        }
    }

    /// 413: the upload is over its limit.
    pub fn too_large(message: impl Into<String>) -> Self {
        Self::Refused {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            code: "file_too_large",
            message: message.into(),
        }
    }

    /// 415: not a type we accept.
    pub fn unsupported(code: &'static str, message: impl Into<String>) -> Self {
        Self::Refused {
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            code,
            message: message.into(),
        }
    }

    /// 403: a media URL without a valid, unexpired signature. One message for every case, so
    /// a prober learns nothing.
    pub fn forbidden() -> Self {
        Self::Refused {
            status: StatusCode::FORBIDDEN,
            code: "invalid_signature",
            message: "this media URL is invalid or has expired".into(),
        }
    }

    /// Wraps an unexpected failure; an outage of the database or the broker anywhere in its
    /// cause chain makes it [`ApiError::Unavailable`] instead.
    pub fn internal(err: impl Into<anyhow::Error>) -> Self {
        let err = err.into();
        let outage = err.chain().any(|cause| {
            cause
                .downcast_ref::<db::DbError>()
                .is_some_and(db::DbError::is_unavailable)
                || cause
                    .downcast_ref::<db::diesel::result::Error>()
                    .is_some_and(db::is_unavailable)
                || cause.downcast_ref::<events::AmqpError>().is_some()
        });
        if outage {
            Self::Unavailable(err)
        } else {
            Self::Internal(err)
        }
    }

    /// The machine-readable code: ours, or the platform's for a rejection (e.g.
    /// `app_password_required`, `instance_not_allowed`), which tells the frontend what to say.
    fn code(&self) -> &str {
        match self {
            Self::Unauthorized(_) => "unauthorized",
            Self::NotFound(_) => "not_found",
            Self::BadRequest { code, .. }
            | Self::Conflict { code, .. }
            | Self::Unprocessable { code, .. }
            | Self::Refused { code, .. }
            | Self::Busy { code, .. }
            | Self::TooManyRequests { code, .. } => code,
            Self::Platform(AdapterError::NeedsReauth { .. }) => "platform_unauthorized",
            Self::Platform(
                AdapterError::RateLimited { .. } | AdapterError::AppRateLimited { .. },
            ) => "platform_rate_limited",
            Self::Platform(
                AdapterError::Transient { .. } | AdapterError::OutcomeUnknown { .. },
            ) => "platform_unavailable",
            Self::Platform(AdapterError::Rejected { code, .. }) => code,
            Self::Platform(AdapterError::Unsupported { .. }) => "unsupported",
            Self::Unavailable(_) => "unavailable",
            Self::Internal(_) => "internal",
        }
    }
}

impl From<db::DbError> for ApiError {
    fn from(err: db::DbError) -> Self {
        Self::internal(err)
    }
}

impl From<db::diesel::result::Error> for ApiError {
    fn from(err: db::diesel::result::Error) -> Self {
        Self::internal(err)
    }
}

impl From<vault::VaultError> for ApiError {
    fn from(err: vault::VaultError) -> Self {
        Self::Internal(err.into())
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Refused { status, .. } => *status,
            Self::Busy { .. } | Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Platform(
                AdapterError::RateLimited { .. } | AdapterError::AppRateLimited { .. },
            ) => StatusCode::TOO_MANY_REQUESTS,
            Self::Platform(
                AdapterError::Rejected { .. }
                | AdapterError::NeedsReauth { .. }
                | AdapterError::Unsupported { .. },
            ) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Platform(
                AdapterError::Transient { .. } | AdapterError::OutcomeUnknown { .. },
            ) => StatusCode::BAD_GATEWAY,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let message = match self {
            Self::Internal(err) => {
                tracing::error!(error = ?err, "request failed");
                "something went wrong on our side".to_owned()
            }
            Self::Unavailable(err) => {
                // Expected during an outage and retried by the client: not an ERROR.
                tracing::warn!(error = ?err, "request failed: database or broker unavailable");
                "a service we depend on is briefly unavailable; retry after the Retry-After \
                 delay (a POST retried with the same Idempotency-Key is never applied twice)"
                    .to_owned()
            }
            // Adapter messages are sanitized excerpts; keep the class and the platform's reason.
            other => other.to_string(),
        };
        let body = match self {
            Self::Unprocessable { details, .. } => {
                json!({ "error": { "code": self.code(), "message": message, "details": details } })
            }
            _ => json!({ "error": { "code": self.code(), "message": message } }),
        };
        let mut response = HttpResponse::build(self.status_code());
        match self {
            Self::Busy {
                retry_after_secs, ..
            }
            | Self::TooManyRequests {
                retry_after_secs, ..
            } => {
                response.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            Self::Unavailable(_) => {
                response.insert_header((
                    header::RETRY_AFTER,
                    UNAVAILABLE_RETRY_AFTER_SECS.to_string(),
                ));
            }
            _ => {}
        }
        response.json(body)
    }
}

/// The JSON extractor's errors in the same shape (malformed bodies are 400s, not actix text).
pub fn json_error_handler(
    err: actix_web::error::JsonPayloadError,
    _req: &actix_web::HttpRequest,
) -> actix_web::Error {
    match &err {
        // Too large is 413, like every other oversized body.
        actix_web::error::JsonPayloadError::OverflowKnownLength { limit, .. }
        | actix_web::error::JsonPayloadError::Overflow { limit } => {
            crate::hardening::too_large(*limit).into()
        }
        other => {
            ApiError::bad_request("invalid_body", format!("invalid JSON body: {other}")).into()
        }
    }
}

/// Path and query extraction errors in the same shape.
pub fn path_error_handler(
    err: actix_web::error::PathError,
    _req: &actix_web::HttpRequest,
) -> actix_web::Error {
    ApiError::bad_request("invalid_path", err.to_string()).into()
}

/// Query string errors in the same shape.
pub fn query_error_handler(
    err: actix_web::error::QueryPayloadError,
    _req: &actix_web::HttpRequest,
) -> actix_web::Error {
    ApiError::bad_request("invalid_query", err.to_string()).into()
}

#[cfg(test)]
mod tests {
    use actix_web::{body::MessageBody, ResponseError};
    use db::diesel::result::{DatabaseErrorKind, Error as DieselError};

    use super::*;

    fn closed() -> DieselError {
        DieselError::DatabaseError(
            DatabaseErrorKind::ClosedConnection,
            Box::new("server closed the connection unexpectedly".to_owned()),
        )
    }

    fn answer(err: &ApiError) -> (StatusCode, Option<String>, serde_json::Value) {
        let response = err.error_response();
        let retry_after = response
            .headers()
            .get(header::RETRY_AFTER)
            .map(|v| v.to_str().unwrap_or_default().to_owned());
        let status = response.status();
        let body = response.into_body().try_into_bytes().unwrap_or_default();
        (
            status,
            retry_after,
            serde_json::from_slice(&body).unwrap_or_default(),
        )
    }

    #[test]
    fn database_outages_anywhere_in_the_cause_chain_are_503_unavailable_with_retry_after() {
        let outages = [
            ApiError::from(closed()),
            ApiError::from(db::DbError::Query(closed())),
            ApiError::from(db::DbError::Query(DieselError::DatabaseError(
                DatabaseErrorKind::Unknown,
                Box::new("terminating connection due to administrator command".to_owned()),
            ))),
            ApiError::internal(anyhow::Error::new(db::DbError::Query(closed())).context("saving")),
            ApiError::internal(events::AmqpError::Nacked),
        ];
        for err in &outages {
            let (status, retry_after, body) = answer(err);
            assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{err:?}");
            assert_eq!(
                retry_after,
                Some(UNAVAILABLE_RETRY_AFTER_SECS.to_string()),
                "{err:?}"
            );
            assert_eq!(body["error"]["code"], "unavailable", "{err:?}");
        }
    }

    #[test]
    fn other_database_errors_stay_opaque_500s() {
        for err in [
            ApiError::from(DieselError::NotFound),
            ApiError::from(DieselError::DatabaseError(
                DatabaseErrorKind::UniqueViolation,
                Box::new("duplicate key".to_owned()),
            )),
            ApiError::internal(anyhow::anyhow!("a bug")),
        ] {
            let (status, retry_after, body) = answer(&err);
            assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{err:?}");
            assert_eq!(retry_after, None);
            assert_eq!(body["error"]["code"], "internal");
        }
    }
}
