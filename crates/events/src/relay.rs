//! The outbox relay: moves committed events from the `outbox` table to RabbitMQ.
//!
//! Guarantees:
//! - **Nothing lost.** A row is marked sent only in the transaction that locked it and only
//!   after the broker confirmed every message of the batch; if RabbitMQ is down the rows simply
//!   wait, and are published when it returns.
//! - **No row published twice by two live relays.** Rows are locked `FOR UPDATE SKIP LOCKED`
//!   for the whole publish, so replicas take disjoint batches. (A relay that dies after the
//!   broker confirmed but before its commit causes a redelivery: delivery is at least once
//!   and consumers deduplicate by event id.)
//! - **Fast.** Woken by `LISTEN postbridge_outbox` as soon as a producer commits, polling as
//!   the fallback; a batch's messages are all in flight before the confirms are awaited.

use std::{sync::Arc, time::Duration};

use db::{inbox::ProcessedEvent, outbox::OutboxRow, Db, DbError};
use diesel::Connection;
use domain::EventId;
use futures_util::{future::try_join_all, StreamExt};
use lapin::{
    options::{BasicPublishOptions, ConfirmSelectOptions},
    publisher_confirm::Confirmation,
    BasicProperties, Channel, Connection as AmqpConnection,
};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::{
    amqp::{backoff, connect, AmqpError},
    topology::{declare, Topology},
    EventMetrics,
};

/// Tuning of the relay.
#[derive(Debug, Clone)]
pub struct RelaySettings {
    /// Rows locked and published per transaction.
    pub batch_size: i64,
    /// Poll interval when no notification arrives (the fallback path).
    pub poll_interval: Duration,
    /// How long to wait for the broker's confirms of one batch.
    pub confirm_timeout: Duration,
    /// How long sent rows are kept (for inspection) before housekeeping deletes them.
    pub sent_retention: Duration,
    /// How long consumer dedupe markers are kept.
    pub inbox_retention: Duration,
    /// Rows deleted per purge statement (see `housekeep`).
    pub purge_batch: i64,
    /// Time between two housekeeping passes (a random tenth is added).
    pub housekeeping_interval: Duration,
    /// Consumer queues declared (with their bindings) whenever the relay connects, so events
    /// are routed to them even before their consumer first started.
    pub queues: Vec<crate::QueueSpec>,
}

impl Default for RelaySettings {
    fn default() -> Self {
        Self {
            batch_size: 500,
            poll_interval: Duration::from_millis(500),
            confirm_timeout: Duration::from_secs(10),
            sent_retention: Duration::from_secs(24 * 3600),
            inbox_retention: Duration::from_secs(7 * 24 * 3600),
            purge_batch: 5000,
            housekeeping_interval: Duration::from_secs(60),
            queues: Vec::new(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
enum RelayError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Amqp(#[from] AmqpError),
}

impl From<diesel::result::Error> for RelayError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Db(DbError::Query(e))
    }
}

/// Publishes the outbox of one database to one exchange.
#[derive(Debug, Clone)]
pub struct Relay {
    db: Db,
    amqp_url: String,
    name: String,
    topology: Topology,
    settings: RelaySettings,
    metrics: EventMetrics,
}

impl Relay {
    /// A relay for service `name` (used as the AMQP connection name).
    pub fn new(
        db: Db,
        amqp_url: impl Into<String>,
        name: impl Into<String>,
        topology: Topology,
        settings: RelaySettings,
        metrics: EventMetrics,
    ) -> Self {
        Self {
            db,
            amqp_url: amqp_url.into(),
            name: name.into(),
            topology,
            settings,
            metrics,
        }
    }

    /// Runs until `shutdown` is cancelled. Never returns early: connection problems with
    /// PostgreSQL or RabbitMQ are logged and retried with backoff.
    pub async fn run(self, shutdown: CancellationToken) {
        let wake = Arc::new(Notify::new());
        let listener = tokio::spawn(listen(
            self.db.url().to_owned(),
            wake.clone(),
            shutdown.clone(),
        ));
        let mut failures = 0u32;
        // Its own task: a purge never delays publishing.
        let housekeeper = tokio::spawn(self.clone().housekeep(shutdown.clone()));

        while !shutdown.is_cancelled() {
            let (conn, channel) = match self.open_channel().await {
                Ok(session) => {
                    tracing::info!(
                        reconnect = failures > 0,
                        "outbox relay connected to rabbitmq"
                    );
                    failures = 0;
                    session
                }
                Err(err) => {
                    failures += 1;
                    let delay = backoff(
                        failures,
                        Duration::from_millis(200),
                        Duration::from_secs(10),
                    );
                    tracing::warn!(error = %err, retry_in_ms = delay.as_millis() as u64, "outbox relay cannot reach rabbitmq");
                    tokio::select! {
                        () = tokio::time::sleep(delay) => continue,
                        () = shutdown.cancelled() => break,
                    }
                }
            };

            // Drain, then wait for a notification or the poll tick; reconnect on broker errors.
            loop {
                if shutdown.is_cancelled() {
                    break;
                }
                match self.publish_batch(&channel).await {
                    Ok(n) if n as i64 >= self.settings.batch_size => continue,
                    Ok(_) => {
                        tokio::select! {
                            () = wake.notified() => {}
                            () = tokio::time::sleep(self.settings.poll_interval) => {}
                            () = shutdown.cancelled() => break,
                        }
                    }
                    Err(RelayError::Amqp(err)) => {
                        self.metrics.publish_failures.inc();
                        tracing::warn!(error = %err, "outbox relay lost rabbitmq; events stay in the outbox");
                        break;
                    }
                    Err(RelayError::Db(err)) => {
                        failures += 1;
                        let delay = backoff(
                            failures,
                            Duration::from_millis(200),
                            Duration::from_secs(10),
                        );
                        tracing::warn!(error = %err, retry_in_ms = delay.as_millis() as u64, "outbox relay cannot read the outbox");
                        tokio::select! {
                            () = tokio::time::sleep(delay) => {}
                            () = shutdown.cancelled() => break,
                        }
                    }
                }
            }
            // Close the connection, not just the channel: a connection left open is torn down
            // by the runtime's shutdown instead, and lapin logs that as an I/O ERROR.
            let _ = channel.close(200, "relay stopping or reconnecting").await;
            let _ = conn.close(200, "relay stopping or reconnecting").await;
        }
        listener.abort();
        housekeeper.abort();
        tracing::info!("outbox relay stopped");
    }

    /// A connection and its confirm-mode channel, the topology declared.
    async fn open_channel(&self) -> Result<(AmqpConnection, Channel), AmqpError> {
        let conn = connect(&self.amqp_url, &format!("{}-relay", self.name)).await?;
        let channel = conn.create_channel().await?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await?;
        declare(&channel, &self.topology, &[]).await?;
        // Consumer queues on a channel of their own: a queue redeclared with other arguments
        // closes its channel, and that must not stop events from being published.
        let scratch = conn.create_channel().await?;
        match declare(&scratch, &self.topology, &self.settings.queues).await {
            Ok(()) => {
                let _ = scratch.close(200, "queues declared").await;
            }
            Err(err) => {
                tracing::warn!(error = %err, "cannot declare the consumer queues; publishing anyway")
            }
        }
        Ok((conn, channel))
    }

    /// Locks, publishes and marks one batch; returns how many rows were published.
    async fn publish_batch(&self, channel: &Channel) -> Result<usize, RelayError> {
        let channel = channel.clone();
        let exchange = self.topology.exchange.clone();
        let limit = self.settings.batch_size;
        let timeout = self.settings.confirm_timeout;
        let runtime = tokio::runtime::Handle::current();
        let metrics = self.metrics.clone();

        let outcome = self
            .db
            .run(move |conn| {
                conn.transaction::<_, RelayError, _>(|conn| {
                    let rows = OutboxRow::lock_unsent_batch(conn, limit)?;
                    if rows.is_empty() {
                        return Ok(Ok(0));
                    }
                    // Runs on a blocking-pool thread, so waiting for the broker here is allowed;
                    // the row locks are held until the confirms are in.
                    match runtime.block_on(publish_all(&channel, &exchange, &rows, timeout)) {
                        Ok(()) => {
                            let ids: Vec<EventId> = rows.iter().map(|r| r.id).collect();
                            OutboxRow::mark_sent(conn, &ids)?;
                            for row in &rows {
                                metrics
                                    .published
                                    .with_label_values(&[&row.event_type])
                                    .inc();
                            }
                            Ok(Ok(rows.len()))
                        }
                        // Commit nothing (the transaction only locked rows) but remember which
                        // rows failed so the failure can be recorded after the rollback.
                        Err(err) => Ok(Err((rows.iter().map(|r| r.id).collect::<Vec<_>>(), err))),
                    }
                })
            })
            .await?;

        match outcome {
            Ok(n) => Ok(n),
            Err((ids, err)) => {
                let message = err.to_string();
                let _ = self
                    .db
                    .run(move |conn| {
                        OutboxRow::record_failure(conn, &ids, &message).map_err(DbError::from)
                    })
                    .await;
                Err(err.into())
            }
        }
    }

    /// Every `housekeeping_interval` (plus up to a tenth, so the relays of several services
    /// drift apart): refreshes the backlog gauges and purges sent outbox rows and old inbox
    /// markers, `purge_batch` rows per statement with a short pause between statements, so a
    /// backlog of a million rows (after an outage, or on the first pass over an old table)
    /// never holds one long delete and one burst of WAL. Every service's relay purges the
    /// same tables; `SKIP LOCKED` lets them do it side by side.
    async fn housekeep(self, shutdown: CancellationToken) {
        loop {
            let tenth = self.settings.housekeeping_interval.as_millis() as u64 / 10;
            let jitter = Duration::from_millis(rand::random::<u64>() % tenth.max(1));
            tokio::select! {
                () = tokio::time::sleep(self.settings.housekeeping_interval + jitter) => {}
                () = shutdown.cancelled() => return,
            }
            self.refresh_backlog().await;
            let now = chrono::Utc::now();
            let sent_cutoff =
                now - chrono::Duration::from_std(self.settings.sent_retention).unwrap_or_default();
            let inbox_cutoff =
                now - chrono::Duration::from_std(self.settings.inbox_retention).unwrap_or_default();
            let limit = self.settings.purge_batch.max(1);
            let outbox = self
                .purge("outbox", &shutdown, move |conn| {
                    OutboxRow::purge_sent_before(conn, sent_cutoff, limit)
                })
                .await;
            let inbox = self
                .purge("processed_events", &shutdown, move |conn| {
                    ProcessedEvent::purge_before(conn, inbox_cutoff, limit)
                })
                .await;
            if outbox + inbox > 0 {
                tracing::info!(
                    outbox.deleted = outbox,
                    processed_events.deleted = inbox,
                    "outbox retention pass"
                );
            }
        }
    }

    /// Runs `batch` until it deletes fewer than `purge_batch` rows (or fails, or the service
    /// stops), counting what went in `postbridge_retention_deleted_total{table}`; answers the
    /// rows deleted.
    async fn purge(
        &self,
        table: &'static str,
        shutdown: &CancellationToken,
        batch: impl Fn(&mut db::PgConnection) -> diesel::QueryResult<usize> + Clone + Send + 'static,
    ) -> u64 {
        let mut total = 0u64;
        while !shutdown.is_cancelled() {
            let batch = batch.clone();
            match self
                .db
                .run(move |conn| batch(conn).map_err(DbError::from))
                .await
            {
                Ok(n) => {
                    total += n as u64;
                    self.metrics
                        .retention_deleted
                        .with_label_values(&[table])
                        .inc_by(n as u64);
                    if (n as i64) < self.settings.purge_batch.max(1) {
                        break;
                    }
                }
                Err(err) => {
                    tracing::warn!(table, error = %err, "outbox retention failed");
                    break;
                }
            }
            tokio::time::sleep(PURGE_PAUSE).await;
        }
        total
    }

    async fn refresh_backlog(&self) {
        let metrics = self.metrics.clone();
        let result = self
            .db
            .run(move |conn| {
                let (backlog, oldest) = OutboxRow::backlog(conn)?;
                metrics.outbox_backlog.set(backlog);
                metrics.outbox_oldest_age_seconds.set(oldest);
                Ok::<_, DbError>(())
            })
            .await;
        if let Err(err) = result {
            tracing::warn!(error = %err, "cannot read the outbox backlog");
        }
    }
}

/// Pause between two purge statements: lets the WAL writer, replication and autovacuum keep
/// up, and other statements take the rows' pages in between.
const PURGE_PAUSE: Duration = Duration::from_millis(50);

/// Sends every row, then waits for all confirms. A nack, a return or a timeout fails the batch.
async fn publish_all(
    channel: &Channel,
    exchange: &str,
    rows: &[OutboxRow],
    timeout: Duration,
) -> Result<(), AmqpError> {
    let mut confirms = Vec::with_capacity(rows.len());
    for row in rows {
        let payload = serde_json::to_vec(&row.envelope).unwrap_or_default();
        let properties = BasicProperties::default()
            .with_delivery_mode(2) // persistent
            .with_content_type("application/json".into())
            .with_message_id(row.id.to_string().into())
            .with_type(row.event_type.clone().into())
            .with_timestamp(u64::try_from(row.created_at.timestamp()).unwrap_or(0));
        let confirm = channel
            .basic_publish(
                exchange,
                &row.event_type,
                BasicPublishOptions {
                    mandatory: true,
                    ..BasicPublishOptions::default()
                },
                &payload,
                properties,
            )
            .await?;
        confirms.push(confirm);
    }
    let all = try_join_all(confirms.into_iter().map(|c| async move {
        match c.await? {
            Confirmation::Ack(None) => Ok(()),
            Confirmation::Ack(Some(returned)) => {
                Err(AmqpError::Returned(returned.reply_text.to_string()))
            }
            Confirmation::Nack(_) | Confirmation::NotRequested => Err(AmqpError::Nacked),
        }
    }));
    tokio::time::timeout(timeout, all)
        .await
        .map_err(|_| AmqpError::Timeout(timeout))??;
    Ok(())
}

/// Forwards `NOTIFY postbridge_outbox` to `wake`, reconnecting when the connection drops.
async fn listen(url: String, wake: Arc<Notify>, shutdown: CancellationToken) {
    let mut failures = 0u32;
    while !shutdown.is_cancelled() {
        match tokio_postgres::connect(&url, tokio_postgres::NoTls).await {
            Ok((client, mut connection)) => {
                let messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
                tokio::pin!(messages);
                // The connection must be polled for LISTEN to be sent, so start polling first.
                let listen = client.batch_execute("LISTEN postbridge_outbox");
                tokio::pin!(listen);
                let mut listening = false;
                loop {
                    tokio::select! {
                        res = &mut listen, if !listening => {
                            if let Err(err) = res { tracing::debug!(error = %err, "LISTEN failed"); break; }
                            listening = true;
                            failures = 0;
                            // Anything committed while we were not listening is picked up now.
                            wake.notify_one();
                        }
                        msg = messages.next() => match msg {
                            Some(Ok(tokio_postgres::AsyncMessage::Notification(_))) => wake.notify_one(),
                            Some(Ok(_)) => {}
                            Some(Err(err)) => { tracing::debug!(error = %err, "outbox listener connection failed"); break; }
                            None => break,
                        },
                        () = shutdown.cancelled() => return,
                    }
                }
            }
            Err(err) => {
                tracing::debug!(error = %err, "outbox listener cannot connect; polling only")
            }
        }
        failures += 1;
        let delay = backoff(
            failures,
            Duration::from_millis(200),
            Duration::from_secs(10),
        );
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            () = shutdown.cancelled() => return,
        }
    }
}
