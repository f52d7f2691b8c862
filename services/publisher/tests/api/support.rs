//! A publisher world: its own database and exchanges, an in-process platform-sim, accounts
//! with real sim grants, and posts written straight into the database as the gateway would.

use std::{future::Future, net::TcpListener, time::Duration};

use chrono::{DateTime, Utc};
use db::{
    accounts::{Account, AccountConnectForm},
    diesel::{self, sql_types, RunQueryDsl},
    domain::{
        AccountId, AccountKind, AccountStatus, OwnerId, Platform, PostId, PostStatus, PostTargetId,
        TargetStatus,
    },
    posts::{NewPost, NewTarget, Post, PostAttempt, PostTarget},
};
use events::CancellationToken;
use platform_sim::{SimHandle, SimOptions};
use publisher::{configuration, startup::Application};
use service_kit::{config::Loaded, tokens};
use testkit::TestDb;
use vault::Vault;

pub const CLIENT_ID: &str = "postbridge-local";

pub struct World {
    pub db: TestDb,
    pub sim: SimHandle,
    pub vault: Vault,
    pub loaded: Loaded,
    /// Exchange and queue prefix of this test.
    pub prefix: String,
    media_dir: std::path::PathBuf,
    stops: Vec<CancellationToken>,
}

impl Drop for World {
    fn drop(&mut self) {
        for stop in &self.stops {
            stop.cancel();
        }
        let _ = std::fs::remove_dir_all(&self.media_dir);
    }
}

pub async fn world() -> World {
    world_with(TestDb::new()).await
}

/// A world whose database lives on the server at `admin_url` (a test's private PostgreSQL).
pub async fn world_on(admin_url: &str) -> World {
    let admin_url = admin_url.to_owned();
    let db = tokio::task::spawn_blocking(move || TestDb::on(&admin_url))
        .await
        .unwrap();
    world_with(db).await
}

/// A world whose X points at `server`.
pub async fn against_x(server: &wiremock::MockServer) -> World {
    let mut world = world().await;
    world.set("platforms.x.client_id", "x-client");
    world.set("platforms.x.client_secret", "x-secret");
    world.set("platforms.x.api_base", &server.uri());
    world.set("platforms.x.upload_base", &server.uri());
    world
}

async fn world_with(db: TestDb) -> World {
    let (sim, server) = platform_sim::start(
        TcpListener::bind("127.0.0.1:0").unwrap(),
        SimOptions::default(),
    )
    .unwrap();
    tokio::spawn(server);
    let prefix = testkit::unique_name("publisher-test");
    let mut loaded =
        service_kit::testing::loaded_for_tests(db.url(), &testkit::amqp_url(), &prefix);
    let media_dir = std::env::temp_dir().join(&prefix);
    for (key, value) in fast_settings(&sim.base_url(), &media_dir.to_string_lossy()) {
        loaded.set(&key, &value);
    }
    let settings = configuration::from(&loaded).unwrap();
    let vault = service_kit::tokens::vault_from(&settings.vault).unwrap();
    World {
        db,
        sim,
        vault,
        loaded,
        prefix,
        media_dir,
        stops: Vec::new(),
    }
}

/// Settings that make a test publisher quick: short sleeps, backoffs and timeouts.
fn fast_settings(sim: &str, media_dir: &str) -> Vec<(String, String)> {
    [
        ("platforms.sandbox.api_base", sim.to_owned()),
        ("platforms.sandbox.upload_base", sim.to_owned()),
        ("platforms.sandbox.token_url", format!("{sim}/oauth/token")),
        ("publisher.dispatch_interval_ms", "100".into()),
        ("publisher.backoff_base_ms", "50".into()),
        ("publisher.backoff_max_secs", "1".into()),
        ("publisher.rate_limit_wait_secs", "1".into()),
        ("publisher.reconcile_delay_secs", "0".into()),
        ("publisher.publish_timeout_secs", "2".into()),
        ("publisher.max_attempts", "3".into()),
        ("media.root_dir", media_dir.to_owned()),
        ("database.pool_size", "12".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

impl World {
    /// Starts one more publisher replica; returns its stop token.
    pub async fn start_publisher(&mut self) -> CancellationToken {
        let stop = CancellationToken::new();
        let app = Application::build(configuration::from(&self.loaded).unwrap(), stop.clone())
            .await
            .unwrap();
        tokio::spawn(app.run_until_stopped());
        self.stops.push(stop.clone());
        stop
    }

    /// Sets a configuration key for replicas started after this call.
    pub fn set(&mut self, key: &str, value: &str) {
        self.loaded.set(key, value);
    }

    /// The environment that makes the `publisher` binary join this test's world.
    pub fn binary_env(&self) -> Vec<(String, String)> {
        let root = testkit::workspace_root();
        let mut env: Vec<(String, String)> = vec![
            (
                "POSTBRIDGE_CONFIG_DIR".into(),
                root.join("config").to_string_lossy().into_owned(),
            ),
            ("POSTBRIDGE__DATABASE__URL".into(), self.db.url().to_owned()),
            ("POSTBRIDGE__AMQP__URL".into(), testkit::amqp_url()),
            (
                "POSTBRIDGE__EVENTS__EXCHANGE".into(),
                format!("{}.events", self.prefix),
            ),
            (
                "POSTBRIDGE__EVENTS__DEAD_LETTER_EXCHANGE".into(),
                format!("{}.dlx", self.prefix),
            ),
            (
                "POSTBRIDGE__EVENTS__QUEUE_PREFIX".into(),
                format!("{}.", self.prefix),
            ),
            ("POSTBRIDGE__PUBLISHER__LISTEN".into(), "127.0.0.1:0".into()),
            ("RUST_LOG".into(), "warn".into()),
        ];
        for (key, value) in fast_settings(&self.sim.base_url(), &self.media_dir.to_string_lossy()) {
            env.push((
                format!("POSTBRIDGE__{}", key.replace('.', "__").to_uppercase()),
                value,
            ));
        }
        env
    }

    /// `n` sandbox accounts with fresh sim grants (sim users `user0`…).
    pub fn seed_accounts(&self, n: usize) -> Vec<AccountId> {
        (0..n)
            .map(|i| {
                let grant = self
                    .sim
                    .mint_grant(&format!("user{i}"), CLIENT_ID, &["profile", "publish"])
                    .unwrap();
                self.account_with_token(
                    Platform::Sandbox,
                    &format!("sim-user{i}"),
                    &grant.access_token,
                )
            })
            .collect()
    }

    /// An account of `platform` whose access token is `token`.
    pub fn account_with_token(
        &self,
        platform: Platform,
        platform_id: &str,
        token: &str,
    ) -> AccountId {
        let id = AccountId::new();
        let access = tokens::seal(
            &self.vault,
            id,
            tokens::ACCESS_TOKEN,
            &secrecy::SecretString::from(token.to_owned()),
        )
        .unwrap();
        Account::insert(
            &mut self.db.conn(),
            &AccountConnectForm {
                id,
                owner_id: OwnerId("owner".into()),
                platform,
                platform_account_id: platform_id.to_owned(),
                account_kind: AccountKind::Profile,
                display_name: None,
                handle: None,
                avatar_url: None,
                profile_url: None,
                instance_url: None,
                scopes: vec![],
                access_token_enc: Some(access),
                refresh_token_enc: None,
                token_key_id: Some(self.vault.primary_key_id().to_owned()),
                token_expires_at: Some(Utc::now() + chrono::Duration::hours(2)),
                refresh_expires_at: None,
                status: AccountStatus::Active,
                last_error: None,
                followers_count: None,
                following_count: None,
                posts_count: None,
                refresh_attempts: 0,
                next_refresh_at: None,
            },
        )
        .unwrap();
        id
    }

    /// One post of `text` to `accounts` (a target each), due at `due_at`, as the gateway
    /// writes it.
    pub fn schedule(&self, accounts: &[AccountId], text: &str, due_at: DateTime<Utc>) -> PostId {
        let mut conn = self.db.conn();
        let post = new_post(text, due_at);
        let targets: Vec<NewTarget> = Account::find_many(&mut conn, accounts)
            .unwrap()
            .into_iter()
            .map(|a| new_target(post.id, a.id, a.platform, text, due_at))
            .collect();
        Post::insert_with_targets(&mut conn, &post, &targets).unwrap();
        post.id
    }

    /// One single-target post per `(account, text)` of `platform`, all due at `due_at`, in
    /// batched statements so thousands are quick.
    pub fn schedule_many(
        &self,
        platform: Platform,
        items: &[(AccountId, String)],
        due_at: DateTime<Utc>,
    ) -> Vec<PostId> {
        let mut conn = self.db.conn();
        let mut ids = Vec::with_capacity(items.len());
        for chunk in items.chunks(1000) {
            let posts: Vec<NewPost> = chunk
                .iter()
                .map(|(_, text)| new_post(text, due_at))
                .collect();
            let targets: Vec<NewTarget> = chunk
                .iter()
                .zip(&posts)
                .map(|((account, text), post)| {
                    new_target(post.id, *account, platform, text, due_at)
                })
                .collect();
            diesel::insert_into(db::schema::posts::table)
                .values(&posts)
                .execute(&mut conn)
                .unwrap();
            diesel::insert_into(db::schema::post_targets::table)
                .values(&targets)
                .execute(&mut conn)
                .unwrap();
            ids.extend(posts.iter().map(|p| p.id));
        }
        ids
    }

    pub fn targets(&self, post: PostId) -> Vec<PostTarget> {
        PostTarget::of_posts(&mut self.db.conn(), &[post]).unwrap()
    }

    pub fn post(&self, post: PostId) -> Post {
        use db::diesel::{QueryDsl, SelectableHelper};
        db::schema::posts::table
            .find(post)
            .select(Post::as_select())
            .first(&mut self.db.conn())
            .unwrap()
    }

    pub fn attempts(&self, target: PostTargetId) -> Vec<PostAttempt> {
        PostAttempt::of_targets(&mut self.db.conn(), &[target]).unwrap()
    }

    /// Events of `event_type` written to the outbox, as JSON payloads.
    pub fn events(&self, event_type: &str) -> Vec<serde_json::Value> {
        #[derive(diesel::QueryableByName)]
        struct Row {
            #[diesel(sql_type = sql_types::Jsonb)]
            envelope: serde_json::Value,
        }
        diesel::sql_query("SELECT envelope FROM outbox WHERE event_type = $1 ORDER BY seq")
            .bind::<sql_types::Text, _>(event_type)
            .load::<Row>(&mut self.db.conn())
            .unwrap()
            .into_iter()
            .map(|r| r.envelope["data"].clone())
            .collect()
    }

    /// Sets the account's token expiry (an expired or expiring token).
    pub fn token_expires(&self, account: AccountId, at: DateTime<Utc>) {
        diesel::sql_query("UPDATE social_accounts SET token_expires_at = $1 WHERE id = $2")
            .bind::<sql_types::Timestamptz, _>(at)
            .bind::<sql_types::Uuid, _>(account.0)
            .execute(&mut self.db.conn())
            .unwrap();
    }

    /// Does what token-refresher does after a successful refresh: stores `token` (valid for
    /// two hours) and announces `token.refreshed`.
    pub fn refreshed(&self, account: AccountId, platform: Platform, token: &str) {
        let mut conn = self.db.conn();
        let access = tokens::seal(
            &self.vault,
            account,
            tokens::ACCESS_TOKEN,
            &secrecy::SecretString::from(token.to_owned()),
        )
        .unwrap();
        let expires_at = Utc::now() + chrono::Duration::hours(2);
        diesel::sql_query(
            "UPDATE social_accounts SET access_token_enc = $1, token_expires_at = $2, \
             last_refreshed_at = now(), status = 'active' WHERE id = $3",
        )
        .bind::<sql_types::Bytea, _>(access)
        .bind::<sql_types::Timestamptz, _>(expires_at)
        .bind::<sql_types::Uuid, _>(account.0)
        .execute(&mut conn)
        .unwrap();
        events::Outbox::new("token-refresher")
            .write(
                &mut conn,
                events::TokenRefreshed {
                    account_id: account,
                    platform,
                    expires_at: Some(expires_at),
                    recovered: false,
                },
            )
            .unwrap();
    }

    /// Does what token-refresher does when the platform refuses the refresh token: marks the
    /// account `needs_reauth` and announces `token.refresh_failed`.
    pub fn refresh_refused(&self, account: AccountId, platform: Platform) {
        let mut conn = self.db.conn();
        diesel::sql_query("UPDATE social_accounts SET status = 'needs_reauth' WHERE id = $1")
            .bind::<sql_types::Uuid, _>(account.0)
            .execute(&mut conn)
            .unwrap();
        events::Outbox::new("token-refresher")
            .write(
                &mut conn,
                events::TokenRefreshFailed {
                    account_id: account,
                    platform,
                    reason: events::RefreshFailureReason::NeedsReauth,
                    message: "reconnect the account".into(),
                    retry_at: None,
                },
            )
            .unwrap();
    }

    /// Targets per status, finished ones included (the service's own gauge counts only live
    /// targets).
    pub fn target_counts(&self) -> Vec<(TargetStatus, i64)> {
        #[derive(diesel::QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::Text)]
            status: TargetStatus,
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            targets: i64,
        }
        diesel::sql_query("SELECT status, count(*) AS targets FROM post_targets GROUP BY status")
            .load::<Count>(&mut self.db.conn())
            .unwrap()
            .into_iter()
            .map(|c| (c.status, c.targets))
            .collect()
    }

    pub fn count_in(&self, status: TargetStatus) -> i64 {
        self.target_counts()
            .into_iter()
            .find(|(s, _)| *s == status)
            .map_or(0, |(_, n)| n)
    }
}

fn new_post(text: &str, due_at: DateTime<Utc>) -> NewPost {
    NewPost {
        id: PostId::new(),
        owner_id: OwnerId("owner".into()),
        draft_id: None,
        text: text.to_owned(),
        media_ids: vec![],
        variants: serde_json::json!({}),
        idempotency_key: None,
        request_hash: None,
        scheduled_at: Some(due_at),
        status: PostStatus::Scheduled,
    }
}

fn new_target(
    post: PostId,
    account: AccountId,
    platform: Platform,
    text: &str,
    due_at: DateTime<Utc>,
) -> NewTarget {
    NewTarget {
        id: PostTargetId::new(),
        post_id: post,
        account_id: account,
        platform,
        text: text.to_owned(),
        media_ids: vec![],
        status: TargetStatus::Scheduled,
        due_at,
        next_attempt_at: due_at,
        options: serde_json::json!({}),
    }
}

/// Waits until `check` holds (a boolean flavour of [`testkit::eventually`]).
pub async fn eventually<F, Fut>(within: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    testkit::eventually(within, what, || {
        let holds = check();
        async move { holds.await.then_some(()) }
    })
    .await;
}
