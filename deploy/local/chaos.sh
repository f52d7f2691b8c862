#!/usr/bin/env bash
# `make chaos`: the fault suite (never part of `make test`; CI runs it nightly). Builds the
# release binaries, then runs tests/chaos, which starts its own PostgreSQL and RabbitMQ on
# spare ports (deploy/local/pg.sh and rabbitmq.sh install them when missing), platform-sim and
# every service per scenario, injects the fault during a burst of posts and audits the result.
# One `chaos scenario=…` line per scenario on stdout; exits non-zero when a goal is missed.
#   CHAOS_SCENARIOS=publisher_kill,postgres_stop   run some scenarios only
#   CHAOS_POSTS=2000 CHAOS_ACCOUNTS=20             size of the burst
# Service logs: .data/chaos/<scenario>/<service>.log
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
echo "[chaos] building the services, platform-sim and the harness (release profile)…" >&2
cargo build --release -p auth-gateway -p account-registry -p token-refresher -p publisher \
    -p platform-sim -p chaos >&2
exec target/release/chaos
