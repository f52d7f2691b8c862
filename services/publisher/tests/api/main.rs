//! Tests of publisher, each on its own database and exchanges, against platform-sim or a
//! wiremock platform.
#![expect(clippy::unwrap_used, reason = "tests fail by panicking")]

mod deletion;
mod failures;
mod group_commit;
mod outage;
mod publishing;
mod record;
mod recovery;
mod spans;
mod startup;
mod support;
mod threads;
mod tokens;
