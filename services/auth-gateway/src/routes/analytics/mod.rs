//! Post analytics routes (the feature itself is `crate::analytics`).

pub mod account_metrics;
pub mod overview;
pub mod post_metrics;
pub mod refresh;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::IntoParams;

/// A range of dates (RFC 3339, between 2000-01-01 and 2100-01-01).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RangeQuery {
    /// At or after (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Before (RFC 3339); must be later than `from`.
    pub to: Option<DateTime<Utc>>,
}
