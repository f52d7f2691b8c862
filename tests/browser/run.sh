#!/usr/bin/env bash
# The browser test (part of `make test`): the real services and platform-sim (started by
# deploy/local/run.sh, as `make run` does, on a database and event names of their own), the
# dashboard (examples/dashboard/serve.sh), and headless Debian Chromium driven by
# playwright-core through sign-in, connecting a sandbox account, a reload, an upload, a thread
# with a first comment scheduled a few seconds ahead that turns published with its link, pause
# and resume, the post's engagement and the analytics page, a delete from the platform, and a
# disconnect.
# Screenshots of every step land in target/browser-artifacts/.
#
# Installs what is missing: Debian's chromium (apt), the pinned npm packages (npm ci);
# `run.sh --install-only` stops there.
# Everything it starts runs in the background with its pid in .data/browser/ and is stopped
# by that pid when the test ends, passed or not.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
STATE=$ROOT/.data/browser
ARTIFACTS=${BROWSER_ARTIFACTS:-$ROOT/target/browser-artifacts}
DB_NAME=postbridge_browser
log() { printf '[browser] %s\n' "$*" >&2; }
t0=$SECONDS

command -v npm >/dev/null || { log "Node.js 20+ and npm are needed: apt-get install -y nodejs npm"; exit 1; }
if [[ ! -x /usr/bin/chromium ]]; then
    log "installing Debian's chromium"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
if [[ ! -d $HERE/node_modules/playwright-core ]] || [[ $HERE/package-lock.json -nt $HERE/node_modules/.package-lock.json ]]; then
    log "npm ci (playwright-core, pinned; it uses the system chromium, never downloads one)"
    (cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error)
fi
# `make test` installs everything up front, beside the Rust build, with --install-only.
[[ ${1:-} == --install-only ]] && exit 0
mkdir -p "$STATE" "$ARTIFACTS" "$ROOT/.data/logs"
rm -f "$ARTIFACTS"/*.png

for port in 3000 8080 8081 8082 8083 8090; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        log "port $port is in use (a 'make run' still running?); the browser test needs 3000 and 8080-8090"
        exit 1
    fi
done

stop() {
    local rc=$? f pid
    for f in "$STATE/dashboard.pid" "$STATE/services.pid"; do
        [[ -f $f ]] || continue
        pid=$(cat "$f")
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true
            for _ in $(seq 1 75); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
            kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
        fi
        rm -f "$f"
    done
    if ((rc != 0)); then
        log "failed; logs: .data/browser/services.log, .data/logs/*.log, .data/logs/dashboard.log; screenshots: ${ARTIFACTS#"$ROOT"/}/"
    fi
    exit "$rc"
}
trap stop EXIT
trap 'exit 130' INT TERM

# A database of its own, fresh each run, so the test sees only what it did.
PSQL=(psql -q -v ON_ERROR_STOP=1 "postgres://postbridge:postbridge@127.0.0.1:55432/postgres")
"${PSQL[@]}" -c "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)" -c "CREATE DATABASE $DB_NAME" >/dev/null
export POSTBRIDGE__DATABASE__URL=postgres://postbridge:postbridge@127.0.0.1:55432/$DB_NAME
export POSTBRIDGE__EVENTS__EXCHANGE=browser-test.events
export POSTBRIDGE__EVENTS__DEAD_LETTER_EXCHANGE=browser-test.dlx
export POSTBRIDGE__EVENTS__QUEUE_PREFIX=browser-test.
export POSTBRIDGE__MEDIA__ROOT_DIR=$STATE/media
# Engagement read 2 s and 10 s after publishing (instead of 1 h, 6 h, …), looked for every
# half second, so the analytics steps see figures grow within seconds.
export POSTBRIDGE__PUBLISHER__METRICS__SCHEDULE=2s,10s,1h
export POSTBRIDGE__PUBLISHER__METRICS__INTERVAL_MS=500

log "starting the services (deploy/local/run.sh in the background; log .data/browser/services.log)"
bash "$ROOT/deploy/local/run.sh" >"$STATE/services.log" 2>&1 </dev/null &
echo $! >"$STATE/services.pid"
DASHBOARD_PID_FILE=$STATE/dashboard.pid bash "$ROOT/examples/dashboard/serve.sh"
until curl -fsS -o /dev/null --max-time 2 http://127.0.0.1:8083/readyz 2>/dev/null; do
    kill -0 "$(cat "$STATE/services.pid")" 2>/dev/null || { tail -n 40 "$STATE/services.log" >&2; log "the services did not start"; exit 1; }
    ((SECONDS - t0 < 900)) || { tail -n 40 "$STATE/services.log" >&2; log "the services were not ready within 15 minutes"; exit 1; }
    sleep 0.5
done
log "services and dashboard up after $((SECONDS - t0)) s; driving Chromium"
t1=$SECONDS
BROWSER_ARTIFACTS=$ARTIFACTS node "$HERE/dashboard.test.mjs"
log "passed: browser steps $((SECONDS - t1)) s, $((SECONDS - t0)) s in all; screenshots in ${ARTIFACTS#"$ROOT"/}/"
