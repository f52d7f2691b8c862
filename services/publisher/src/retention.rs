//! Retention of the publisher's own logs: `post_attempts` and `post_metrics` (the rules and
//! the shape of a sweep are in `db::retention`; the loop is `service_kit::retention`).
//!
//! - `post_attempts`: kept `post_attempts_days` (90). The attempt log is the post view's
//!   `attempt_log`, which users read when a post went wrong, so it stays a good while; each
//!   target's last attempt stays for good (it is state, not only history). Publishing limits
//!   count the attempts of the last 24 hours (`PostAttempt::counted_since`; the longest
//!   `PublishLimit` window is a day), so a retention under [`MIN_ATTEMPT_DAYS`] is refused.
//! - `post_metrics`: kept `post_metrics_days` (400, the longest `GET /v1/analytics` range);
//!   each target's latest read stays for good, so the totals of any range never change.

use std::time::Duration;

use chrono::Utc;
use db::{
    retention::{self, Mark},
    Db,
};
use events::{CancellationToken, EventMetrics};
use serde::Deserialize;
use service_kit::retention::{Cadence, Sweep, Sweeper};
use uuid::Uuid;

/// The shortest `post_attempts_days` accepted: publishing limits count a day of attempts, and
/// one more day keeps a pass that runs late, or a clock a little off, clear of it.
pub const MIN_ATTEMPT_DAYS: u64 = 2;

/// `[publisher.retention]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionSettings {
    /// Whether this publisher prunes at all (replicas may leave it to one another: passes of
    /// several replicas are harmless, so the default is on everywhere).
    pub enabled: bool,
    /// Seconds between two passes (a random tenth is added).
    pub interval_secs: u64,
    /// Rows examined (so at most deleted) per statement.
    pub batch_size: i64,
    /// Milliseconds between two statements of a pass.
    pub batch_pause_ms: u64,
    /// Hours between two sweeps from the oldest row (in between, a pass reads only rows that
    /// aged past the cutoff since the previous one). A rewound pass reads every kept row
    /// (one last attempt per target: 250,000 in 11 s on the benchmark), and all it can find
    /// are attempts of old targets tried again since (a retry, a deletion), so once a week.
    pub rewind_hours: u64,
    /// Days an attempt is kept; a target's last attempt is kept for good. At least
    /// [`MIN_ATTEMPT_DAYS`].
    pub post_attempts_days: u64,
    /// Days an engagement read is kept; a target's latest read is kept for good.
    pub post_metrics_days: u64,
}

impl Default for RetentionSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            interval_secs: 3600,
            batch_size: 5000,
            batch_pause_ms: 100,
            rewind_hours: 168,
            post_attempts_days: 90,
            post_metrics_days: 400,
        }
    }
}

impl RetentionSettings {
    /// Refuses a retention that would delete what the publisher still reads.
    pub fn validate(&self) -> Result<(), String> {
        if self.post_attempts_days < MIN_ATTEMPT_DAYS {
            return Err(format!(
                "[publisher.retention] post_attempts_days is {}, at least {MIN_ATTEMPT_DAYS}: \
                 publishing limits count the attempts of the last 24 hours",
                self.post_attempts_days
            ));
        }
        if self.post_metrics_days < 1 {
            return Err("[publisher.retention] post_metrics_days must be at least 1".into());
        }
        Ok(())
    }

    /// The loop's pacing.
    pub fn cadence(&self) -> Cadence {
        Cadence {
            interval: Duration::from_secs(self.interval_secs.max(1)),
            batch_size: self.batch_size.max(1),
            batch_pause: Duration::from_millis(self.batch_pause_ms),
            rewind_every: Duration::from_secs(self.rewind_hours.max(1) * 3600),
        }
    }

    /// The publisher's sweeps, attempts first.
    pub fn sweeps(&self) -> Vec<Box<dyn Sweep>> {
        let attempts = days(self.post_attempts_days);
        let reads = days(self.post_metrics_days);
        vec![
            Box::new(Sweeper::new(
                "post_attempts",
                Mark::<Uuid>::start(),
                move |conn: &mut db::PgConnection, mark, now: chrono::DateTime<Utc>, limit| {
                    retention::sweep_post_attempts(conn, mark, now - attempts, limit)
                },
            )),
            Box::new(Sweeper::new(
                "post_metrics",
                Mark::<i64>::start(),
                move |conn: &mut db::PgConnection, mark, now: chrono::DateTime<Utc>, limit| {
                    retention::sweep_post_metrics(conn, mark, now - reads, limit)
                },
            )),
        ]
    }
}

fn days(n: u64) -> chrono::Duration {
    // Capped far below chrono's range: a retention of a million days keeps everything anyway.
    chrono::Duration::days(i64::try_from(n).unwrap_or(1_000_000).min(1_000_000))
}

/// Prunes until `shutdown` (nothing when disabled).
pub async fn run(
    db: Db,
    settings: RetentionSettings,
    metrics: EventMetrics,
    shutdown: CancellationToken,
) {
    if !settings.enabled {
        tracing::info!("retention disabled ([publisher.retention] enabled = false)");
        return;
    }
    service_kit::retention::run(
        db,
        settings.sweeps(),
        settings.cadence(),
        metrics.retention_deleted,
        shutdown,
    )
    .await;
}

#[cfg(test)]
mod tests {
    use db::diesel::{self, sql_types, RunQueryDsl};
    use testkit::TestDb;

    use super::*;

    fn exec(conn: &mut db::PgConnection, sql: &str) {
        diesel::connection::SimpleConnection::batch_execute(conn, sql).unwrap();
    }

    fn count(conn: &mut db::PgConnection, sql: &str) -> i64 {
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = sql_types::BigInt)]
            n: i64,
        }
        diesel::sql_query(sql).get_result::<N>(conn).unwrap().n
    }

    #[test]
    fn the_shipped_configuration_keeps_attempts_90_days_and_reads_400() {
        let loaded = service_kit::config::load_from(
            &testkit::workspace_root().join("config"),
            "development",
        )
        .unwrap();
        let settings = crate::configuration::from(&loaded).unwrap();
        assert_eq!(settings.service.retention, RetentionSettings::default());
        assert_eq!(settings.service.retention.post_attempts_days, 90);
        assert_eq!(settings.service.retention.post_metrics_days, 400);
        assert_eq!(settings.service.retention.validate(), Ok(()));
    }

    #[test]
    fn retention_keys_are_overridden_by_the_environment_like_every_other_key() {
        // nextest runs each test in its own process, so the variable reaches no other test.
        std::env::set_var("POSTBRIDGE__PUBLISHER__RETENTION__POST_ATTEMPTS_DAYS", "30");
        std::env::set_var("POSTBRIDGE__EVENTS__RETENTION__OUTBOX_SENT_HOURS", "6");
        let loaded = service_kit::config::load_from(
            &testkit::workspace_root().join("config"),
            "development",
        )
        .unwrap();
        let settings = crate::configuration::from(&loaded).unwrap();
        assert_eq!(settings.service.retention.post_attempts_days, 30);
        assert_eq!(settings.service.retention.post_metrics_days, 400);
        let relay = settings.common.events.relay();
        assert_eq!(relay.sent_retention, Duration::from_secs(6 * 3600));
        assert_eq!(relay.inbox_retention, Duration::from_secs(7 * 24 * 3600));
        assert_eq!(relay.purge_batch, 5000);
    }

    /// Runs one pass of every sweep of `settings`, as a freshly started publisher would.
    async fn fresh_pass(test_db: &TestDb, settings: &RetentionSettings) -> Vec<u64> {
        let metrics = EventMetrics::unregistered();
        let db = test_db.db();
        let mut deleted = Vec::new();
        for mut sweep in settings.sweeps() {
            deleted.push(
                service_kit::retention::pass(
                    &db,
                    sweep.as_mut(),
                    &settings.cadence(),
                    &metrics.retention_deleted,
                    &CancellationToken::new(),
                )
                .await,
            );
        }
        deleted
    }

    #[tokio::test]
    async fn a_restarted_publisher_continues_from_the_stored_mark_and_rewinds_when_due() {
        let test_db = TestDb::new();
        let conn = &mut test_db.conn();
        exec(
            conn,
            "INSERT INTO social_accounts (id, owner_id, platform, platform_account_id, \
                account_kind) \
             VALUES ('00000000-0000-0000-0000-00000000000c', 'o', 'sandbox', 'c', 'profile'); \
             INSERT INTO posts (id, owner_id, text) \
             VALUES ('00000000-0000-0000-0000-0000000000d1', 'o', 'x'); \
             INSERT INTO post_targets (id, post_id, account_id, platform, text, due_at, \
                next_attempt_at, status) \
             VALUES ('00000000-0000-0000-0000-0000000000e1', \
                '00000000-0000-0000-0000-0000000000d1', \
                '00000000-0000-0000-0000-00000000000c', 'sandbox', 'x', now(), now(), \
                'published'); \
             INSERT INTO post_attempts (target_id, account_id, attempt_no, started_at, outcome) \
             VALUES ('00000000-0000-0000-0000-0000000000e1', \
                '00000000-0000-0000-0000-00000000000c', 1, now() - interval '200 days', \
                'success')",
        );
        let settings = RetentionSettings {
            batch_pause_ms: 0,
            ..RetentionSettings::default()
        };
        // The only attempt is the target's last: kept, and the sweep's mark is past it.
        assert_eq!(fresh_pass(&test_db, &settings).await, vec![0, 0]);
        assert!(db::retention::load_mark(conn, "post_attempts")
            .unwrap()
            .is_some());
        // A year later the post is deleted: its publish attempt is no longer the last, but it
        // lies behind the mark. A restarted publisher continues from the mark (one more row
        // read, nothing deleted) until the rewind is due.
        exec(
            conn,
            "INSERT INTO post_attempts (target_id, account_id, attempt_no, started_at, outcome, \
                kind) \
             VALUES ('00000000-0000-0000-0000-0000000000e1', \
                '00000000-0000-0000-0000-00000000000c', 2, now() - interval '100 days', \
                'success', 'delete')",
        );
        assert_eq!(fresh_pass(&test_db, &settings).await, vec![0, 0]);
        exec(
            conn,
            "UPDATE retention_marks SET rewound_at = now() - interval '169 hours'",
        );
        assert_eq!(fresh_pass(&test_db, &settings).await, vec![1, 0]);
        assert_eq!(
            count(
                conn,
                "SELECT count(*) AS n FROM post_attempts WHERE attempt_no = 2"
            ),
            1
        );
        assert_eq!(count(conn, "SELECT count(*) AS n FROM post_attempts"), 1);
    }

    #[test]
    fn a_retention_inside_the_publishing_limits_window_is_refused() {
        let short = RetentionSettings {
            post_attempts_days: 1,
            ..RetentionSettings::default()
        };
        assert!(short
            .validate()
            .unwrap_err()
            .contains("post_attempts_days is 1, at least 2"));
        let shortest = RetentionSettings {
            post_attempts_days: MIN_ATTEMPT_DAYS,
            ..RetentionSettings::default()
        };
        assert_eq!(shortest.validate(), Ok(()));
    }

    #[tokio::test]
    async fn a_retention_pass_prunes_old_attempts_and_reads_in_bounded_batches_and_counts_them() {
        let test_db = TestDb::new();
        let conn = &mut test_db.conn();
        exec(
            conn,
            "INSERT INTO social_accounts (id, owner_id, platform, platform_account_id, \
                account_kind) \
             VALUES ('00000000-0000-0000-0000-00000000000a', 'o', 'sandbox', 'a', 'profile')",
        );
        // 30 published targets: two attempts 120 and 100 days ago, and reads 500, 450 and
        // 10 days ago (the last is the latest; the two before it expired).
        exec(
            conn,
            "WITH p AS (INSERT INTO posts (id, owner_id, text) \
                SELECT gen_random_uuid(), 'o', 'x' FROM generate_series(1, 30) RETURNING id), \
             t AS (INSERT INTO post_targets (id, post_id, account_id, platform, text, due_at, \
                next_attempt_at, status) \
                SELECT gen_random_uuid(), p.id, '00000000-0000-0000-0000-00000000000a', \
                    'sandbox', 'x', now(), now(), 'published' FROM p RETURNING id), \
             a AS (INSERT INTO post_attempts (target_id, account_id, attempt_no, started_at, \
                outcome) \
                SELECT t.id, '00000000-0000-0000-0000-00000000000a', n, \
                    now() - (140 - 20 * n) * interval '1 day', 'success' \
                FROM t, generate_series(1, 2) n) \
             INSERT INTO post_metrics (target_id, fetched_at, likes) \
             SELECT t.id, now() - d * interval '1 day', d FROM t, \
                (VALUES (500), (450), (10)) v(d)",
        );
        let settings = RetentionSettings {
            batch_size: 7,
            batch_pause_ms: 0,
            ..RetentionSettings::default()
        };
        let metrics = EventMetrics::unregistered();
        let shutdown = CancellationToken::new();
        let db = test_db.db();
        let mut deleted = Vec::new();
        for mut sweep in settings.sweeps() {
            deleted.push(
                service_kit::retention::pass(
                    &db,
                    sweep.as_mut(),
                    &settings.cadence(),
                    &metrics.retention_deleted,
                    &shutdown,
                )
                .await,
            );
        }

        assert_eq!(deleted, vec![30, 60]);
        for (table, n) in [("post_attempts", 30), ("post_metrics", 60)] {
            assert_eq!(
                metrics.retention_deleted.with_label_values(&[table]).get(),
                n
            );
        }
        assert_eq!(
            count(
                conn,
                "SELECT count(*) AS n FROM post_attempts WHERE attempt_no = 2"
            ),
            30,
            "each target's last attempt stays"
        );
        assert_eq!(count(conn, "SELECT count(*) AS n FROM post_attempts"), 30);
        assert_eq!(
            count(
                conn,
                "SELECT count(*) AS n FROM post_metrics WHERE fetched_at > now() - \
                 interval '11 days'"
            ),
            30
        );
        assert_eq!(count(conn, "SELECT count(*) AS n FROM post_metrics"), 30);
    }
}
