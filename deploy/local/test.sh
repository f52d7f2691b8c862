#!/usr/bin/env bash
# `make test`: the whole suite, phase by phase, with each phase's time and a summary at the end
# (so a slow run says where its minutes went).
#
# On a fresh machine most of the wall time is the Rust build, which keeps both cores busy,
# while the other installs (the ops tools, schemathesis, the npm packages, Debian's chromium)
# mostly wait on the network. So those installs run in the background beside the build (and
# the Rust tests); a phase that needs them waits for them. Their output goes to
# .data/logs/test-<job>.log and is printed if they fail.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"

log() { printf '[test] %s\n' "$*" >&2; }

declare -a PHASES=()
started=$SECONDS

# phase NAME CMD...: runs CMD, records how long it took, stops the suite if it fails.
phase() {
    local name=$1 t0=$SECONDS rc=0
    shift
    log "$name"
    "$@" || rc=$?
    PHASES+=("$(printf '%-34s %4d s%s' "$name" $((SECONDS - t0)) "$([[ $rc -eq 0 ]] || echo '  FAILED')")")
    if [[ $rc -ne 0 ]]; then
        summary
        exit "$rc"
    fi
}

summary() {
    log "time per phase:"
    local line
    for line in "${PHASES[@]}"; do printf '[test]   %s\n' "$line" >&2; done
    log "total $((SECONDS - started)) s"
}

# background NAME CMD...: starts CMD in the background, its output in .data/logs/test-NAME.log.
declare -A JOBS=() JOB_T0=()
background() {
    local name=$1
    shift
    "$@" >"$ROOT/.data/logs/test-$name.log" 2>&1 &
    JOBS[$name]=$!
    JOB_T0[$name]=$SECONDS
}

# await NAME: waits for a background job; prints its log if it failed.
await() {
    local name=$1 rc=0
    wait "${JOBS[$name]}" || rc=$?
    if [[ $rc -ne 0 ]]; then
        log "$name failed; its log (.data/logs/test-$name.log):"
        cat "$ROOT/.data/logs/test-$name.log" >&2
        return "$rc"
    fi
    log "$name done ($((SECONDS - JOB_T0[$name])) s in the background)"
}

installs() {
    bash tests/e2e/abuse/run.sh --install-only
    bash clients/typescript/check.sh --install-only
    bash tests/browser/run.sh --install-only
}

mkdir -p "$ROOT/.data/logs"
# The Rust tests need the ops tools (moto's S3 server); the later phases need the rest.
background ops-tools bash deploy/local/ops-tools.sh all
background installs installs
trap 'kill "${JOBS[@]}" 2>/dev/null || true' EXIT

# The same build `cargo nextest run` would make, so the tests start once the tools are there,
# and every service's binary in the same invocation: the later phases run those binaries. Built
# on their own (`cargo build -p auth-gateway …`), cargo resolves the dependencies' features
# without the tests' dev-dependencies (num-traits/std, service-kit/testing, …) and rebuilds ~60
# crates for each phase: three minutes of a cold run. POSTBRIDGE_PREBUILT_BINS tells the phases'
# scripts that target/debug already holds current binaries.
phase "build the tests and binaries" cargo build --workspace --tests --bins
export POSTBRIDGE_PREBUILT_BINS=1
phase "waiting for the ops tools" await ops-tools
phase "cargo nextest run --workspace" cargo nextest run --workspace --profile ci
phase "waiting for the other test tools" await installs
phase "abuse suite (schemathesis)" bash tests/e2e/abuse/run.sh
phase "production start" bash tests/ops/production-start.sh
phase "promtool rules and tests" bash -c 'cd deploy/prometheus && promtool check rules postbridge.rules.yml >/dev/null && promtool test rules postbridge.rules.test.yml'
phase "TypeScript client (tsc --strict)" bash clients/typescript/check.sh
phase "browser test (chromium)" bash tests/browser/run.sh
summary
