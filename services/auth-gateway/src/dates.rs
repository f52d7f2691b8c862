//! The range of dates the API accepts.
//!
//! RFC 3339 parsers accept years far outside what PostgreSQL's `timestamptz` stores (4713 BC
//! to 294276 AD), and a post scheduled for 9999 is a typo, not a plan. So every date the API
//! takes is bounded here, before it reaches a query:
//! - list filters (`from`, `to`): [`EARLIEST`] ≤ date < [`LATEST`];
//! - `scheduled_at`: no more than [`MAX_SCHEDULE_AHEAD_DAYS`] days ahead (the past is refused
//!   separately, with its own code).

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::json;

use crate::error::ApiError;

/// The earliest date a filter may name: 2000-01-01T00:00:00Z.
pub fn earliest() -> DateTime<Utc> {
    Utc.timestamp_opt(946_684_800, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// The first date a filter may not name: 2100-01-01T00:00:00Z.
pub fn latest() -> DateTime<Utc> {
    Utc.timestamp_opt(4_102_444_800, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// How far ahead a post may be scheduled.
pub const MAX_SCHEDULE_AHEAD_DAYS: i64 = 366;

/// A list filter's date, or a 400 naming `field`.
pub fn filter(field: &str, at: Option<DateTime<Utc>>) -> Result<Option<DateTime<Utc>>, ApiError> {
    match at {
        Some(at) if at < earliest() || at >= latest() => Err(ApiError::bad_request(
            "date_out_of_range",
            format!(
                "`{field}` must lie between {} and {} (exclusive)",
                earliest().to_rfc3339(),
                latest().to_rfc3339()
            ),
        )),
        other => Ok(other),
    }
}

/// Refuses a `scheduled_at` further ahead than [`MAX_SCHEDULE_AHEAD_DAYS`] (422).
pub fn schedule(at: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), ApiError> {
    let horizon = now + Duration::days(MAX_SCHEDULE_AHEAD_DAYS);
    if at > horizon {
        return Err(ApiError::Unprocessable {
            code: "scheduled_too_far",
            message: format!(
                "`scheduled_at` may be at most {MAX_SCHEDULE_AHEAD_DAYS} days ahead (until {})",
                horizon.to_rfc3339()
            ),
            details: json!({ "scheduled_at": at.to_rfc3339(), "latest": horizon }),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_bounds() {
        assert_eq!(earliest().to_rfc3339(), "2000-01-01T00:00:00+00:00");
        assert_eq!(latest().to_rfc3339(), "2100-01-01T00:00:00+00:00");
        assert!(filter("from", Some(earliest())).is_ok());
        assert!(filter("to", Some(latest())).is_err());
        assert!(filter("from", None).unwrap().is_none());
        let now = Utc::now();
        assert!(schedule(now + Duration::days(30), now).is_ok());
        assert!(schedule(now + Duration::days(400), now).is_err());
    }
}
