//! `Post::list_for_owner`'s keyset pages: every post exactly once across pages (posts created at
//! the same instant included), and a page deep in a long history reads only its own rows from
//! the owner index, however many newer posts precede it.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers fail the test by panicking"
)]

use std::collections::BTreeSet;

use db::{
    diesel::{self, sql_types, RunQueryDsl},
    domain::{AccountId, OwnerId, PostId},
    posts::{Post, PostFilter},
    PgConnection,
};
use testkit::{
    explain::{explain, sql_of, statements},
    TestDb,
};

fn seed_account(conn: &mut PgConnection, owner: &str) -> AccountId {
    #[derive(diesel::QueryableByName)]
    struct Id {
        #[diesel(sql_type = sql_types::Uuid)]
        id: AccountId,
    }
    diesel::sql_query(
        "INSERT INTO social_accounts (owner_id, platform, platform_account_id, account_kind) \
         VALUES ($1, 'sandbox', 'user', 'profile') RETURNING id",
    )
    .bind::<sql_types::Text, _>(owner)
    .get_result::<Id>(conn)
    .unwrap()
    .id
}

/// Every page of the owner's posts, `limit` at a time, following the cursor.
fn walk(conn: &mut PgConnection, owner: &OwnerId, limit: i64) -> Vec<PostId> {
    let mut seen = Vec::new();
    let mut before = None;
    loop {
        let filter = PostFilter {
            before,
            ..PostFilter::default()
        };
        let page = Post::list_for_owner(conn, owner, &filter, limit).unwrap();
        seen.extend(page.iter().map(|p| p.id));
        match page.last() {
            Some(last) if page.len() as i64 == limit => before = Some((last.created_at, last.id)),
            _ => return seen,
        }
    }
}

#[test]
fn pages_list_every_post_once_including_posts_created_at_the_same_instant() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let account = seed_account(&mut conn, "alice");
    testkit::scale::seed_published(&mut conn, &[account], 300, 1.0);
    // A third of them share one creation instant: only the id orders them.
    diesel::sql_query(
        "UPDATE posts SET created_at = '2026-12-01T00:00:00Z' \
         WHERE id IN (SELECT id FROM posts ORDER BY created_at LIMIT 100 OFFSET 100)",
    )
    .execute(&mut conn)
    .unwrap();
    let owner = OwnerId("alice".into());

    let seen = walk(&mut conn, &owner, 7);

    assert_eq!(seen.len(), 300);
    assert_eq!(seen.iter().collect::<BTreeSet<_>>().len(), 300);
    let all = Post::list_for_owner(&mut conn, &owner, &PostFilter::default(), 1_000).unwrap();
    assert_eq!(seen, all.iter().map(|p| p.id).collect::<Vec<_>>());
}

#[test]
fn a_deep_page_reads_its_rows_from_the_owner_index_not_every_newer_post() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let account = seed_account(&mut conn, "alice");
    testkit::scale::seed_published(&mut conn, &[account], 5_000, 30.0);
    diesel::sql_query("ANALYZE posts")
        .execute(&mut conn)
        .unwrap();
    let owner = OwnerId("alice".into());
    let newer = Post::list_for_owner(&mut conn, &owner, &PostFilter::default(), 4_000).unwrap();
    let cursor = newer.last().map(|p| (p.created_at, p.id)).unwrap();
    let filter = PostFilter {
        before: Some(cursor),
        ..PostFilter::default()
    };

    let (page, recorded) = statements(&mut conn, |c| Post::list_for_owner(c, &owner, &filter, 51));
    let plan = explain(
        &mut conn,
        &recorded[0],
        diesel::sql_query(sql_of(&recorded[0]))
            .bind::<sql_types::Text, _>(&owner)
            .bind::<sql_types::Timestamptz, _>(cursor.0)
            .bind::<sql_types::Timestamptz, _>(cursor.0)
            .bind::<sql_types::Timestamptz, _>(cursor.0)
            .bind::<sql_types::Uuid, _>(cursor.1)
            .bind::<sql_types::BigInt, _>(51_i64),
    );

    assert_eq!(page.len(), 51);
    assert!(page.iter().all(|p| p.created_at <= cursor.0));
    let text = plan.join("\n");
    assert!(
        text.contains("Index Scan using posts_owner_created_idx"),
        "{text}"
    );
    // The cursor bounds the scan: it starts at the cursor, not at the newest post.
    let removed: u64 = plan
        .iter()
        .filter_map(|l| l.trim().strip_prefix("Rows Removed by Filter:"))
        .map(|n| n.trim().parse::<u64>().unwrap())
        .sum();
    assert!(removed <= 1, "{text}");
}
