//! `make bench`: outbox → RabbitMQ throughput of the relay, with one and two replicas.
//!
//! Writes N events into a fresh database's outbox (1,000 per transaction, as a burst of state
//! changes would), starts the relay(s), and measures until every event is confirmed by the
//! broker and counted in a bound queue. Prints one `bench …` line per run.
#![expect(clippy::unwrap_used, reason = "a benchmark fails by panicking")]

use std::time::{Duration, Instant};

use db::{diesel::Connection, domain::*};
use events::{
    AccountConnected, CancellationToken, EventMetrics, Outbox, QueueSpec, Relay, RelaySettings,
    Topology,
};
use lapin::options::QueueDeclareOptions;

const OUTBOX: Outbox = Outbox::new("bench");

fn event(n: usize) -> AccountConnected {
    AccountConnected {
        account_id: AccountId::new(),
        owner_id: OwnerId(format!("user-{n}")),
        platform: Platform::Sandbox,
        platform_account_id: format!("sandbox-{n}"),
        account_kind: AccountKind::Profile,
        reconnected: false,
    }
}

async fn run(events_total: usize, replicas: usize) {
    let test_db = testkit::TestDb::new();
    let db = test_db.db();
    let amqp = testkit::amqp_url();
    let prefix = testkit::unique_name("bench");
    let topology = Topology::isolated(&prefix);
    let queue = QueueSpec::new(format!("{prefix}.sink"), &[AccountConnected::ROUTING_KEY]);
    let conn = events::connect(&amqp, "bench").await.unwrap();
    let channel = conn.create_channel().await.unwrap();
    events::declare(&channel, &topology, std::slice::from_ref(&queue))
        .await
        .unwrap();

    let mut pg = test_db.conn();
    for chunk in (0..events_total).collect::<Vec<_>>().chunks(1000) {
        pg.transaction::<_, db::diesel::result::Error, _>(|c| {
            for n in chunk {
                OUTBOX.write(c, event(*n))?;
            }
            Ok(())
        })
        .unwrap();
    }

    let stop = CancellationToken::new();
    let started = Instant::now();
    let relays: Vec<_> = (0..replicas)
        .map(|_| {
            let relay = Relay::new(
                db.clone(),
                amqp.clone(),
                "bench",
                topology.clone(),
                RelaySettings::default(),
                EventMetrics::unregistered(),
            );
            tokio::spawn(relay.run(stop.clone()))
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let declared = channel
            .queue_declare(
                &queue.name,
                QueueDeclareOptions {
                    passive: true,
                    ..QueueDeclareOptions::default()
                },
                Default::default(),
            )
            .await
            .unwrap();
        if declared.message_count() as usize >= events_total || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let elapsed = started.elapsed();
    stop.cancel();
    for relay in relays {
        relay.await.unwrap();
    }
    let declared = channel
        .queue_declare(
            &queue.name,
            QueueDeclareOptions {
                passive: true,
                ..QueueDeclareOptions::default()
            },
            Default::default(),
        )
        .await
        .unwrap();
    let delivered = declared.message_count() as usize;
    let _ = channel.queue_delete(&queue.name, Default::default()).await;
    println!(
        "bench outbox_relay events={events_total} replicas={replicas} events_per_s={:.0} elapsed_ms={} delivered={delivered} duplicates={}",
        delivered as f64 / elapsed.as_secs_f64(),
        elapsed.as_millis(),
        delivered.saturating_sub(events_total),
    );
}

#[tokio::main]
async fn main() {
    let events_total = std::env::var("BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    run(events_total, 1).await;
    run(events_total, 2).await;
}
