#!/usr/bin/env bash
# `make run`: the dashboard (when Node.js is present) on http://localhost:3000, then every
# service and platform-sim in the foreground (deploy/local/run.sh). Ctrl-C stops them all,
# the dashboard included.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PID_FILE=$ROOT/.data/dashboard.pid
if command -v npm >/dev/null; then
    stop_dashboard() { [[ -f $PID_FILE ]] && kill "$(cat "$PID_FILE")" 2>/dev/null; rm -f "$PID_FILE"; }
    trap stop_dashboard EXIT
    DASHBOARD_PID_FILE=$PID_FILE bash "$ROOT/examples/dashboard/serve.sh" ||
        echo "[run] the dashboard did not start (see .data/logs/dashboard.log); starting the services anyway" >&2
    echo "[run] dashboard: http://localhost:3000 (sign in with any user name once the services are up)" >&2
else
    echo "[run] Node.js is not installed, so the dashboard is not started. Install Node.js 20+ and npm, then run examples/dashboard/serve.sh (it serves http://localhost:3000)." >&2
fi
# In the background so that a TERM to this script reaches run.sh (Ctrl-C reaches both anyway);
# when run.sh has stopped the services, the EXIT trap stops the dashboard.
bash "$ROOT/deploy/local/run.sh" &
services=$!
trap 'kill -TERM "$services" 2>/dev/null' TERM
trap 'kill -INT "$services" 2>/dev/null' INT
rc=0
while kill -0 "$services" 2>/dev/null; do
    wait "$services"
    rc=$?
done
exit "$rc"
