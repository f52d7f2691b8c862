//! The env account's queries: who sees it, and that token-refresher never claims it.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers fail the test by panicking"
)]

use chrono::{Duration, Utc};
use db::{
    accounts::{Account, AccountConnectForm},
    domain::{AccountId, AccountKind, AccountStatus, OwnerId, Platform},
    env_accounts::{env_owner, ENV_OWNER},
    refresh::RefreshClaim,
    PgConnection,
};
use testkit::TestDb;
use uuid::Uuid;

fn account(owner: &OwnerId, platform: Platform, page: &str) -> AccountConnectForm {
    AccountConnectForm {
        id: AccountId::new(),
        owner_id: owner.clone(),
        platform,
        platform_account_id: page.into(),
        account_kind: AccountKind::Page,
        display_name: Some(format!("{page} name")),
        handle: None,
        avatar_url: None,
        profile_url: None,
        instance_url: None,
        scopes: Vec::new(),
        access_token_enc: Some(vec![1, 2, 3]),
        refresh_token_enc: None,
        token_key_id: Some("dev".into()),
        token_expires_at: None,
        refresh_expires_at: None,
        status: AccountStatus::Active,
        last_error: None,
        followers_count: None,
        following_count: None,
        posts_count: None,
        refresh_attempts: 0,
        next_refresh_at: None,
    }
}

fn visible(conn: &mut PgConnection, owner: &OwnerId) -> Vec<AccountId> {
    Account::list_visible_to(conn, owner, None, 100)
        .unwrap()
        .into_iter()
        .map(|a| a.id)
        .collect()
}

#[test]
fn users_without_a_facebook_account_see_the_env_account_and_others_do_not() {
    let db = TestDb::new();
    let conn = &mut db.conn();
    let env = Account::insert(conn, &account(&env_owner(), Platform::Facebook, "100")).unwrap();
    assert!(env.is_env());
    let alice = OwnerId("alice".into());
    let bob = OwnerId("bob".into());
    let alice_sandbox =
        Account::insert(conn, &account(&alice, Platform::Sandbox, "a-sandbox")).unwrap();
    let bob_facebook =
        Account::insert(conn, &account(&bob, Platform::Facebook, "bob-page")).unwrap();

    assert_eq!(visible(conn, &alice), vec![env.id, alice_sandbox.id]);
    assert_eq!(
        visible(conn, &bob),
        vec![bob_facebook.id],
        "bob has his own Page"
    );
    assert!(Account::find_visible_to(conn, env.id, &alice)
        .unwrap()
        .is_some());
    assert!(Account::find_visible_to(conn, env.id, &bob)
        .unwrap()
        .is_none());
    assert!(Account::find_visible_to(conn, bob_facebook.id, &alice)
        .unwrap()
        .is_none());
    let many = Account::find_many_visible_to(conn, &[env.id, bob_facebook.id], &alice).unwrap();
    assert_eq!(many.iter().map(|a| a.id).collect::<Vec<_>>(), vec![env.id]);

    // Bob's own Page gone: the env account is back for him.
    Account::wipe_tokens_and_disconnect(conn, bob_facebook.id).unwrap();
    assert_eq!(visible(conn, &bob), vec![env.id]);
    // A disconnected env account is nobody's.
    Account::wipe_tokens_and_disconnect(conn, env.id).unwrap();
    assert!(visible(conn, &bob).is_empty());
    assert!(Account::find_visible_to(conn, env.id, &bob)
        .unwrap()
        .is_none());
}

#[test]
fn token_refresher_never_claims_the_env_account() {
    let db = TestDb::new();
    let conn = &mut db.conn();
    let now = Utc::now();
    // The database itself refuses to schedule a refresh of an env account.
    let mut scheduled = account(&env_owner(), Platform::Facebook, "100");
    scheduled.next_refresh_at = Some(now - Duration::minutes(1));
    assert!(Account::insert(conn, &scheduled).is_err());

    let env = Account::insert(conn, &account(&env_owner(), Platform::Facebook, "100")).unwrap();
    // A user's Page due now is claimed; the env account is not, not even on demand.
    let mut due = account(&OwnerId("alice".into()), Platform::Facebook, "200");
    due.next_refresh_at = Some(now - Duration::minutes(1));
    due.token_expires_at = Some(now + Duration::minutes(5));
    let due = Account::insert(conn, &due).unwrap();
    let claimed =
        Account::claim_due_for_refresh(conn, now, now + Duration::seconds(15), Uuid::new_v4(), 10)
            .unwrap();
    assert_eq!(
        claimed.iter().map(|a| a.id).collect::<Vec<_>>(),
        vec![due.id]
    );

    let claim = RefreshClaim {
        fence: Uuid::new_v4(),
        now,
        lease_until: now + Duration::seconds(15),
        requested_at: now,
        on_demand: true,
    };
    assert!(Account::claim_for_refresh(conn, env.id, &claim)
        .unwrap()
        .is_none());
    let stored = Account::find(conn, env.id).unwrap().unwrap();
    assert_eq!(stored.owner_id.as_str(), ENV_OWNER);
    assert!(stored.next_refresh_at.is_none());
}

/// The gateway lists accounts on every page load: the statement must be prepared once per
/// connection and then only executed (a literal SQL fragment would make diesel prepare it
/// afresh each time: an extra round trip and a plan per request).
#[test]
fn the_visible_accounts_list_is_prepared_once_per_connection() {
    use std::sync::{Arc, Mutex};

    use db::Connection;
    use diesel::connection::InstrumentationEvent;

    let db = TestDb::new();
    let conn = &mut db.conn();
    let alice = OwnerId("alice".into());
    Account::insert(conn, &account(&alice, Platform::Sandbox, "a1")).unwrap();
    let cached = Arc::new(Mutex::new(Vec::<String>::new()));
    let seen = cached.clone();
    conn.set_instrumentation(move |event: InstrumentationEvent<'_>| {
        if let InstrumentationEvent::CacheQuery { sql, .. } = event {
            seen.lock().unwrap().push(sql.to_owned());
        }
    });
    for _ in 0..3 {
        assert_eq!(visible(conn, &alice).len(), 1);
    }
    let bob = OwnerId("bob".into());
    assert!(visible(conn, &bob).is_empty());
    let cached = cached.lock().unwrap();
    assert_eq!(cached.len(), 1, "prepared for the cache: {cached:?}");
    assert!(cached[0].contains("NOT EXISTS"), "{}", cached[0]);
}
