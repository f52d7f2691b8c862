//! After publishing on Pinterest: a pin's analytics and deleting it. Pinterest has no API for
//! commenting on a pin.
//!
//! Sources (the v5 OpenAPI description, 5.23.0):
//! - `GET /pins/{pin_id}/analytics` (`pins/analytics`; scopes `boards:read`, `pins:read`;
//!   `start_date` "cannot be more than 90 days back from today", `end_date`, `metric_types`,
//!   `app_types`; answer `PinAnalyticsResponse`: per app type, `summary_metrics` over the
//!   period and `lifetime_metrics` with `TOTAL_COMMENTS` and `TOTAL_REACTIONS`; 403 "Not
//!   authorized to access board or Pin", 404 "Pin not found"). `GET /pins/analytics` reads up
//!   to 100 pins at once but is a beta "not available to all apps", so each pin is one request.
//! - `DELETE /pins/{pin_id}` (`pins/delete`; 204 "Resource deleted successfully", 404).
//!
//! Figures: impressions (`IMPRESSION`) and saves (`SAVE`) summed over the last 89 days (the
//! 90-day window less a day of margin, which covers every pin within the publisher's 30-day
//! schedule), likes (`TOTAL_REACTIONS`) and comments (`TOTAL_COMMENTS`) over the pin's life.
//! Video views (`VIDEO_MRC_VIEW`) are a video-pin metric type and are not asked for, since
//! the same request serves image pins.

use chrono::{Duration, Utc};
use reqwest::{RequestBuilder, Response, StatusCode};
use serde::Deserialize;

use super::{api_failure, PinterestAdapter};
use crate::http::{self, Transmit};
use crate::{AccountRef, AdapterError, Deletion, PostMetrics, PostRef};

/// The metric types asked for, in `PostMetrics` order.
const METRIC_TYPES: &str = "IMPRESSION,SAVE,TOTAL_COMMENTS,TOTAL_REACTIONS";

/// How far back the summary reaches: Pinterest allows 90 days before today.
const WINDOW_DAYS: i64 = 89;

impl PinterestAdapter {
    /// One `GET /pins/{pin_id}/analytics` per pin. A pin Pinterest no longer has (404) is left
    /// out; one whose analytics this account may not read (403: a personal account, a pin on
    /// someone else's board) is reported with every figure unknown.
    pub(super) async fn pin_metrics(
        &self,
        account: &AccountRef<'_>,
        posts: &[PostRef<'_>],
    ) -> Result<Vec<PostMetrics>, AdapterError> {
        let today = Utc::now().date_naive();
        let start = (today - Duration::days(WINDOW_DAYS)).to_string();
        let end = today.to_string();
        let mut metrics = Vec::with_capacity(posts.len());
        for post in posts {
            let Some(url) = self.pin_url(post.platform_post_id, "/analytics") else {
                continue;
            };
            let request = http::bearer(
                self.http.get(url).query(&[
                    ("start_date", start.as_str()),
                    ("end_date", end.as_str()),
                    ("metric_types", METRIC_TYPES),
                    ("app_types", "ALL"),
                ]),
                account.access_token,
            );
            let response = transmit(request).await?;
            let id = post.platform_post_id.to_owned();
            match response.status() {
                StatusCode::NOT_FOUND => {}
                StatusCode::FORBIDDEN => metrics.push(PostMetrics {
                    platform_post_id: id,
                    ..PostMetrics::default()
                }),
                _ => {
                    let answer: PinAnalytics = decode(checked(response).await?).await?;
                    metrics.push(answer.into_metrics(id));
                }
            }
        }
        Ok(metrics)
    }

    /// `DELETE /pins/{pin_id}`: 204 deleted, 404 already gone.
    pub(super) async fn delete_pin(
        &self,
        account: &AccountRef<'_>,
        post: &PostRef<'_>,
    ) -> Result<Deletion, AdapterError> {
        let url =
            self.pin_url(post.platform_post_id, "")
                .ok_or_else(|| AdapterError::Rejected {
                    code: "invalid_pin_id".into(),
                    message: format!("`{}` is not a Pinterest pin id", post.platform_post_id),
                })?;
        let response = transmit(http::bearer(self.http.delete(url), account.access_token)).await?;
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(Deletion::AlreadyGone);
        }
        checked(response).await?;
        Ok(Deletion::Deleted)
    }

    /// `{api_base}/pins/{pin_id}{rest}`, for a pin id of digits only (`^\d+$` in the
    /// description), which also keeps a stored id from reaching another path.
    fn pin_url(&self, pin_id: &str, rest: &str) -> Option<String> {
        (!pin_id.is_empty() && pin_id.bytes().all(|b| b.is_ascii_digit()))
            .then(|| format!("{}/pins/{pin_id}{rest}", self.settings.endpoints.api_base))
    }
}

async fn transmit(request: RequestBuilder) -> Result<Response, AdapterError> {
    request
        .transmit()
        .await
        .map_err(|e| AdapterError::from_transport(&e))
}

/// A 2xx as it is; anything else classified as publishing's answers are.
async fn checked(response: Response) -> Result<Response, AdapterError> {
    if response.status().is_success() {
        return Ok(response);
    }
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.text().await.unwrap_or_default();
    Err(api_failure(status, &headers, &body))
}

async fn decode<T: for<'de> Deserialize<'de>>(response: Response) -> Result<T, AdapterError> {
    let bytes = response
        .bytes()
        .await
        .map_err(|e| AdapterError::from_transport(&e))?;
    serde_json::from_slice(&bytes).map_err(|e| AdapterError::Transient {
        message: format!("unexpected answer from Pinterest: {e}"),
    })
}

/// `PinAnalyticsResponse`: the metrics per app type (`ALL` when not split).
#[derive(Debug, Deserialize)]
#[serde(transparent)]
struct PinAnalytics(std::collections::HashMap<String, Metrics>);

/// `PinAnalyticsMetricsResponse`; the daily records are not read.
#[derive(Debug, Default, Deserialize)]
struct Metrics {
    #[serde(default)]
    summary_metrics: std::collections::HashMap<String, f64>,
    #[serde(default)]
    lifetime_metrics: std::collections::HashMap<String, f64>,
}

impl PinAnalytics {
    fn into_metrics(mut self, platform_post_id: String) -> PostMetrics {
        let all = ["ALL", "all"]
            .iter()
            .find_map(|key| self.0.remove(*key))
            .or_else(|| self.0.into_values().next())
            .unwrap_or_default();
        let figure = |map: &std::collections::HashMap<String, f64>, key: &str| {
            // Counts arrive as JSON numbers (the same map holds rates); they are whole.
            map.get(key).map(|v| v.round() as i64)
        };
        PostMetrics {
            platform_post_id,
            impressions: figure(&all.summary_metrics, "IMPRESSION"),
            saves: figure(&all.summary_metrics, "SAVE"),
            replies: figure(&all.lifetime_metrics, "TOTAL_COMMENTS"),
            likes: figure(&all.lifetime_metrics, "TOTAL_REACTIONS"),
            ..PostMetrics::default()
        }
    }
}
