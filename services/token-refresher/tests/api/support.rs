//! Accounts seeded straight into the database with real platform-sim grants, and refreshers
//! started against them.

use std::net::TcpListener;

use chrono::Utc;
use db::{
    accounts::{Account, AccountConnectForm},
    domain::{AccountId, AccountKind, AccountStatus, OwnerId, Platform},
};
use events::CancellationToken;
use platform_sim::{SimHandle, SimOptions};
use service_kit::{config::Loaded, tokens};
use testkit::TestDb;
use token_refresher::{configuration, startup::Application};
use vault::Vault;

pub const CLIENT_ID: &str = "postbridge-local";

pub struct World {
    pub db: TestDb,
    pub sim: SimHandle,
    pub vault: Vault,
    loaded: Loaded,
    /// Exchange and queue prefix of this test.
    pub prefix: String,
    stops: Vec<CancellationToken>,
    /// Ops (metrics) ports of the in-process replicas, in start order.
    pub ports: Vec<u16>,
}

impl Drop for World {
    fn drop(&mut self) {
        for stop in &self.stops {
            stop.cancel();
        }
    }
}

pub async fn world() -> World {
    world_on(TestDb::new()).await
}

/// A world whose database is `db` (e.g. on a [`testkit::PrivatePostgres`] the test stops).
pub async fn world_on(db: TestDb) -> World {
    let (sim, server) = platform_sim::start(
        TcpListener::bind("127.0.0.1:0").unwrap(),
        SimOptions::default(),
    )
    .unwrap();
    tokio::spawn(server);
    let prefix = testkit::unique_name("refresher-test");
    let mut loaded =
        service_kit::testing::loaded_for_tests(db.url(), &testkit::amqp_url(), &prefix);
    let base = sim.base_url();
    loaded.set(
        "platforms.sandbox.token_url",
        &format!("{base}/oauth/token"),
    );
    loaded.set(
        "platforms.sandbox.revoke_url",
        &format!("{base}/oauth/revoke"),
    );
    loaded.set("platforms.sandbox.api_base", &base);
    loaded.set("token_refresher.scheduler_interval_ms", "100");
    loaded.set("token_refresher.refresh_timeout_secs", "5");
    loaded.set("database.pool_size", "12");
    let settings = configuration::from(&loaded).unwrap();
    let vault = service_kit::tokens::vault_from(&settings.vault).unwrap();
    World {
        db,
        sim,
        vault,
        loaded,
        prefix,
        stops: Vec::new(),
        ports: Vec::new(),
    }
}

impl World {
    /// Starts one more token-refresher replica; returns its stop token.
    pub async fn start_refresher(&mut self) -> CancellationToken {
        let stop = CancellationToken::new();
        let app = Application::build(configuration::from(&self.loaded).unwrap(), stop.clone())
            .await
            .unwrap();
        self.ports.push(app.port());
        tokio::spawn(app.run_until_stopped());
        self.stops.push(stop.clone());
        stop
    }

    /// `postbridge_token_refreshes_total` of the replica serving metrics on `port`, summed
    /// over platforms, by outcome.
    pub async fn outcomes(&self, port: u16) -> std::collections::BTreeMap<String, u64> {
        let text = reqwest::get(format!("http://127.0.0.1:{port}/metrics"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let mut outcomes = std::collections::BTreeMap::new();
        for line in text
            .lines()
            .filter(|l| l.starts_with("postbridge_token_refreshes_total{"))
        {
            let outcome = line
                .split("outcome=\"")
                .nth(1)
                .and_then(|r| r.split('"').next())
                .unwrap()
                .to_owned();
            let value: f64 = line.rsplit(' ').next().unwrap().parse().unwrap();
            *outcomes.entry(outcome).or_insert(0) += value as u64;
        }
        outcomes
    }

    /// Requests handled by every in-process replica so far, whatever the outcome.
    pub async fn requests_handled(&self) -> u64 {
        let mut total = 0;
        for port in &self.ports {
            total += self.outcomes(*port).await.values().sum::<u64>();
        }
        total
    }

    /// Writes an on-demand `token.expiring` for `id` to the outbox, as the publisher does
    /// after a 401.
    pub fn request_urgent_refresh(&self, id: AccountId) {
        let mut conn = self.db.conn();
        db::diesel::Connection::transaction(&mut conn, |conn| {
            token_refresher::refresher::OUTBOX.write(
                conn,
                events::TokenExpiring {
                    account_id: id,
                    platform: Platform::Sandbox,
                    expires_at: None,
                    urgent: true,
                    reason: events::ExpiringReason::Unauthorized,
                },
            )
        })
        .unwrap();
    }

    /// Sets a configuration key for replicas started after this call.
    pub fn set(&mut self, key: &str, value: &str) {
        self.loaded.set(key, value);
    }

    /// The environment that makes the `token-refresher` binary join this test's world, with
    /// the sandbox token endpoint at `token_url`.
    pub fn binary_env(&self, token_url: &str) -> Vec<(String, String)> {
        let root = testkit::workspace_root();
        [
            (
                "POSTBRIDGE_CONFIG_DIR",
                root.join("config").to_string_lossy().into_owned(),
            ),
            ("POSTBRIDGE__DATABASE__URL", self.db.url().to_owned()),
            ("POSTBRIDGE__AMQP__URL", testkit::amqp_url()),
            (
                "POSTBRIDGE__EVENTS__EXCHANGE",
                format!("{}.events", self.prefix),
            ),
            (
                "POSTBRIDGE__EVENTS__DEAD_LETTER_EXCHANGE",
                format!("{}.dlx", self.prefix),
            ),
            (
                "POSTBRIDGE__EVENTS__QUEUE_PREFIX",
                format!("{}.", self.prefix),
            ),
            ("POSTBRIDGE__EVENTS__RELAY_POLL_INTERVAL_MS", "100".into()),
            ("POSTBRIDGE__TOKEN_REFRESHER__LISTEN", "127.0.0.1:0".into()),
            (
                "POSTBRIDGE__TOKEN_REFRESHER__SCHEDULER_INTERVAL_MS",
                "100".into(),
            ),
            ("POSTBRIDGE__TOKEN_REFRESHER__CLAIM_LEASE_SECS", "3".into()),
            (
                "POSTBRIDGE__TOKEN_REFRESHER__REFRESH_TIMEOUT_SECS",
                "120".into(),
            ),
            (
                "POSTBRIDGE__PLATFORMS__SANDBOX__TOKEN_URL",
                token_url.to_owned(),
            ),
            ("RUST_LOG", "warn".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    /// `n` sandbox accounts with fresh sim grants, all due for a refresh now. Returns their ids
    /// and the refresh tokens they were seeded with.
    pub fn seed(&self, n: usize) -> Vec<(AccountId, String)> {
        let mut conn = self.db.conn();
        (0..n)
            .map(|i| {
                let grant = self
                    .sim
                    .mint_grant(&format!("user{i}"), CLIENT_ID, &["profile", "publish"])
                    .unwrap();
                let id = AccountId::new();
                let access = tokens::seal(
                    &self.vault,
                    id,
                    tokens::ACCESS_TOKEN,
                    &secrecy::SecretString::from(grant.access_token.clone()),
                )
                .unwrap();
                let refresh = tokens::seal(
                    &self.vault,
                    id,
                    tokens::REFRESH_TOKEN,
                    &secrecy::SecretString::from(grant.refresh_token.clone()),
                )
                .unwrap();
                let now = Utc::now();
                Account::insert(
                    &mut conn,
                    &AccountConnectForm {
                        id,
                        owner_id: OwnerId(format!("owner{i}")),
                        platform: Platform::Sandbox,
                        platform_account_id: format!("sim-user{i}"),
                        account_kind: AccountKind::Profile,
                        display_name: None,
                        handle: None,
                        avatar_url: None,
                        profile_url: None,
                        instance_url: None,
                        scopes: vec![],
                        access_token_enc: Some(access),
                        refresh_token_enc: Some(refresh),
                        token_key_id: Some(self.vault.primary_key_id().to_owned()),
                        token_expires_at: Some(
                            now + chrono::Duration::seconds(grant.expires_in as i64),
                        ),
                        refresh_expires_at: None,
                        status: AccountStatus::Active,
                        last_error: None,
                        followers_count: None,
                        following_count: None,
                        posts_count: None,
                        refresh_attempts: 0,
                        next_refresh_at: Some(now - chrono::Duration::seconds(1)),
                    },
                )
                .unwrap();
                (id, grant.refresh_token)
            })
            .collect()
    }

    pub fn account(&self, id: AccountId) -> Account {
        Account::find(&mut self.db.conn(), id).unwrap().unwrap()
    }

    /// The refresh token stored for `id`, decrypted.
    pub fn stored_refresh_token(&self, id: AccountId) -> String {
        use secrecy::ExposeSecret;
        tokens::refresh_token(&self.vault, &self.account(id))
            .unwrap()
            .unwrap()
            .expose_secret()
            .to_owned()
    }

    /// How many accounts have been refreshed at least once.
    pub fn refreshed_count(&self) -> i64 {
        use db::diesel::{dsl::count_star, ExpressionMethods, QueryDsl, RunQueryDsl};
        db::schema::social_accounts::table
            .filter(db::schema::social_accounts::last_refreshed_at.is_not_null())
            .select(count_star())
            .first(&mut self.db.conn())
            .unwrap()
    }

    /// Event types written to the outbox for `id`.
    pub fn events_for(&self, id: AccountId) -> Vec<(String, serde_json::Value)> {
        use db::diesel::{QueryDsl, RunQueryDsl};
        let rows: Vec<(String, serde_json::Value)> = db::schema::outbox::table
            .select((db::schema::outbox::event_type, db::schema::outbox::envelope))
            .load(&mut self.db.conn())
            .unwrap();
        rows.into_iter()
            .filter(|(_, e)| e["data"]["account_id"] == id.to_string())
            .collect()
    }
}
