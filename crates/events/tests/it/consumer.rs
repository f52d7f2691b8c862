use std::{
    sync::{
        atomic::{AtomicU32, Ordering},
        Arc,
    },
    time::Duration,
};

use db::diesel::{sql_query, sql_types::Uuid as SqlUuid, RunQueryDsl};
use events::{
    run_consumer, CancellationToken, Committed, ConsumerSettings, Envelope, EventMetrics, Handler,
    HandlerError, Incoming,
};
use lapin::{options::BasicPublishOptions, BasicProperties};
use testkit::TestDb;

use crate::support::{connected, Fixture};

/// Records each handled event in `effects`; fails on demand.
struct Recorder {
    calls: AtomicU32,
    fail_after_commit_once: bool,
    always_fail: bool,
    duplicates: AtomicU32,
}

impl Handler for Recorder {
    async fn handle(&self, incoming: &Incoming) -> Result<(), HandlerError> {
        let call = self.calls.fetch_add(1, Ordering::SeqCst);
        if self.always_fail {
            return Err(HandlerError::Retry("platform unavailable".into()));
        }
        let id = incoming.envelope.id.0;
        let committed = incoming
            .commit(move |conn| {
                sql_query("INSERT INTO effects (event_id) VALUES ($1)")
                    .bind::<SqlUuid, _>(id)
                    .execute(conn)?;
                Ok(())
            })
            .await?;
        if committed == Committed::Duplicate {
            // Two copies raced past the consumer's pre-check; the inbox row rolled this one back.
            self.duplicates.fetch_add(1, Ordering::SeqCst);
        }
        if self.fail_after_commit_once && call == 0 {
            // The work committed but the ack is lost (as if the consumer crashed): the broker
            // redelivers, and the redelivery must have no effect.
            return Err(HandlerError::Retry("crash after commit".into()));
        }
        Ok(())
    }
}

fn effects(test_db: &TestDb) -> i64 {
    #[derive(db::diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = db::diesel::sql_types::BigInt)]
        n: i64,
    }
    let row: Count = sql_query("SELECT count(*) AS n FROM effects")
        .get_result(&mut test_db.conn())
        .unwrap();
    row.n
}

async fn publish_raw(fixture: &Fixture, envelope: &Envelope<events::AccountConnected>) {
    fixture
        .channel
        .basic_publish(
            &fixture.topology.exchange,
            "account.connected",
            BasicPublishOptions::default(),
            &serde_json::to_vec(envelope).unwrap(),
            BasicProperties::default().with_delivery_mode(2),
        )
        .await
        .unwrap()
        .await
        .unwrap();
}

async fn start(
    test_db: &TestDb,
    fixture: &Fixture,
    handler: Arc<Recorder>,
) -> (CancellationToken, tokio::task::JoinHandle<()>) {
    sql_query("CREATE TABLE IF NOT EXISTS effects (event_id uuid NOT NULL)")
        .execute(&mut test_db.conn())
        .unwrap();
    let stop = CancellationToken::new();
    let handle = tokio::spawn(run_consumer(
        testkit::amqp_url(),
        fixture.topology.clone(),
        ConsumerSettings::new(fixture.queue.clone()),
        test_db.db(),
        handler,
        EventMetrics::unregistered(),
        stop.clone(),
    ));
    (stop, handle)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redelivered_event_is_handled_once() {
    let test_db = TestDb::new();
    let fixture = Fixture::new(&testkit::amqp_url()).await;
    let handler = Arc::new(Recorder {
        calls: AtomicU32::new(0),
        fail_after_commit_once: true,
        always_fail: false,
        duplicates: AtomicU32::new(0),
    });
    let (stop, consumer) = start(&test_db, &fixture, handler.clone()).await;

    // The same event twice on the wire (an at-least-once relay may do that) ...
    let envelope = Envelope::new("events-tests", connected(1));
    publish_raw(&fixture, &envelope).await;
    publish_raw(&fixture, &envelope).await;
    // ... and the first delivery's ack is lost after its commit, so the broker redelivers it.
    testkit::eventually(
        Duration::from_secs(15),
        "the first delivery to be handled",
        || async { (handler.calls.load(Ordering::SeqCst) >= 1).then_some(()) },
    )
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.cancel();
    consumer.await.unwrap();

    let rolled_back = handler.duplicates.load(Ordering::SeqCst);
    assert_eq!(
        effects(&test_db),
        1,
        "the effect is applied exactly once ({rolled_back} racing copies rolled back by the inbox)"
    );
    assert!(
        fixture.drain(&fixture.queue.name).await.is_empty(),
        "every copy was acknowledged"
    );
    assert!(
        fixture.drain(&fixture.queue.dlq()).await.is_empty(),
        "nothing was dead-lettered"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_message_that_always_fails_ends_in_the_dead_letter_queue() {
    let test_db = TestDb::new();
    let fixture = Fixture::new(&testkit::amqp_url()).await;
    let handler = Arc::new(Recorder {
        calls: AtomicU32::new(0),
        fail_after_commit_once: false,
        always_fail: true,
        duplicates: AtomicU32::new(0),
    });
    let (stop, consumer) = start(&test_db, &fixture, handler.clone()).await;

    let envelope = Envelope::new("events-tests", connected(7));
    publish_raw(&fixture, &envelope).await;
    let dead = fixture
        .collect(
            &fixture.queue.dlq(),
            1,
            Duration::from_secs(30),
            Duration::from_millis(300),
        )
        .await;
    stop.cancel();
    consumer.await.unwrap();

    assert_eq!(dead.len(), 1, "the poison message is dead-lettered, once");
    assert_eq!(dead[0].id, envelope.id);
    let calls = handler.calls.load(Ordering::SeqCst);
    assert!(
        calls >= 2 && calls <= fixture.queue.delivery_limit + 1,
        "tried {calls} times before giving up"
    );
    assert_eq!(effects(&test_db), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_undecodable_message_is_dead_lettered_at_once() {
    let test_db = TestDb::new();
    let fixture = Fixture::new(&testkit::amqp_url()).await;
    let handler = Arc::new(Recorder {
        calls: AtomicU32::new(0),
        fail_after_commit_once: false,
        always_fail: false,
        duplicates: AtomicU32::new(0),
    });
    let (stop, consumer) = start(&test_db, &fixture, handler.clone()).await;

    fixture
        .channel
        .basic_publish(
            &fixture.topology.exchange,
            "account.connected",
            BasicPublishOptions::default(),
            b"not json",
            BasicProperties::default(),
        )
        .await
        .unwrap()
        .await
        .unwrap();
    let dead = testkit::eventually(
        Duration::from_secs(15),
        "the message in the DLQ",
        || async {
            let got = fixture
                .channel
                .basic_get(
                    &fixture.queue.dlq(),
                    lapin::options::BasicGetOptions { no_ack: true },
                )
                .await
                .unwrap();
            got.map(|m| m.delivery.data.clone())
        },
    )
    .await;
    stop.cancel();
    consumer.await.unwrap();

    assert_eq!(dead, b"not json");
    assert_eq!(
        handler.calls.load(Ordering::SeqCst),
        0,
        "the handler never saw it"
    );
}
