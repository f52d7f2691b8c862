# Postbridge developer commands. `make run` and `make test` do all set-up on a fresh machine.
SHELL := /bin/bash
.DEFAULT_GOAL := help
ROOT := $(CURDIR)
export CARGO_TERM_PROGRESS_WHEN ?= auto

# Local infrastructure (see deploy/local/infra.sh). Set POSTBRIDGE_SKIP_INFRA=1 when PostgreSQL
# and RabbitMQ are provided otherwise (CI service containers).
INFRA := deploy/local/infra.sh

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

.PHONY: run
run: ## bring up PostgreSQL + RabbitMQ, build, start every service and platform-sim, and the dashboard on http://localhost:3000 when Node.js is present (Ctrl-C stops them)
	@bash examples/dashboard/run-with-services.sh

.PHONY: test
test: toolchain infra-up ## the whole test suite against real PostgreSQL and RabbitMQ (deploy/local/test.sh: phases timed, tool installs beside the build)
	@bash deploy/local/test.sh

.PHONY: ops-tools
ops-tools: ## promtool (Debian prometheus) and .data/ops-venv (moto S3 server, kubernetes-validate), pinned; used by make test and make lint
	@bash deploy/local/ops-tools.sh all >/dev/null

.PHONY: abuse
abuse: toolchain infra-up ## the abuse suite: schemathesis (PyPI, pinned, installed into .data/abuse-venv) against the gateway's OpenAPI, plus our checks (part of make test)
	@bash tests/e2e/abuse/run.sh

.PHONY: browser
browser: toolchain infra-up ## the dashboard in headless Chromium against the real services and platform-sim (part of make test; screenshots in target/browser-artifacts/)
	@bash tests/browser/run.sh

.PHONY: fuzz
fuzz: ## cargo-fuzz targets (media probe, text counters), FUZZ_SECONDS each (default 60); needs a nightly toolchain (not part of make test)
	@bash fuzz/run.sh

.PHONY: lint
lint: infra-up ops-tools ## rustfmt check, clippy -D warnings, schema.rs drift, deploy/docs validators (manifest schemas, promtool rules and tests), redocly on docs/openapi.json
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	@bash deploy/local/schema-check.sh
	@bash deploy/lint-deploy.sh
	@bash tools/openapi-lint/lint.sh

.PHONY: fmt
fmt: ## format the code
	cargo fmt --all

.PHONY: migrate
migrate: infra-up ## apply pending migrations to the local database
	POSTBRIDGE_MIGRATE_ONLY=1 cargo run -q -p auth-gateway --bin auth-gateway

.PHONY: openapi
openapi: ## regenerate docs/openapi.json from the gateway's code, then the TypeScript client's types
	POSTBRIDGE_UPDATE_SCHEMAS=1 cargo nextest run -p auth-gateway the_committed_openapi_json_is_what_the_gateway_serves
	@if command -v npm >/dev/null; then cd clients/typescript && { [ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error; } && npm run -s generate; else echo "[openapi] npm is missing: the TypeScript client's types were not regenerated"; fi

.PHONY: schemas
schemas: ## regenerate docs/schemas/events/*.json from the Rust event types
	POSTBRIDGE_UPDATE_SCHEMAS=1 cargo nextest run -p events json_schemas

.PHONY: schema-check
schema-check: infra-up ## check crates/db/src/schema.rs against `diesel print-schema` of a freshly migrated database
	@bash deploy/local/schema-check.sh

.PHONY: token
token: ## print a development JWT: make token USER=alice
	@cargo run -q -p auth-gateway --bin postbridge-token -- "$(USER)"

.PHONY: bench
bench: toolchain infra-up ## the benchmarks (never part of make test); figures go to docs/BENCHMARKS.md
	@bash deploy/local/bench.sh

.PHONY: chaos
chaos: toolchain ## the fault suite: each fault injected into the real system during a burst, then audited (minutes; not in make test)
	@bash deploy/local/chaos.sh

.PHONY: infra-up infra-down infra-status
infra-up: ## start local PostgreSQL (127.0.0.1:55432) and RabbitMQ (127.0.0.1:55672)
	@if [ "$${POSTBRIDGE_SKIP_INFRA:-0}" = 1 ]; then echo "[infra] POSTBRIDGE_SKIP_INFRA=1: using the PostgreSQL and RabbitMQ already provided"; else bash $(INFRA) up; fi
infra-down: ## stop the local infrastructure (data stays under .data/)
	@bash $(INFRA) down
infra-status: ## show whether the local infrastructure runs
	@bash $(INFRA) status

.PHONY: toolchain
toolchain:
	@command -v cargo >/dev/null || { echo "cargo is missing: install Rust from https://rustup.rs"; exit 1; }
	@cargo nextest --version >/dev/null 2>&1 || { echo "[test] installing cargo-nextest"; cargo install --locked cargo-nextest; }
	@{ [ -f /usr/include/openssl/ssl.h ] && command -v pkg-config >/dev/null; } || { echo "[test] installing libssl-dev and pkg-config (the libpq built into the binaries speaks TLS through OpenSSL)"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libssl-dev pkg-config; }
