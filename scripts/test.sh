#!/usr/bin/env bash
# The whole test suite: lint, types, then every test on SQLite and again on PostgreSQL.
# Extra arguments go to pytest (e.g. scripts/test.sh -k journal).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh test
export PATH="$PWD/.venv/bin:$PATH"
export MUSTER_VAR_DIR="$PWD/var/test"
mkdir -p "$MUSTER_VAR_DIR"

echo "==> ruff (lint and format)"
ruff check src tests bench
ruff format --check src tests bench
echo "==> mypy"
mypy

echo "==> tests on SQLite"
MUSTER_DATABASE_URL="sqlite:///$MUSTER_VAR_DIR/muster.sqlite3" \
MUSTER_TEST_SQLITE_PATH="$MUSTER_VAR_DIR/test.sqlite3" \
MUSTER_TEST_ENGINE=sqlite \
    pytest "$@"

echo "==> tests on PostgreSQL"
MUSTER_TEST_ENGINE=postgresql scripts/with-postgres.sh pytest "$@"
