#!/usr/bin/env bash
# The production start test (part of `make test`): renders the production overlay with
# `kubectl kustomize` (to JSON, with PyYAML of .data/ops-venv), then runs
# tests/ops/tests/production_start.rs against the four service binaries, the local PostgreSQL
# and RabbitMQ (`make infra-up`), a moto S3 server and a local JWKS endpoint.
#
# Which binaries: by default the ones `cargo nextest run --workspace` just built (target/debug).
# Start-up reads configuration the same way in every profile (nothing is behind
# `cfg(debug_assertions)`), and a second, optimised build of the whole tree would add ~10
# minutes to a cold `make test` on two cores. POSTBRIDGE_PRODUCTION_PROFILE=release tests the
# release binaries instead (the nightly chaos workflow builds them anyway).
#
# Takes ~1 min (each binary is started 4–7 times).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT=$PWD
OUT=$ROOT/.data/production-start
log() { printf '[production-start] %s\n' "$*" >&2; }

PY=$(bash deploy/local/ops-tools.sh venv)
KUBECTL=$(bash deploy/local/ops-tools.sh kubectl)
PROFILE=${POSTBRIDGE_PRODUCTION_PROFILE:-debug}
case $PROFILE in
    debug) CARGO_PROFILE=() ;;
    release) CARGO_PROFILE=(--release) ;;
    *) log "POSTBRIDGE_PRODUCTION_PROFILE must be debug or release, not '$PROFILE'"; exit 2 ;;
esac
command -v openssl >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssl >/dev/null; }
mkdir -p "$OUT"
log "rendering deploy/k8s/overlays/production"
"$KUBECTL" kustomize deploy/k8s/overlays/production |
    "$PY" -c 'import json, sys, yaml; json.dump([d for d in yaml.safe_load_all(sys.stdin) if d], sys.stdout)' \
        >"$OUT/production.json"
if [[ $PROFILE == debug && -n ${POSTBRIDGE_PREBUILT_BINS:-} ]]; then
    log "using the debug binaries make test built"
else
    log "building the $PROFILE binaries"
    cargo build -q "${CARGO_PROFILE[@]}" --bins -p auth-gateway -p account-registry -p token-refresher -p publisher
fi
# --workspace, not -p ops-tests: selected alone, the package's dependencies resolve to other
# features than the workspace's test build and ~60 crates are rebuilt (68 s of a cold make
# test). The default profile: the ci profile's junit.xml holds the whole suite's durations.
POSTBRIDGE_RENDERED_PRODUCTION=$OUT/production.json \
    POSTBRIDGE_BINARY_DIR=$ROOT/target/$PROFILE \
    cargo nextest run --workspace --run-ignored only -E 'package(ops-tests) & binary(production_start)'
