#!/usr/bin/env bash
# Builds (when its sources changed) and starts the dashboard on http://localhost:3000 with
# `next start`, in the background: writes its pid to $DASHBOARD_PID_FILE (default
# .data/dashboard.pid) and its log to .data/logs/dashboard.log, waits until it answers, and
# returns. Stop it with `kill "$(cat .data/dashboard.pid)"`.
#
# Installs what it needs with npm ci (pinned lockfiles): the TypeScript client
# (clients/typescript, built into dist/) and the dashboard. Needs Node.js 20+ and npm.
# Development sign-in (POST /api/dev-session, which runs target/debug/postbridge-token) is on.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PID_FILE=${DASHBOARD_PID_FILE:-$ROOT/.data/dashboard.pid}
LOG=$ROOT/.data/logs/dashboard.log
PORT=${DASHBOARD_PORT:-3000}
log() { printf '[dashboard] %s\n' "$*" >&2; }

command -v npm >/dev/null || { log "Node.js 20+ and npm are needed (apt-get install -y nodejs npm, or https://nodejs.org)"; exit 1; }
mkdir -p "$(dirname "$LOG")" "$(dirname "$PID_FILE")"

install() { # dir
    if [[ ! -d $1/node_modules ]] || [[ $1/package-lock.json -nt $1/node_modules/.package-lock.json ]]; then
        log "npm ci in ${1#"$ROOT"/}"
        (cd "$1" && npm ci --no-audit --no-fund --loglevel=error)
    fi
}

install "$ROOT/clients/typescript"
if [[ ! -f $ROOT/clients/typescript/dist/index.js ]] ||
    [[ -n $(find "$ROOT/clients/typescript/src" "$ROOT/docs/openapi.json" -newer "$ROOT/clients/typescript/dist/index.js" -print -quit) ]]; then
    log "building the TypeScript client"
    (cd "$ROOT/clients/typescript" && npm run -s build >/dev/null)
fi
install "$HERE"
stamp=$HERE/.next/BUILD_ID
if [[ ! -f $stamp ]] || [[ -n $(find "$HERE/app" "$HERE/components" "$HERE/lib" "$HERE/next.config.mjs" "$ROOT/clients/typescript/dist" -newer "$stamp" -print -quit) ]]; then
    log "next build (about a minute on a fresh checkout)"
    (cd "$HERE" && NEXT_TELEMETRY_DISABLED=1 npx next build >"$LOG" 2>&1) || { tail -n 40 "$LOG" >&2; exit 1; }
fi

if [[ -f $PID_FILE ]] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null; then
    log "already running (pid $(cat "$PID_FILE"))"
    exit 0
fi
(
    cd "$HERE"
    export POSTBRIDGE_DEV_SIGN_IN=1 POSTBRIDGE_ROOT="$ROOT" NEXT_TELEMETRY_DISABLED=1
    exec node node_modules/next/dist/bin/next start --port "$PORT" >>"$LOG" 2>&1 </dev/null
) &
echo $! >"$PID_FILE"
for _ in $(seq 1 150); do
    if curl -fsS -o /dev/null --max-time 2 "http://localhost:$PORT/" 2>/dev/null; then
        log "ready on http://localhost:$PORT (pid $(cat "$PID_FILE"), log .data/logs/dashboard.log)"
        exit 0
    fi
    kill -0 "$(cat "$PID_FILE")" 2>/dev/null || { tail -n 30 "$LOG" >&2; log "exited during start-up"; exit 1; }
    sleep 0.2
done
log "not ready on http://localhost:$PORT within 30 s"; tail -n 30 "$LOG" >&2
exit 1
