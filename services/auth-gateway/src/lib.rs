#![doc = include_str!("../README.md")]

pub mod account_pause;
pub mod accounts;
pub mod analytics;
pub mod auth;
pub mod configuration;
pub mod connect;
pub mod cursor;
pub mod dates;
pub mod drafts;
pub mod env_account;
pub mod error;
pub mod hardening;
pub mod limits;
pub mod media;
pub mod observe;
pub mod params;
pub mod posts;
pub mod routes;
pub mod startup;
pub mod state;
pub mod templates;
pub mod views;

/// Name used in logs, metrics, AMQP connection names and the `producer` of its events.
pub const SERVICE: &str = "auth-gateway";
