#!/usr/bin/env bash
# `make bench`: runs every benchmark against the local infrastructure (release build) and
# prints one `bench <name> key=value …` line each. Record the figures in docs/BENCHMARKS.md.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
echo "[bench] building benchmarks (release profile)…" >&2
command -v wrk >/dev/null || { echo "[bench] installing wrk" >&2; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >&2; }
cargo bench --no-run -p events --bench relay -p token-refresher --bench refresh -p auth-gateway --bench accounts --bench posts_list -p publisher --bench publish --bench metrics_sync --bench publish_scale >&2
echo "[bench] outbox relay: ${BENCH_EVENTS:-20000} events, 1 and 2 relay replicas" >&2
cargo bench -q -p events --bench relay 2>/dev/null | grep '^bench '
echo "[bench] gateway: GET /v1/accounts at 64 connections beside actix-web hello-world" >&2
cargo bench -q -p auth-gateway --bench accounts | grep '^bench '
echo "[bench] token refresh: ${BENCH_ACCOUNTS:-100000} accounts due at once, 2 token-refresher replicas" >&2
cargo bench -q -p token-refresher --bench refresh | grep '^bench '
echo "[bench] publishing: ${BENCH_POSTS:-10000} posts due at the same second, then 200 posts due one by one" >&2
cargo bench -q -p publisher --bench publish | grep '^bench '
echo "[bench] analytics: ${BENCH_METRICS_TARGETS:-10000} published targets due for an engagement read, then a ${BENCH_METRICS_BURST:-10000}-post burst alone and with them" >&2
cargo bench -q -p publisher --bench metrics_sync | grep '^bench '
echo "[bench] scale: the ${BENCH_POSTS:-10000}-post burst on fresh tables, then with ${BENCH_SCALE_ROWS:-1000000} published and ${BENCH_SCALE_ROWS:-1000000} scheduled targets seeded (minutes), and the plans" >&2
cargo bench -q -p publisher --bench publish_scale | grep '^bench '
echo "[bench] scale: every page of GET /v1/posts of a user with ${BENCH_LIST_POSTS:-100000} posts" >&2
cargo bench -q -p auth-gateway --bench posts_list | grep '^bench '
echo "[bench] memory: every service (release build) ready and idle" >&2
bash deploy/local/idle-rss.sh
