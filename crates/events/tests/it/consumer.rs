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
use testkit::{PrivateRabbit, TestDb};

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
    start_on(&testkit::amqp_url(), test_db, fixture, handler).await
}

async fn start_on(
    amqp_url: &str,
    test_db: &TestDb,
    fixture: &Fixture,
    handler: Arc<Recorder>,
) -> (CancellationToken, tokio::task::JoinHandle<()>) {
    sql_query("CREATE TABLE IF NOT EXISTS effects (event_id uuid NOT NULL)")
        .execute(&mut test_db.conn())
        .unwrap();
    let stop = CancellationToken::new();
    let handle = tokio::spawn(run_consumer(
        amqp_url.to_owned(),
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

/// Event ids in `effects`, each with how many times its effect was applied.
fn effect_counts(test_db: &TestDb) -> std::collections::HashMap<uuid::Uuid, i64> {
    #[derive(db::diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = SqlUuid)]
        event_id: uuid::Uuid,
        #[diesel(sql_type = db::diesel::sql_types::BigInt)]
        n: i64,
    }
    sql_query("SELECT event_id, count(*) AS n FROM effects GROUP BY event_id")
        .load::<Row>(&mut test_db.conn())
        .unwrap()
        .into_iter()
        .map(|r| (r.event_id, r.n))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_running_consumer_survives_a_rabbitmq_restart_and_handles_every_event_once() {
    const EACH: u32 = 20;
    let broker = tokio::task::spawn_blocking(PrivateRabbit::start)
        .await
        .unwrap();
    let amqp = broker.url();
    let test_db = TestDb::new();
    let fixture = Fixture::new(&amqp).await;
    let handler = Arc::new(Recorder {
        calls: AtomicU32::new(0),
        fail_after_commit_once: false,
        always_fail: false,
        duplicates: AtomicU32::new(0),
    });
    let (stop, consumer) = start_on(&amqp, &test_db, &fixture, handler.clone()).await;

    // Before the restart: the consumer is connected and handling.
    let mut sent = std::collections::HashSet::new();
    for n in 0..EACH {
        let envelope = Envelope::new("events-tests", connected(n));
        sent.insert(envelope.id.0);
        publish_raw(&fixture, &envelope).await;
    }
    testkit::eventually(
        Duration::from_secs(20),
        "the events published before the restart to be handled",
        || async { (effects(&test_db) == i64::from(EACH)).then_some(()) },
    )
    .await;

    let broker = tokio::task::spawn_blocking(move || {
        broker.stop();
        broker.resume();
        broker
    })
    .await
    .unwrap();

    // After it: the same consumer, which must have reconnected by itself, gets the rest.
    let publisher = Fixture::reconnect(&amqp, &fixture).await;
    for n in EACH..2 * EACH {
        let envelope = Envelope::new("events-tests", connected(n));
        sent.insert(envelope.id.0);
        publish_raw(&publisher, &envelope).await;
    }
    testkit::eventually(
        Duration::from_secs(60),
        "the events published after the restart to be handled",
        || async { (effects(&test_db) >= i64::from(2 * EACH)).then_some(()) },
    )
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.cancel();
    consumer.await.unwrap();

    let counts = effect_counts(&test_db);
    assert_eq!(
        counts
            .keys()
            .copied()
            .collect::<std::collections::HashSet<_>>(),
        sent,
        "every event published before and after the restart was handled"
    );
    assert!(
        counts.values().all(|&n| n == 1),
        "each exactly once: {counts:?}"
    );
    assert!(
        publisher.drain(&fixture.queue.name).await.is_empty(),
        "nothing left unacknowledged"
    );
    drop(broker);
}
