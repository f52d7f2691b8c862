//! Every migration can be reverted and re-applied, and concurrent start-ups migrate once.

use db::{diesel::RunQueryDsl, migrations, Connection, PgConnection};
use diesel::sql_types::BigInt;
use testkit::TestDb;

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn user_tables(conn: &mut PgConnection) -> i64 {
    diesel::sql_query("SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations'")
        .get_result::<Count>(conn)
        .map(|c| c.n)
        .unwrap_or(-1)
}

#[test]
fn migrations_go_up_down_and_up_again() {
    let test_db = TestDb::new();
    let mut conn = test_db.conn();
    let tables = user_tables(&mut conn);
    assert!(
        tables >= 10,
        "the template is fully migrated ({tables} tables)"
    );

    let reverted = migrations::revert_all(&mut conn).unwrap();
    assert!(!reverted.is_empty());
    assert_eq!(
        user_tables(&mut conn),
        0,
        "every down.sql removes what its up.sql created"
    );

    let applied = migrations::run_pending(&mut conn).unwrap();
    assert_eq!(applied.len(), reverted.len());
    assert_eq!(user_tables(&mut conn), tables);
    assert!(
        migrations::run_pending(&mut conn).unwrap().is_empty(),
        "nothing left to apply"
    );
}

#[test]
fn replicas_starting_together_apply_migrations_exactly_once() {
    let test_db = TestDb::new();
    migrations::revert_all(&mut test_db.conn()).unwrap();
    let url = test_db.url().to_owned();
    let applied: Vec<usize> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let url = url.clone();
                scope.spawn(move || {
                    let mut conn = PgConnection::establish(&url).unwrap();
                    migrations::run_pending(&mut conn).unwrap().len()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let total: usize = applied.iter().sum();
    let max = *applied.iter().max().unwrap();
    assert_eq!(
        total, max,
        "one replica applied everything, the others found nothing to do: {applied:?}"
    );
    assert!(max >= 3);
}
