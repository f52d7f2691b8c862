//! `GET /v1/posts`.

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use db::{domain::PostStatus, posts::PostFilter};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::{
    auth::AuthUser,
    cursor::PageRequest,
    error::ApiError,
    params::parse_account_id,
    posts::{self, view::PostView},
    state::AppState,
    views::{enums::PostStatusSchema, Page},
};

/// Filters and paging of the post list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only posts in this status.
    #[param(value_type = Option<PostStatusSchema>)]
    pub status: Option<String>,
    /// Only posts with a target on this account.
    #[param(format = Uuid)]
    pub account_id: Option<String>,
    /// Created at or after (RFC 3339, between 2000-01-01 and 2100-01-01).
    pub from: Option<DateTime<Utc>>,
    /// Created before (RFC 3339, between 2000-01-01 and 2100-01-01).
    pub to: Option<DateTime<Utc>>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1 to 100 (default 50).
    #[param(minimum = 1, maximum = 100, example = 50)]
    pub limit: Option<i64>,
}

/// The caller's posts, newest first.
#[utoipa::path(get, path = "/v1/posts", tag = "posts", operation_id = "listPosts", params(ListQuery),
    responses((status = 200, description = "A page of posts", body = Page<PostView>), (status = 400, description = "A malformed filter or cursor, or a date outside 2000-01-01..2100-01-01")))]
pub async fn list(
    user: AuthUser,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let status = query
        .status
        .as_deref()
        .map(|s| {
            s.parse::<PostStatus>().map_err(|_| {
                let known: Vec<&str> = PostStatus::ALL.iter().map(|s| s.as_str()).collect();
                ApiError::bad_request(
                    "invalid_status",
                    format!("unknown status `{s}`; known: {}", known.join(", ")),
                )
            })
        })
        .transpose()?;
    let account_id = query
        .account_id
        .as_deref()
        .map(|raw| {
            parse_account_id(raw).map_err(|_| {
                ApiError::bad_request("invalid_account_id", "`account_id` must be an account id")
            })
        })
        .transpose()?;
    let filter = PostFilter {
        status,
        account_id,
        from: crate::dates::filter("from", query.from)?,
        to: crate::dates::filter("to", query.to)?,
        before: None,
    };
    let page = PageRequest::new(query.cursor.as_deref(), query.limit)?;
    let (items, next_cursor) = posts::list(&state, user.0, filter, page).await?;
    Ok(HttpResponse::Ok().json(Page { items, next_cursor }))
}
