//! One database per test, cloned from a migrated template (or empty, for the tests of
//! migrating itself).

use db::{diesel::RunQueryDsl, Connection, Db, PgConnection, PoolSettings};
use diesel::sql_types::{BigInt, Text};

/// Advisory lock key serialising template creation across test processes ("pbtmpl").
const TEMPLATE_LOCK_KEY: i64 = 0x7062_746d_706c;

/// A freshly migrated database of this test's own, dropped on `Drop`.
#[derive(Debug)]
pub struct TestDb {
    name: String,
    url: String,
    admin_url: String,
}

impl TestDb {
    /// Creates the database (blocking; fine in tests, including async ones).
    pub fn new() -> Self {
        Self::on(&crate::database_url())
    }

    /// Creates the database on the server at `admin_url` (e.g. a [`crate::PrivatePostgres`]).
    pub fn on(admin_url: &str) -> Self {
        let template = ensure_template(admin_url);
        let name = format!("pb_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::establish(admin_url)
            .expect("connect to test PostgreSQL (is `make infra-up` running?)");
        diesel::sql_query(format!("CREATE DATABASE {name} TEMPLATE {template}"))
            .execute(&mut admin)
            .expect("create test database");
        Self {
            url: with_database(admin_url, &name),
            name,
            admin_url: admin_url.to_owned(),
        }
    }

    /// An empty database of this test's own: no tables, no migrations applied. For tests of
    /// what a service does on a fresh database (it must migrate it).
    pub fn empty() -> Self {
        Self::empty_on(&crate::database_url())
    }

    /// [`TestDb::empty`] on the server at `admin_url`.
    pub fn empty_on(admin_url: &str) -> Self {
        let name = format!("pb_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::establish(admin_url)
            .expect("connect to test PostgreSQL (is `make infra-up` running?)");
        // template0 is pristine by definition; template1 may have been changed on this server.
        diesel::sql_query(format!("CREATE DATABASE {name} TEMPLATE template0"))
            .execute(&mut admin)
            .expect("create empty test database");
        Self {
            url: with_database(admin_url, &name),
            name,
            admin_url: admin_url.to_owned(),
        }
    }

    /// Versions recorded in `__diesel_schema_migrations`, sorted; empty when no migration ever
    /// ran here (the table does not exist).
    pub fn applied_migrations(&self) -> Vec<String> {
        #[derive(diesel::QueryableByName)]
        struct Version {
            #[diesel(sql_type = Text)]
            version: String,
        }
        let mut conn = self.conn();
        #[derive(diesel::QueryableByName)]
        struct Exists {
            #[diesel(sql_type = diesel::sql_types::Bool)]
            exists: bool,
        }
        let table: Exists = diesel::sql_query(
            "SELECT to_regclass('public.__diesel_schema_migrations') IS NOT NULL AS exists",
        )
        .get_result(&mut conn)
        .expect("look for the migrations table");
        if !table.exists {
            return Vec::new();
        }
        let mut versions: Vec<String> =
            diesel::sql_query("SELECT version FROM __diesel_schema_migrations")
                .load::<Version>(&mut conn)
                .expect("read applied migrations")
                .into_iter()
                .map(|v| v.version)
                .collect();
        versions.sort();
        versions
    }

    /// URL of this test's database.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Database name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A pool on this database.
    pub fn db(&self) -> Db {
        Db::new(
            &self.url,
            &PoolSettings {
                max_size: 8,
                ..PoolSettings::default()
            },
        )
    }

    /// A direct connection to this database.
    pub fn conn(&self) -> PgConnection {
        PgConnection::establish(&self.url).expect("connect to test database")
    }
}

impl Default for TestDb {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Ok(mut admin) = PgConnection::establish(&self.admin_url) {
            let _ = diesel::sql_query(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .execute(&mut admin);
        }
    }
}

/// Makes sure a template migrated with exactly these migrations exists; returns its name.
fn ensure_template(admin_url: &str) -> String {
    let template = format!("pb_template_{}", db::MIGRATIONS_FINGERPRINT);
    let mut admin = PgConnection::establish(admin_url)
        .expect("connect to test PostgreSQL (is `make infra-up` running?)");
    diesel::sql_query("SELECT pg_advisory_lock($1)")
        .bind::<BigInt, _>(TEMPLATE_LOCK_KEY)
        .execute(&mut admin)
        .expect("lock");

    #[derive(diesel::QueryableByName)]
    struct Name {
        #[diesel(sql_type = Text)]
        datname: String,
    }
    let existing: Vec<Name> =
        diesel::sql_query("SELECT datname FROM pg_database WHERE datname LIKE 'pb\\_template\\_%'")
            .load(&mut admin)
            .expect("list templates");
    if !existing.iter().any(|n| n.datname == template) {
        // Templates of older migration sets are never used again.
        for old in &existing {
            let _ = diesel::sql_query(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                old.datname
            ))
            .execute(&mut admin);
        }
        let building = format!("{template}_building");
        let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"))
            .execute(&mut admin);
        diesel::sql_query(format!("CREATE DATABASE {building}"))
            .execute(&mut admin)
            .expect("create template");
        {
            let mut conn = PgConnection::establish(&with_database(admin_url, &building))
                .expect("connect to template");
            db::migrations::run_pending(&mut conn).expect("migrate template");
        }
        // Renamed only once complete, so a crash mid-migration never leaves a half-built template.
        diesel::sql_query(format!("ALTER DATABASE {building} RENAME TO {template}"))
            .execute(&mut admin)
            .expect("publish template");
    }
    diesel::sql_query("SELECT pg_advisory_unlock($1)")
        .bind::<BigInt, _>(TEMPLATE_LOCK_KEY)
        .execute(&mut admin)
        .expect("unlock");
    template
}

/// Replaces the database name (the path) of a postgres URL.
pub(crate) fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{}", &base[..path_start], database);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}
