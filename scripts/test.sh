#!/usr/bin/env bash
# The whole suite on a throwaway PostgreSQL: lint, migrations check, pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/bootstrap.sh
./scripts/debian-packages.sh
export DJANGO_SECRET_KEY=${DJANGO_SECRET_KEY:-test-only-not-secret}
export DJANGO_READ_DOT_ENV=0  # a developer's .env must not change what the suite tests
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/lint-imports --no-cache  # the one-way layers of pyproject.toml [tool.importlinter]
.venv/bin/mypy  # types: pyproject.toml [tool.mypy], strict on core and the services
./scripts/compile-messages.sh --check
# Two database roles, as in production (README, "Database roles"): the tests run the app as
# the limited role; the owner creates, migrates, empties and drops the test database.
exec ./scripts/with-postgres.sh ./scripts/with-redis.sh bash -c '
    export DATABASE_OWNER_URL=$DATABASE_URL DATABASE_URL=$DATABASE_APP_URL
    .venv/bin/python manage.py makemigrations --check --dry-run >/dev/null \
        || { echo "models have changes without migrations: run manage.py makemigrations" >&2; exit 1; }
    .venv/bin/python -m pytest "$@"
' bash "$@"
