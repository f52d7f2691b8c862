#!/usr/bin/env bash
# `make test`: the TypeScript client regenerated from docs/openapi.json (openapi-typescript) and
# compiled with `tsc --strict`; fails on a type error, or when the committed src/schema.ts is
# not what docs/openapi.json generates (run `make openapi` and commit both).
# `check.sh --install-only` only installs the pinned npm packages.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
log() { printf '[ts-client] %s\n' "$*" >&2; }
command -v npm >/dev/null || { log "Node.js 20+ and npm are needed: apt-get install -y nodejs npm"; exit 1; }
if [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
    log "npm ci (openapi-typescript, openapi-fetch, typescript; pinned)"
    npm ci --no-audit --no-fund --loglevel=error
fi
[[ ${1:-} == --install-only ]] && exit 0
before=$(sha256sum src/schema.ts 2>/dev/null || true)
npm run -s generate >/dev/null 2>&1
if [[ -n $before && $before != "$(sha256sum src/schema.ts)" ]]; then
    log "src/schema.ts was stale: docs/openapi.json changed since it was generated; commit the regenerated file"
    exit 1
fi
npx tsc -p tsconfig.json --strict
log "generated from docs/openapi.json and compiled with tsc --strict: 0 errors"
