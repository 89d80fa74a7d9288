#!/bin/sh
# The production image's entry point (Dockerfile; docker-compose.yml picks the command).
# The same commands run outside a container in tests/config/test_production_start.py.
#   collectstatic  the static files into STATIC_ROOT (run when the image is built)
#   migrate        the one-off migration, as the schema's owner (DATABASE_OWNER_URL)
#   web            gunicorn (config/gunicorn.py) as the app's limited role (DATABASE_URL)
#   worker, beat   Celery's worker and its one beat, as the limited role
#   anything else  run as given (e.g. `python manage.py createsuperuser`)
set -eu
cd "$(dirname "$0")/.."
command=${1:-web}
[ "$#" -gt 0 ] && shift
case "$command" in
    collectstatic)
        exec python manage.py collectstatic --noinput "$@" ;;
    migrate)
        if [ -z "${DATABASE_OWNER_URL:-}" ]; then
            echo "entrypoint: migrate runs as the schema's owner: set DATABASE_OWNER_URL" >&2
            exit 2
        fi
        exec python manage.py migrate --noinput "$@" ;;
    web)
        exec gunicorn --config config/gunicorn.py config.wsgi:application "$@" ;;
    worker)
        exec celery -A config worker --loglevel "${LOG_LEVEL:-INFO}" "$@" ;;
    beat)
        exec celery -A config beat --loglevel "${LOG_LEVEL:-INFO}" \
            --schedule "${BEAT_SCHEDULE:-var/celerybeat-schedule}" \
            --pidfile "${BEAT_PIDFILE:-var/beat.pid}" "$@" ;;
    *)
        exec "$command" "$@" ;;
esac
