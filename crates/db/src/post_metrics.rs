//! `post_metrics` and the metrics schedule on `post_targets`: the engagement the publisher
//! reads back from the platforms for every published target, one row per read.
//!
//! The schedule is two columns of the target: `metrics_due_at` (when it is read next; `NULL`:
//! never again, unless asked) and `metrics_round` (scheduled reads made). A claim moves
//! `metrics_due_at` to the end of its lease, so a fetcher that dies leaves its targets due
//! again when the lease runs out; that lease end is also the claim's fence: the schedule is
//! advanced only where it still holds it (an on-demand refresh in between wins).
//!
//! Growth: at most one row per scheduled read (six in the default schedule) plus one per
//! on-demand refresh, which [`MetricsSchedule::due_now`] allows every 10 seconds per target.
//! Rows go with their target (`ON DELETE CASCADE`); nothing else prunes them.

use chrono::{DateTime, Utc};
use diesel::{prelude::*, sql_types};
use domain::{AccountId, OwnerId, Platform, PostId, PostTargetId};

use crate::schema::{post_metrics, post_targets};

/// One read of a target's engagement. A figure the platform did not give is `None`.
#[derive(Debug, Clone, PartialEq, Eq, Insertable, Queryable, Selectable)]
#[diesel(table_name = post_metrics, check_for_backend(diesel::pg::Pg))]
pub struct PostMetricsSample {
    pub target_id: PostTargetId,
    pub fetched_at: DateTime<Utc>,
    pub likes: Option<i64>,
    pub replies: Option<i64>,
    pub reposts: Option<i64>,
    pub quotes: Option<i64>,
    pub saves: Option<i64>,
    pub impressions: Option<i64>,
    pub views: Option<i64>,
    pub reach: Option<i64>,
}

/// A published target whose engagement is due, as claimed by [`MetricsSchedule::claim_due`].
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct DueTarget {
    #[diesel(sql_type = sql_types::Uuid)]
    pub id: PostTargetId,
    #[diesel(sql_type = sql_types::Uuid)]
    pub post_id: PostId,
    #[diesel(sql_type = sql_types::Uuid)]
    pub account_id: AccountId,
    #[diesel(sql_type = sql_types::Text)]
    pub platform: Platform,
    #[diesel(sql_type = sql_types::Text)]
    pub platform_post_id: String,
    #[diesel(sql_type = sql_types::Nullable<sql_types::Text>)]
    pub url: Option<String>,
    #[diesel(sql_type = sql_types::Timestamptz)]
    pub published_at: DateTime<Utc>,
    #[diesel(sql_type = sql_types::Integer)]
    pub metrics_round: i32,
}

/// Where a read left a target's schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NextRead {
    pub target: PostTargetId,
    /// `None`: the schedule ended (or the platform gives no engagement).
    pub due_at: Option<DateTime<Utc>>,
    pub round: i32,
}

/// [`MetricsSchedule::claim_due`]. `bucket` is the minute of a due read, exactly as
/// `post_targets_metrics_claim_idx` indexes it. `grp` walks (minute, account) groups with due
/// reads in index order, each with its batch size (`cap`) and a running count of the reads it
/// will take (`total`), and stops once `$3` are counted; the sentinel first row takes nothing.
/// `due` then locks each group's reads (skipping any another claim holds), `moved` leases them.
const CLAIM_DUE: &str = "WITH RECURSIVE grp (bucket, account_id, cap, total) AS ( \
        SELECT '-infinity'::timestamptz, '00000000-0000-0000-0000-000000000000'::uuid, \
            0::bigint, 0::bigint \
      UNION ALL \
        SELECT nx.bucket, nx.account_id, c.cap, g.total + n.due \
        FROM grp g \
        CROSS JOIN LATERAL ( \
            SELECT date_bin('1 minute', metrics_due_at, TIMESTAMPTZ 'epoch') AS bucket, \
                account_id, platform \
            FROM post_targets \
            WHERE (date_bin('1 minute', metrics_due_at, TIMESTAMPTZ 'epoch'), account_id) \
                    > (g.bucket, g.account_id) \
              AND date_bin('1 minute', metrics_due_at, TIMESTAMPTZ 'epoch') \
                    <= date_bin('1 minute', $1, TIMESTAMPTZ 'epoch') \
              AND metrics_due_at <= $1 \
            ORDER BY 1, 2 LIMIT 1) nx \
        CROSS JOIN LATERAL ( \
            SELECT coalesce((SELECT b.cap FROM unnest($4::text[], $5::bigint[]) AS b(platform, cap) \
                WHERE b.platform = nx.platform), 1) AS cap) c \
        CROSS JOIN LATERAL ( \
            SELECT count(*) AS due FROM ( \
                SELECT 1 FROM post_targets \
                WHERE date_bin('1 minute', metrics_due_at, TIMESTAMPTZ 'epoch') = nx.bucket \
                  AND account_id = nx.account_id AND metrics_due_at <= $1 \
                LIMIT c.cap) x) n \
        WHERE g.total < $3), \
     due AS ( \
        SELECT d.id FROM grp g CROSS JOIN LATERAL ( \
            SELECT id FROM post_targets \
            WHERE date_bin('1 minute', metrics_due_at, TIMESTAMPTZ 'epoch') = g.bucket \
              AND account_id = g.account_id AND metrics_due_at <= $1 \
            ORDER BY metrics_due_at LIMIT g.cap FOR UPDATE SKIP LOCKED) d), \
     moved AS ( \
        UPDATE post_targets t SET metrics_due_at = CASE \
            WHEN t.status = 'published' AND t.platform_post_id IS NOT NULL \
                 AND t.published_at IS NOT NULL THEN $2 END \
        FROM due WHERE t.id = due.id \
        RETURNING t.id, t.post_id, t.account_id, t.platform, t.platform_post_id, t.url, \
            t.published_at, t.metrics_round, t.metrics_due_at) \
     SELECT id, post_id, account_id, platform, platform_post_id, url, published_at, \
        metrics_round FROM moved WHERE metrics_due_at IS NOT NULL";

/// The metrics schedule on `post_targets`.
#[derive(Debug)]
pub struct MetricsSchedule;

impl MetricsSchedule {
    /// Takes due targets (due at `now` or before), whole accounts at a time, pushing each
    /// one's `metrics_due_at` to `lease_until` (the claim's lease and fence). Targets that are
    /// due but no longer published (deleted, or without a platform id) leave the schedule here
    /// instead.
    ///
    /// Why whole accounts: reads are made per account in batches (`per_account` gives each
    /// platform's batch size), and a claim of the oldest due targets alone spreads over every
    /// account with reads due, a few posts a request. So the claim walks due reads by minute
    /// (oldest first), then account, and takes up to one batch of each account's reads of that
    /// minute, until `limit` targets are taken (the last account whole: up to one batch more).
    /// One account's backlog so gets one batch per claim beside the others, never the whole
    /// claim; a platform missing from `per_account` gets one read per account.
    ///
    /// Cost: one index descent per account and minute taken (`post_targets_metrics_claim_idx`,
    /// a skip scan), not a scan of everything due.
    pub fn claim_due(
        conn: &mut PgConnection,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: i64,
        per_account: &[(Platform, i64)],
    ) -> QueryResult<Vec<DueTarget>> {
        let platforms: Vec<&str> = per_account.iter().map(|(p, _)| p.as_str()).collect();
        let batches: Vec<i64> = per_account.iter().map(|(_, n)| (*n).max(1)).collect();
        diesel::sql_query(CLAIM_DUE)
            .bind::<sql_types::Timestamptz, _>(now)
            .bind::<sql_types::Timestamptz, _>(lease_until)
            .bind::<sql_types::BigInt, _>(limit)
            .bind::<sql_types::Array<sql_types::Text>, _>(platforms)
            .bind::<sql_types::Array<sql_types::BigInt>, _>(batches)
            .load(conn)
    }

    /// Gives claimed targets back without reading them (their account is busy publishing, or
    /// its platform paused): due again at `at`, where the claim `lease_until` still holds.
    pub fn release(
        conn: &mut PgConnection,
        ids: &[PostTargetId],
        lease_until: DateTime<Utc>,
        at: DateTime<Utc>,
    ) -> QueryResult<usize> {
        diesel::update(
            post_targets::table
                .filter(post_targets::id.eq_any(ids))
                .filter(post_targets::metrics_due_at.eq(lease_until)),
        )
        .set(post_targets::metrics_due_at.eq(at))
        .execute(conn)
    }

    /// Advances the schedule of targets read under the claim `lease_until`, in one statement.
    /// A target whose claim no longer holds (an on-demand refresh made it due meanwhile) keeps
    /// the newer due time.
    pub fn advance(
        conn: &mut PgConnection,
        next: &[NextRead],
        lease_until: DateTime<Utc>,
    ) -> QueryResult<usize> {
        if next.is_empty() {
            return Ok(0);
        }
        let ids: Vec<PostTargetId> = next.iter().map(|n| n.target).collect();
        let due: Vec<Option<DateTime<Utc>>> = next.iter().map(|n| n.due_at).collect();
        let rounds: Vec<i32> = next.iter().map(|n| n.round).collect();
        diesel::sql_query(
            "UPDATE post_targets t SET metrics_due_at = v.due_at, metrics_round = v.round \
             FROM unnest($1::uuid[], $2::timestamptz[], $3::integer[]) AS v(id, due_at, round) \
             WHERE t.id = v.id AND t.metrics_due_at = $4",
        )
        .bind::<sql_types::Array<sql_types::Uuid>, _>(ids)
        .bind::<sql_types::Array<sql_types::Nullable<sql_types::Timestamptz>>, _>(due)
        .bind::<sql_types::Array<sql_types::Integer>, _>(rounds)
        .bind::<sql_types::Timestamptz, _>(lease_until)
        .execute(conn)
    }

    /// Makes the published targets of `post` due now (on demand), except those read in the
    /// last 10 seconds: a user pressing refresh repeatedly adds a sample every 10 s at most,
    /// not one per press. Answers the targets that became due.
    pub fn due_now(conn: &mut PgConnection, post: PostId) -> QueryResult<Vec<PostTargetId>> {
        #[derive(QueryableByName)]
        struct Due {
            #[diesel(sql_type = sql_types::Uuid)]
            id: PostTargetId,
        }
        let due: Vec<Due> = diesel::sql_query(
            "UPDATE post_targets t SET metrics_due_at = now() \
             WHERE t.post_id = $1 AND t.status = 'published' AND t.platform_post_id IS NOT NULL \
               AND t.published_at IS NOT NULL \
               AND (t.metrics_due_at IS NULL OR t.metrics_due_at > now()) \
               AND NOT EXISTS (SELECT 1 FROM post_metrics m WHERE m.target_id = t.id \
                               AND m.fetched_at > now() - interval '10 seconds') \
             RETURNING t.id",
        )
        .bind::<sql_types::Uuid, _>(post)
        .load(conn)?;
        Ok(due.into_iter().map(|d| d.id).collect())
    }

    /// When each of `targets` is read next (`None`: not scheduled).
    pub fn next_reads(
        conn: &mut PgConnection,
        targets: &[PostTargetId],
    ) -> QueryResult<Vec<(PostTargetId, Option<DateTime<Utc>>)>> {
        post_targets::table
            .filter(post_targets::id.eq_any(targets))
            .select((post_targets::id, post_targets::metrics_due_at))
            .load(conn)
    }

    /// Whether a publish is due by `now` and not claimed yet (its account not paused): the
    /// dispatcher is behind, so reads stand aside. Asks for the first such target in
    /// `post_targets_dispatch_idx` order and stops there, so it costs the same however many
    /// targets are scheduled later (`min(next_attempt_at)` beside the paused-account check
    /// reads every scheduled target: 3 ms at 10,000, 91 ms at 300,000).
    pub fn publishes_waiting(conn: &mut PgConnection, now: DateTime<Utc>) -> QueryResult<bool> {
        #[derive(QueryableByName)]
        struct Waiting {
            #[diesel(sql_type = sql_types::Timestamptz)]
            #[expect(dead_code, reason = "only whether a row comes back matters")]
            next_attempt_at: DateTime<Utc>,
        }
        let first: Option<Waiting> = diesel::sql_query(
            "SELECT next_attempt_at FROM post_targets t \
             WHERE t.status IN ('scheduled', 'unknown') AND t.next_attempt_at <= $1 \
               AND NOT EXISTS (SELECT 1 FROM social_accounts a \
                   WHERE a.id = t.account_id AND a.paused_at IS NOT NULL) \
             ORDER BY t.next_attempt_at LIMIT 1",
        )
        .bind::<sql_types::Timestamptz, _>(now)
        .get_result(conn)
        .optional()?;
        Ok(first.is_some())
    }

    /// When the earliest scheduled read is due, for the fetcher's sleep.
    pub fn next_due(conn: &mut PgConnection) -> QueryResult<Option<DateTime<Utc>>> {
        post_targets::table
            .filter(post_targets::metrics_due_at.is_not_null())
            .select(diesel::dsl::min(post_targets::metrics_due_at))
            .first(conn)
    }
}

impl PostMetricsSample {
    /// Stores a batch of reads in one statement.
    pub fn insert_many(
        conn: &mut PgConnection,
        samples: &[PostMetricsSample],
    ) -> QueryResult<usize> {
        if samples.is_empty() {
            return Ok(0);
        }
        diesel::insert_into(post_metrics::table)
            .values(samples)
            .execute(conn)
    }

    /// Every read of `targets`, oldest first per target.
    pub fn of_targets(
        conn: &mut PgConnection,
        targets: &[PostTargetId],
    ) -> QueryResult<Vec<PostMetricsSample>> {
        post_metrics::table
            .filter(post_metrics::target_id.eq_any(targets))
            .order((
                post_metrics::target_id,
                post_metrics::fetched_at,
                post_metrics::id,
            ))
            .select(PostMetricsSample::as_select())
            .load(conn)
    }
}

/// `GET /v1/analytics` filters: targets published in `[from, to)` of one owner.
#[derive(Debug, Clone)]
pub struct AnalyticsFilter {
    pub owner: OwnerId,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub platform: Option<Platform>,
    /// Top posts kept per account.
    pub top: i64,
}

/// Totals of one account's targets (their latest reads). A sum is `None` when no target of
/// the account has that figure.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct AccountTotals {
    #[diesel(sql_type = sql_types::Text)]
    pub platform: Platform,
    #[diesel(sql_type = sql_types::Uuid)]
    pub account_id: AccountId,
    /// Published targets in the range that have at least one read.
    #[diesel(sql_type = sql_types::BigInt)]
    pub posts: i64,
    #[diesel(sql_type = sql_types::Nullable<sql_types::BigInt>)]
    pub likes: Option<i64>,
    #[diesel(sql_type = sql_types::Nullable<sql_types::BigInt>)]
    pub replies: Option<i64>,
    #[diesel(sql_type = sql_types::Nullable<sql_types::BigInt>)]
    pub reposts: Option<i64>,
    #[diesel(sql_type = sql_types::Nullable<sql_types::BigInt>)]
    pub quotes: Option<i64>,
    #[diesel(sql_type = sql_types::Nullable<sql_types::BigInt>)]
    pub saves: Option<i64>,
    #[diesel(sql_type = sql_types::Nullable<sql_types::BigInt>)]
    pub impressions: Option<i64>,
    #[diesel(sql_type = sql_types::Nullable<sql_types::BigInt>)]
    pub views: Option<i64>,
    #[diesel(sql_type = sql_types::Nullable<sql_types::BigInt>)]
    pub reach: Option<i64>,
}

/// One of an account's best targets by interactions (likes + replies + reposts + quotes +
/// saves, missing figures counting nothing), with its latest read.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct TopTarget {
    #[diesel(sql_type = sql_types::Text)]
    pub platform: Platform,
    #[diesel(sql_type = sql_types::Uuid)]
    pub account_id: AccountId,
    #[diesel(sql_type = sql_types::Uuid)]
    pub post_id: PostId,
    #[diesel(sql_type = sql_types::Uuid)]
    pub target_id: PostTargetId,
    #[diesel(sql_type = sql_types::Nullable<sql_types::Text>)]
    pub url: Option<String>,
    #[diesel(sql_type = sql_types::Timestamptz)]
    pub published_at: DateTime<Utc>,
    #[diesel(sql_type = sql_types::BigInt)]
    pub interactions: i64,
    #[diesel(sql_type = sql_types::Nullable<sql_types::BigInt>)]
    pub likes: Option<i64>,
    #[diesel(sql_type = sql_types::Nullable<sql_types::BigInt>)]
    pub replies: Option<i64>,
    #[diesel(sql_type = sql_types::Nullable<sql_types::BigInt>)]
    pub reposts: Option<i64>,
    #[diesel(sql_type = sql_types::Nullable<sql_types::BigInt>)]
    pub impressions: Option<i64>,
}

/// The latest read of each of the owner's targets published in the range.
const LATEST: &str = "WITH latest AS ( \
    SELECT DISTINCT ON (m.target_id) m.target_id, t.platform, t.account_id, t.post_id, t.url, \
        t.published_at, m.likes, m.replies, m.reposts, m.quotes, m.saves, m.impressions, \
        m.views, m.reach \
    FROM post_metrics m \
    JOIN post_targets t ON t.id = m.target_id \
    JOIN posts p ON p.id = t.post_id \
    WHERE p.owner_id = $1 AND t.published_at >= $2 AND t.published_at < $3 \
      AND ($4::text IS NULL OR t.platform = $4) \
    ORDER BY m.target_id, m.fetched_at DESC, m.id DESC) ";

impl AccountTotals {
    /// Per account (and so per platform), the sums of its targets' latest reads.
    pub fn of(conn: &mut PgConnection, filter: &AnalyticsFilter) -> QueryResult<Vec<Self>> {
        diesel::sql_query(format!(
            "{LATEST} SELECT platform, account_id, count(*) AS posts, \
                sum(likes)::bigint AS likes, sum(replies)::bigint AS replies, \
                sum(reposts)::bigint AS reposts, sum(quotes)::bigint AS quotes, \
                sum(saves)::bigint AS saves, sum(impressions)::bigint AS impressions, \
                sum(views)::bigint AS views, sum(reach)::bigint AS reach \
             FROM latest GROUP BY platform, account_id ORDER BY platform, account_id"
        ))
        .bind::<sql_types::Text, _>(&filter.owner.0)
        .bind::<sql_types::Timestamptz, _>(filter.from)
        .bind::<sql_types::Timestamptz, _>(filter.to)
        .bind::<sql_types::Nullable<sql_types::Text>, _>(filter.platform.map(|p| p.as_str()))
        .load(conn)
    }
}

impl TopTarget {
    /// Per account, its `filter.top` targets with the most interactions.
    pub fn of(conn: &mut PgConnection, filter: &AnalyticsFilter) -> QueryResult<Vec<Self>> {
        diesel::sql_query(format!(
            "{LATEST}, ranked AS ( \
                SELECT *, (coalesce(likes, 0) + coalesce(replies, 0) + coalesce(reposts, 0) \
                    + coalesce(quotes, 0) + coalesce(saves, 0))::bigint AS interactions \
                FROM latest), \
             numbered AS ( \
                SELECT *, row_number() OVER (PARTITION BY account_id \
                    ORDER BY interactions DESC, published_at DESC, target_id) AS n \
                FROM ranked) \
             SELECT platform, account_id, post_id, target_id, url, published_at, interactions, \
                likes, replies, reposts, impressions \
             FROM numbered WHERE n <= $5 ORDER BY platform, account_id, n"
        ))
        .bind::<sql_types::Text, _>(&filter.owner.0)
        .bind::<sql_types::Timestamptz, _>(filter.from)
        .bind::<sql_types::Timestamptz, _>(filter.to)
        .bind::<sql_types::Nullable<sql_types::Text>, _>(filter.platform.map(|p| p.as_str()))
        .bind::<sql_types::BigInt, _>(filter.top)
        .load(conn)
    }
}
