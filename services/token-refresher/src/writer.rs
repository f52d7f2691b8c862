//! Group commit: the claims, and the outcomes, of many workers in one short transaction each.
//!
//! Every claim and every outcome is a commit, and a commit waits for its WAL flush; every
//! outcome also inserts an event into the outbox, whose trigger NOTIFYs the relays, and
//! PostgreSQL serialises the commits of notifying transactions (one lock on the notification
//! queue, held through the flush). One transaction per step therefore caps the service at one
//! flush per refresh, whatever the concurrency. Here one task per kind takes whatever
//! statements are waiting (up to a batch), runs them in one transaction, in account order (two
//! batches never wait on each other's rows in opposite orders), and answers each worker once
//! it committed. Still a short transaction, and never held across a platform call.
//!
//! A batch that fails because the database is unreachable fails for each of its callers, who
//! keep what they hold and submit it again (see `Refresher::persist`). A batch that fails for
//! any other reason is run again one statement per transaction, so one bad statement cannot
//! keep the others from committing.

use std::sync::Arc;

use db::{
    diesel::{QueryResult, RunQueryDsl},
    domain::{AccountId, EventId},
    outbox::OutboxInsertForm,
    schema::outbox,
    Connection, Db, DbError, PgConnection,
};
use tokio::sync::{mpsc, oneshot};

/// One statement (or a few) on behalf of one account.
pub type Write<T> = Arc<dyn Fn(&mut PgConnection) -> QueryResult<T> + Send + Sync>;

/// A write did not commit (the message of its batch's error); the caller may submit it again.
#[derive(Debug, Clone)]
pub struct WriteFailed(pub String);

impl std::fmt::Display for WriteFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for WriteFailed {}

impl From<DbError> for WriteFailed {
    fn from(err: DbError) -> Self {
        Self(err.to_string())
    }
}

/// An event to insert into the outbox in the same transaction, if its write changed its row.
#[derive(Debug, Clone)]
pub struct OutboxEvent {
    /// The envelope's id (stable across attempts: consumers deduplicate on it).
    pub id: EventId,
    /// Its type (routing key).
    pub event_type: &'static str,
    /// The whole envelope.
    pub envelope: serde_json::Value,
}

/// A write and the event that goes with it.
type Entry<T> = (Write<T>, Option<OutboxEvent>);

struct Job<T> {
    account: AccountId,
    write: Write<T>,
    event: Option<OutboxEvent>,
    reply: oneshot::Sender<Result<T, WriteFailed>>,
}

/// Runs a batch's writes, then inserts the events of those that `wrote` in one statement
/// (one outbox trigger, one NOTIFY, instead of one per event).
fn run_batch<T>(
    conn: &mut PgConnection,
    writes: &[Entry<T>],
    wrote: fn(&T) -> bool,
) -> QueryResult<Vec<T>> {
    conn.transaction(|conn| {
        let mut results = Vec::with_capacity(writes.len());
        let mut events = Vec::new();
        for (write, event) in writes {
            let result = write(conn)?;
            if let Some(event) = event.as_ref().filter(|_| wrote(&result)) {
                events.push(event);
            }
            results.push(result);
        }
        if !events.is_empty() {
            let forms: Vec<OutboxInsertForm<'_>> = events
                .iter()
                .map(|e| OutboxInsertForm {
                    id: e.id,
                    event_type: e.event_type,
                    envelope: &e.envelope,
                })
                .collect();
            db::diesel::insert_into(outbox::table)
                .values(&forms)
                .execute(conn)?;
        }
        Ok(results)
    })
}

/// Handle on one group-commit task; cheap to clone.
#[derive(Debug)]
pub struct Batcher<T> {
    jobs: mpsc::Sender<Job<T>>,
}

impl<T> Clone for Batcher<T> {
    fn clone(&self) -> Self {
        Self {
            jobs: self.jobs.clone(),
        }
    }
}

impl<T: Send + 'static> Batcher<T> {
    /// Starts the task; it ends when every handle is dropped. `wrote` tells from a write's
    /// result whether its event is to be inserted.
    pub fn spawn(db: Db, max_batch: usize, wrote: fn(&T) -> bool) -> Self {
        let (jobs, queue) = mpsc::channel(max_batch.max(1) * 4);
        tokio::spawn(run(db, queue, max_batch.max(1), wrote));
        Self { jobs }
    }

    /// Runs `write` (for `account`) in the next batch, with `event` if the write `wrote`;
    /// answers once that batch committed.
    pub async fn run(
        &self,
        account: AccountId,
        write: Write<T>,
        event: Option<OutboxEvent>,
    ) -> Result<T, WriteFailed> {
        let (reply, answer) = oneshot::channel();
        let stopped = || WriteFailed("the group-commit task has stopped".into());
        self.jobs
            .send(Job {
                account,
                write,
                event,
                reply,
            })
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

async fn run<T: Send + 'static>(
    db: Db,
    mut queue: mpsc::Receiver<Job<T>>,
    max_batch: usize,
    wrote: fn(&T) -> bool,
) {
    let mut batch = Vec::with_capacity(max_batch);
    while queue.recv_many(&mut batch, max_batch).await > 0 {
        batch.sort_by_key(|job| job.account);
        let (writes, replies): (Vec<Entry<T>>, Vec<_>) = batch
            .drain(..)
            .map(|job| ((job.write, job.event), job.reply))
            .unzip();
        let size = writes.len();
        let writes = Arc::new(writes);
        let together = writes.clone();
        let result = db
            .run(move |conn| run_batch(conn, &together, wrote).map_err(DbError::from))
            .await;
        match result {
            Ok(results) => {
                for (reply, result) in replies.into_iter().zip(results) {
                    let _ = reply.send(Ok(result));
                }
            }
            Err(err) if size == 1 || err.is_unavailable() => {
                let failed = WriteFailed::from(err);
                for reply in replies {
                    let _ = reply.send(Err(failed.clone()));
                }
            }
            Err(err) => {
                tracing::warn!(error = %err, statements = size, "a group commit failed; running its statements one by one");
                for (i, reply) in replies.into_iter().enumerate() {
                    let writes = writes.clone();
                    let result = db
                        .run(move |conn| {
                            run_batch(conn, &writes[i..=i], wrote)
                                .map(|mut r| r.remove(0))
                                .map_err(DbError::from)
                        })
                        .await;
                    let _ = reply.send(result.map_err(WriteFailed::from));
                }
            }
        }
    }
}
