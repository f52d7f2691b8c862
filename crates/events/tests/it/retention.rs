//! The relay's housekeeping: sent outbox rows and old inbox markers purged in bounded batches,
//! in a task of its own, counted in `postbridge_retention_deleted_total`.

use std::time::Duration;

use db::diesel::{self, RunQueryDsl};
use events::{EventMetrics, Relay, RelaySettings};
use testkit::TestDb;

use crate::support::{spawn, Fixture};

fn count(db: &db::Db, table: &str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = db.get().unwrap();
    diesel::sql_query(format!("SELECT count(*) AS n FROM {table}"))
        .get_result::<N>(&mut conn)
        .unwrap()
        .n
}

#[tokio::test(flavor = "multi_thread")]
async fn the_relay_purges_expired_sent_rows_and_markers_in_batches_and_counts_them() {
    let test_db = TestDb::new();
    let db = test_db.db();
    let amqp = testkit::amqp_url();
    let fixture = Fixture::new(&amqp).await;
    let mut conn = test_db.conn();
    // 23 rows sent two days ago, 4 sent just now; 12 markers 8 days old, 3 fresh.
    diesel::sql_query(
        "INSERT INTO outbox (id, event_type, envelope, created_at, sent_at) \
         SELECT gen_random_uuid(), 't', '{}', now() - interval '2 days', \
            CASE WHEN g <= 23 THEN now() - interval '2 days' ELSE now() END \
         FROM generate_series(1, 27) g",
    )
    .execute(&mut conn)
    .unwrap();
    diesel::sql_query(
        "INSERT INTO processed_events (consumer, event_id, processed_at) \
         SELECT 'c', gen_random_uuid(), CASE WHEN g <= 12 THEN now() - interval '8 days' \
            ELSE now() END FROM generate_series(1, 15) g",
    )
    .execute(&mut conn)
    .unwrap();
    let metrics = EventMetrics::unregistered();
    let settings = RelaySettings {
        purge_batch: 5,
        housekeeping_interval: Duration::from_millis(200),
        ..RelaySettings::default()
    };
    let relay = Relay::new(
        db.clone(),
        &amqp,
        "events-tests",
        fixture.topology.clone(),
        settings,
        metrics.clone(),
    );
    let (stop, handle) = spawn(relay);

    let db_for_check = db.clone();
    testkit::eventually(Duration::from_secs(20), "the purge", move || {
        let db = db_for_check.clone();
        async move {
            let left = (count(&db, "outbox"), count(&db, "processed_events"));
            (left == (4, 3)).then_some(())
        }
    })
    .await;
    stop.cancel();
    handle.await.unwrap();

    let deleted = |table: &str| metrics.retention_deleted.with_label_values(&[table]).get();
    assert_eq!(deleted("outbox"), 23);
    assert_eq!(deleted("processed_events"), 12);
}
