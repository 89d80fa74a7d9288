import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import connection

from audit import db_roles
from config import celery_app
from tests import database
from tests.factories import make_org

# The city's identity service on loopback and Silta with the city sign-in on, for the
# sign-in tests of tests/config and tests/browser.
from tests.oidc.fixtures import city_ports, city_provider, city_silta  # noqa: F401


@pytest.fixture(autouse=True)
def _suite_runs_on_postgresql(request):
    """The suite's promise: real PostgreSQL, never SQLite standing in for it."""
    if "django_db_setup" in request.fixturenames:
        assert connection.vendor == "postgresql", "run the suite with `make test`"


# The database: made and dropped by the schema's owner, used by the tests as the app's
# limited role (tests/database.py, audit/db_roles.py).
@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings):
    db_roles.connect_as_owner(connection)


@pytest.fixture(scope="session")
def django_db_createdb(
    django_db_createdb, django_db_keepdb, django_db_modify_db_settings, django_db_blocker
):
    """--reuse-db: a kept database that a run did not leave as migrated is made again."""
    if django_db_createdb or not django_db_keepdb:
        return django_db_createdb
    with django_db_blocker.unblock():
        return not database.kept_database_is_usable()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_keepdb, django_db_blocker, request):
    """--reuse-db: the kept database is left as migrated (tests/database.py)."""
    restore = django_db_keepdb and any(map(database.empties_tables, request.session.items))
    if django_db_keepdb:
        with django_db_blocker.unblock():
            contents = database.snapshot() if restore else ""
            database.mark(database.IN_USE)
    db_roles.connect_as_app(connection)
    yield
    with django_db_blocker.unblock():
        db_roles.connect_as_owner(connection)
        if django_db_keepdb:
            if restore:
                database.restore(contents)
            database.mark(database.CLEAN)


@pytest.fixture
def owner_sql(transactional_db):
    """Runs SQL as the schema's owner (committed at once) for a test that needs what the
    app's role may not do, e.g. a trigger on a log; `undo_with` runs after the test. Mark
    the test `django_db(transaction=True, serialized_rollback=True)`."""
    undo: list[str] = []

    def run(statement: str, *, undo_with: str = "") -> None:
        with database.owner_connection() as conn:
            conn.execute(statement)
        if undo_with:
            undo.append(undo_with)

    yield run
    for statement in reversed(undo):
        with database.owner_connection() as conn:
            conn.execute(statement)


@pytest.fixture
def org(db):
    return make_org()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2's deliberate slowness is for production logins, not for test fixtures.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _plain_static_files(settings):
    # The manifest storage needs `collectstatic`; tests render admin pages without it.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


# A real Celery worker and a stand-in for an external booking system (loopback only).
@pytest.fixture
def celery_worker():
    """A real Celery worker (threads, in this process) consuming from the real test Redis."""
    celery_app.control.purge()
    with start_worker(
        celery_app, pool="threads", concurrency=2, perform_ping_check=False, shutdown_timeout=30
    ) as worker:
        yield worker


class BookingSystem:
    """Stands in for an external booking system on loopback: records every request and
    answers as told."""

    def __init__(self):
        self.requests: list[dict] = []
        self.answers: list[tuple[int, dict]] = []
        self.delay = 0.0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/bookings"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _handler(self):
        system = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                system.requests.append(
                    {"headers": dict(self.headers), "raw": raw, "body": json.loads(raw)}
                )
                # The answer is chosen on arrival: a slow (timed-out) request that wakes up
                # later must not take an answer meant for the next one.
                status, body = system.answers.pop(0) if system.answers else (200, {})
                if system.delay:
                    threading.Event().wait(system.delay)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        return Handler


@pytest.fixture
def booking_system():
    system = BookingSystem()
    system.thread.start()
    yield system
    system.server.shutdown()
