//! `DbError::is_unavailable` tells an outage (retry later) from a bad statement (a bug).

use std::time::Duration;

use db::{diesel::RunQueryDsl, Db, DbError, PoolSettings};
use testkit::TestDb;

#[tokio::test(flavor = "multi_thread")]
async fn a_connection_the_server_terminates_is_unavailable_but_a_bad_statement_is_not() {
    let test_db = TestDb::new();
    let db = test_db.db();

    // What a server shutting down does to its clients (SQLSTATE 57P01, which diesel reports
    // only through its message).
    let terminated = db
        .query(|conn| {
            diesel::sql_query("SELECT pg_terminate_backend(pg_backend_pid())").execute(conn)
        })
        .await
        .unwrap_err();
    assert!(terminated.is_unavailable(), "{terminated}");

    let bad = db
        .query(|conn| diesel::sql_query("SELECT * FROM no_such_table").execute(conn))
        .await
        .unwrap_err();
    assert!(!bad.is_unavailable(), "{bad}");
    assert!(!DbError::Query(diesel::result::Error::NotFound).is_unavailable());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pool_that_cannot_connect_is_unavailable() {
    let closed = format!(
        "postgres://postbridge:postbridge@127.0.0.1:{}/postbridge",
        testkit::free_port()
    );
    let db = Db::new(
        &closed,
        &PoolSettings {
            max_size: 1,
            connection_timeout: Duration::from_millis(300),
        },
    );
    let err = db.ping().await.unwrap_err();
    assert!(err.is_unavailable(), "{err}");
}
