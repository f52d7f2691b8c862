#!/usr/bin/env bash
# Part of `make bench`: the resident memory of every service at rest. Starts the release
# binaries on spare ports against a fresh database and their own exchange (so a running
# `make run` is neither disturbed nor counted), waits until each is ready, lets them idle,
# reads VmRSS and the thread count (/proc/<pid>/task) from /proc, and prints
#   bench idle_rss platform_sim_mb=… platform_sim_threads=… auth_gateway_mb=… auth_gateway_threads=… … publisher_threads=…
# Environment: IDLE_SECS (default 10), READY_TIMEOUT (default 60).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
readonly IDLE_SECS=${IDLE_SECS:-10} READY_TIMEOUT=${READY_TIMEOUT:-60}
readonly ADMIN_URL=${POSTBRIDGE_TEST_DATABASE_URL:-postgres://postbridge:postbridge@127.0.0.1:55432/postbridge}
readonly TAG="idle_$$"
readonly DB_URL="${ADMIN_URL%/*}/postbridge_$TAG"
readonly LOGS="$ROOT/.data/logs/idle-rss"

# name  config section  port  readiness path
readonly SERVICES=(
    "platform-sim platform_sim 18090 /healthz"
    "auth-gateway auth_gateway 18080 /healthz"
    "account-registry account_registry 18081 /readyz"
    "token-refresher token_refresher 18082 /readyz"
    "publisher publisher 18083 /readyz"
)

log() { printf '[bench] %s\n' "$*" >&2; }

PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    psql -q "$ADMIN_URL" -c "DROP DATABASE IF EXISTS postbridge_$TAG" >/dev/null 2>&1 || true
}
trap cleanup EXIT

log "idle memory: building the release binaries"
cargo build -q --release --bins >&2
psql -q "$ADMIN_URL" -c "CREATE DATABASE postbridge_$TAG" >/dev/null
mkdir -p "$LOGS"

line="bench idle_rss"
for entry in "${SERVICES[@]}"; do
    read -r name section port path <<<"$entry"
    bin="$ROOT/target/release/$name"
    env POSTBRIDGE_ENV=development \
        POSTBRIDGE__DATABASE__URL="$DB_URL" \
        POSTBRIDGE__EVENTS__EXCHANGE="$TAG.events" \
        POSTBRIDGE__EVENTS__QUEUE_PREFIX="$TAG." \
        "POSTBRIDGE__${section^^}__LISTEN=127.0.0.1:$port" \
        RUST_LOG=warn \
        "$bin" </dev/null >"$LOGS/$name.log" 2>&1 &
    PIDS+=("$!")
    t0=$SECONDS
    until curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$port$path" 2>/dev/null; do
        kill -0 "${PIDS[-1]}" 2>/dev/null || { tail -n 20 "$LOGS/$name.log" >&2; log "$name exited during start-up"; exit 1; }
        ((SECONDS - t0 < READY_TIMEOUT)) || { tail -n 20 "$LOGS/$name.log" >&2; log "$name not ready in ${READY_TIMEOUT}s"; exit 1; }
        sleep 0.2
    done
done
log "idle memory: all ready; idling ${IDLE_SECS}s"
sleep "$IDLE_SECS"
for i in "${!SERVICES[@]}"; do
    read -r name _ _ _ <<<"${SERVICES[i]}"
    kb=$(awk '/^VmRSS:/ { print $2 }' "/proc/${PIDS[i]}/status")
    line+=" ${name//-/_}_mb=$(awk -v kb="$kb" 'BEGIN { printf "%.1f", kb / 1024 }')"
    tasks=(/proc/"${PIDS[i]}"/task/*)
    line+=" ${name//-/_}_threads=${#tasks[@]}"
done
echo "$line"
