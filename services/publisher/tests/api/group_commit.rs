//! Group commit: writes that share a transaction still succeed or fail one by one.

use db::{
    diesel::{self, sql_types, QueryResult, RunQueryDsl},
    PgConnection,
};
use publisher::group_commit::{Batch, GroupCommit, WriteError};
use testkit::TestDb;

/// Inserts its number into `probe`, whose primary key refuses a second insert of the same one.
struct InsertProbe;

impl Batch for InsertProbe {
    type Job = i32;
    type Output = i32;

    fn run(&self, conn: &mut PgConnection, job: &i32) -> QueryResult<i32> {
        diesel::sql_query("INSERT INTO probe (n) VALUES ($1)")
            .bind::<sql_types::Integer, _>(*job)
            .execute(conn)
            .map(|_| *job)
    }
}

#[derive(diesel::QueryableByName)]
struct Probe {
    #[diesel(sql_type = sql_types::Integer)]
    n: i32,
}

fn stored(conn: &mut PgConnection) -> Vec<i32> {
    diesel::sql_query("SELECT n FROM probe ORDER BY n")
        .load::<Probe>(conn)
        .unwrap()
        .into_iter()
        .map(|p| p.n)
        .collect()
}

#[tokio::test]
async fn a_failing_write_in_a_group_fails_alone_and_the_others_commit() {
    let db = TestDb::new();
    diesel::sql_query("CREATE TABLE probe (n integer PRIMARY KEY)")
        .execute(&mut db.conn())
        .unwrap();
    let writes = GroupCommit::start(db.db(), InsertProbe, 1, 64);

    // Submitted together, so they queue up and are tried in one transaction; the repeated 2
    // breaks that transaction.
    let (a, b, c, d, e) = tokio::join!(
        writes.submit(1),
        writes.submit(2),
        writes.submit(2),
        writes.submit(3),
        writes.submit(4)
    );
    let results = [a, b, c, d, e];

    let ok: Vec<i32> = results
        .iter()
        .filter_map(|r| r.as_ref().ok().copied())
        .collect();
    assert_eq!(
        ok,
        vec![1, 2, 3, 4],
        "every other write committed: {results:?}"
    );
    let failed: Vec<&WriteError> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert_eq!(
        failed.len(),
        1,
        "only the repeated insert failed: {results:?}"
    );
    assert!(
        failed[0].to_string().contains("duplicate key"),
        "the caller gets its own error: {}",
        failed[0]
    );
    assert_eq!(stored(&mut db.conn()), vec![1, 2, 3, 4]);
}

#[tokio::test]
async fn a_write_is_visible_to_other_connections_when_submit_returns() {
    let db = TestDb::new();
    diesel::sql_query("CREATE TABLE probe (n integer PRIMARY KEY)")
        .execute(&mut db.conn())
        .unwrap();
    let writes = GroupCommit::start(db.db(), InsertProbe, 2, 64);

    for n in 1..=20 {
        writes.submit(n).await.unwrap();
        assert_eq!(
            stored(&mut db.conn()).last(),
            Some(&n),
            "write {n} committed before submit returned"
        );
    }
}
