#!/usr/bin/env bash
# `make run`: the whole system on this machine.
#
#   1. infrastructure up (PostgreSQL + RabbitMQ, deploy/local/infra.sh; it stays up afterwards)
#   2. cargo build --workspace --bins
#   3. platform-sim, auth-gateway, account-registry, token-refresher, publisher in the
#      background (POSTBRIDGE_ENV=development, cwd = repo root, logs in .data/logs/<name>.log),
#      each waited for until ready
#   4. supervise: Ctrl-C / SIGTERM stops them all; if one dies, the rest are stopped too.
#
# Environment: READY_TIMEOUT (seconds per service, default 60), CARGO (default cargo),
# POSTBRIDGE_PREBUILT_BINS (set: skip step 2, target/debug is current; make test sets it).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
readonly HERE ROOT
readonly BIN_DIR=$ROOT/target/debug
readonly LOG_DIR=$ROOT/.data/logs
readonly READY_TIMEOUT=${READY_TIMEOUT:-60}

# name  address  readiness path — in start order
readonly SERVICES=(
    "platform-sim 127.0.0.1:8090 /healthz"
    "auth-gateway 127.0.0.1:8080 /healthz"
    "account-registry 127.0.0.1:8081 /readyz"
    "token-refresher 127.0.0.1:8082 /readyz"
    "publisher 127.0.0.1:8083 /readyz"
)

log() { printf '[run] %s\n' "$*" >&2; }

NAMES=()
PIDS=()
STOPPING=0

port_listening() {
    local hex
    hex=$(printf ':%04X' "$1")
    { cat /proc/net/tcp; cat /proc/net/tcp6 2>/dev/null || true; } |
        awk -v p="$hex" '$4 == "0A" && substr($2, length($2) - 4) == p { found = 1 } END { exit !found }'
}

show_log() {
    local name=$1 file=$LOG_DIR/$1.log
    printf '[run] ---- last 30 lines of %s ----\n' "$file" >&2
    tail -n 30 "$file" >&2 2>/dev/null || true
    printf '[run] ---- end of %s ----\n' "$name" >&2
}

# Stop every process we started: TERM (newest first), up to 10 s, then KILL.
stop_all() {
    ((STOPPING == 0)) || return 0
    STOPPING=1
    local i pid alive ticks=0
    ((${#PIDS[@]})) || return 0
    for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
        pid=${PIDS[i]}
        if kill -0 "$pid" 2>/dev/null; then
            log "stopping ${NAMES[i]} (pid $pid)"
            kill -TERM "$pid" 2>/dev/null || true
        fi
    done
    while true; do
        alive=()
        for ((i = 0; i < ${#PIDS[@]}; i++)); do
            kill -0 "${PIDS[i]}" 2>/dev/null && alive+=("$i")
        done
        ((${#alive[@]})) || break
        if ((ticks >= 50)); then # 50 x 0.2 s
            for i in "${alive[@]}"; do
                log "${NAMES[i]} (pid ${PIDS[i]}) ignored SIGTERM for 10s; sending SIGKILL"
                kill -KILL "${PIDS[i]}" 2>/dev/null || true
            done
            break
        fi
        sleep 0.2
        ticks=$((ticks + 1))
    done
    wait 2>/dev/null || true
    log "all services stopped. The infrastructure keeps running (stop it with: make infra-down)"
}

on_signal() {
    trap '' INT TERM
    printf '\n' >&2
    log "received SIG$1, shutting down"
    stop_all
    if [[ $1 == INT ]]; then exit 130; fi
    exit 143
}

on_exit() {
    local rc=$?
    if ((STOPPING == 0 && ${#PIDS[@]} > 0)); then
        stop_all
    fi
    exit "$rc"
}

fail() {
    printf '[run] ERROR: %s\n' "$*" >&2
    stop_all
    exit 1
}

start_service() {
    local name=$1 addr=$2 path=$3 bin=$BIN_DIR/$1 port=${2##*:} pid t0 url
    url="http://$addr$path"
    [[ -x $bin ]] || fail "$bin not found (did cargo build produce it?)"
    if port_listening "$port"; then
        fail "port $port is already in use, so $name cannot start: $(ss -ltnpH "sport = :$port" 2>/dev/null | head -n 1). A previous 'make run' still running?"
    fi
    : >"$LOG_DIR/$name.log"
    log "starting $name (log: .data/logs/$name.log)"
    POSTBRIDGE_ENV=development "$bin" </dev/null >>"$LOG_DIR/$name.log" 2>&1 &
    pid=$!
    NAMES+=("$name")
    PIDS+=("$pid")
    t0=$SECONDS
    until curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null; do
        if ! kill -0 "$pid" 2>/dev/null; then
            local rc=0
            wait "$pid" || rc=$?
            show_log "$name"
            fail "$name exited during start-up (exit status $rc)"
        fi
        if ((SECONDS - t0 >= READY_TIMEOUT)); then
            show_log "$name"
            fail "$name was not ready at $url within ${READY_TIMEOUT}s"
        fi
        sleep 0.3
    done
    log "$name ready after $((SECONDS - t0))s (pid $pid)"
}

summary() {
    local i name addr path
    printf '\n%-17s %-28s %-8s %s\n' SERVICE URL PID LOG
    for ((i = 0; i < ${#SERVICES[@]}; i++)); do
        read -r name addr path <<<"${SERVICES[i]}"
        printf '%-17s %-28s %-8s %s\n' "$name" "http://$addr" "${PIDS[i]}" ".data/logs/$name.log"
    done
    cat <<'EOF'

Connect a sandbox account (no credentials needed; README.md walks through it):
  TOKEN=$(make -s token USER=alice)      # a development JWT for user "alice"
  curl -s -X POST -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8080/v1/connections/sandbox
  # open the authorize_url in a browser (or follow its redirects with curl); the frontend URL it
  # ends on carries ?ticket=…, which the frontend completes with its user's token:
  curl -s -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    http://127.0.0.1:8080/v1/connections/complete -d '{"ticket": "<ticket>"}'
  curl -s -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8080/v1/accounts

Ctrl-C stops the services; PostgreSQL and RabbitMQ keep running (make infra-down stops them).
EOF
}

supervise() {
    local i rc
    while true; do
        for ((i = 0; i < ${#PIDS[@]}; i++)); do
            if ! kill -0 "${PIDS[i]}" 2>/dev/null; then
                rc=0
                wait "${PIDS[i]}" || rc=$?
                show_log "${NAMES[i]}"
                fail "${NAMES[i]} (pid ${PIDS[i]}) exited unexpectedly with status $rc; stopping the other services"
            fi
        done
        # `wait` (unlike a plain sleep) returns as soon as a trapped signal arrives.
        sleep 1 &
        wait $! || true
    done
}

main() {
    cd "$ROOT"
    trap 'on_signal INT' INT
    trap 'on_signal TERM' TERM
    trap on_exit EXIT

    "$HERE/infra.sh" up >&2

    if [[ -n ${POSTBRIDGE_PREBUILT_BINS:-} ]]; then
        log "using the binaries already built (POSTBRIDGE_PREBUILT_BINS)"
    else
        log "cargo build --workspace --bins"
        "${CARGO:-cargo}" build --workspace --bins
    fi

    mkdir -p "$LOG_DIR"
    local svc name addr path busy=0
    for svc in "${SERVICES[@]}"; do
        read -r name addr path <<<"$svc"
        if port_listening "${addr##*:}"; then
            printf '[run] ERROR: port %s (for %s) is already in use: %s\n' "${addr##*:}" "$name" \
                "$(ss -ltnpH "sport = :${addr##*:}" 2>/dev/null | head -n 1)" >&2
            busy=1
        fi
    done
    ((busy == 0)) || fail "free the ports above first (is another 'make run' still running?)"
    for svc in "${SERVICES[@]}"; do
        read -r name addr path <<<"$svc"
        start_service "$name" "$addr" "$path"
    done

    summary
    supervise
}

main "$@"
