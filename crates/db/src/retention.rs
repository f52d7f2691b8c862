//! Retention sweeps: deleting the rows of the tables that grow with use, once nobody needs
//! them, in bounded batches.
//!
//! | table | owner | kept | the rule's reason |
//! |---|---|---|---|
//! | `post_attempts` | publisher | `post_attempts_days` (90), and every target's last attempt for good | the post view's `attempt_log`; publishing limits count the last 24 h; the last attempt is state (a call in doubt, the next attempt number, a thread's progress) |
//! | `post_metrics` | publisher | `post_metrics_days` (400), and every target's latest read for good | `GET /v1/analytics` sums targets' latest reads over up to 400 days |
//! | `account_metrics` | account-registry | every sample `account_metrics_full_days` (30), then the last of each UTC day until `account_metrics_days` (400) | the account series at full resolution for a month, daily for the 400-day analytics range |
//! | `outbox`, `processed_events` | every relay ([`crate::outbox`], [`crate::inbox`]) | 24 h after sending, 7 days | inspection; redeliveries never come later |
//!
//! **A sweep** walks its table in `(time, id)` order from a [`Mark`] (the last row its
//! previous batch examined) up to the cutoff, examining at most `limit` rows per batch: each
//! batch is one statement, an index range scan of at most `limit` entries, whatever the
//! table's size, and a row a rule keeps (most targets' single attempt, for instance) is read
//! once per sweep rather than once per batch. The mark is stored in `retention_marks`
//! ([`save_mark`], in the batch's transaction), so the next pass, of this replica or another,
//! after a restart or not, only reads rows that aged past the cutoff since; now and then a
//! sweep rewinds to the oldest row, so rows that became deletable behind the mark (an old
//! target's new attempt makes its previous one deletable) are found too.
//!
//! **Several purgers at once** (replicas, or a replica and an operator) never wait for each
//! other and never fail: the doomed rows are locked `FOR UPDATE SKIP LOCKED` and a row
//! another purger deleted meanwhile is skipped. The keep rules stay true under concurrency
//! because the row they keep is the newest of its group, and rows are only ever added as
//! newer ones: no purger sees a newer row than the group's newest, so none deletes it.

use chrono::{DateTime, Utc};
use diesel::{prelude::*, sql_types};
use uuid::Uuid;

/// Where a sweep stands: the time and id of the last row it examined. Rows after it, in
/// `(time, id)` order, are examined next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mark<Id> {
    /// The row's time (`started_at`, `fetched_at`, `synced_at`).
    pub at: DateTime<Utc>,
    /// The row's id, which orders rows of the same time.
    pub id: Id,
}

impl Mark<Uuid> {
    /// Before every row of a table keyed by uuid.
    pub fn start() -> Self {
        Self {
            at: DateTime::UNIX_EPOCH,
            id: Uuid::nil(),
        }
    }
}

impl Mark<i64> {
    /// Before every row of a table keyed by a serial.
    pub fn start() -> Self {
        Self {
            at: DateTime::UNIX_EPOCH,
            id: i64::MIN,
        }
    }
}

/// What one batch of a sweep did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Swept<Id> {
    /// Rows examined (at most the batch's `limit`).
    pub scanned: i64,
    /// Rows deleted among them.
    pub deleted: i64,
    /// The last row examined, where the next batch starts; `None` when none was left.
    pub last: Option<Mark<Id>>,
}

impl<Id> Swept<Id> {
    /// Whether the sweep reached its cutoff: the batch found fewer rows than it could take.
    pub fn reached_cutoff(&self, limit: i64) -> bool {
        self.scanned < limit
    }
}

#[derive(QueryableByName)]
struct UuidBatch {
    #[diesel(sql_type = sql_types::BigInt)]
    scanned: i64,
    #[diesel(sql_type = sql_types::BigInt)]
    deleted: i64,
    #[diesel(sql_type = sql_types::Nullable<sql_types::Timestamptz>)]
    last_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = sql_types::Nullable<sql_types::Uuid>)]
    last_id: Option<Uuid>,
}

#[derive(QueryableByName)]
struct SerialBatch {
    #[diesel(sql_type = sql_types::BigInt)]
    scanned: i64,
    #[diesel(sql_type = sql_types::BigInt)]
    deleted: i64,
    #[diesel(sql_type = sql_types::Nullable<sql_types::Timestamptz>)]
    last_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = sql_types::Nullable<sql_types::BigInt>)]
    last_id: Option<i64>,
}

fn mark<Id>(at: Option<DateTime<Utc>>, id: Option<Id>) -> Option<Mark<Id>> {
    Some(Mark { at: at?, id: id? })
}

/// The tail every sweep statement ends with: delete the locked doomed rows, and answer how
/// many rows were examined and deleted and which was examined last.
const TAIL: &str =
    "gone AS (DELETE FROM {table} WHERE id IN (SELECT id FROM doomed) RETURNING 1), \
     last AS (SELECT {at}, id FROM scanned ORDER BY {at} DESC, id DESC LIMIT 1) \
     SELECT (SELECT count(*) FROM scanned) AS scanned, (SELECT count(*) FROM gone) AS deleted, \
        (SELECT {at} FROM last) AS last_at, (SELECT id FROM last) AS last_id";

fn tail(table: &str, at: &str) -> String {
    TAIL.replace("{table}", table).replace("{at}", at)
}

/// The sweeps, and their statements (public for the benchmark's `EXPLAIN`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sweep {
    /// [`sweep_post_attempts`]: `$1`, `$2` the mark, `$3` the cutoff, `$4` the limit.
    PostAttempts,
    /// [`sweep_post_metrics`]: `$1`, `$2` the mark, `$3` the cutoff, `$4` the limit.
    PostMetrics,
    /// [`sweep_account_metrics`]: `$1`, `$2` the mark, `$3` the end of full resolution, `$4`
    /// the limit, `$5` the horizon.
    AccountMetrics,
}

impl Sweep {
    /// The statement of one batch.
    pub fn statement(self) -> String {
        match self {
            Self::PostAttempts => format!(
                "WITH scanned AS ( \
                    SELECT id, target_id, attempt_no, started_at FROM post_attempts \
                    WHERE (started_at, id) > ($1, $2) AND started_at < $3 \
                    ORDER BY started_at, id LIMIT $4), \
                 doomed AS ( \
                    SELECT a.id FROM post_attempts a JOIN scanned s ON s.id = a.id \
                    WHERE EXISTS (SELECT 1 FROM post_attempts later \
                        WHERE later.target_id = s.target_id AND later.attempt_no > s.attempt_no) \
                    FOR UPDATE OF a SKIP LOCKED), {}",
                tail("post_attempts", "started_at")
            ),
            Self::PostMetrics => format!(
                "WITH scanned AS ( \
                    SELECT id, target_id, fetched_at FROM post_metrics \
                    WHERE (fetched_at, id) > ($1, $2) AND fetched_at < $3 \
                    ORDER BY fetched_at, id LIMIT $4), \
                 doomed AS ( \
                    SELECT m.id FROM post_metrics m JOIN scanned s ON s.id = m.id \
                    WHERE EXISTS (SELECT 1 FROM post_metrics later \
                        WHERE later.target_id = s.target_id \
                          AND (later.fetched_at, later.id) > (s.fetched_at, s.id)) \
                    FOR UPDATE OF m SKIP LOCKED), {}",
                tail("post_metrics", "fetched_at")
            ),
            Self::AccountMetrics => format!(
                "WITH scanned AS ( \
                    SELECT id, account_id, synced_at FROM account_metrics \
                    WHERE (synced_at, id) > ($1, $2) AND synced_at < $3 \
                    ORDER BY synced_at, id LIMIT $4), \
                 doomed AS ( \
                    SELECT m.id FROM account_metrics m JOIN scanned s ON s.id = m.id \
                    WHERE s.synced_at < $5 OR EXISTS (SELECT 1 FROM account_metrics later \
                        WHERE later.account_id = s.account_id \
                          AND (later.synced_at, later.id) > (s.synced_at, s.id) \
                          AND later.synced_at < date_trunc('day', s.synced_at, 'UTC') \
                              + interval '24 hours') \
                    FOR UPDATE OF m SKIP LOCKED), {}",
                tail("account_metrics", "synced_at")
            ),
        }
    }
}

/// One batch of the `post_attempts` sweep: of at most `limit` attempts after `after` that
/// started before `before`, deletes those that are not their target's last attempt (by
/// `attempt_no`).
///
/// The last attempt stays for good: it is what a recovered publisher reads to know a call is
/// in doubt, what numbers the next attempt (`post_targets.attempts`, and a deletion's
/// `max(attempt_no)`), what a thread continues from, and the post view then still shows how
/// each target went out. `before` must leave the publishing limits' window (24 h) alone:
/// `PostAttempt::counted_since` counts those attempts.
pub fn sweep_post_attempts(
    conn: &mut PgConnection,
    after: Mark<Uuid>,
    before: DateTime<Utc>,
    limit: i64,
) -> QueryResult<Swept<Uuid>> {
    let row: UuidBatch = diesel::sql_query(Sweep::PostAttempts.statement())
        .bind::<sql_types::Timestamptz, _>(after.at)
        .bind::<sql_types::Uuid, _>(after.id)
        .bind::<sql_types::Timestamptz, _>(before)
        .bind::<sql_types::BigInt, _>(limit)
        .get_result(conn)?;
    Ok(Swept {
        scanned: row.scanned,
        deleted: row.deleted,
        last: mark(row.last_at, row.last_id),
    })
}

/// One batch of the `post_metrics` sweep: of at most `limit` reads after `after` fetched
/// before `before`, deletes those that are not their target's latest (by `fetched_at`, then
/// `id`, the order `GET /v1/analytics` takes the latest read in), so the totals of any range
/// stay what they were.
pub fn sweep_post_metrics(
    conn: &mut PgConnection,
    after: Mark<i64>,
    before: DateTime<Utc>,
    limit: i64,
) -> QueryResult<Swept<i64>> {
    let row: SerialBatch = diesel::sql_query(Sweep::PostMetrics.statement())
        .bind::<sql_types::Timestamptz, _>(after.at)
        .bind::<sql_types::BigInt, _>(after.id)
        .bind::<sql_types::Timestamptz, _>(before)
        .bind::<sql_types::BigInt, _>(limit)
        .get_result(conn)?;
    Ok(Swept {
        scanned: row.scanned,
        deleted: row.deleted,
        last: mark(row.last_at, row.last_id),
    })
}

/// One batch of the `account_metrics` sweep: of at most `limit` samples after `after` synced
/// before `full_before` (the end of full resolution), deletes those synced before
/// `keep_before` and, of the others, each one followed by a later sample of its account on
/// the same UTC day: the day's last sample stays, one a day.
pub fn sweep_account_metrics(
    conn: &mut PgConnection,
    after: Mark<i64>,
    full_before: DateTime<Utc>,
    keep_before: DateTime<Utc>,
    limit: i64,
) -> QueryResult<Swept<i64>> {
    let row: SerialBatch = diesel::sql_query(Sweep::AccountMetrics.statement())
        .bind::<sql_types::Timestamptz, _>(after.at)
        .bind::<sql_types::BigInt, _>(after.id)
        .bind::<sql_types::Timestamptz, _>(full_before)
        .bind::<sql_types::BigInt, _>(limit)
        .bind::<sql_types::Timestamptz, _>(keep_before)
        .get_result(conn)?;
    Ok(Swept {
        scanned: row.scanned,
        deleted: row.deleted,
        last: mark(row.last_at, row.last_id),
    })
}

/// Where a sweep stood after its last batch, as stored in `retention_marks`.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct StoredMark {
    /// The time of the last row examined.
    #[diesel(sql_type = sql_types::Timestamptz)]
    pub mark_at: DateTime<Utc>,
    /// Its id, as text (a uuid or a serial).
    #[diesel(sql_type = sql_types::Text)]
    pub mark_id: String,
    /// When the sweep last started from the table's oldest row.
    #[diesel(sql_type = sql_types::Timestamptz)]
    pub rewound_at: DateTime<Utc>,
}

/// The stored position of `sweep` (its table's name), if it ever ran.
pub fn load_mark(conn: &mut PgConnection, sweep: &str) -> QueryResult<Option<StoredMark>> {
    diesel::sql_query("SELECT mark_at, mark_id, rewound_at FROM retention_marks WHERE sweep = $1")
        .bind::<sql_types::Text, _>(sweep)
        .get_result(conn)
        .optional()
}

/// Stores where `sweep` stands; `rewound`: it starts from the oldest row now. Replicas write
/// it side by side; the last write wins, and a mark a little behind only rereads a few rows.
pub fn save_mark(
    conn: &mut PgConnection,
    sweep: &str,
    at: DateTime<Utc>,
    id: &str,
    rewound: bool,
) -> QueryResult<()> {
    diesel::sql_query(
        "INSERT INTO retention_marks (sweep, mark_at, mark_id) VALUES ($1, $2, $3) \
         ON CONFLICT (sweep) DO UPDATE SET mark_at = EXCLUDED.mark_at, \
            mark_id = EXCLUDED.mark_id, updated_at = now(), \
            rewound_at = CASE WHEN $4 THEN now() ELSE retention_marks.rewound_at END",
    )
    .bind::<sql_types::Text, _>(sweep)
    .bind::<sql_types::Timestamptz, _>(at)
    .bind::<sql_types::Text, _>(id)
    .bind::<sql_types::Bool, _>(rewound)
    .execute(conn)
    .map(drop)
}
