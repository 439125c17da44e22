#!/usr/bin/env bash
# Runs the benchmarks and writes bench/results/*.json (see bench/README.md).
# By default: rosters of BENCH_PEOPLE volunteers (default 100000) and 4 records each are
# imported into a fresh SQLite file and a fresh PostgreSQL database, then eligibility is decided
# for everyone. Switches: BENCH_IMPORT=0 skips that; BENCH_ARMORY=1 adds the custody
# (issue→return cycles) and count (100,000 items) benchmarks on each engine;
# BENCH_NATIONAL_HISTORY=1 adds `muster history`/`muster holdings` at national scale
# (PostgreSQL only: 1,000,000 items, ~10 million journal entries, ~4 minutes, ~10 GB of disk).
# BENCH_API=1 adds issue+return cycles through the API under `muster serve` from 16 clients, and
# BENCH_WEB=1 the dashboard and roster pages at national scale over HTTP (building the national
# demo database first when the server lacks it: ~5-8 minutes); both PostgreSQL only.
# PostgreSQL: MUSTER_TEST_POSTGRES_URL when set, else a throwaway cluster (scripts/with-postgres.sh).
# Knobs: BENCH_PEOPLE, BENCH_ENGINES ("sqlite postgresql"), BENCH_RUNS, BENCH_CATEGORY,
# BENCH_CUSTODY_CYCLES, BENCH_CUSTODY_RIFLES, BENCH_COUNT_ITEMS, BENCH_HISTORY_ITEMS,
# BENCH_HISTORY_PEOPLE, BENCH_HISTORY_SAMPLES, BENCH_API_*, BENCH_WEB_* (bench/README.md),
# MUSTER_PYTHON (default .venv/bin/python),
# BENCH_KEEP=1 (keep the rosters, logs and SQLite files).
set -euo pipefail
cd "$(dirname "$0")/.."
py="${MUSTER_PYTHON:-.venv/bin/python}"
export BENCH_PEOPLE="${BENCH_PEOPLE:-100000}"
engines="${BENCH_ENGINES:-sqlite postgresql}"
import="${BENCH_IMPORT:-1}"
armory="${BENCH_ARMORY:-0}"
history="${BENCH_NATIONAL_HISTORY:-0}"
api="${BENCH_API:-0}"
web="${BENCH_WEB:-0}"
work="$(mktemp -d /tmp/muster-bench.XXXXXX)"
if [ -n "${BENCH_KEEP:-}" ]; then
    echo "==> keeping rosters, logs and the SQLite databases in $work"
else
    trap 'rm -rf "$work"' EXIT
fi

if [ "$import" = 1 ]; then
    echo "==> writing rosters: $BENCH_PEOPLE volunteers, $((4 * BENCH_PEOPLE)) qualification records"
    "$py" bench/gen_roster.py csv --people "$BENCH_PEOPLE" --out "$work"
fi

# The benchmarks of one engine, in order, as one shell script (a throwaway PostgreSQL cluster
# lives only as long as the command it runs, so they all run inside one session).
steps() {
    local engine="$1"
    if [ "$import" = 1 ]; then
        echo "\"\$1\" bench/import_bench.py --engine $engine --work \"\$2\""
        echo "\"\$1\" bench/eligibility_bench.py --engine $engine --work \"\$2\""
    fi
    if [ "$armory" = 1 ]; then
        echo "\"\$1\" bench/custody_bench.py --engine $engine --work \"\$2\""
        echo "\"\$1\" bench/count_bench.py --engine $engine --work \"\$2\""
    fi
    if [ "$history" = 1 ] && [ "$engine" = postgresql ]; then
        echo "\"\$1\" bench/history_bench.py --work \"\$2\""
    fi
    if [ "$api" = 1 ] && [ "$engine" = postgresql ]; then
        echo "\"\$1\" bench/api_bench.py --work \"\$2/api\""
    fi
    if [ "$web" = 1 ] && [ "$engine" = postgresql ]; then
        echo "\"\$1\" bench/web_bench.py --work \"\$2/web\""
    fi
}

for engine in $engines; do
    script="set -e; $(steps "$engine" | paste -sd ';' -)"
    if [ "$script" = "set -e; " ]; then
        continue
    fi
    case "$engine" in
        sqlite)
            bash -c "$script" _ "$py" "$work"
            ;;
        postgresql)
            scripts/with-postgres.sh bash -c "$script" _ "$py" "$work"
            ;;
        *)
            echo "unknown engine in BENCH_ENGINES: $engine (sqlite, postgresql)" >&2
            exit 2
            ;;
    esac
done
if [ "$history$api$web" != 000 ] && [[ " $engines " != *" postgresql "* ]]; then
    echo "note: BENCH_NATIONAL_HISTORY, BENCH_API and BENCH_WEB run on PostgreSQL only;" \
        "add postgresql to BENCH_ENGINES" >&2
fi
echo "==> results in ${BENCH_RESULTS:-bench/results}/"
