//! `EXPLAIN (ANALYZE, BUFFERS)` of the statements the code really sends.
//!
//! [`statements`] runs a function of `crates/db` (in a transaction it rolls back, so a claim
//! claims nothing) and records every statement it sends, as [`diesel::debug_query`] shows it
//! (`SQL -- binds: [...]`), through diesel's connection instrumentation. [`explain`] then runs
//! that SQL under `EXPLAIN (ANALYZE, BUFFERS)` with binds the caller supplies, after checking
//! that `debug_query` of the caller's query is the recorded statement character for character:
//! the plan is of the code's own statement with the same values, and a change to the query in
//! `crates/db` fails the benchmark instead of explaining a stale copy.

use std::sync::{Arc, Mutex};

use db::{diesel, Connection, PgConnection};
use diesel::{
    connection::InstrumentationEvent,
    pg::Pg,
    query_builder::{AstPass, Query, QueryFragment, QueryId},
    sql_types::Text,
    QueryResult, RunQueryDsl,
};

/// Runs `f` in a transaction that is rolled back, and answers what it returned with the
/// statements it sent (transaction control left out), each as `debug_query` displays it.
pub fn statements<T>(
    conn: &mut PgConnection,
    f: impl FnOnce(&mut PgConnection) -> QueryResult<T>,
) -> (T, Vec<String>) {
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = Arc::clone(&seen);
    conn.set_instrumentation(move |event: InstrumentationEvent<'_>| {
        if let InstrumentationEvent::StartQuery { query, .. } = event {
            let text = query.to_string();
            let control = ["BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"]
                .iter()
                .any(|c| text.trim_start().to_ascii_uppercase().starts_with(c));
            if !control {
                sink.lock().expect("statement log").push(text);
            }
        }
    });
    let mut answer = None;
    let rolled_back = conn.transaction::<(), diesel::result::Error, _>(|conn| {
        answer = Some(f(conn).expect("the explained function runs"));
        Err(diesel::result::Error::RollbackTransaction)
    });
    assert!(matches!(
        rolled_back,
        Err(diesel::result::Error::RollbackTransaction)
    ));
    conn.set_instrumentation(|_: InstrumentationEvent<'_>| {});
    let seen = seen.lock().expect("statement log").clone();
    (answer.expect("the function ran"), seen)
}

/// The SQL part of a recorded statement (what precedes ` -- binds: `).
pub fn sql_of(recorded: &str) -> &str {
    recorded
        .rsplit_once(" -- binds: ")
        .map_or(recorded, |(sql, _)| sql)
}

/// `EXPLAIN (ANALYZE, BUFFERS)` of `query`, in a transaction that is rolled back; `query`
/// must be the `recorded` statement (same SQL, same binds; see the module doc). Answers the
/// plan's lines.
pub fn explain<Q>(conn: &mut PgConnection, recorded: &str, query: Q) -> Vec<String>
where
    Q: QueryFragment<Pg>,
{
    let shown = diesel::debug_query::<Pg, _>(&query).to_string();
    assert_eq!(
        shown, recorded,
        "the explained query is not the statement the code sent"
    );
    let mut plan = Vec::new();
    let rolled_back = conn.transaction::<(), diesel::result::Error, _>(|conn| {
        plan = Explain(query).load::<String>(conn)?;
        Err(diesel::result::Error::RollbackTransaction)
    });
    assert!(
        matches!(rolled_back, Err(diesel::result::Error::RollbackTransaction)),
        "EXPLAIN failed: {rolled_back:?}"
    );
    plan
}

/// What a plan says about scaling: the sequential scans and sorts it contains, and the
/// buffers its top node touched (`shared hit + read`).
#[derive(Debug, Clone, PartialEq)]
pub struct PlanSummary {
    pub seq_scans: Vec<String>,
    pub sorts: Vec<String>,
    pub buffers: u64,
    pub execution_ms: f64,
}

impl PlanSummary {
    pub fn of(plan: &[String]) -> Self {
        let nodes = |what: &str| -> Vec<String> {
            plan.iter()
                .filter(|l| l.contains(what))
                .map(|l| l.trim().trim_start_matches("->").trim().to_owned())
                .collect()
        };
        let buffers = plan
            .iter()
            .find(|l| l.trim_start().starts_with("Buffers:"))
            .map_or(0, |l| {
                ["hit=", "read="]
                    .iter()
                    .filter_map(|k| {
                        l.split(k)
                            .nth(1)?
                            .split(|c: char| !c.is_ascii_digit())
                            .next()?
                            .parse::<u64>()
                            .ok()
                    })
                    .sum()
            });
        let execution_ms = plan
            .iter()
            .find_map(|l| l.trim().strip_prefix("Execution Time:"))
            .and_then(|t| t.trim().trim_end_matches("ms").trim().parse().ok())
            .unwrap_or(f64::NAN);
        Self {
            seq_scans: nodes("Seq Scan"),
            sorts: nodes("Sort  ("),
            buffers,
            execution_ms,
        }
    }
}

/// `EXPLAIN (ANALYZE, BUFFERS)` in front of any query, its binds kept.
struct Explain<Q>(Q);

impl<Q: QueryFragment<Pg>> QueryFragment<Pg> for Explain<Q> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.unsafe_to_cache_prepared();
        out.push_sql("EXPLAIN (ANALYZE, BUFFERS) ");
        self.0.walk_ast(out.reborrow())
    }
}

impl<Q> QueryId for Explain<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q> Query for Explain<Q> {
    type SqlType = Text;
}

impl<Q> RunQueryDsl<PgConnection> for Explain<Q> {}
