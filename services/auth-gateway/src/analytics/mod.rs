//! Post analytics as the frontend reads them: a post's engagement series per target, an
//! account's counts over time, totals and top posts per platform and account, and the
//! on-demand refresh. The reads themselves are the publisher's (it shares each platform's
//! budget with publishing); this module only reads what it stored and asks for more.

pub mod view;

use chrono::{DateTime, Duration, Utc};
use db::{
    account_metrics::AccountMetricsSample,
    accounts::Account,
    domain::{AccountId, OwnerId, Platform, PostId, PostTargetId},
    post_metrics::{AccountTotals, AnalyticsFilter, MetricsSchedule, PostMetricsSample, TopTarget},
    posts::{Post, PostTarget},
    Connection,
};
use events::PostMetricsRequested;

use self::view::{
    AccountAnalytics, AccountMetricsView, AccountSampleView, AnalyticsView, Figures,
    MetricsSampleView, PlatformAnalytics, PostMetricsView, RefreshView, TargetMetricsView,
    TopPostView,
};
use crate::{
    error::ApiError,
    state::{AppState, OUTBOX},
};

/// Most samples one account series answers.
pub const MAX_ACCOUNT_SAMPLES: i64 = 5_000;
/// Longest range `GET /v1/analytics` takes.
pub const MAX_RANGE_DAYS: i64 = 400;
/// Default range of `GET /v1/analytics`: the last 30 days.
pub const DEFAULT_RANGE_DAYS: i64 = 30;
/// Top posts listed per account and per platform.
pub const TOP_POSTS: i64 = 5;

/// A post's engagement per target: the latest read and every read.
pub async fn post_metrics(
    state: &AppState,
    owner: OwnerId,
    id: PostId,
) -> Result<PostMetricsView, ApiError> {
    state
        .db
        .run(move |conn| {
            let post = Post::get_for_owner(conn, &owner, id)?.ok_or(ApiError::NotFound("post"))?;
            let targets = PostTarget::of_posts(conn, &[post.id])?;
            let ids: Vec<PostTargetId> = targets.iter().map(|t| t.id).collect();
            let samples = PostMetricsSample::of_targets(conn, &ids)?;
            let next = MetricsSchedule::next_reads(conn, &ids)?;
            let targets = targets
                .iter()
                .map(|t| {
                    let series: Vec<MetricsSampleView> = samples
                        .iter()
                        .filter(|s| s.target_id == t.id)
                        .map(MetricsSampleView::from)
                        .collect();
                    TargetMetricsView {
                        target_id: t.id,
                        account_id: t.account_id,
                        platform: t.platform,
                        platform_post_id: t.platform_post_id.clone(),
                        url: t.url.clone(),
                        published_at: t.published_at,
                        next_read_at: next.iter().find(|(id, _)| *id == t.id).and_then(|n| n.1),
                        latest: series.last().cloned(),
                        series,
                    }
                })
                .collect();
            Ok(PostMetricsView {
                post_id: post.id,
                targets,
            })
        })
        .await
}

/// Makes the post's published targets due for a read now and wakes the publisher's fetcher
/// (`post.metrics_requested`, in the same transaction). A post with nothing published is a
/// 409.
pub async fn refresh(
    state: &AppState,
    owner: OwnerId,
    id: PostId,
) -> Result<RefreshView, ApiError> {
    state
        .db
        .run(move |conn| {
            conn.transaction(|conn| {
                let post =
                    Post::get_for_owner(conn, &owner, id)?.ok_or(ApiError::NotFound("post"))?;
                let published = PostTarget::of_posts(conn, &[post.id])?
                    .iter()
                    .any(|t| t.platform_post_id.is_some() && t.published_at.is_some());
                if !published {
                    return Err(ApiError::Conflict {
                        code: "not_published",
                        message: format!(
                            "the post is {}: engagement is read once a target is published",
                            post.status
                        ),
                    });
                }
                let due = MetricsSchedule::due_now(conn, post.id)?;
                if !due.is_empty() {
                    OUTBOX.write(
                        conn,
                        PostMetricsRequested {
                            post_id: post.id,
                            owner_id: post.owner_id.clone(),
                            target_ids: due.clone(),
                        },
                    )?;
                }
                Ok(RefreshView {
                    post_id: post.id,
                    target_ids: due,
                })
            })
        })
        .await
}

/// An account's counts at each sync in `[from, to)`.
pub async fn account_metrics(
    state: &AppState,
    owner: OwnerId,
    id: AccountId,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> Result<AccountMetricsView, ApiError> {
    if let (Some(from), Some(to)) = (from, to) {
        ordered(from, to)?;
    }
    state
        .db
        .run(move |conn| {
            let account =
                Account::find_for_owner(conn, id, &owner)?.ok_or(ApiError::NotFound("account"))?;
            let series =
                AccountMetricsSample::series(conn, account.id, from, to, MAX_ACCOUNT_SAMPLES)?;
            Ok(AccountMetricsView {
                account_id: account.id,
                from,
                to,
                series: series.into_iter().map(AccountSampleView::from).collect(),
            })
        })
        .await
}

/// Totals and top posts per platform and account over the owner's targets published in
/// `[from, to)` (by default the last 30 days; at most 400 days).
pub async fn overview(
    state: &AppState,
    owner: OwnerId,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    platform: Option<Platform>,
) -> Result<AnalyticsView, ApiError> {
    let to = to.unwrap_or_else(Utc::now);
    let from = from.unwrap_or(to - Duration::days(DEFAULT_RANGE_DAYS));
    ordered(from, to)?;
    if to - from > Duration::days(MAX_RANGE_DAYS) {
        return Err(ApiError::bad_request(
            "range_too_long",
            format!("`from` to `to` may span at most {MAX_RANGE_DAYS} days"),
        ));
    }
    let filter = AnalyticsFilter {
        owner,
        from,
        to,
        platform,
        top: TOP_POSTS,
    };
    let (totals, top) = state
        .db
        .run(move |conn| {
            let totals = AccountTotals::of(conn, &filter)?;
            let top = TopTarget::of(conn, &filter)?;
            Ok::<_, ApiError>((totals, top))
        })
        .await?;
    Ok(AnalyticsView {
        from,
        to,
        platforms: per_platform(&totals, &top),
    })
}

/// Groups account rows (ordered by platform) into platforms, summing their figures and
/// keeping each platform's best posts among its accounts' best.
fn per_platform(totals: &[AccountTotals], top: &[TopTarget]) -> Vec<PlatformAnalytics> {
    let mut platforms: Vec<PlatformAnalytics> = Vec::new();
    for row in totals {
        let top_posts: Vec<TopPostView> = top
            .iter()
            .filter(|t| t.account_id == row.account_id)
            .map(TopPostView::from)
            .collect();
        let account = AccountAnalytics {
            account_id: row.account_id,
            posts: row.posts,
            totals: Figures::from(row),
            top_posts,
        };
        match platforms.last_mut().filter(|p| p.platform == row.platform) {
            Some(platform) => {
                platform.posts += account.posts;
                platform.totals.add(&account.totals);
                platform.accounts.push(account);
            }
            None => platforms.push(PlatformAnalytics {
                platform: row.platform,
                posts: account.posts,
                totals: account.totals.clone(),
                top_posts: Vec::new(),
                accounts: vec![account],
            }),
        }
    }
    for platform in &mut platforms {
        let mut best: Vec<TopPostView> = platform
            .accounts
            .iter()
            .flat_map(|a| a.top_posts.iter().cloned())
            .collect();
        best.sort_by(|a, b| {
            b.interactions
                .cmp(&a.interactions)
                .then(b.published_at.cmp(&a.published_at))
        });
        best.truncate(TOP_POSTS as usize);
        platform.top_posts = best;
    }
    platforms
}

/// `from` must come before `to`.
fn ordered(from: DateTime<Utc>, to: DateTime<Utc>) -> Result<(), ApiError> {
    if from >= to {
        return Err(ApiError::bad_request(
            "invalid_range",
            "`from` must be earlier than `to`",
        ));
    }
    Ok(())
}
