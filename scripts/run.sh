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
# On PostgreSQL, two roles (README, "Database roles"): `migrate` runs as the owner
# (DATABASE_OWNER_URL) and creates the app's limited role, as which the app, the worker and
# the beat run (DATABASE_URL). Given only DATABASE_URL, that is taken as the owner and the
# app runs as `silta_app`, with a password made once and kept in var/database-app-password.
env_or_dotenv() {
    local value="${!1:-}"
    [ -n "$value" ] || value=$(sed -n "s/^$1=//p" .env | tail -n 1 | sed -e 's/^["'\'']//' -e 's/["'\'']$//')
    printf '%s' "$value"
}
DATABASE_URL=$(env_or_dotenv DATABASE_URL)
DATABASE_OWNER_URL=$(env_or_dotenv DATABASE_OWNER_URL)
if [[ "$DATABASE_URL" == postgres* && -z "$DATABASE_OWNER_URL" ]]; then
    mkdir -p var
    if [ ! -f var/database-app-password ]; then
        (umask 077 && python3 -c 'import secrets; print(secrets.token_urlsafe(24))' \
            > var/database-app-password)
    fi
    DATABASE_OWNER_URL=$DATABASE_URL
    DATABASE_URL=$(python3 - "$DATABASE_OWNER_URL" var/database-app-password <<'PY'
import sys
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

url = urlsplit(sys.argv[1])
password = quote(Path(sys.argv[2]).read_text().strip(), safe="")
host = url.netloc.rpartition("@")[2]
print(urlunsplit((url.scheme, f"silta_app:{password}@{host}", url.path, url.query, "")))
PY
)
    echo "==> PostgreSQL: migrations as the owner given in DATABASE_URL; the app, worker and beat as silta_app"
fi
if [ -n "$DATABASE_URL" ]; then export DATABASE_URL; fi
if [ -n "$DATABASE_OWNER_URL" ]; then export DATABASE_OWNER_URL; fi
$PY manage.py migrate --noinput
$PY manage.py seed_demo
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
# Links in e-mails and notifications point at the address served below (HOST and PORT),
# unless SILTA_BASE_URL is set (in the environment or .env).
SILTA_BASE_URL=$(env_or_dotenv SILTA_BASE_URL)
export SILTA_BASE_URL=${SILTA_BASE_URL:-http://$HOST:$PORT}
# A Celery worker and one beat: on kombu's filesystem broker (var/broker) unless REDIS_URL
# is set. E-mails go to the console (the worker's output), prefixed [worker].
mkdir -p var
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null' EXIT INT TERM
.venv/bin/celery -A config worker --pool solo --loglevel INFO 2>&1 | sed -u 's/^/[worker] /' &
.venv/bin/celery -A config beat --loglevel INFO --schedule var/celerybeat-schedule \
    --pidfile "" 2>&1 | sed -u 's/^/[beat] /' &
# Run today's sweeps now rather than at their scheduled hour, so reminders arrive at once.
$PY manage.py run_sweeps --async
echo "==> Silta on http://$HOST:$PORT/  (admin: http://$HOST:$PORT/admin/, health: /healthz)"
$PY manage.py runserver "$HOST:$PORT"
