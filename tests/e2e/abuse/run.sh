#!/usr/bin/env bash
# The abuse suite (issue 16): the real gateway, built from this tree, on its own database,
# attacked by schemathesis from the OpenAPI document it serves, plus Postbridge's own checks
# (no 5xx, the error shape, no token in any header or body, an unchanged database after
# requests that must be refused). Run by `make test` and `make abuse`.
#
# Installs what it needs on a fresh machine: python3 with venv (apt) and schemathesis, pinned,
# into .data/abuse-venv (`run.sh --install-only` stops there). Uses the local PostgreSQL and RabbitMQ (`make infra-up`).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
ROOT=$PWD
SCHEMATHESIS_VERSION=4.32.5
VENV=$ROOT/.data/abuse-venv

log() { printf '[abuse] %s\n' "$*" >&2; }

if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
    log "installing python3 and python3-venv"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv >/dev/null
fi
if [[ ! -x $VENV/bin/st ]] || [[ $("$VENV/bin/st" --version 2>/dev/null) != *"$SCHEMATHESIS_VERSION"* ]]; then
    log "installing schemathesis $SCHEMATHESIS_VERSION into .data/abuse-venv"
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi
[[ ${1:-} == --install-only ]] && exit 0
command -v psql >/dev/null || { log "psql is missing: run make infra-up first"; exit 1; }

if [[ -n ${POSTBRIDGE_PREBUILT_BINS:-} ]]; then
    log "using the binaries make test built"
else
    log "building auth-gateway and platform-sim"
    cargo build -q -p auth-gateway -p platform-sim --bins
fi
exec "$VENV/bin/python" "$ROOT/tests/e2e/abuse/abuse.py" "$@"
