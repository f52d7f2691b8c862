#![doc = include_str!("../README.md")]

mod amqp;
pub mod catalog;
mod consumer;
mod envelope;
mod metrics;
mod outbox;
mod relay;
pub mod schemas;
mod topology;

pub use amqp::{connect, probe, AmqpError};
pub use catalog::*;
pub use consumer::{run_consumer, Committed, ConsumerSettings, Handler, HandlerError, Incoming};
pub use envelope::{Envelope, Event, RawEnvelope};
pub use metrics::EventMetrics;
pub use outbox::{Outbox, OutboxBatch};
pub use relay::{Relay, RelaySettings};
pub use tokio_util::sync::CancellationToken;
pub use topology::{
    declare, service_queues, QueueSpec, Topology, ACCOUNT_REGISTRY_LIFECYCLE, PUBLISHER_DELETIONS,
    PUBLISHER_METRICS, PUBLISHER_POSTS, PUBLISHER_TOKENS, TOKEN_REFRESHER_EXPIRING,
};
