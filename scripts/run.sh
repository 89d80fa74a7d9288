#!/usr/bin/env bash
# Quick start: environment, database, demo data (once), a worker and beat, then the app
# on 127.0.0.1:8000.
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
# A Celery worker and one beat: on kombu's filesystem broker (var/broker) unless REDIS_URL
# is set. E-mails go to the console (the worker's output), prefixed [worker].
mkdir -p var
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null' EXIT INT TERM
.venv/bin/celery -A config worker --pool solo --loglevel INFO 2>&1 | sed -u 's/^/[worker] /' &
.venv/bin/celery -A config beat --loglevel INFO --schedule var/celerybeat-schedule \
    --pidfile "" 2>&1 | sed -u 's/^/[beat] /' &
# Run today's sweeps now rather than at their scheduled hour, so reminders arrive at once.
$PY manage.py run_sweeps --async
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
echo "==> Silta on http://$HOST:$PORT/  (admin: http://$HOST:$PORT/admin/, health: /healthz)"
$PY manage.py runserver "$HOST:$PORT"
