#!/usr/bin/env bash
# Runs a command with a throwaway Redis 7 on loopback (noeviction, no persistence), then
# stops it. Exports REDIS_URL. Installs Debian's redis-server when missing and root.
set -euo pipefail
if ! command -v redis-server >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "==> installing redis-server from Debian's packages"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
    else
        echo "redis-server not found: install Redis 7 (Debian: apt-get install redis-server)" >&2
        exit 1
    fi
fi
REDIS_DIR=$(mktemp -d "${TMPDIR:-/tmp}/silta-redis.XXXXXX")
REDIS_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$REDIS_DIR" --save "" \
    --appendonly no --maxmemory-policy noeviction --daemonize no \
    --logfile "$REDIS_DIR/redis.log" &
REDIS_PID=$!
stop_redis() { kill "$REDIS_PID" 2>/dev/null || true; wait "$REDIS_PID" 2>/dev/null || true; rm -rf "$REDIS_DIR"; }
trap stop_redis EXIT
for _ in $(seq 1 50); do
    redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break
    sleep 0.1
done
echo "==> Redis $(redis-server --version | awk '{print $3}' | cut -d= -f2) on 127.0.0.1:$REDIS_PORT (throwaway)"
export REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
export SILTA_TEST_REDIS_PORT="$REDIS_PORT"
"$@"
