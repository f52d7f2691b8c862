#!/usr/bin/env bash
# The production start test (part of `make test`): renders the production overlay with
# `kubectl kustomize` (to JSON, with PyYAML of .data/ops-venv), builds the four release
# binaries, then runs tests/ops/tests/production_start.rs against them, the local PostgreSQL
# and RabbitMQ (`make infra-up`), a moto S3 server and a local JWKS endpoint.
#
# Takes ~1 min when the release build is current (each binary is started 4–7 times); the
# first release build of a changed tree takes several minutes more.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT=$PWD
OUT=$ROOT/.data/production-start
log() { printf '[production-start] %s\n' "$*" >&2; }

PY=$(bash deploy/local/ops-tools.sh venv)
command -v kubectl >/dev/null || { log "kubectl is missing (https://kubernetes.io/docs/tasks/tools/)"; exit 1; }
command -v openssl >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssl >/dev/null; }
mkdir -p "$OUT"
log "rendering deploy/k8s/overlays/production"
kubectl kustomize deploy/k8s/overlays/production |
    "$PY" -c 'import json, sys, yaml; json.dump([d for d in yaml.safe_load_all(sys.stdin) if d], sys.stdout)' \
        >"$OUT/production.json"
log "building the release binaries"
cargo build -q --release --bins -p auth-gateway -p account-registry -p token-refresher -p publisher
POSTBRIDGE_RENDERED_PRODUCTION=$OUT/production.json \
    POSTBRIDGE_RELEASE_DIR=$ROOT/target/release \
    cargo nextest run -p ops-tests --profile ci --run-ignored only -E 'binary(production_start)'
