#!/usr/bin/env bash
# The project's local infrastructure: one PostgreSQL and one RabbitMQ, state under $ROOT/.data.
#
#   infra.sh up       start both (idempotent) and print their URLs
#   infra.sh down     stop both
#   infra.sh status   report both (exit 0 only if both run)
#
# Ports: PB_PG_PORT (default 55432), PB_AMQP_PORT (default 55672) — the URLs in
# config/default.toml assume the defaults.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
readonly HERE ROOT
readonly PG_DATA=$ROOT/.data/pg
readonly RMQ_DATA=$ROOT/.data/rabbitmq
readonly PG_PORT=${PB_PG_PORT:-55432}
readonly AMQP_PORT=${PB_AMQP_PORT:-55672}

log() { printf '[infra] %s\n' "$*" >&2; }
die() { printf '[infra] ERROR: %s\n' "$*" >&2; exit 1; }

usage() {
    echo "usage: infra.sh up|down|status   (env: PB_PG_PORT=$PG_PORT PB_AMQP_PORT=$AMQP_PORT)" >&2
    exit 2
}

summary() {
    printf '%-9s %s\n' postgres "postgres://postbridge:postbridge@127.0.0.1:$PG_PORT/postbridge"
    printf '%-9s %s\n' rabbitmq "amqp://guest:guest@127.0.0.1:$AMQP_PORT/%2f"
}

cmd_up() {
    local t0=$SECONDS pg_pid rmq_pid pg_rc=0 rmq_rc=0
    mkdir -p "$ROOT/.data"
    log "starting PostgreSQL ($PG_DATA, port $PG_PORT) and RabbitMQ ($RMQ_DATA, port $AMQP_PORT)"
    # Both take a few seconds; start them side by side.
    "$HERE/pg.sh" start "$PG_DATA" "$PG_PORT" &
    pg_pid=$!
    "$HERE/rabbitmq.sh" start "$RMQ_DATA" "$AMQP_PORT" &
    rmq_pid=$!
    wait "$pg_pid" || pg_rc=$?
    wait "$rmq_pid" || rmq_rc=$?
    ((pg_rc == 0)) || die "PostgreSQL failed to start (exit $pg_rc; log: $PG_DATA/postgres.log)"
    ((rmq_rc == 0)) || die "RabbitMQ failed to start (exit $rmq_rc; logs: $RMQ_DATA/log/)"
    log "infrastructure up in $((SECONDS - t0))s"
    summary
}

cmd_down() {
    local rc=0
    "$HERE/rabbitmq.sh" stop "$RMQ_DATA" || rc=1
    "$HERE/pg.sh" stop "$PG_DATA" || rc=1
    ((rc == 0)) || die "could not stop everything"
    log "infrastructure down (data kept in $ROOT/.data; delete it for a clean slate)"
}

cmd_status() {
    local rc=0 s
    s=$("$HERE/pg.sh" status "$PG_DATA") || rc=3
    printf '%-9s %s\n' postgres "$s"
    s=$("$HERE/rabbitmq.sh" status "$RMQ_DATA") || rc=3
    printf '%-9s %s\n' rabbitmq "$s"
    if ((rc == 0)); then
        summary
    fi
    return "$rc"
}

(($# == 1)) || usage
case $1 in
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    *) usage ;;
esac
