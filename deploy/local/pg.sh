#!/usr/bin/env bash
# Manage one local PostgreSQL instance (development and tests; no systemd, no Docker).
#
#   pg.sh start  DATADIR PORT   initdb if needed, start on 127.0.0.1:PORT, ensure role+db `postbridge`
#   pg.sh stop   DATADIR        fast shutdown (exit 0 if it is not running)
#   pg.sh status DATADIR        prints "running ..." (exit 0) or "stopped" (exit 3)
#
# The server runs as the `postgres` OS user (PostgreSQL refuses root). Everything lives in
# DATADIR: the cluster, its log (DATADIR/postgres.log) and its unix socket.
# Authentication is `trust` (local development only). Clients connect with
#   postgres://postbridge:postbridge@127.0.0.1:PORT/postbridge
#
# Environment:
#   PG_FAST=1          also fsync=off, synchronous_commit=off, full_page_writes=off (throwaway data only)
#   PG_BINDIR=DIR      PostgreSQL binaries (default /usr/lib/postgresql/15/bin, else newest installed)
#   PG_START_TIMEOUT=N seconds to wait for the server to accept connections (default 60)
set -euo pipefail

readonly PB_ROLE=postbridge
readonly PB_DB=postbridge
readonly PB_PASSWORD=postbridge

log() { printf '[pg] %s\n' "$*" >&2; }
die() { printf '[pg] ERROR: %s\n' "$*" >&2; exit 1; }

usage() {
    cat >&2 <<'EOF'
usage: pg.sh start DATADIR PORT
       pg.sh stop DATADIR
       pg.sh status DATADIR
env:   PG_FAST=1 (fsync=off etc.), PG_BINDIR, PG_START_TIMEOUT (default 60)
EOF
    exit 2
}

APT_UPDATED=0
# apt_install PKG... : install Debian packages (serialised between concurrent callers).
apt_install() {
    command -v apt-get >/dev/null 2>&1 || die "missing packages ($*) and no apt-get to install them"
    [[ $(id -u) -eq 0 ]] || die "missing packages ($*); run as root so they can be installed"
    local lock=/var/lock/postbridge-apt.lock
    (
        flock -w 900 9 || die "timed out waiting for $lock"
        if [[ $APT_UPDATED -eq 0 ]]; then
            log "apt-get update"
            apt-get update -qq >&2
        fi
        log "installing: $*"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
    ) 9>"$lock"
    APT_UPDATED=1
}

pkg_installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

find_pg_bin() {
    if [[ -n ${PG_BINDIR:-} ]]; then
        printf '%s\n' "$PG_BINDIR"
    elif [[ -x /usr/lib/postgresql/15/bin/postgres ]]; then
        printf '%s\n' /usr/lib/postgresql/15/bin
    else
        local d
        d=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1 || true)
        printf '%s\n' "$d"
    fi
}

ensure_packages() {
    local missing=()
    PG_BIN=$(find_pg_bin)
    if [[ -z $PG_BIN || ! -x $PG_BIN/postgres || ! -x $PG_BIN/initdb ]]; then
        missing+=(postgresql)
    fi
    # libssl-dev and pkg-config: the libpq built into the binaries (pq-sys "bundled") speaks
    # TLS through the system OpenSSL.
    if command -v dpkg-query >/dev/null 2>&1; then
        pkg_installed libssl-dev || missing+=(libssl-dev)
        pkg_installed pkg-config || missing+=(pkg-config)
    fi
    if ((${#missing[@]})); then
        apt_install "${missing[@]}"
        PG_BIN=$(find_pg_bin)
    fi
    [[ -n $PG_BIN && -x $PG_BIN/postgres ]] || die "PostgreSQL binaries not found (set PG_BINDIR)"
    getent passwd postgres >/dev/null || die "OS user 'postgres' does not exist (is the postgresql package installed?)"
}

# Run a command as the postgres OS user, from a directory it can read.
as_pg() {
    if [[ $(id -un) == postgres ]]; then
        (cd / && "$@")
    else
        (cd / && runuser -u postgres -- "$@")
    fi
}

# Serialise start/stop on one DATADIR. The lock file sits next to DATADIR (which belongs to
# postgres); fd 8 is closed for the server so it does not keep the lock.
lock_datadir() {
    local lock
    lock=$(dirname "$DATADIR")/.$(basename "$DATADIR").pg.lock
    mkdir -p "$(dirname "$DATADIR")"
    exec 8>"$lock"
    flock -w 180 8 || die "timed out waiting for another pg.sh on $DATADIR"
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

# The postmaster pid if the cluster in $DATADIR is running, else nothing (exit 1).
running_pid() {
    local pidfile=$DATADIR/postmaster.pid pid
    [[ -f $pidfile ]] || return 1
    pid=$(head -n 1 "$pidfile" 2>/dev/null || true)
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    # A stale pid file (e.g. after a reboot) may name an unrelated process.
    [[ $(readlink "/proc/$pid/exe" 2>/dev/null || true) == */postgres* ]] || return 1
    printf '%s\n' "$pid"
}

running_port() { sed -n 4p "$DATADIR/postmaster.pid" 2>/dev/null || true; }

log_tail() {
    if [[ -f $LOGFILE ]]; then
        printf '[pg] ---- last lines of %s ----\n' "$LOGFILE" >&2
        tail -n 40 "$LOGFILE" >&2 || true
        printf '[pg] ----\n' >&2
    else
        log "(no log file at $LOGFILE)"
    fi
}

psql_admin() {
    "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$1" -U postgres -d postgres "${@:2}"
}

ensure_role_and_db() {
    local port=$1 attempt
    for attempt in 1 2 3; do
        if psql_admin "$port" >/dev/null <<SQL
DO \$\$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$PB_ROLE') THEN
    CREATE ROLE $PB_ROLE LOGIN SUPERUSER PASSWORD '$PB_PASSWORD';
  ELSE
    ALTER ROLE $PB_ROLE LOGIN SUPERUSER PASSWORD '$PB_PASSWORD';
  END IF;
END
\$\$;
SELECT 'CREATE DATABASE $PB_DB OWNER $PB_ROLE'
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$PB_DB')\gexec
SQL
        then
            log "role '$PB_ROLE' and database '$PB_DB' ready: postgres://$PB_ROLE:$PB_PASSWORD@127.0.0.1:$port/$PB_DB"
            return 0
        fi
        log "creating role/database failed (attempt $attempt), retrying"
        sleep 1
    done
    die "could not create role '$PB_ROLE' / database '$PB_DB' on port $port"
}

# Make every ancestor of DATADIR traversable by the postgres user.
make_traversable() {
    local d=$1 dirs=()
    while [[ $d != / && -n $d ]]; do
        dirs=("$d" "${dirs[@]}")
        d=$(dirname "$d")
    done
    for d in "${dirs[@]}"; do
        if ! as_pg test -x "$d" 2>/dev/null; then
            log "making $d traversable for the postgres user (chmod o+x)"
            chmod o+x "$d"
        fi
    done
}

prepare_datadir() {
    mkdir -p "$DATADIR"
    make_traversable "$(dirname "$DATADIR")"
    if [[ -f $DATADIR/PG_VERSION ]]; then
        if [[ $(stat -c %U "$DATADIR") != postgres ]]; then
            log "fixing ownership of $DATADIR"
            chown -R postgres:postgres "$DATADIR"
        fi
        chmod 700 "$DATADIR"
        return 0
    fi
    if [[ -n $(ls -A "$DATADIR") ]]; then
        die "$DATADIR is not empty and holds no cluster (no PG_VERSION); refusing to initdb over it"
    fi
    chown postgres:postgres "$DATADIR"
    chmod 700 "$DATADIR"
    log "initdb $DATADIR (trust auth, superuser postgres, UTF8)"
    local extra=()
    [[ ${PG_FAST:-0} == 1 ]] && extra+=(--no-sync)
    if ! as_pg "$PG_BIN/initdb" -D "$DATADIR" --auth=trust -U postgres --encoding=UTF8 --locale=C \
        --no-instructions "${extra[@]}" >"$DATADIR.initdb.log.tmp" 2>&1; then
        cat "$DATADIR.initdb.log.tmp" >&2 || true
        rm -f "$DATADIR.initdb.log.tmp"
        die "initdb failed for $DATADIR"
    fi
    rm -f "$DATADIR.initdb.log.tmp"
    printf "\n# Added by deploy/local/pg.sh: per-start settings.\ninclude_if_exists = 'postbridge.conf'\n" \
        | as_pg tee -a "$DATADIR/postgresql.conf" >/dev/null
}

write_settings() {
    local port=$1 sockdir=$DATADIR
    # unix socket paths are limited to 107 bytes
    if ((${#DATADIR} + 20 > 100)); then sockdir=/tmp; fi
    {
        printf '# Written by deploy/local/pg.sh on every start; edits are overwritten.\n'
        printf "listen_addresses = '127.0.0.1'\n"
        printf 'port = %s\n' "$port"
        printf "unix_socket_directories = '%s'\n" "$sockdir"
        printf 'max_connections = 400\n'
        printf 'logging_collector = off\n'
        if [[ ${PG_FAST:-0} == 1 ]]; then
            printf '# PG_FAST=1: throwaway data, no crash safety\n'
            printf 'fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n'
        fi
    } | as_pg tee "$DATADIR/postbridge.conf" >/dev/null
}

cmd_start() {
    local port=$1 pid t0 waited timeout=${PG_START_TIMEOUT:-60}
    if ! [[ $port =~ ^[0-9]+$ ]] || ((port < 1 || port > 65535)); then
        die "invalid port: $port"
    fi
    ensure_packages
    lock_datadir

    if pid=$(running_pid); then
        local rport
        rport=$(running_port)
        log "already running on $DATADIR (pid $pid, port $rport)"
        [[ $rport == "$port" ]] || log "WARNING: requested port $port but the running instance uses $rport"
        ensure_role_and_db "$rport"
        return 0
    fi

    if port_open "$port"; then
        die "port 127.0.0.1:$port is already in use by another process: $(ss -ltnpH "sport = :$port" 2>/dev/null | head -n 1)"
    fi

    prepare_datadir
    write_settings "$port"
    rm -f "$DATADIR/postmaster.pid" # stale, since running_pid said no
    log "starting PostgreSQL ($("$PG_BIN/postgres" --version | awk '{print $3}')) on 127.0.0.1:$port${PG_FAST:+ (PG_FAST=$PG_FAST)}, log $LOGFILE"
    t0=$SECONDS
    as_pg "$PG_BIN/pg_ctl" start -D "$DATADIR" -l "$LOGFILE" -W -s >/dev/null 8>&-

    while true; do
        if "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -t 2; then
            break
        fi
        waited=$((SECONDS - t0))
        if ((waited >= 2)) && ! running_pid >/dev/null; then
            log_tail
            die "PostgreSQL exited during start-up (see $LOGFILE)"
        fi
        if ((waited >= timeout)); then
            log_tail
            die "PostgreSQL did not accept connections on 127.0.0.1:$port within ${timeout}s"
        fi
        sleep 0.3
    done
    log "accepting connections on 127.0.0.1:$port after $((SECONDS - t0))s"
    ensure_role_and_db "$port"
}

cmd_stop() {
    local pid
    if ! pid=$(running_pid); then
        log "not running ($DATADIR)"
        return 0
    fi
    ensure_packages
    lock_datadir
    log "stopping PostgreSQL (pid $pid, $DATADIR)"
    if ! as_pg "$PG_BIN/pg_ctl" stop -D "$DATADIR" -m fast -w -t 60 -s; then
        log "fast shutdown failed; trying immediate"
        as_pg "$PG_BIN/pg_ctl" stop -D "$DATADIR" -m immediate -w -t 30 -s || die "could not stop pid $pid"
    fi
    log "stopped"
}

cmd_status() {
    local pid
    if pid=$(running_pid); then
        printf 'running (pid %s, port %s, datadir %s)\n' "$pid" "$(running_port)" "$DATADIR"
        return 0
    fi
    printf 'stopped (datadir %s)\n' "$DATADIR"
    return 3
}

main() {
    (($# >= 2)) || usage
    local cmd=$1
    DATADIR=$(realpath -m -- "$2")
    LOGFILE=$DATADIR/postgres.log
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
