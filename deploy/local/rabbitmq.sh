#!/usr/bin/env bash
# Manage one local RabbitMQ node (development and tests; no systemd, no Docker).
#
#   rabbitmq.sh start  DATADIR PORT   start a node listening on 127.0.0.1:PORT (AMQP 0-9-1)
#   rabbitmq.sh stop   DATADIR        stop it gracefully (exit 0 if it is not running)
#   rabbitmq.sh status DATADIR        prints "running ..." (exit 0) or "stopped" (exit 3)
#
# Clients use the default user: amqp://guest:guest@127.0.0.1:PORT/%2f
#
# All state lives in DATADIR: the node name (DATADIR/nodename, fixed on first start as
# pb<PORT>@localhost so durable queues survive restarts), the Erlang cookie, mnesia and
# message stores (DATADIR/mnesia), logs (DATADIR/log), the pid file and the config files.
# The node runs as the calling user (root is fine): we call /usr/lib/rabbitmq/bin/* directly,
# because Debian's /usr/sbin wrappers `su` to the rabbitmq user and use /var/lib/rabbitmq.
# Several nodes (different DATADIR and PORT) can run at once; they share epmd (port 4369).
#
# Environment:
#   RABBITMQ_START_TIMEOUT=N  seconds to wait for the node to accept AMQP (default 90)
#   RABBITMQ_DIST_PORT=N      Erlang distribution port (default PORT+10000, or PORT-10000
#                             when that exceeds 65535; the next free port if it is taken)
set -euo pipefail

readonly RMQ_BIN=/usr/lib/rabbitmq/bin

log() { printf '[rabbitmq] %s\n' "$*" >&2; }
die() { printf '[rabbitmq] ERROR: %s\n' "$*" >&2; exit 1; }

usage() {
    cat >&2 <<'EOF'
usage: rabbitmq.sh start DATADIR PORT
       rabbitmq.sh stop DATADIR
       rabbitmq.sh status DATADIR
env:   RABBITMQ_START_TIMEOUT (default 90), RABBITMQ_DIST_PORT
EOF
    exit 2
}

# apt_install PKG... : install Debian packages (serialised between concurrent callers).
apt_install() {
    command -v apt-get >/dev/null 2>&1 || die "missing packages ($*) and no apt-get to install them"
    [[ $(id -u) -eq 0 ]] || die "missing packages ($*); run as root so they can be installed"
    local lock=/var/lock/postbridge-apt.lock
    (
        flock -w 900 9 || die "timed out waiting for $lock"
        log "apt-get update"
        apt-get update -qq >&2
        log "installing: $*"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
    ) 9>"$lock"
}

ensure_packages() {
    if [[ ! -x $RMQ_BIN/rabbitmq-server || ! -x $RMQ_BIN/rabbitmqctl ]]; then
        apt_install rabbitmq-server
    fi
    [[ -x $RMQ_BIN/rabbitmq-server ]] || die "rabbitmq-server not found in $RMQ_BIN"
    # The package's postinst may start its own broker on 5672 where an init system exists;
    # that one is not ours and does not matter.
}

# alive PID: the process exists and is not a zombie (pid 1 in a container may never reap).
alive() {
    local state
    kill -0 "$1" 2>/dev/null || return 1
    state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null || true)
    [[ -n $state && $state != Z ]]
}

# port_open PORT: something LISTENs on the TCP port. Read from /proc instead of connecting:
# a connect() probe to a free port in the ephemeral range can connect to itself and then
# briefly occupy the very port the server is about to bind.
port_open() {
    local hex
    hex=$(printf ':%04X' "$1")
    { cat /proc/net/tcp; cat /proc/net/tcp6 2>/dev/null || true; } |
        awk -v p="$hex" '$4 == "0A" && substr($2, length($2) - 4) == p { found = 1 } END { exit !found }'
}

valid_port() { [[ $1 =~ ^[0-9]+$ ]] && (($1 >= 1 && $1 <= 65535)); }

# Everything the server and the CLI tools must agree on.
rmq_env() {
    export HOME=$DATADIR
    export RABBITMQ_NODENAME=$NODE
    export RABBITMQ_CONF_ENV_FILE=$DATADIR/rabbitmq-env.conf
    export RABBITMQ_CONFIG_FILE=$DATADIR/rabbitmq.conf
    export RABBITMQ_ADVANCED_CONFIG_FILE=$DATADIR/advanced.config
    export RABBITMQ_ENABLED_PLUGINS_FILE=$DATADIR/enabled_plugins
    export RABBITMQ_MNESIA_BASE=$DATADIR/mnesia
    export RABBITMQ_LOG_BASE=$DATADIR/log
    export RABBITMQ_PID_FILE=$DATADIR/rabbit.pid
    # CLI tools (rabbitmqctl) pick a distribution port from this range; the stock range
    # (11 ports) is easily exhausted when several test brokers are managed in parallel.
    export RABBITMQ_CTL_DIST_PORT_MIN=${RABBITMQ_CTL_DIST_PORT_MIN:-35672}
    export RABBITMQ_CTL_DIST_PORT_MAX=${RABBITMQ_CTL_DIST_PORT_MAX:-35772}
}

# Serialise start/stop on one DATADIR (fd 8 is closed for the broker so it does not keep the lock).
lock_datadir() {
    exec 8>"$DATADIR/.lock"
    flock -w 180 8 || die "timed out waiting for another rabbitmq.sh on $DATADIR"
}

ctl() { "$RMQ_BIN/rabbitmqctl" -n "$NODE" "$@"; }

load_node() {
    NODE=
    NODE=$(read_file "$DATADIR/nodename") || true
    [[ -z $NODE ]] && return 1
    rmq_env
}

# read_file FILE: its contents, or exit 1 when it does not exist (any more). The broker deletes
# its pid file while it stops, so a file seen a moment ago may be gone by the time it is read;
# a plain $(<file) then kills the whole script even inside an `if`/`while` condition.
read_file() { cat -- "$1" 2>/dev/null; }

# The pid of the node's Erlang VM if it is running, else nothing (exit 1).
node_pid() {
    local pid
    pid=$(read_file "$DATADIR/rabbit.pid") || return 1
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    alive "$pid" || return 1
    # A stale pid file may name an unrelated process: check it is our node.
    tr '\0' '\n' 2>/dev/null <"/proc/$pid/environ" | grep -qxF "RABBITMQ_NODENAME=$NODE" || return 1
    printf '%s\n' "$pid"
}

# The pid of the wrapper shell started by us (set while the VM boots, before rabbit.pid exists).
wrapper_pid() {
    local pid
    pid=$(read_file "$DATADIR/server.pid") || return 1
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    alive "$pid" || return 1
    tr '\0' '\n' 2>/dev/null <"/proc/$pid/environ" | grep -qxF "RABBITMQ_NODENAME=$NODE" || return 1
    printf '%s\n' "$pid"
}

node_port() { cat "$DATADIR/port" 2>/dev/null || true; }

log_tail() {
    local f
    for f in "$DATADIR/log/server.out" "$DATADIR/log/$NODE.log"; do
        if [[ -s $f ]]; then
            printf '[rabbitmq] ---- last lines of %s ----\n' "$f" >&2
            tail -n 40 "$f" >&2 || true
        fi
    done
    printf '[rabbitmq] ----\n' >&2
}

pick_dist_port() {
    local port=$1 p
    if [[ -n ${RABBITMQ_DIST_PORT:-} ]]; then
        printf '%s\n' "$RABBITMQ_DIST_PORT"
        return 0
    fi
    p=$((port + 10000))
    ((p <= 65535)) || p=$((port - 10000))
    local tries=0
    while port_open "$p" || ((p == port)); do
        p=$((p + 1))
        ((p <= 65535)) || p=20000
        tries=$((tries + 1))
        ((tries < 200)) || die "no free Erlang distribution port found near $((port + 10000))"
    done
    printf '%s\n' "$p"
}

prepare_datadir() {
    local port=$1
    mkdir -p "$DATADIR/log" "$DATADIR/mnesia"
    if [[ ! -s $DATADIR/nodename ]]; then
        printf 'pb%s@localhost\n' "$port" >"$DATADIR/nodename"
        log "new node $(read_file "$DATADIR/nodename") in $DATADIR"
    fi
    if [[ ! -s $DATADIR/.erlang.cookie ]]; then
        (umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' | tr 'a-f' 'A-F' >"$DATADIR/.erlang.cookie")
    fi
    chmod 400 "$DATADIR/.erlang.cookie"
    [[ -f $DATADIR/rabbitmq-env.conf ]] || printf '# Intentionally empty: settings come from deploy/local/rabbitmq.sh.\n' >"$DATADIR/rabbitmq-env.conf"
    # No plugins: no management listener (15672) to clash between nodes.
    [[ -f $DATADIR/enabled_plugins ]] || printf '[].\n' >"$DATADIR/enabled_plugins"
    cat >"$DATADIR/rabbitmq.conf" <<'EOF'
# Written by deploy/local/rabbitmq.sh on every start; edits are overwritten.
# Listener address/port come from RABBITMQ_NODE_IP_ADDRESS / RABBITMQ_NODE_PORT.
log.console = false
log.file.level = info
disk_free_limit.absolute = 50MB
EOF
}

# wait_ready PORT T0 [PID]: PID is the wrapper we just launched (its /proc environ is not
# reliable until it has exec'd, so it is only checked for being alive).
wait_ready() {
    local port=$1 t0=$2 launched=${3:-} timeout=${RABBITMQ_START_TIMEOUT:-90} waited up
    while true; do
        if port_open "$port"; then
            break
        fi
        waited=$((SECONDS - t0))
        up=0
        if [[ -n $launched ]]; then
            alive "$launched" && up=1
        else
            { wrapper_pid || node_pid; } >/dev/null && up=1
        fi
        if ((up == 0)); then
            log_tail
            die "node $NODE exited during start-up (logs in $DATADIR/log)"
        fi
        if ((waited >= timeout)); then
            log_tail
            abort_start "$launched"
            die "node $NODE did not accept AMQP connections on 127.0.0.1:$port within ${timeout}s"
        fi
        sleep 0.5
    done
    # The AMQP listener opens at the end of boot; confirm the node reports it is fully started.
    # A node recovering many quorum queues may need longer than 30 s: give it what is left of
    # RABBITMQ_START_TIMEOUT.
    local remaining=$((timeout - (SECONDS - t0)))
    ((remaining >= 30)) || remaining=30
    if ! ctl await_startup --timeout "$remaining" >/dev/null 2>&1; then
        log_tail
        abort_start "$launched"
        die "node $NODE opened port $port but 'rabbitmqctl await_startup' failed"
    fi
}

# abort_start [PID]: kill a node we launched that did not come up, so a retry starts clean.
abort_start() {
    local p
    [[ -n ${1:-} ]] || return 0
    log "killing the half-started node"
    for p in $(node_pid || true) "$1"; do kill -KILL "$p" 2>/dev/null || true; done
}

# expire_test_queues: the test suites and benchmarks name their topologies with a fresh
# 32-hex-digit suffix (testkit::unique_name) and leave their durable quorum queues behind; on a
# developer's broker thousands accumulate, each recovered at every boot (minutes) and some
# wedging the node. A policy on this local broker only deletes such a queue once nothing has
# used it for 15 minutes; the services' own queues (no such suffix) are never matched.
expire_test_queues() {
    ctl set_policy --apply-to queues --priority 0 pb-test-queue-expiry '\.[0-9a-f]{32}' '{"expires": 900000}' >/dev/null 2>&1 ||
        log "WARNING: could not set the test-queue expiry policy"
}

cmd_start() {
    local port=$1 pid t0 dist_port epmd_names
    valid_port "$port" || die "invalid port: $port"
    ensure_packages
    mkdir -p "$DATADIR"
    lock_datadir

    if load_node; then
        if pid=$(node_pid) || pid=$(wrapper_pid); then
            local rport
            rport=$(node_port)
            [[ $rport == "$port" ]] || log "WARNING: requested port $port but the running node uses ${rport:-?}"
            log "already running: $NODE (pid $pid) on 127.0.0.1:${rport:-$port}"
            wait_ready "${rport:-$port}" "$SECONDS"
            expire_test_queues
            return 0
        fi
    fi

    if port_open "$port"; then
        die "port 127.0.0.1:$port is already in use by another process: $(ss -ltnpH "sport = :$port" 2>/dev/null | head -n 1)"
    fi
    prepare_datadir "$port"
    load_node || die "cannot read $DATADIR/nodename"
    if epmd_names=$(epmd -names 2>/dev/null) && grep -qE "^name ${NODE%@*} at port" <<<"$epmd_names"; then
        die "an Erlang node named ${NODE%@*} is already registered with epmd but it is not the one in $DATADIR (another DATADIR first started on the same port?)"
    fi
    dist_port=$(pick_dist_port "$port")
    valid_port "$dist_port" || die "invalid Erlang distribution port: $dist_port"
    printf '%s\n' "$port" >"$DATADIR/port"
    rm -f "$DATADIR/rabbit.pid"

    log "starting $NODE on 127.0.0.1:$port (Erlang distribution port $dist_port), data in $DATADIR"
    t0=$SECONDS
    local launched
    launched=$(
        export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
        export RABBITMQ_NODE_PORT=$port
        export RABBITMQ_DIST_PORT=$dist_port
        cd "$DATADIR"
        # New session: Ctrl-C in the calling terminal must not reach the broker.
        setsid "$RMQ_BIN/rabbitmq-server" </dev/null >>"$DATADIR/log/server.out" 2>&1 8>&- &
        printf '%s\n' "$!"
    )
    printf '%s\n' "$launched" >"$DATADIR/server.pid"
    wait_ready "$port" "$t0" "$launched"
    expire_test_queues
    log "ready after $((SECONDS - t0))s: amqp://guest:guest@127.0.0.1:$port/%2f (pid $(node_pid || echo '?'))"
}

cmd_stop() {
    local pid wpid port t0
    if ! load_node; then
        log "not running ($DATADIR has no node)"
        return 0
    fi
    lock_datadir
    pid=$(node_pid || true)
    wpid=$(wrapper_pid || true)
    if [[ -z $pid && -z $wpid ]]; then
        log "not running ($NODE, $DATADIR)"
        return 0
    fi
    port=$(node_port)
    t0=$SECONDS
    log "stopping $NODE (pid ${pid:-?})"
    if [[ -n $pid ]] && ctl shutdown --timeout 60 >/dev/null 2>&1; then
        :
    else
        log "rabbitmqctl shutdown failed; sending SIGTERM"
        for p in $pid $wpid; do kill -TERM "$p" 2>/dev/null || true; done
    fi
    local deadline=$((SECONDS + 30))
    while node_pid >/dev/null || wrapper_pid >/dev/null; do
        if ((SECONDS >= deadline)); then
            log "still alive after 30s; sending SIGKILL"
            for p in $pid $wpid; do kill -KILL "$p" 2>/dev/null || true; done
            sleep 1
            break
        fi
        sleep 0.3
    done
    if [[ -n $port ]]; then
        deadline=$((SECONDS + 15))
        while port_open "$port"; do
            ((SECONDS < deadline)) || die "port $port is still open after stopping $NODE"
            sleep 0.3
        done
    fi
    rm -f "$DATADIR/server.pid"
    log "stopped $NODE after $((SECONDS - t0))s"
}

cmd_status() {
    local pid
    if load_node; then
        if pid=$(node_pid); then
            if port_open "$(node_port)"; then
                printf 'running (node %s, pid %s, port %s, datadir %s)\n' "$NODE" "$pid" "$(node_port)" "$DATADIR"
            else
                printf 'starting (node %s, pid %s, port %s not open yet, datadir %s)\n' "$NODE" "$pid" "$(node_port)" "$DATADIR"
            fi
            return 0
        fi
    fi
    printf 'stopped (datadir %s)\n' "$DATADIR"
    return 3
}

main() {
    (($# >= 2)) || usage
    local cmd=$1
    DATADIR=$(realpath -m -- "$2")
    NODE=
    case $cmd in
        start)
            (($# == 3)) || usage
            cmd_start "$3"
            ;;
        stop)
            (($# == 2)) || usage
            cmd_stop
            ;;
        status)
            (($# == 2)) || usage
            cmd_status
            ;;
        *) usage ;;
    esac
}

main "$@"
