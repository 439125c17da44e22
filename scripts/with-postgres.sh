#!/usr/bin/env bash
# Runs a command with MUSTER_DATABASE_URL pointing at PostgreSQL: MUSTER_TEST_POSTGRES_URL when
# set, else a throwaway cluster started here on a free port and always stopped afterwards.
set -euo pipefail
if [ -n "${MUSTER_TEST_POSTGRES_URL:-}" ]; then
    MUSTER_DATABASE_URL="$MUSTER_TEST_POSTGRES_URL" exec "$@"
fi
bindir="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
datadir="$(mktemp -d /tmp/muster-pg.XXXXXX)"
as_pg=()
if [ "$(id -u)" -eq 0 ]; then
    # PostgreSQL refuses to run as root.
    chown postgres:postgres "$datadir"
    as_pg=(runuser -u postgres --)
fi
cleanup() {
    "${as_pg[@]}" "$bindir/pg_ctl" -D "$datadir" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$datadir"
}
trap cleanup EXIT
echo "==> starting a throwaway PostgreSQL cluster on port $port"
"${as_pg[@]}" "$bindir/initdb" -D "$datadir" -A trust -U postgres --no-sync -E UTF8 >/dev/null
"${as_pg[@]}" "$bindir/pg_ctl" -D "$datadir" -w -l "$datadir/server.log" \
    -o "-p $port -k $datadir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100" \
    start >/dev/null
MUSTER_DATABASE_URL="postgresql://postgres@127.0.0.1:$port/muster" "$@"
