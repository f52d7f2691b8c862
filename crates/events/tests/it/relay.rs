use std::{collections::HashSet, time::Duration};

use db::{
    diesel::{result::Error as DieselError, Connection},
    domain::EventId,
};
use testkit::{PrivateRabbit, TestDb};

use crate::support::{connected, spawn, unsent, Fixture, OUTBOX};

#[tokio::test(flavor = "multi_thread")]
async fn event_of_a_committed_transaction_reaches_the_queue_and_one_of_a_rolled_back_transaction_never_does(
) {
    let test_db = TestDb::new();
    let db = test_db.db();
    let amqp = testkit::amqp_url();
    let fixture = Fixture::new(&amqp).await;

    let mut conn = test_db.conn();
    let committed: EventId = conn.transaction(|c| OUTBOX.write(c, connected(1))).unwrap();
    let rolled_back = conn.transaction::<EventId, DieselError, _>(|c| {
        OUTBOX.write(c, connected(2))?;
        Err(DieselError::RollbackTransaction)
    });
    assert!(rolled_back.is_err());

    let (stop, relay) = spawn(fixture.relay(&db, &amqp));
    let got = fixture
        .collect(
            &fixture.queue.name,
            1,
            Duration::from_secs(10),
            Duration::from_millis(700),
        )
        .await;
    stop.cancel();
    relay.await.unwrap();

    assert_eq!(got.len(), 1, "exactly the committed event is published");
    assert_eq!(got[0].id, committed);
    assert_eq!(got[0].event_type, "account.connected");
    assert_eq!(got[0].producer, "events-tests");
    assert_eq!(unsent(&db), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn notify_wakes_the_relay_well_before_the_poll_interval() {
    let test_db = TestDb::new();
    let db = test_db.db();
    let amqp = testkit::amqp_url();
    let fixture = Fixture::new(&amqp).await;
    let (stop, handle) = spawn(fixture.relay_with(&db, &amqp, Duration::from_secs(30)));
    // Let the relay connect and LISTEN before the event is written.
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let started = std::time::Instant::now();
    test_db
        .conn()
        .transaction(|c| OUTBOX.write(c, connected(1)))
        .unwrap();
    let got = fixture
        .collect(
            &fixture.queue.name,
            1,
            Duration::from_secs(10),
            Duration::ZERO,
        )
        .await;
    let latency = started.elapsed();
    stop.cancel();
    handle.await.unwrap();

    assert_eq!(got.len(), 1);
    assert!(
        latency < Duration::from_secs(5),
        "published after {latency:?}: LISTEN/NOTIFY did not wake the relay"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn two_relays_on_one_outbox_publish_each_row_exactly_once() {
    const EVENTS: u32 = 2_000;
    let test_db = TestDb::new();
    let db = test_db.db();
    let amqp = testkit::amqp_url();
    let fixture = Fixture::new(&amqp).await;

    let mut written = HashSet::new();
    let mut conn = test_db.conn();
    conn.transaction::<_, DieselError, _>(|c| {
        for n in 0..EVENTS {
            written.insert(OUTBOX.write(c, connected(n))?);
        }
        Ok(())
    })
    .unwrap();

    let (stop_a, relay_a) = spawn(fixture.relay(&db, &amqp));
    let (stop_b, relay_b) = spawn(fixture.relay(&db, &amqp));
    let got = fixture
        .collect(
            &fixture.queue.name,
            EVENTS as usize,
            Duration::from_secs(60),
            Duration::from_secs(1),
        )
        .await;
    stop_a.cancel();
    stop_b.cancel();
    relay_a.await.unwrap();
    relay_b.await.unwrap();

    let ids: HashSet<EventId> = got.iter().map(|e| e.id).collect();
    assert_eq!(
        got.len(),
        EVENTS as usize,
        "no row published twice, none missing"
    );
    assert_eq!(ids, written);
    assert_eq!(unsent(&db), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn events_written_while_rabbitmq_is_down_are_all_delivered_once_after_it_returns() {
    const EVENTS: u32 = 50;
    let broker = tokio::task::spawn_blocking(PrivateRabbit::start)
        .await
        .unwrap();
    let amqp = broker.url();
    let test_db = TestDb::new();
    let db = test_db.db();
    let fixture = Fixture::new(&amqp).await;
    let (stop, relay) = spawn(fixture.relay(&db, &amqp));

    // Prove the relay is connected before the broker goes away, so what follows tests a
    // reconnect and not merely a late first connect.
    let before = test_db
        .conn()
        .transaction(|c| OUTBOX.write(c, connected(u32::MAX)))
        .unwrap();
    let delivered = fixture
        .collect(
            &fixture.queue.name,
            1,
            Duration::from_secs(20),
            Duration::ZERO,
        )
        .await;
    assert_eq!(
        delivered.iter().map(|e| e.id).collect::<Vec<_>>(),
        vec![before],
        "the relay delivers while the broker is up"
    );

    let broker = tokio::task::spawn_blocking(move || {
        broker.stop();
        broker
    })
    .await
    .unwrap();

    let mut written = HashSet::new();
    for n in 0..EVENTS {
        written.insert(
            test_db
                .conn()
                .transaction(|c| OUTBOX.write(c, connected(n)))
                .unwrap(),
        );
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        unsent(&db),
        i64::from(EVENTS),
        "events wait in the outbox while the broker is down"
    );

    let broker = tokio::task::spawn_blocking(move || {
        broker.resume();
        broker
    })
    .await
    .unwrap();
    // The fixture's channel died with the broker; read through a new one.
    let reader = Fixture::reconnect(&amqp, &fixture).await;
    let got = reader
        .collect(
            &fixture.queue.name,
            EVENTS as usize,
            Duration::from_secs(60),
            Duration::from_secs(1),
        )
        .await;
    stop.cancel();
    relay.await.unwrap();

    let ids: HashSet<EventId> = got.iter().map(|e| e.id).collect();
    assert_eq!(got.len(), EVENTS as usize, "each event delivered once");
    assert_eq!(ids, written);
    assert_eq!(unsent(&db), 0);
    drop(broker);
}
