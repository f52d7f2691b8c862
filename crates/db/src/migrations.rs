//! Embedded migrations, applied under a Postgres advisory lock.
//!
//! Every service migrates at start-up. With several replicas starting at once, the advisory
//! lock makes the first one apply the pending migrations while the others wait, then find
//! nothing left to do.

use std::time::Duration;

use diesel::{sql_query, sql_types::BigInt, Connection, PgConnection, RunQueryDsl};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::DbError;

/// The migrations of `../../migrations`, compiled in.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations");

/// Key of the session-level advisory lock held while migrating ("pbmigr" in ASCII).
const MIGRATION_LOCK_KEY: i64 = 0x7062_6d69_6772;

/// Applies every pending migration; returns the versions applied by this call.
pub fn run_pending(conn: &mut PgConnection) -> Result<Vec<String>, DbError> {
    with_lock(conn, |conn| {
        let applied = conn
            .run_pending_migrations(MIGRATIONS)
            .map_err(|e| DbError::Migration(e.to_string()))?;
        Ok(applied.iter().map(ToString::to_string).collect())
    })
}

/// Reverts every applied migration, newest first (used to prove each `down.sql` works).
pub fn revert_all(conn: &mut PgConnection) -> Result<Vec<String>, DbError> {
    with_lock(conn, |conn| {
        let reverted = conn
            .revert_all_migrations(MIGRATIONS)
            .map_err(|e| DbError::Migration(e.to_string()))?;
        Ok(reverted.iter().map(ToString::to_string).collect())
    })
}

fn with_lock<T>(
    conn: &mut PgConnection,
    f: impl FnOnce(&mut PgConnection) -> Result<T, DbError>,
) -> Result<T, DbError> {
    sql_query("SELECT pg_advisory_lock($1)")
        .bind::<BigInt, _>(MIGRATION_LOCK_KEY)
        .execute(conn)?;
    let result = f(conn);
    let unlocked = sql_query("SELECT pg_advisory_unlock($1)")
        .bind::<BigInt, _>(MIGRATION_LOCK_KEY)
        .execute(conn);
    let value = result?;
    unlocked?;
    Ok(value)
}

/// Connects to `url` and applies pending migrations, retrying while the database is not yet
/// reachable (a service may start before PostgreSQL does). Gives up after `patience`.
pub async fn migrate_with_retry(url: &str, patience: Duration) -> Result<Vec<String>, DbError> {
    let deadline = tokio::time::Instant::now() + patience;
    let mut delay = Duration::from_millis(200);
    loop {
        let url = url.to_owned();
        let attempt = tokio::task::spawn_blocking(move || {
            let mut conn = PgConnection::establish(&url)
                .map_err(|e| DbError::Migration(format!("cannot connect: {e}")))?;
            run_pending(&mut conn)
        })
        .await?;
        match attempt {
            Ok(applied) => {
                if !applied.is_empty() {
                    tracing::info!(migrations = ?applied, "applied database migrations");
                }
                return Ok(applied);
            }
            Err(err) if tokio::time::Instant::now() + delay < deadline => {
                tracing::warn!(error = %err, retry_in_ms = delay.as_millis() as u64, "database not ready for migrations");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
            Err(err) => return Err(err),
        }
    }
}
