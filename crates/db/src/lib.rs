#![doc = include_str!("../README.md")]

pub mod account_metrics;
pub mod account_pause;
pub mod accounts;
pub mod deletions;
pub mod drafts;
pub mod env_accounts;
pub mod inbox;
pub mod instance_apps;
pub mod media;
pub mod migrations;
pub mod oauth_states;
pub mod outbox;
pub mod pending_connections;
mod pool;
pub mod post_metrics;
pub mod post_parts;
pub mod posts;
pub mod publish_batch;
pub mod refresh;
pub mod retention;
pub mod schema;
pub mod templates;

pub use diesel::{self, Connection, PgConnection};
pub use domain;
pub use pool::{is_unavailable, Db, DbError, PoolSettings};

/// Fingerprint of the embedded migrations; changes whenever any migration file changes.
pub const MIGRATIONS_FINGERPRINT: &str = env!("POSTBRIDGE_MIGRATIONS_FINGERPRINT");
