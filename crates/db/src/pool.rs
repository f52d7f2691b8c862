//! The r2d2 pool and the one bridge from async code to diesel's blocking connections.

use std::time::Duration;

use diesel::{
    r2d2::{ConnectionManager, Pool, PooledConnection},
    PgConnection,
};
use tracing::Instrument;

/// Errors from reaching or using the database.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// No connection could be checked out (database down, pool exhausted).
    #[error("database connection unavailable: {0}")]
    Pool(#[from] diesel::r2d2::PoolError),
    /// A statement failed.
    #[error("database query failed: {0}")]
    Query(#[from] diesel::result::Error),
    /// Applying migrations failed.
    #[error("database migration failed: {0}")]
    Migration(String),
    /// The blocking task running the query panicked or was cancelled.
    #[error("database task aborted: {0}")]
    Task(#[from] tokio::task::JoinError),
}

impl DbError {
    /// True when the row asked for does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, DbError::Query(diesel::result::Error::NotFound))
    }

    /// True when the database could not be reached or went away (see [`is_unavailable`]):
    /// worth retrying later, not a bug.
    pub fn is_unavailable(&self) -> bool {
        match self {
            DbError::Pool(_) => true,
            DbError::Query(err) => is_unavailable(err),
            DbError::Migration(_) | DbError::Task(_) => false,
        }
    }
}

/// Whether a diesel error means "the database is unavailable" rather than "this statement is
/// wrong": the connection was refused, closed or reset, or the server is shutting down,
/// starting up or in recovery (SQLSTATE classes 08 and 57P0x, which diesel reports as
/// `ClosedConnection` or, for the 57P0x codes, only through their message).
///
/// Such an error may have hit a `COMMIT` after the server applied it, so callers must treat
/// the outcome of the interrupted transaction as unknown (the gateway answers 503 and relies
/// on the client's `Idempotency-Key` for a safe retry).
pub fn is_unavailable(err: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind, Error};
    /// libpq and server messages of a lost or refused connection (the server's 57P01–57P03
    /// have no `DatabaseErrorKind` of their own).
    const MESSAGES: &[&str] = &[
        "terminating connection due to administrator command",
        "terminating connection due to crash of another server process",
        "the database system is shutting down",
        "the database system is starting up",
        "the database system is in recovery mode",
        "the database system is not yet accepting connections",
        "server closed the connection unexpectedly",
        "no connection to the server",
        "could not receive data from server",
        "could not send data to server",
        "connection to server was lost",
        "SSL connection has been closed unexpectedly",
    ];
    match err {
        Error::DatabaseError(DatabaseErrorKind::ClosedConnection, _) => true,
        Error::DatabaseError(_, info) => {
            let message = info.message();
            MESSAGES.iter().any(|m| message.contains(m))
        }
        // A commit whose connection died: the rollback failed for the same reason.
        Error::RollbackErrorOnCommit {
            commit_error,
            rollback_error,
        } => is_unavailable(commit_error) || is_unavailable(rollback_error),
        // Diesel marks the transaction manager broken when a connection dies mid-transaction.
        Error::BrokenTransactionManager => true,
        _ => false,
    }
}

/// Pool sizing and timeouts.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    /// Most connections this process opens.
    pub max_size: u32,
    /// How long a caller waits for a free connection before failing.
    pub connection_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_size: 8,
            connection_timeout: Duration::from_secs(5),
        }
    }
}

/// A cloneable handle on the connection pool.
#[derive(Clone)]
pub struct Db {
    pool: Pool<ConnectionManager<PgConnection>>,
    url: std::sync::Arc<str>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry a password: never print it.
        f.debug_struct("Db")
            .field("state", &self.pool.state())
            .finish_non_exhaustive()
    }
}

impl Db {
    /// Builds a pool without connecting: a service can start (and report not-ready) while the
    /// database is still coming up.
    pub fn new(url: &str, settings: &PoolSettings) -> Self {
        let manager = ConnectionManager::<PgConnection>::new(url);
        let pool = Pool::builder()
            .max_size(settings.max_size)
            .min_idle(Some(0))
            .connection_timeout(settings.connection_timeout)
            .test_on_check_out(true)
            .build_unchecked(manager);
        Self {
            pool,
            url: url.into(),
        }
    }

    /// `(open, idle)` connections of the pool right now: the saturation gauges of
    /// `service-kit` (open − idle are in use; in use at the maximum means callers wait).
    pub fn pool_state(&self) -> (u32, u32) {
        let state = self.pool.state();
        (state.connections, state.idle_connections)
    }

    /// The connection URL, for the few places that need a connection outside the pool
    /// (LISTEN, which holds its connection for good).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Checks a connection out, blocking. Only for blocking contexts (tests, tools).
    pub fn get(&self) -> Result<PooledConnection<ConnectionManager<PgConnection>>, DbError> {
        Ok(self.pool.get()?)
    }

    /// Runs `f` with a pooled connection on tokio's blocking pool, inside the caller's span.
    ///
    /// This is the only way async code touches diesel: a synchronous query on an async worker
    /// thread would stall every other task scheduled on it.
    pub async fn run<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut PgConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let pool = self.pool.clone();
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || {
            let _entered = span.enter();
            let mut conn = pool.get().map_err(DbError::from)?;
            f(&mut conn)
        })
        .instrument(tracing::Span::current())
        .await
        .map_err(DbError::from)?
    }

    /// [`Db::run`] for a closure of plain queries (`QueryResult`), the common case.
    pub async fn query<T, F>(&self, f: F) -> Result<T, DbError>
    where
        F: FnOnce(&mut PgConnection) -> diesel::QueryResult<T> + Send + 'static,
        T: Send + 'static,
    {
        self.run(move |conn| f(conn).map_err(DbError::from)).await
    }

    /// Answers whether the database responds to a trivial query right now.
    pub async fn ping(&self) -> Result<(), DbError> {
        self.ping_within(self.pool.connection_timeout()).await
    }

    /// [`Db::ping`], waiting at most `timeout` for a connection (not the pool's checkout
    /// timeout), so a health check can answer in time while the database is down.
    pub async fn ping_within(&self, timeout: std::time::Duration) -> Result<(), DbError> {
        use diesel::RunQueryDsl;
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get_timeout(timeout)?;
            diesel::sql_query("SELECT 1").execute(&mut conn)?;
            Ok::<_, DbError>(())
        })
        .await?
    }
}
