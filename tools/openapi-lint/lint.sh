#!/usr/bin/env bash
# `make lint`: Redocly CLI (pinned in package.json/package-lock.json, installed into this
# folder's node_modules on first use) on docs/openapi.json, with its recommended rules
# (redocly.yaml). Fails on any error or warning. Needs Node.js 20+ and npm.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$HERE"
log() { printf '[openapi-lint] %s\n' "$*" >&2; }

command -v npm >/dev/null || { log "npm is missing: install Node.js 20+ (e.g. apt-get install -y nodejs npm)"; exit 1; }
if [[ ! -x node_modules/.bin/redocly ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
    log "installing @redocly/cli (pinned) into tools/openapi-lint/node_modules"
    npm ci --no-audit --no-fund --loglevel=error
fi
# Redocly prints a banner about Node 20's end of life; the verdict is what matters.
out=$(NO_UPDATE_NOTIFIER=1 REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true \
    node_modules/.bin/redocly lint --config redocly.yaml --max-problems 50 ../../docs/openapi.json 2>&1) || {
    printf '%s\n' "$out" | grep -v '^ *║\|^ *╔\|^ *╚'
    log "docs/openapi.json has errors (above)"
    exit 1
}
if grep -Eq 'You have [0-9]+ warning' <<<"$out"; then
    printf '%s\n' "$out" | grep -v '^ *║\|^ *╔\|^ *╚'
    log "docs/openapi.json has warnings (above)"
    exit 1
fi
log "docs/openapi.json: 0 errors, 0 warnings ($(grep -Eo '[0-9]+ problems? (is|are) explicitly ignored' <<<"$out" || echo 'none ignored'))"
