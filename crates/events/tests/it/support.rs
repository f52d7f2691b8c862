//! Shared fixtures: an isolated topology, a test queue reader, sample events.

use std::time::Duration;

use db::{domain::*, Db};
use events::{
    AccountConnected, CancellationToken, EventMetrics, Outbox, QueueSpec, Relay, RelaySettings,
    Topology,
};
use lapin::{options::BasicGetOptions, Channel};

pub const OUTBOX: Outbox = Outbox::new("events-tests");

/// An exchange set and one queue bound to `account.connected`, both unique to the test.
pub struct Fixture {
    pub topology: Topology,
    pub queue: QueueSpec,
    pub channel: Channel,
}

impl Fixture {
    pub async fn new(amqp_url: &str) -> Self {
        let prefix = testkit::unique_name("test");
        let topology = Topology::isolated(&prefix);
        let mut queue = QueueSpec::new(
            format!("{prefix}.consumer"),
            &[AccountConnected::ROUTING_KEY],
        );
        queue.delivery_limit = 3;
        let conn = events::connect(amqp_url, "events-tests")
            .await
            .expect("connect to rabbitmq");
        let channel = conn.create_channel().await.expect("channel");
        events::declare(&channel, &topology, std::slice::from_ref(&queue))
            .await
            .expect("declare");
        Self {
            topology,
            queue,
            channel,
        }
    }

    /// Takes every message currently in `queue` (without a consumer), acknowledging them.
    pub async fn drain(&self, queue: &str) -> Vec<events::RawEnvelope> {
        let mut out = Vec::new();
        while let Some(message) = self
            .channel
            .basic_get(queue, BasicGetOptions { no_ack: true })
            .await
            .expect("basic.get")
        {
            out.push(serde_json::from_slice(&message.delivery.data).expect("envelope json"));
        }
        out
    }

    /// Collects messages from `queue` until `expected` arrived or `timeout` passed, then keeps
    /// listening for `settle` to catch any extra (duplicate) message.
    pub async fn collect(
        &self,
        queue: &str,
        expected: usize,
        timeout: Duration,
        settle: Duration,
    ) -> Vec<events::RawEnvelope> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut got = Vec::new();
        while got.len() < expected && tokio::time::Instant::now() < deadline {
            let batch = self.drain(queue).await;
            if batch.is_empty() {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            got.extend(batch);
        }
        tokio::time::sleep(settle).await;
        got.extend(self.drain(queue).await);
        got
    }

    /// Same topology and queue, through a new connection (after a broker restart).
    pub async fn reconnect(amqp_url: &str, other: &Fixture) -> Self {
        let conn = events::connect(amqp_url, "events-tests")
            .await
            .expect("connect to rabbitmq");
        let channel = conn.create_channel().await.expect("channel");
        Self {
            topology: other.topology.clone(),
            queue: other.queue.clone(),
            channel,
        }
    }

    /// A relay polling every 100 ms in batches of 100.
    pub fn relay(&self, db: &Db, amqp_url: &str) -> Relay {
        self.relay_with(db, amqp_url, Duration::from_millis(100))
    }

    pub fn relay_with(&self, db: &Db, amqp_url: &str, poll_interval: Duration) -> Relay {
        let settings = RelaySettings {
            batch_size: 100,
            poll_interval,
            ..RelaySettings::default()
        };
        Relay::new(
            db.clone(),
            amqp_url,
            "events-tests",
            self.topology.clone(),
            settings,
            EventMetrics::unregistered(),
        )
    }
}

pub fn connected(n: u32) -> AccountConnected {
    AccountConnected {
        account_id: AccountId::new(),
        owner_id: OwnerId(format!("user-{n}")),
        platform: Platform::Sandbox,
        platform_account_id: format!("sandbox-{n}"),
        account_kind: AccountKind::Profile,
        reconnected: false,
    }
}

/// Starts `relay` in the background; cancel the token to stop it.
pub fn spawn(relay: Relay) -> (CancellationToken, tokio::task::JoinHandle<()>) {
    let token = CancellationToken::new();
    let handle = tokio::spawn(relay.run(token.clone()));
    (token, handle)
}

/// Rows of the outbox not yet marked sent.
pub fn unsent(db: &Db) -> i64 {
    let mut conn = db.get().expect("connection");
    db::outbox::OutboxRow::backlog(&mut conn)
        .expect("backlog")
        .0
}
