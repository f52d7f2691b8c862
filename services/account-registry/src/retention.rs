//! Retention of `account_metrics`, the account series this service records at every sync (the
//! rule and the shape of a sweep are in `db::retention`; the loop is
//! `service_kit::retention`).
//!
//! Every sample is kept `account_metrics_full_days` (30): a month at the sync's resolution
//! (four a day by default). Older ones are downsampled to the last sample of each UTC day, and
//! none is kept past `account_metrics_days` (400, the longest `GET /v1/analytics` range).
//! Followers move slowly: a daily point loses nothing a year-long chart shows, and it cuts an
//! account's year from ~1,460 rows to ~485 (30 days × 4 + 365).

use std::time::Duration;

use chrono::{DateTime, Utc};
use db::{
    retention::{self, Mark},
    Db,
};
use events::{CancellationToken, EventMetrics};
use serde::Deserialize;
use service_kit::retention::{Cadence, Sweep, Sweeper};

/// `[account_registry.retention]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionSettings {
    /// Whether this replica prunes at all (several replicas pruning is harmless).
    pub enabled: bool,
    /// Seconds between two passes (a random tenth is added).
    pub interval_secs: u64,
    /// Rows examined (so at most deleted) per statement.
    pub batch_size: i64,
    /// Milliseconds between two statements of a pass.
    pub batch_pause_ms: u64,
    /// Days every sample is kept; older ones are kept one per UTC day (the day's last).
    pub account_metrics_full_days: u64,
    /// Days any sample is kept. At least `account_metrics_full_days`.
    pub account_metrics_days: u64,
}

impl Default for RetentionSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            interval_secs: 3600,
            batch_size: 5000,
            batch_pause_ms: 100,
            account_metrics_full_days: 30,
            account_metrics_days: 400,
        }
    }
}

impl RetentionSettings {
    /// Refuses a horizon shorter than the full-resolution period.
    pub fn validate(&self) -> Result<(), String> {
        if self.account_metrics_days < self.account_metrics_full_days {
            return Err(format!(
                "[account_registry.retention] account_metrics_days ({}) is shorter than \
                 account_metrics_full_days ({})",
                self.account_metrics_days, self.account_metrics_full_days
            ));
        }
        Ok(())
    }

    /// The loop's pacing. The sweep needs no rewind: a sample older than the full-resolution
    /// period never becomes deletable later than when the sweep passed it (its day is over), so
    /// the mark only restarts once a day to pick up what a failed pass left behind.
    pub fn cadence(&self) -> Cadence {
        Cadence {
            interval: Duration::from_secs(self.interval_secs.max(1)),
            batch_size: self.batch_size.max(1),
            batch_pause: Duration::from_millis(self.batch_pause_ms),
            rewind_every: Duration::from_secs(24 * 3600),
        }
    }

    /// The sweep of `account_metrics`.
    pub fn sweeps(&self) -> Vec<Box<dyn Sweep>> {
        let full = days(self.account_metrics_full_days);
        let keep = days(self.account_metrics_days);
        vec![Box::new(Sweeper::new(
            "account_metrics",
            Mark::<i64>::start(),
            move |conn: &mut db::PgConnection, mark, now: DateTime<Utc>, limit| {
                retention::sweep_account_metrics(conn, mark, now - full, now - keep, limit)
            },
        ))]
    }
}

fn days(n: u64) -> chrono::Duration {
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
        tracing::info!("retention disabled ([account_registry.retention] enabled = false)");
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

    fn count(conn: &mut db::PgConnection, sql: &str) -> i64 {
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = sql_types::BigInt)]
            n: i64,
        }
        diesel::sql_query(sql).get_result::<N>(conn).unwrap().n
    }

    #[test]
    fn the_shipped_configuration_keeps_a_month_whole_and_400_days_daily() {
        let loaded = service_kit::config::load_from(
            &testkit::workspace_root().join("config"),
            "development",
        )
        .unwrap();
        let settings = crate::configuration::from(&loaded).unwrap();
        assert_eq!(settings.service.retention, RetentionSettings::default());
        assert_eq!(settings.service.retention.account_metrics_full_days, 30);
        assert_eq!(settings.service.retention.account_metrics_days, 400);
        assert_eq!(settings.service.retention.validate(), Ok(()));
    }

    #[test]
    fn a_horizon_shorter_than_the_full_resolution_month_is_refused() {
        let settings = RetentionSettings {
            account_metrics_days: 20,
            ..RetentionSettings::default()
        };
        assert!(settings.validate().unwrap_err().contains("(20) is shorter"));
    }

    #[tokio::test]
    async fn a_retention_pass_downsamples_old_samples_to_one_a_day_and_counts_them() {
        let test_db = TestDb::new();
        let conn = &mut test_db.conn();
        diesel::sql_query(
            "INSERT INTO social_accounts (id, owner_id, platform, platform_account_id, \
                account_kind) \
             VALUES ('00000000-0000-0000-0000-00000000000b', 'o', 'sandbox', 'b', 'profile')",
        )
        .execute(conn)
        .unwrap();
        // Four samples on each of the 10 UTC days ending 41 days ago, four 5 days ago, and
        // four 500 days ago.
        diesel::sql_query(
            "INSERT INTO account_metrics (account_id, synced_at, followers) \
             SELECT '00000000-0000-0000-0000-00000000000b', \
                date_trunc('day', now(), 'UTC') - d * interval '1 day' + h * interval '6 hours', \
                d * 10 + h \
             FROM (SELECT generate_series(41, 50) UNION ALL SELECT 5 UNION ALL SELECT 500) v(d), \
                generate_series(0, 3) h",
        )
        .execute(conn)
        .unwrap();
        let settings = RetentionSettings {
            batch_size: 9,
            batch_pause_ms: 0,
            ..RetentionSettings::default()
        };
        let metrics = EventMetrics::unregistered();
        let db = test_db.db();
        let mut sweeps = settings.sweeps();
        let deleted = service_kit::retention::pass(
            &db,
            sweeps[0].as_mut(),
            &settings.cadence(),
            &metrics.retention_deleted,
            &CancellationToken::new(),
        )
        .await;

        // 10 old days lose 3 each, the 400-days-old day all 4, the recent day none.
        assert_eq!(deleted, 34);
        assert_eq!(
            metrics
                .retention_deleted
                .with_label_values(&["account_metrics"])
                .get(),
            34
        );
        assert_eq!(
            count(
                conn,
                "SELECT count(*) AS n FROM account_metrics \
                 WHERE synced_at < now() - interval '30 days' AND followers % 10 = 3"
            ),
            10,
            "each old day keeps its last sample (18:00)"
        );
        assert_eq!(count(conn, "SELECT count(*) AS n FROM account_metrics"), 14);
    }
}
