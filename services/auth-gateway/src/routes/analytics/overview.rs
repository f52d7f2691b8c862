//! `GET /v1/analytics`.

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::{
    analytics::{self, view::AnalyticsView},
    auth::AuthUser,
    dates,
    error::ApiError,
    params::parse_platform,
    state::AppState,
    views::enums::PlatformSchema,
};

/// The range and platform of the overview.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OverviewQuery {
    /// Posts published at or after (RFC 3339; default: 30 days before `to`).
    pub from: Option<DateTime<Utc>>,
    /// Posts published before (RFC 3339; default: now). At most 400 days after `from`.
    pub to: Option<DateTime<Utc>>,
    /// Only this platform.
    #[param(value_type = Option<PlatformSchema>)]
    pub platform: Option<String>,
}

/// Totals and top posts per platform and per account, from each published post's latest
/// engagement read.
#[utoipa::path(get, path = "/v1/analytics", tag = "analytics", operation_id = "getAnalytics", params(OverviewQuery),
    responses((status = 200, description = "Totals and top posts", body = AnalyticsView), (status = 400, description = "A malformed or out-of-range date, `from` not before `to`, a range over 400 days, or an unknown platform")))]
pub async fn get(
    user: AuthUser,
    state: web::Data<AppState>,
    query: web::Query<OverviewQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let platform = query.platform.as_deref().map(parse_platform).transpose()?;
    let from = dates::filter("from", query.from)?;
    let to = dates::filter("to", query.to)?;
    let view = analytics::overview(&state, user.0, from, to, platform).await?;
    Ok(HttpResponse::Ok().json(view))
}
