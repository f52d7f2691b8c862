//! Connecting to RabbitMQ.

use std::time::Duration;

use lapin::{Connection, ConnectionProperties};

/// Errors talking to RabbitMQ.
#[derive(Debug, thiserror::Error)]
pub enum AmqpError {
    /// The broker refused or dropped us.
    #[error("rabbitmq: {0}")]
    Lapin(#[from] lapin::Error),
    /// The broker did not answer in time.
    #[error("rabbitmq did not answer within {0:?}")]
    Timeout(Duration),
    /// The broker answered a publish with a nack.
    #[error("rabbitmq refused (nacked) a message")]
    Nacked,
    /// A mandatory message could not be routed (should not happen: the exchange has an
    /// alternate exchange that keeps unrouted messages).
    #[error("rabbitmq returned an unroutable message: {0}")]
    Returned(String),
}

/// Opens a connection driven by the current tokio runtime, named after the service so it is
/// recognisable in RabbitMQ's connection list.
pub async fn connect(url: &str, name: &str) -> Result<Connection, AmqpError> {
    let props = ConnectionProperties::default()
        .with_connection_name(name.into())
        .with_executor(tokio_executor_trait::Tokio::current())
        .with_reactor(tokio_reactor_trait::Tokio);
    Ok(Connection::connect(url, props).await?)
}

/// Answers whether RabbitMQ accepts a connection within `timeout` (for `/readyz`).
/// The whole probe, closing included, ends within `timeout`.
pub async fn probe(url: &str, timeout: Duration) -> Result<(), AmqpError> {
    tokio::time::timeout(timeout, async {
        let conn = connect(url, "readyz-probe").await?;
        let _ = conn.close(200, "probe done").await;
        Ok(())
    })
    .await
    .map_err(|_| AmqpError::Timeout(timeout))?
}

/// Exponential backoff with full jitter, capped: spreads reconnect storms after an outage.
pub(crate) fn backoff(attempt: u32, base: Duration, cap: Duration) -> Duration {
    use rand::Rng;
    let exp = base
        .saturating_mul(1u32.checked_shl(attempt.min(16)).unwrap_or(u32::MAX))
        .min(cap);
    let millis = exp.as_millis().max(1) as u64;
    Duration::from_millis(rand::thread_rng().gen_range(millis / 2..=millis))
}
