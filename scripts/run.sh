#!/usr/bin/env bash
# Quick start: environment, database, demo data (once), then the app on 127.0.0.1:8000.
# Embedded SQLite by default; set DATABASE_URL to use PostgreSQL instead.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/bootstrap.sh
if [ ! -f .env ]; then
    echo "==> writing .env (development settings and a fresh secret key; never commit it)"
    key=$(python3 -c 'import secrets; print(secrets.token_urlsafe(50))')
    printf 'DJANGO_DEBUG=1\nDJANGO_SECRET_KEY=%s\n' "$key" > .env
    chmod 600 .env
fi
PY=.venv/bin/python
$PY manage.py migrate --noinput
$PY manage.py seed_demo
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
echo "==> Silta on http://$HOST:$PORT/  (admin: http://$HOST:$PORT/admin/, health: /healthz)"
exec $PY manage.py runserver "$HOST:$PORT"
