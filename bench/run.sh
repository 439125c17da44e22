#!/usr/bin/env bash
# Runs every benchmark and writes bench/results/*.json (see bench/README.md):
# rosters of BENCH_PEOPLE volunteers (default 100000) and 4 records each are imported into a
# fresh SQLite file and a fresh PostgreSQL database, then eligibility is decided for everyone.
# PostgreSQL: MUSTER_TEST_POSTGRES_URL when set, else a throwaway cluster (scripts/with-postgres.sh).
# Knobs: BENCH_PEOPLE, BENCH_ENGINES ("sqlite postgresql"), BENCH_RUNS, BENCH_CATEGORY,
# MUSTER_PYTHON (default .venv/bin/python), BENCH_KEEP=1 (keep the rosters, logs and SQLite file).
set -euo pipefail
cd "$(dirname "$0")/.."
py="${MUSTER_PYTHON:-.venv/bin/python}"
export BENCH_PEOPLE="${BENCH_PEOPLE:-100000}"
engines="${BENCH_ENGINES:-sqlite postgresql}"
work="$(mktemp -d /tmp/muster-bench.XXXXXX)"
if [ -n "${BENCH_KEEP:-}" ]; then
    echo "==> keeping rosters, logs and the SQLite database in $work"
else
    trap 'rm -rf "$work"' EXIT
fi

echo "==> writing rosters: $BENCH_PEOPLE volunteers, $((4 * BENCH_PEOPLE)) qualification records"
"$py" bench/gen_roster.py csv --people "$BENCH_PEOPLE" --out "$work"

for engine in $engines; do
    case "$engine" in
        sqlite)
            "$py" bench/import_bench.py --engine sqlite --work "$work"
            "$py" bench/eligibility_bench.py --engine sqlite --work "$work"
            ;;
        postgresql)
            # Both steps in one session: a throwaway cluster lives only as long as the command.
            scripts/with-postgres.sh bash -c '
                "$1" bench/import_bench.py --engine postgresql --work "$2" &&
                "$1" bench/eligibility_bench.py --engine postgresql --work "$2"' _ "$py" "$work"
            ;;
        *)
            echo "unknown engine in BENCH_ENGINES: $engine (sqlite, postgresql)" >&2
            exit 2
            ;;
    esac
done
echo "==> results in ${BENCH_RESULTS:-bench/results}/"
