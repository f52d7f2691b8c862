//! HTTP-level tests of account-registry, each on its own database and exchanges, on port 0.

mod env_account;
mod startup;
