//! Group commit: the small writes of many concurrent publishes share one transaction.
//!
//! Every publish writes twice (the attempt in flight before the call, the result after it),
//! and each write must be committed before the publish goes on. Committed one by one, a
//! burst spends its time waiting on fsyncs; here a write waits in a queue while the previous
//! batch commits, then commits together with whatever queued up behind it. A lone write
//! waits no longer than before, a burst gets one fsync per batch. Nothing is weakened:
//! [`GroupCommit::submit`] returns only after the write's transaction committed.

use std::sync::Arc;

use db::{diesel, Connection, Db, DbError, PgConnection};
use tokio::sync::{mpsc, oneshot, Mutex};

/// One kind of write that can share a transaction with others of its kind.
pub trait Batch: Send + Sync + 'static {
    /// What one caller asks to write.
    type Job: Send + 'static;
    /// What the caller gets back once it committed.
    type Output: Send + 'static;

    /// Runs first, once per transaction, with every job in it (to take locks in one order).
    fn prepare(&self, _conn: &mut PgConnection, _jobs: &[Self::Job]) -> diesel::QueryResult<()> {
        Ok(())
    }

    /// Runs one job: alone, when its batch failed and each job is committed on its own.
    fn run(&self, conn: &mut PgConnection, job: &Self::Job) -> diesel::QueryResult<Self::Output>;

    /// Runs every job of a batch, answering one output per job in their order. One by one
    /// unless the kind of write has a set-based form (a few statements for the whole batch).
    fn run_all(
        &self,
        conn: &mut PgConnection,
        jobs: &[Self::Job],
    ) -> diesel::QueryResult<Vec<Self::Output>> {
        jobs.iter().map(|job| self.run(conn, job)).collect()
    }

    /// Runs last, once per transaction, with every job in it (set-based follow-ups).
    fn finish(&self, _conn: &mut PgConnection, _jobs: &[Self::Job]) -> diesel::QueryResult<()> {
        Ok(())
    }
}

type Reply<O> = oneshot::Sender<Result<O, WriteError>>;

/// Why a write did not commit.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The write's own transaction failed.
    #[error(transparent)]
    Db(#[from] DbError),
    /// No connection for the batch the write was in.
    #[error("database unavailable for a grouped write: {0}")]
    Unavailable(String),
    /// The committers stopped (the service is shutting down).
    #[error("the write queue stopped")]
    Closed,
}

/// A queue of writes of one kind, committed in batches by a few workers.
#[derive(Debug)]
pub struct GroupCommit<B: Batch> {
    queue: mpsc::UnboundedSender<(B::Job, Reply<B::Output>)>,
}

impl<B: Batch> GroupCommit<B> {
    /// Starts `workers` committers (each holds one pooled connection while it commits) that
    /// put up to `max_batch` jobs in one transaction.
    pub fn start(db: Db, batch: B, workers: usize, max_batch: usize) -> Self {
        let (queue, receiver) = mpsc::unbounded_channel();
        let receiver = Arc::new(Mutex::new(receiver));
        let batch = Arc::new(batch);
        for _ in 0..workers.max(1) {
            tokio::spawn(committer(
                db.clone(),
                batch.clone(),
                receiver.clone(),
                max_batch.max(1),
            ));
        }
        Self { queue }
    }

    /// Writes `job` and returns its output once its transaction committed.
    pub async fn submit(&self, job: B::Job) -> Result<B::Output, WriteError> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send((job, reply))
            .map_err(|_| WriteError::Closed)?;
        answer.await.map_err(|_| WriteError::Closed)?
    }
}

type Receiver<B> = mpsc::UnboundedReceiver<(<B as Batch>::Job, Reply<<B as Batch>::Output>)>;

/// Takes whatever is queued (at least one job, at most `max_batch`) and commits it, until
/// every sender is gone.
async fn committer<B: Batch>(
    db: Db,
    batch: Arc<B>,
    receiver: Arc<Mutex<Receiver<B>>>,
    max_batch: usize,
) {
    loop {
        let mut jobs = Vec::new();
        let mut replies = Vec::new();
        {
            let mut receiver = receiver.lock().await;
            let Some((job, reply)) = receiver.recv().await else {
                return;
            };
            jobs.push(job);
            replies.push(reply);
            while jobs.len() < max_batch {
                let Ok((job, reply)) = receiver.try_recv() else {
                    break;
                };
                jobs.push(job);
                replies.push(reply);
            }
        }
        let batch = batch.clone();
        let outputs = db
            .run(move |conn| Ok::<_, DbError>(commit(batch.as_ref(), conn, &jobs)))
            .await
            .unwrap_or_else(|err: DbError| {
                let message = err.to_string();
                (0..replies.len())
                    .map(|_| Err(WriteError::Unavailable(message.clone())))
                    .collect()
            });
        for (reply, output) in replies.into_iter().zip(outputs) {
            // A caller that stopped waiting lost nothing: its write committed or did not.
            let _ = reply.send(output);
        }
    }
}

/// All jobs in one transaction; if that fails, each job in a transaction of its own, so one
/// bad job cannot fail the others and each caller gets its own error.
fn commit<B: Batch>(
    batch: &B,
    conn: &mut PgConnection,
    jobs: &[B::Job],
) -> Vec<Result<B::Output, WriteError>> {
    let together = conn.transaction(|conn| {
        batch.prepare(conn, jobs)?;
        let outputs = batch.run_all(conn, jobs)?;
        debug_assert_eq!(outputs.len(), jobs.len(), "one output per job");
        batch.finish(conn, jobs)?;
        Ok::<_, diesel::result::Error>(outputs)
    });
    match together {
        Ok(outputs) => outputs.into_iter().map(Ok).collect(),
        Err(err) if jobs.len() == 1 => vec![Err(DbError::from(err).into())],
        Err(err) => {
            tracing::debug!(error = %err, jobs = jobs.len(), "a grouped write failed; committing its jobs one by one");
            jobs.iter()
                .map(|job| {
                    conn.transaction(|conn| {
                        let one = std::slice::from_ref(job);
                        batch.prepare(conn, one)?;
                        let output = batch.run(conn, job)?;
                        batch.finish(conn, one)?;
                        Ok::<_, diesel::result::Error>(output)
                    })
                    .map_err(|err| DbError::from(err).into())
                })
                .collect()
        }
    }
}
