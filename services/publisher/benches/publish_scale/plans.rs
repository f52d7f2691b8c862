//! `bench publish_scale`, step 3: the plans of what runs against the grown tables on every
//! dispatcher pass, engagement pass and gateway request, each the statement `crates/db` sends
//! (recorded by `testkit::explain::statements`, explained with the same binds). Printed on
//! stderr: a summary line per statement, then its plan.

use chrono::{Duration, Utc};
use db::{
    accounts::Account,
    deletions::PostDeletion,
    diesel::{
        self,
        sql_types::{Array, BigInt, Text, Timestamptz, Uuid},
    },
    domain::{AccountId, AccountStatus, OwnerId, Platform, PostId, PostTargetId},
    post_metrics::MetricsSchedule,
    posts::{Post, PostAttempt, PostFilter, PostTarget},
    PgConnection,
};
use testkit::explain::{explain, sql_of, statements, PlanSummary};

/// The publisher's default `claim_batch` (`[publisher]`) and the engagement fetcher's.
const DISPATCH_BATCH: i64 = 200;
const METRICS_BATCH: i64 = 500;
/// The gateway's default page (50) plus the one row that says whether a next page exists.
const PAGE: i64 = 51;

/// Prints every plan (see the module doc).
pub fn print_all(conn: &mut PgConnection, accounts: &[AccountId]) {
    dispatcher(conn, "", accounts);
    // The pause anti-join with an account paused: its targets are skipped, the rest claimed.
    let paused = accounts[0];
    let owner = OwnerId("owner0".into());
    Account::set_paused(conn, paused, &owner, true, Utc::now()).unwrap();
    dispatcher(conn, " (one account paused)", accounts);
    Account::set_paused(conn, paused, &owner, false, Utc::now()).unwrap();
    engagement(conn);
    gateway(conn, &owner, accounts[0]);
    let (_, recorded) = statements(conn, PostTarget::count_by_status);
    show(
        conn,
        "targets gauge: PostTarget::count_by_status (every 15 s)",
        &recorded[0],
        diesel::sql_query(sql_of(&recorded[0])),
    );
}

/// The dispatcher's claim (a backlog: a day of the schedule due, as after an outage) and the
/// query behind its sleep.
fn dispatcher(conn: &mut PgConnection, note: &str, accounts: &[AccountId]) {
    let now = Utc::now() + Duration::days(1);
    let lease = now + Duration::seconds(30);
    let claim = uuid::Uuid::new_v4();
    let (claimed, recorded) = statements(conn, |c| {
        PostTarget::claim_due(c, now, lease, claim, DISPATCH_BATCH)
    });
    assert_eq!(
        claimed.len() as i64,
        DISPATCH_BATCH,
        "a day of schedule is due"
    );
    if !note.is_empty() {
        assert!(
            claimed.iter().all(|c| c.target.account_id != accounts[0]),
            "a paused account's target was claimed"
        );
    }
    show(
        conn,
        &format!("dispatcher claim: PostTarget::claim_due, {DISPATCH_BATCH} of a backlog{note}"),
        &recorded[0],
        diesel::sql_query(sql_of(&recorded[0]))
            .bind::<Timestamptz, _>(now)
            .bind::<Timestamptz, _>(lease)
            .bind::<BigInt, _>(DISPATCH_BATCH)
            .bind::<Uuid, _>(claim),
    );
    // The claim returns its rows (`RETURNING t.*`): no second statement reads them.
    let (_, recorded) = statements(conn, PostTarget::next_due);
    show(
        conn,
        &format!("dispatcher sleep: PostTarget::next_due (ORDER BY next_attempt_at LIMIT 1){note}"),
        &recorded[0],
        diesel::sql_query(sql_of(&recorded[0])),
    );
}

/// The engagement fetcher's claim (a day of reads due) and its sleep.
fn engagement(conn: &mut PgConnection) {
    let now = Utc::now() + Duration::days(1);
    let lease = now + Duration::seconds(60);
    let (claimed, recorded) = statements(conn, |c| {
        MetricsSchedule::claim_due(c, now, lease, METRICS_BATCH, &[(Platform::Sandbox, 100)])
    });
    assert!(
        claimed.len() as i64 >= METRICS_BATCH,
        "a day of reads is due"
    );
    show(
        conn,
        &format!("engagement claim: MetricsSchedule::claim_due, {METRICS_BATCH} of a backlog"),
        &recorded[0],
        diesel::sql_query(sql_of(&recorded[0]))
            .bind::<Timestamptz, _>(now)
            .bind::<Timestamptz, _>(lease)
            .bind::<BigInt, _>(METRICS_BATCH)
            .bind::<Array<Text>, _>(vec!["sandbox"])
            .bind::<Array<BigInt>, _>(vec![100_i64]),
    );
    let (_, recorded) = statements(conn, MetricsSchedule::next_due);
    show(
        conn,
        "engagement sleep: MetricsSchedule::next_due",
        &recorded[0],
        diesel::sql_query(sql_of(&recorded[0])).bind::<BigInt, _>(1_i64),
    );
}

/// `GET /v1/posts` (first page, a deep page, one account's), the post view, `GET /v1/accounts`.
fn gateway(conn: &mut PgConnection, owner: &OwnerId, account: AccountId) {
    let first = list(conn, owner, PostFilter::default(), "first page");
    // A page deep in the user's history: the cursor of their 5,000th newest post.
    let deep: Vec<Post> = Post::list_for_owner(conn, owner, &PostFilter::default(), 5_000).unwrap();
    let cursor = deep.last().map(|p| (p.created_at, p.id));
    list(
        conn,
        owner,
        PostFilter {
            before: cursor,
            ..PostFilter::default()
        },
        "page after 5,000 posts",
    );
    list(
        conn,
        owner,
        PostFilter {
            account_id: Some(account),
            ..PostFilter::default()
        },
        "one account's, first page",
    );
    let ids: Vec<PostId> = first.iter().take(50).map(|p| p.id).collect();
    let (_, recorded) = statements(conn, |c| PostTarget::of_posts(c, &ids));
    show(
        conn,
        "GET /v1/posts: the page's targets (PostTarget::of_posts, 50 posts)",
        &recorded[0],
        diesel::sql_query(sql_of(&recorded[0])).bind::<Array<Uuid>, _>(&ids),
    );
    let (_, recorded) = statements(conn, |c| PostDeletion::of_posts(c, &ids));
    show(
        conn,
        "GET /v1/posts: the page's deletions (PostDeletion::of_posts, 50 posts)",
        &recorded[0],
        diesel::sql_query(sql_of(&recorded[0])).bind::<Array<Uuid>, _>(&ids),
    );

    // The post view: the post, its targets, their attempt log.
    let post = deep.last().unwrap().id;
    let (_, recorded) = statements(conn, |c| Post::get_for_owner(c, owner, post));
    show(
        conn,
        "GET /v1/posts/{id}: Post::get_for_owner",
        &recorded[0],
        diesel::sql_query(sql_of(&recorded[0]))
            .bind::<Uuid, _>(post)
            .bind::<Text, _>(owner)
            .bind::<BigInt, _>(1_i64),
    );
    let (targets, recorded) = statements(conn, |c| PostTarget::of_posts(c, &[post]));
    show(
        conn,
        "GET /v1/posts/{id}: PostTarget::of_posts",
        &recorded[0],
        diesel::sql_query(sql_of(&recorded[0])).bind::<Array<Uuid>, _>(&[post][..]),
    );
    let target_ids: Vec<PostTargetId> = targets.iter().map(|t| t.id).collect();
    let (_, recorded) = statements(conn, |c| PostAttempt::of_targets(c, &target_ids));
    show(
        conn,
        "GET /v1/posts/{id}: the attempt log (PostAttempt::of_targets)",
        &recorded[0],
        diesel::sql_query(sql_of(&recorded[0])).bind::<Array<Uuid>, _>(&target_ids[..]),
    );

    let (_, recorded) = statements(conn, |c| Account::list_visible_to(c, owner, None, PAGE));
    show(
        conn,
        "GET /v1/accounts: Account::list_visible_to",
        &recorded[0],
        diesel::sql_query(sql_of(&recorded[0]))
            .bind::<Text, _>(owner)
            .bind::<Text, _>(db::env_accounts::ENV_OWNER)
            .bind::<Text, _>(AccountStatus::Disconnected)
            .bind::<Text, _>(owner.as_str().to_owned())
            .bind::<Text, _>(AccountStatus::Disconnected)
            .bind::<BigInt, _>(PAGE),
    );
}

/// Explains one `Post::list_for_owner` call; answers its rows.
fn list(conn: &mut PgConnection, owner: &OwnerId, filter: PostFilter, what: &str) -> Vec<Post> {
    let (rows, recorded) = statements(conn, |c| Post::list_for_owner(c, owner, &filter, PAGE));
    let mut query = diesel::sql_query(sql_of(&recorded[0]))
        .bind::<Text, _>(owner)
        .into_boxed();
    if let Some(account) = filter.account_id {
        query = query.bind::<Uuid, _>(account);
    }
    if let Some((at, id)) = filter.before {
        query = query
            .bind::<Timestamptz, _>(at)
            .bind::<Timestamptz, _>(at)
            .bind::<Timestamptz, _>(at)
            .bind::<Uuid, _>(id);
    }
    show(
        conn,
        &format!("GET /v1/posts: Post::list_for_owner, {what}"),
        &recorded[0],
        query.bind::<BigInt, _>(PAGE),
    );
    rows
}

/// Explains `query` (the `recorded` statement) and prints the summary and the plan.
fn show<Q>(conn: &mut PgConnection, what: &str, recorded: &str, query: Q)
where
    Q: diesel::query_builder::QueryFragment<diesel::pg::Pg>,
{
    let plan = explain(conn, recorded, query);
    let summary = PlanSummary::of(&plan);
    eprintln!(
        "[plan] {what}: {:.2} ms, {} buffers, seq scans {:?}, sorts {:?}",
        summary.execution_ms, summary.buffers, summary.seq_scans, summary.sorts
    );
    for line in &plan {
        eprintln!("[plan]   {}", trimmed(line));
    }
}

/// A plan line with a long literal array (the ids of a page) cut to its first element.
fn trimmed(line: &str) -> String {
    match (line.find("'{"), line.find("}'::")) {
        (Some(open), Some(close)) if close > open + 80 => {
            let first = line[open + 2..close].split(',').next().unwrap_or("");
            let n = line[open + 2..close].split(',').count();
            format!(
                "{}'{{{first},… {n} in all}}'{}",
                &line[..open],
                &line[close + 2..]
            )
        }
        _ => line.to_owned(),
    }
}
