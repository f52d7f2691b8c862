//! `GET /v1/accounts/{id}/metrics`.

use actix_web::{web, HttpResponse};

use super::RangeQuery;
use crate::{
    analytics::{self, view::AccountMetricsView},
    auth::AuthUser,
    dates,
    error::ApiError,
    params::parse_account_id,
    state::AppState,
};

/// An account's followers, following and posts at each sync, oldest first.
#[utoipa::path(get, path = "/v1/accounts/{id}/metrics", tag = "analytics", operation_id = "getAccountMetrics", params(("id" = String, Path, description = "The account's id"), RangeQuery),
    responses((status = 200, description = "The account's counts over time", body = AccountMetricsView), (status = 400, description = "A malformed date, one outside 2000-01-01..2100-01-01, or `from` not before `to`"), (status = 404, description = "No such account of yours")))]
pub async fn get(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<String>,
    query: web::Query<RangeQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_account_id(&id)?;
    let from = dates::filter("from", query.from)?;
    let to = dates::filter("to", query.to)?;
    let view = analytics::account_metrics(&state, user.0, id, from, to).await?;
    Ok(HttpResponse::Ok().json(view))
}
