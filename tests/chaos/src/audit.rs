//! The audit after a scenario: what the database says, what platform-sim recorded, and what
//! an independent queue bound to `post.#` and `token.#` received.

use std::{
    collections::{HashMap, HashSet},
    time::Duration,
};

use anyhow::Context;
use chrono::{DateTime, Utc};
use diesel::{sql_types, QueryableByName, RunQueryDsl};
use futures_util::StreamExt;
use lapin::{
    options::{BasicAckOptions, BasicConsumeOptions},
    types::FieldTable,
};
use serde_json::Value;

/// The audit queue: bound before the burst, drained after it.
pub const AUDIT_QUEUE: &str = "chaos.audit";

/// Declares the audit queue on the system's exchange (which the services declared at start).
pub async fn bind_audit_queue(amqp_url: &str) -> anyhow::Result<()> {
    let conn = events::connect(amqp_url, "chaos-audit").await?;
    let channel = conn.create_channel().await?;
    let mut queue = events::QueueSpec::new(AUDIT_QUEUE, &["post.#", "token.#"]);
    queue.delivery_limit = 1_000;
    events::declare(&channel, &events::Topology::default(), &[queue]).await?;
    conn.close(200, "bound").await?;
    Ok(())
}

/// The events the audit queue received, by type: the ids they name.
#[derive(Debug, Default)]
pub struct Received {
    /// `post.published` / `post.failed` target ids.
    pub published: HashSet<String>,
    pub failed: HashSet<String>,
    /// Accounts named by a `token.refreshed`.
    pub refreshed: HashSet<String>,
}

/// Reads the audit queue until it stays empty for three seconds.
pub async fn drain_audit_queue(amqp_url: &str) -> anyhow::Result<Received> {
    let conn = events::connect(amqp_url, "chaos-audit").await?;
    let channel = conn.create_channel().await?;
    channel
        .basic_qos(500, lapin::options::BasicQosOptions::default())
        .await?;
    let mut consumer = channel
        .basic_consume(
            AUDIT_QUEUE,
            "chaos-audit",
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await?;
    let mut received = Received::default();
    while let Ok(Some(delivery)) =
        tokio::time::timeout(Duration::from_secs(3), consumer.next()).await
    {
        let delivery = delivery?;
        let envelope: Value = serde_json::from_slice(&delivery.data)?;
        let data = &envelope["data"];
        let id = |key: &str| data[key].as_str().unwrap_or_default().to_owned();
        match envelope["type"].as_str().unwrap_or_default() {
            "post.published" => {
                received.published.insert(id("target_id"));
            }
            "post.failed" => {
                received.failed.insert(id("target_id"));
            }
            "token.refreshed" => {
                received.refreshed.insert(id("account_id"));
            }
            _ => {}
        }
        delivery.ack(BasicAckOptions::default()).await?;
    }
    let _ = conn.close(200, "drained").await;
    Ok(received)
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = sql_types::BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = sql_types::Text)]
    id: String,
}

#[derive(QueryableByName)]
struct Published {
    #[diesel(sql_type = sql_types::Timestamptz)]
    due_at: DateTime<Utc>,
    #[diesel(sql_type = sql_types::Timestamptz)]
    published_at: DateTime<Utc>,
}

fn count(conn: &mut db::PgConnection, sql: &str) -> anyhow::Result<i64> {
    Ok(diesel::sql_query(sql).get_result::<Count>(conn)?.n)
}

fn ids(conn: &mut db::PgConnection, sql: &str) -> anyhow::Result<HashSet<String>> {
    Ok(diesel::sql_query(sql)
        .load::<Id>(conn)?
        .into_iter()
        .map(|r| r.id)
        .collect())
}

/// Targets not yet in a final state.
const UNFINISHED: &str =
    "SELECT count(*) AS n FROM post_targets WHERE status NOT IN ('published', 'failed', 'canceled')";

/// Waits until nothing moves: every target final and the outbox sent, or no progress for
/// `patience` (what is left then is stuck). Returns when it stopped moving.
pub async fn settle(
    conn: &mut db::PgConnection,
    patience: Duration,
    deadline: Duration,
) -> anyhow::Result<()> {
    let started = tokio::time::Instant::now();
    let mut last = (i64::MIN, i64::MIN);
    let mut last_change = tokio::time::Instant::now();
    let mut last_report = tokio::time::Instant::now();
    loop {
        let now = (
            count(conn, UNFINISHED)?,
            count(
                conn,
                "SELECT count(*) AS n FROM outbox WHERE sent_at IS NULL",
            )?,
        );
        if now == (0, 0) {
            return Ok(());
        }
        if now != last {
            last = now;
            last_change = tokio::time::Instant::now();
        }
        if last_change.elapsed() > patience || started.elapsed() > deadline {
            eprintln!(
                "[chaos] nothing moved for {patience:?}: {} targets unfinished, {} events unsent",
                now.0, now.1
            );
            return Ok(());
        }
        if last_report.elapsed() > Duration::from_secs(10) {
            last_report = tokio::time::Instant::now();
            eprintln!(
                "[chaos] waiting: {} targets unfinished, {} events unsent",
                now.0, now.1
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[derive(QueryableByName)]
struct Straggler {
    #[diesel(sql_type = sql_types::Text)]
    id: String,
    #[diesel(sql_type = sql_types::Double)]
    late_s: f64,
    #[diesel(sql_type = sql_types::Text)]
    attempts: String,
}

/// The targets due before the fault ended that were published last, with their attempts:
/// printed when a recovery is slow, so the line explains itself.
pub fn print_stragglers(conn: &mut db::PgConnection, end: DateTime<Utc>) -> anyhow::Result<()> {
    let rows: Vec<Straggler> = diesel::sql_query(
        "SELECT t.id::text AS id, \
                EXTRACT(EPOCH FROM (t.published_at - $1))::float8 AS late_s, \
                coalesce((SELECT string_agg(a.outcome || '/' || coalesce(a.error_code, '-') || '@' \
                            || to_char(a.started_at, 'HH24:MI:SS.MS'), ' ' ORDER BY a.attempt_no) \
                          FROM post_attempts a WHERE a.target_id = t.id), '') AS attempts \
         FROM post_targets t WHERE t.status = 'published' AND t.due_at < $1 \
         ORDER BY t.published_at DESC LIMIT 5",
    )
    .bind::<sql_types::Timestamptz, _>(end)
    .load(conn)?;
    for r in rows {
        eprintln!(
            "[chaos]   published {:.1} s after the fault: target {} attempts: {}",
            r.late_s, r.id, r.attempts
        );
    }
    Ok(())
}

/// The figures of one scenario's line.
#[derive(Debug)]
pub struct Report {
    pub posts: i64,
    pub published: i64,
    pub failed: i64,
    pub stuck: i64,
    pub duplicates: usize,
    pub lost_events: usize,
    pub wrongly_failed: i64,
    pub needs_reauth: i64,
    pub double_refreshes: i64,
    pub refreshes: i64,
    pub repeated_calls: usize,
    pub recovery_s: f64,
    pub unclosable: i64,
}

/// When the fault was on, for `recovery_s`.
#[derive(Debug, Clone, Copy)]
pub struct FaultWindow {
    pub first_due: DateTime<Utc>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// Refreshes the platform had rotated but not yet answered when the process holding them
    /// died: no design can save these (the new token existed only in the platform's answer),
    /// so each costs one reconnect and shows as one rejected reuse of the old token.
    pub unclosable: i64,
}

/// Audits the settled system.
pub async fn audit(
    conn: &mut db::PgConnection,
    sim_url: &str,
    received: &Received,
    window: FaultWindow,
) -> anyhow::Result<Report> {
    let published = ids(
        conn,
        "SELECT id::text AS id FROM post_targets WHERE status = 'published'",
    )?;
    let failed = ids(
        conn,
        "SELECT id::text AS id FROM post_targets WHERE status = 'failed'",
    )?;
    let refreshed_accounts = ids(
        conn,
        "SELECT id::text AS id FROM social_accounts WHERE last_refreshed_at IS NOT NULL",
    )?;
    let lost_events = published.difference(&received.published).count()
        + failed.difference(&received.failed).count()
        + refreshed_accounts.difference(&received.refreshed).count();

    let http = reqwest::Client::new();
    let posts: Vec<Value> = http
        .get(format!("{sim_url}/_sim/posts"))
        .send()
        .await?
        .json()
        .await
        .context("platform-sim's posts")?;
    let stats: Value = http
        .get(format!("{sim_url}/_sim/stats"))
        .send()
        .await?
        .json()
        .await
        .context("platform-sim's stats")?;
    let mut per_key: HashMap<String, usize> = HashMap::new();
    let mut repeated_calls = 0;
    for post in &posts {
        let key = post["idempotency_key"]
            .as_str()
            .unwrap_or("(none)")
            .to_owned();
        *per_key.entry(key).or_default() += 1;
        repeated_calls += post["create_calls"].as_u64().unwrap_or(1).saturating_sub(1) as usize;
    }
    let duplicates = posts.len() - per_key.len();

    let timeline: Vec<(DateTime<Utc>, DateTime<Utc>)> = diesel::sql_query(
        "SELECT due_at, published_at FROM post_targets WHERE status = 'published' \
         ORDER BY published_at",
    )
    .load::<Published>(conn)?
    .into_iter()
    .map(|r| (r.due_at, r.published_at))
    .collect();

    Ok(Report {
        posts: count(conn, "SELECT count(*) AS n FROM posts")?,
        published: published.len() as i64,
        failed: failed.len() as i64,
        stuck: count(conn, UNFINISHED)?,
        duplicates,
        lost_events,
        wrongly_failed: count(
            conn,
            "SELECT count(*) AS n FROM post_targets t JOIN social_accounts a ON a.id = t.account_id \
             WHERE t.status = 'failed' AND a.status = 'active'",
        )?,
        needs_reauth: count(
            conn,
            "SELECT count(*) AS n FROM social_accounts WHERE status = 'needs_reauth'",
        )?,
        double_refreshes: stats["refresh_reuse_rejections"].as_i64().unwrap_or(-1),
        refreshes: stats["refreshes"].as_i64().unwrap_or(-1),
        repeated_calls,
        recovery_s: recovery_secs(&timeline, window),
        unclosable: window.unclosable,
    })
}

/// Seconds from the fault's end until publishing is back to normal: the later of
/// - the rate: the start of the first one-second window after the fault in which at least 80 %
///   of the pre-fault rate was published (or the last publish, if the rate never came back), and
/// - the backlog: the last publish of a target that was due before the fault ended (what a dead
///   replica held, what waited for the database), so stragglers count, not just the stream.
///
/// `timeline` is `(due_at, published_at)` ordered by `published_at`.
pub fn recovery_secs(timeline: &[(DateTime<Utc>, DateTime<Utc>)], window: FaultWindow) -> f64 {
    let secs = |at: DateTime<Utc>| (at - window.end).num_milliseconds().max(0) as f64 / 1000.0;
    let backlog = timeline
        .iter()
        .filter(|(due, _)| *due < window.end)
        .map(|(_, published)| secs(*published))
        .fold(0.0, f64::max);
    let before = timeline
        .iter()
        .filter(|(_, at)| *at >= window.first_due && *at < window.start)
        .count();
    let pre_secs = (window.start - window.first_due).num_milliseconds().max(1) as f64 / 1000.0;
    let full_rate = before as f64 / pre_secs;
    let after: Vec<DateTime<Utc>> = timeline
        .iter()
        .map(|(_, at)| *at)
        .filter(|at| *at >= window.end)
        .collect();
    let Some(last) = after.last() else {
        return backlog;
    };
    let mut from = 0;
    for (i, at) in after.iter().enumerate() {
        while after[from] + chrono::Duration::seconds(1) <= *at {
            from += 1;
        }
        if (i + 1 - from) as f64 >= 0.8 * full_rate {
            return backlog.max(secs(after[from]));
        }
    }
    backlog.max(secs(*last))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: i64) -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + chrono::Duration::milliseconds(ms)
    }

    #[test]
    fn recovery_is_when_the_rate_is_back_not_the_first_trickle() {
        // 10/s for 5 s, a fault from 5 s to 6 s, one post at 8 s, full rate from 12 s.
        let mut published: Vec<_> = (0..50).map(|i| (at(i * 100), at(i * 100))).collect();
        published.push((at(7_900), at(8_000)));
        published.extend((0..20).map(|i| (at(11_900 + i * 100), at(12_000 + i * 100))));
        let window = FaultWindow {
            first_due: at(0),
            start: at(5_000),
            end: at(6_000),
            unclosable: 0,
        };
        assert_eq!(recovery_secs(&published, window), 6.0);
    }

    #[test]
    fn recovery_is_zero_when_nothing_was_left_after_the_fault() {
        let published: Vec<_> = (0..50).map(|i| (at(i * 100), at(i * 100))).collect();
        let window = FaultWindow {
            first_due: at(0),
            start: at(5_000),
            end: at(6_000),
            unclosable: 0,
        };
        assert_eq!(recovery_secs(&published, window), 0.0);
    }

    #[test]
    fn recovery_waits_for_the_targets_a_dead_replica_held() {
        // Full rate again at once, but a target due at 4.9 s (held by the dead replica) is only
        // published at 30 s.
        let mut published: Vec<_> = (0..50).map(|i| (at(i * 100), at(i * 100))).collect();
        published.extend((0..20).map(|i| (at(6_000 + i * 100), at(6_000 + i * 100))));
        published.push((at(4_900), at(30_000)));
        let window = FaultWindow {
            first_due: at(0),
            start: at(5_000),
            end: at(6_000),
            unclosable: 0,
        };
        assert_eq!(recovery_secs(&published, window), 24.0);
    }
}
