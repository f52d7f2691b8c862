#!/usr/bin/env bash
# Checks that crates/db/src/schema.rs is exactly what `diesel print-schema` generates from a
# database migrated with migrations/ (convention: schema.rs is generated, never hand-edited).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
DIESEL="$ROOT/.data/tools/bin/diesel"
command -v diesel >/dev/null && DIESEL="$(command -v diesel)"
if [ ! -x "$DIESEL" ]; then
  echo "[schema] installing diesel_cli into .data/tools (one time, a few minutes)" >&2
  cargo install --locked --root "$ROOT/.data/tools" diesel_cli --no-default-features --features postgres
  DIESEL="$ROOT/.data/tools/bin/diesel"
fi
ADMIN_URL="${POSTBRIDGE_TEST_DATABASE_URL:-postgres://postbridge:postbridge@127.0.0.1:55432/postbridge}"
DB="pb_schema_check_$$"
URL="${ADMIN_URL%/*}/$DB"
psql "$ADMIN_URL" -qc "CREATE DATABASE $DB" >/dev/null
trap 'psql "$ADMIN_URL" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null' EXIT
"$DIESEL" migration run --database-url "$URL" >/dev/null
if "$DIESEL" print-schema --database-url "$URL" | diff -u crates/db/src/schema.rs -; then
  echo "[schema] crates/db/src/schema.rs matches diesel print-schema"
else
  echo "[schema] crates/db/src/schema.rs differs from diesel print-schema (above); regenerate it with: diesel print-schema > crates/db/src/schema.rs" >&2
  exit 1
fi
