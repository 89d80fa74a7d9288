#!/usr/bin/env bash
# Runs a command against a throwaway PostgreSQL started from local binaries, then stops it
# and removes its data, whatever the command's outcome. Exports DATABASE_URL (the owner
# `silta`, a superuser of this throwaway server: benchmarks and drills use it) and
# DATABASE_APP_URL (`silta_app`, LOGIN and nothing else: the app's limited role, as which
# `make test` runs the app; README, "Database roles").
# As root, the server runs as the unprivileged user `postgres` (initdb refuses root).
set -euo pipefail

find_bindir() {
    local dir
    if command -v pg_config >/dev/null 2>&1; then
        dir=$(pg_config --bindir)
        [ -x "$dir/initdb" ] && { echo "$dir"; return; }
    fi
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        [ -x "$dir/initdb" ] && { echo "$dir"; return; }
    done
    command -v initdb >/dev/null 2>&1 && dirname "$(readlink -f "$(command -v initdb)")"
}

BINDIR=$(find_bindir || true)
if [ -z "$BINDIR" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "==> installing PostgreSQL from Debian's packages"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
        BINDIR=$(find_bindir)
    else
        echo "PostgreSQL server binaries (initdb, pg_ctl) not found. Install PostgreSQL 15 or" >&2
        echo "newer, e.g. 'sudo apt-get install postgresql' (Debian/Ubuntu) or" >&2
        echo "'brew install postgresql@16' (macOS), or set DATABASE_URL to a server you own." >&2
        exit 1
    fi
fi

PGDATA=$(mktemp -d "${TMPDIR:-/tmp}/silta-pg.XXXXXX")
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    chown postgres "$PGDATA"
    as_pg() { runuser -u postgres -- "$@"; }
else
    as_pg() { "$@"; }
fi

stop() {
    as_pg "$BINDIR/pg_ctl" -D "$PGDATA" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$PGDATA"
}
trap stop EXIT

as_pg "$BINDIR/initdb" -D "$PGDATA" -U silta --auth=trust -E UTF8 --no-instructions >/dev/null
as_pg "$BINDIR/pg_ctl" -D "$PGDATA" -w -l "$PGDATA/server.log" start -o \
    "-p $PORT -k $PGDATA -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    >/dev/null || { cat "$PGDATA/server.log" >&2; exit 1; }
echo "==> PostgreSQL $("$BINDIR/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT (throwaway)"
as_pg "$BINDIR/createdb" -h 127.0.0.1 -p "$PORT" -U silta silta
as_pg "$BINDIR/createuser" -h 127.0.0.1 -p "$PORT" -U silta \
    --login --no-superuser --no-createdb --no-createrole --no-inherit --no-replication silta_app
export DATABASE_URL="postgres://silta@127.0.0.1:$PORT/silta"
export DATABASE_APP_URL="postgres://silta_app@127.0.0.1:$PORT/silta"
"$@"
