//! Exchanges and queues, declared idempotently by every service at start.

use lapin::{
    options::{ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions},
    types::{AMQPValue, FieldTable, LongString, ShortString},
    Channel, ExchangeKind,
};

/// Names of the shared exchanges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topology {
    /// The topic exchange events are published to; routing key = event type.
    pub exchange: String,
    /// Where poison messages go, routed by their queue's name to `<queue>.dlq`.
    pub dead_letter_exchange: String,
}

impl Default for Topology {
    fn default() -> Self {
        Self {
            exchange: "postbridge.events".into(),
            dead_letter_exchange: "postbridge.dlx".into(),
        }
    }
}

impl Topology {
    /// A topology no other test shares (exchange names under `prefix`).
    pub fn isolated(prefix: &str) -> Self {
        Self {
            exchange: format!("{prefix}.events"),
            dead_letter_exchange: format!("{prefix}.dlx"),
        }
    }

    /// The alternate exchange: messages no queue is bound for land in `<exchange>.unrouted`
    /// instead of being dropped or returned, so publishing an event nobody consumes yet is not
    /// an error and still leaves a trace.
    pub fn unrouted_exchange(&self) -> String {
        format!("{}.unrouted", self.exchange)
    }
}

/// One consumer queue: `<service>.<purpose>`, its routing keys and its poison-message policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueSpec {
    /// Queue name, e.g. `account-registry.lifecycle`.
    pub name: String,
    /// Event types bound to it.
    pub routing_keys: Vec<String>,
    /// Deliveries after which a message is dead-lettered to `<name>.dlq`.
    pub delivery_limit: u32,
}

impl QueueSpec {
    /// A queue bound to `routing_keys` that dead-letters after five failed deliveries.
    pub fn new(name: impl Into<String>, routing_keys: &[&str]) -> Self {
        Self {
            name: name.into(),
            routing_keys: routing_keys.iter().map(|k| (*k).to_owned()).collect(),
            delivery_limit: 5,
        }
    }

    /// Its dead-letter queue.
    pub fn dlq(&self) -> String {
        format!("{}.dlq", self.name)
    }
}

/// Every consumer queue of Postbridge, with its bindings: the topology is part of the shared
/// contract, so any service declares all of it at start. Whichever service starts first
/// creates every queue, and no event published before its consumer's first start is lost.
/// `prefix` is prepended to the names (empty in deployments; tests isolate themselves with it).
pub fn service_queues(prefix: &str) -> Vec<QueueSpec> {
    use crate::{
        AccountConnected, AccountDisconnectRequested, AccountSyncRequested, Event, PostCanceled,
        PostScheduled, TokenExpiring, TokenRefreshFailed, TokenRefreshed,
    };
    vec![
        QueueSpec::new(
            format!("{prefix}{ACCOUNT_REGISTRY_LIFECYCLE}"),
            &[
                AccountConnected::TYPE,
                AccountSyncRequested::TYPE,
                AccountDisconnectRequested::TYPE,
                TokenRefreshed::TYPE,
                TokenRefreshFailed::TYPE,
            ],
        ),
        QueueSpec::new(
            format!("{prefix}{TOKEN_REFRESHER_EXPIRING}"),
            &[TokenExpiring::TYPE],
        ),
        QueueSpec::new(
            format!("{prefix}{PUBLISHER_POSTS}"),
            &[
                PostScheduled::TYPE,
                PostCanceled::TYPE,
                crate::AccountResumed::TYPE,
            ],
        ),
        QueueSpec::new(
            format!("{prefix}{PUBLISHER_DELETIONS}"),
            &[crate::PostDeleteRequested::TYPE],
        ),
        QueueSpec::new(
            format!("{prefix}{PUBLISHER_TOKENS}"),
            &[TokenRefreshed::TYPE, TokenRefreshFailed::TYPE],
        ),
        QueueSpec::new(
            format!("{prefix}{PUBLISHER_METRICS}"),
            &[crate::PostMetricsRequested::TYPE],
        ),
    ]
}

/// publisher's queue: posts scheduled (wake the dispatcher) and canceled, accounts resumed
/// (their held targets are due: wake the dispatcher).
pub const PUBLISHER_POSTS: &str = "publisher.posts";

/// publisher's queue: deletions requested (wake the deletion worker).
pub const PUBLISHER_DELETIONS: &str = "publisher.deletions";

/// publisher's queue: refresh outcomes (targets waiting for a fresh token become due).
pub const PUBLISHER_TOKENS: &str = "publisher.tokens";

/// publisher's queue: on-demand metrics requests (wake the metrics fetcher).
pub const PUBLISHER_METRICS: &str = "publisher.metrics";

/// account-registry's queue: connections, sync and disconnect requests, refresh outcomes.
pub const ACCOUNT_REGISTRY_LIFECYCLE: &str = "account-registry.lifecycle";

/// token-refresher's queue: tokens to refresh now.
pub const TOKEN_REFRESHER_EXPIRING: &str = "token-refresher.expiring";

fn durable() -> ExchangeDeclareOptions {
    ExchangeDeclareOptions {
        durable: true,
        ..ExchangeDeclareOptions::default()
    }
}

fn durable_queue() -> QueueDeclareOptions {
    QueueDeclareOptions {
        durable: true,
        ..QueueDeclareOptions::default()
    }
}

fn string(value: &str) -> AMQPValue {
    AMQPValue::LongString(LongString::from(value))
}

/// Declares the exchanges and the given queues. Safe to call any number of times, from any
/// number of replicas.
pub async fn declare(
    channel: &Channel,
    topology: &Topology,
    queues: &[QueueSpec],
) -> Result<(), lapin::Error> {
    let unrouted = topology.unrouted_exchange();
    channel
        .exchange_declare(
            &unrouted,
            ExchangeKind::Fanout,
            durable(),
            FieldTable::default(),
        )
        .await?;
    let mut unrouted_args = FieldTable::default();
    // Bounded: nobody is obliged to read it.
    unrouted_args.insert(
        ShortString::from("x-max-length"),
        AMQPValue::LongInt(100_000),
    );
    unrouted_args.insert(ShortString::from("x-overflow"), string("drop-head"));
    channel
        .queue_declare(&unrouted, durable_queue(), unrouted_args)
        .await?;
    channel
        .queue_bind(
            &unrouted,
            &unrouted,
            "",
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await?;

    let mut exchange_args = FieldTable::default();
    exchange_args.insert(ShortString::from("alternate-exchange"), string(&unrouted));
    channel
        .exchange_declare(
            &topology.exchange,
            ExchangeKind::Topic,
            durable(),
            exchange_args,
        )
        .await?;
    channel
        .exchange_declare(
            &topology.dead_letter_exchange,
            ExchangeKind::Direct,
            durable(),
            FieldTable::default(),
        )
        .await?;

    for queue in queues {
        let dlq = queue.dlq();
        channel
            .queue_declare(&dlq, durable_queue(), FieldTable::default())
            .await?;
        channel
            .queue_bind(
                &dlq,
                &topology.dead_letter_exchange,
                &queue.name,
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await?;

        // Quorum queues count deliveries themselves (`x-delivery-count`) and dead-letter a
        // message once it reaches `x-delivery-limit`: a poison message cannot loop forever,
        // and the count survives consumer crashes and broker restarts.
        let mut args = FieldTable::default();
        args.insert(ShortString::from("x-queue-type"), string("quorum"));
        args.insert(
            ShortString::from("x-delivery-limit"),
            AMQPValue::LongInt(i32::try_from(queue.delivery_limit).unwrap_or(i32::MAX)),
        );
        args.insert(
            ShortString::from("x-dead-letter-exchange"),
            string(&topology.dead_letter_exchange),
        );
        args.insert(
            ShortString::from("x-dead-letter-routing-key"),
            string(&queue.name),
        );
        channel
            .queue_declare(&queue.name, durable_queue(), args)
            .await?;
        for key in &queue.routing_keys {
            channel
                .queue_bind(
                    &queue.name,
                    &topology.exchange,
                    key,
                    QueueBindOptions::default(),
                    FieldTable::default(),
                )
                .await?;
        }
    }
    Ok(())
}
