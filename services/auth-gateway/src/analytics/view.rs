//! What the API answers about engagement: figures as the platforms gave them, `null` where a
//! platform gives none (or not with the account's scopes), never a made-up 0.

use chrono::{DateTime, Utc};
use db::{
    account_metrics::AccountMetricsSample,
    domain::{AccountId, Platform, PostId, PostTargetId},
    post_metrics::{AccountTotals, PostMetricsSample, TopTarget},
};
use serde::Serialize;
use utoipa::ToSchema;

use crate::views::enums::PlatformSchema;

/// Engagement figures; each `null` where the platform does not give it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Figures {
    /// Likes, reactions, favourites.
    pub likes: Option<i64>,
    /// Replies and comments.
    pub replies: Option<i64>,
    /// Reposts, retweets, reblogs, shares.
    pub reposts: Option<i64>,
    /// Quote posts.
    pub quotes: Option<i64>,
    /// Saves and bookmarks.
    pub saves: Option<i64>,
    /// Times shown.
    pub impressions: Option<i64>,
    /// Video views or plays.
    pub views: Option<i64>,
    /// Distinct accounts reached.
    pub reach: Option<i64>,
}

/// One read of a target's engagement.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MetricsSampleView {
    /// When it was read from the platform.
    pub fetched_at: DateTime<Utc>,
    /// What the platform reported.
    pub figures: Figures,
}

impl From<&PostMetricsSample> for MetricsSampleView {
    fn from(s: &PostMetricsSample) -> Self {
        Self {
            fetched_at: s.fetched_at,
            figures: Figures {
                likes: s.likes,
                replies: s.replies,
                reposts: s.reposts,
                quotes: s.quotes,
                saves: s.saves,
                impressions: s.impressions,
                views: s.views,
                reach: s.reach,
            },
        }
    }
}

/// A post's engagement, per target.
#[derive(Debug, Serialize, ToSchema)]
pub struct PostMetricsView {
    /// The post's id.
    #[schema(value_type = String, format = Uuid)]
    pub post_id: PostId,
    /// One per target (published or not: an unpublished one has no reads).
    pub targets: Vec<TargetMetricsView>,
}

/// One target's engagement: its latest read and the whole series.
#[derive(Debug, Serialize, ToSchema)]
pub struct TargetMetricsView {
    /// The target's id.
    #[schema(value_type = String, format = Uuid)]
    pub target_id: PostTargetId,
    /// The account it went to.
    #[schema(value_type = String, format = Uuid)]
    pub account_id: AccountId,
    /// Its platform.
    #[schema(value_type = PlatformSchema)]
    pub platform: Platform,
    /// The platform's id of the post, once published.
    pub platform_post_id: Option<String>,
    /// Its public URL.
    pub url: Option<String>,
    /// When it went live.
    pub published_at: Option<DateTime<Utc>>,
    /// When its engagement is read next (`null`: not scheduled; refresh to read it now).
    pub next_read_at: Option<DateTime<Utc>>,
    /// The most recent read, if any.
    pub latest: Option<MetricsSampleView>,
    /// Every read, oldest first.
    pub series: Vec<MetricsSampleView>,
}

/// Targets made due by `POST /v1/posts/{id}/metrics/refresh`.
#[derive(Debug, Serialize, ToSchema)]
pub struct RefreshView {
    /// The post's id.
    #[schema(value_type = String, format = Uuid)]
    pub post_id: PostId,
    /// The published targets whose engagement is read now (a target read in the last 10
    /// seconds is left out: it was just read).
    #[schema(value_type = Vec<String>)]
    pub target_ids: Vec<PostTargetId>,
}

/// An account's counts over time.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountMetricsView {
    /// The account's id.
    #[schema(value_type = String, format = Uuid)]
    pub account_id: AccountId,
    /// The range asked for, if any.
    pub from: Option<DateTime<Utc>>,
    /// The end of the range asked for (exclusive), if any.
    pub to: Option<DateTime<Utc>>,
    /// One per sync, oldest first (at most 5,000).
    pub series: Vec<AccountSampleView>,
}

/// An account's counts at one sync; `null` where the platform gave none.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountSampleView {
    /// When the sync read them.
    pub synced_at: DateTime<Utc>,
    /// Followers.
    pub followers: Option<i64>,
    /// Accounts it follows.
    pub following: Option<i64>,
    /// Posts.
    pub posts: Option<i64>,
}

impl From<AccountMetricsSample> for AccountSampleView {
    fn from(s: AccountMetricsSample) -> Self {
        Self {
            synced_at: s.synced_at,
            followers: s.followers,
            following: s.following,
            posts: s.posts,
        }
    }
}

/// Engagement of the caller's posts published in a range: totals and top posts per platform
/// and per account, from each target's latest read.
#[derive(Debug, Serialize, ToSchema)]
pub struct AnalyticsView {
    /// Published at or after.
    pub from: DateTime<Utc>,
    /// Published before.
    pub to: DateTime<Utc>,
    /// One per platform with read posts.
    pub platforms: Vec<PlatformAnalytics>,
}

/// One platform's totals, top posts and accounts.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlatformAnalytics {
    /// The platform.
    #[schema(value_type = PlatformSchema)]
    pub platform: Platform,
    /// Posts with at least one read.
    pub posts: i64,
    /// Sums of the posts' latest reads (`null`: no post has that figure).
    pub totals: Figures,
    /// The platform's best posts by interactions, best first.
    pub top_posts: Vec<TopPostView>,
    /// Per account.
    pub accounts: Vec<AccountAnalytics>,
}

/// One account's totals and top posts.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountAnalytics {
    /// The account.
    #[schema(value_type = String, format = Uuid)]
    pub account_id: AccountId,
    /// Posts with at least one read.
    pub posts: i64,
    /// Sums of the posts' latest reads.
    pub totals: Figures,
    /// The account's best posts by interactions, best first.
    pub top_posts: Vec<TopPostView>,
}

/// A post among the best: interactions are likes + replies + reposts + quotes + saves (a
/// figure the platform does not give counts nothing).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TopPostView {
    /// The post.
    #[schema(value_type = String, format = Uuid)]
    pub post_id: PostId,
    /// Its target on this account.
    #[schema(value_type = String, format = Uuid)]
    pub target_id: PostTargetId,
    /// The account.
    #[schema(value_type = String, format = Uuid)]
    pub account_id: AccountId,
    /// Its public URL.
    pub url: Option<String>,
    /// When it went live.
    pub published_at: DateTime<Utc>,
    /// The ranking figure.
    pub interactions: i64,
    /// Likes at the latest read.
    pub likes: Option<i64>,
    /// Replies at the latest read.
    pub replies: Option<i64>,
    /// Reposts at the latest read.
    pub reposts: Option<i64>,
    /// Impressions at the latest read.
    pub impressions: Option<i64>,
}

impl From<&TopTarget> for TopPostView {
    fn from(t: &TopTarget) -> Self {
        Self {
            post_id: t.post_id,
            target_id: t.target_id,
            account_id: t.account_id,
            url: t.url.clone(),
            published_at: t.published_at,
            interactions: t.interactions,
            likes: t.likes,
            replies: t.replies,
            reposts: t.reposts,
            impressions: t.impressions,
        }
    }
}

impl From<&AccountTotals> for Figures {
    fn from(t: &AccountTotals) -> Self {
        Self {
            likes: t.likes,
            replies: t.replies,
            reposts: t.reposts,
            quotes: t.quotes,
            saves: t.saves,
            impressions: t.impressions,
            views: t.views,
            reach: t.reach,
        }
    }
}

impl Figures {
    /// Adds `other` figure by figure; a figure missing on both sides stays missing.
    pub fn add(&mut self, other: &Figures) {
        fn sum(a: &mut Option<i64>, b: Option<i64>) {
            *a = match (*a, b) {
                (Some(x), Some(y)) => Some(x.saturating_add(y)),
                (x, y) => x.or(y),
            };
        }
        sum(&mut self.likes, other.likes);
        sum(&mut self.replies, other.replies);
        sum(&mut self.reposts, other.reposts);
        sum(&mut self.quotes, other.quotes);
        sum(&mut self.saves, other.saves);
        sum(&mut self.impressions, other.impressions);
        sum(&mut self.views, other.views);
        sum(&mut self.reach, other.reach);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adding_figures_keeps_a_figure_nobody_gave_missing() {
        let mut total = Figures {
            likes: Some(2),
            ..Figures::default()
        };
        total.add(&Figures {
            likes: Some(3),
            impressions: Some(10),
            ..Figures::default()
        });
        assert_eq!(total.likes, Some(5));
        assert_eq!(total.impressions, Some(10));
        assert_eq!(total.views, None, "never a made-up zero");
    }
}
