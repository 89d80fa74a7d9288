"""The suite's database and its two roles (audit/db_roles.py).

The schema's owner (DATABASE_OWNER_URL) creates, migrates, empties (flush) and drops the
test database; the tests, the worker threads and the live server they start connect as
the app's limited role (DATABASE_URL), as the app does in production.

With `--reuse-db` the kept database must be what the migrations made of it, since the
transactional tests restore the data that is there when the run starts: a run that ran a
transactional test (they empty the tables) restores the migrations' data when it ends. A
run marks the database "in use" in its comment while it runs; one that starts on a
database still so marked (a run killed half-way) or emptied (by a run from before this
mark) makes it again.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from django.core.management import call_command
from django.db import connection
from psycopg import sql

from audit import db_roles

CLEAN = "silta test database: as migrated"
IN_USE = "silta test database: in use"
# What makes a test empty the tables afterwards (pytest-django's transactional tests).
TRANSACTIONAL_FIXTURES = {"transactional_db", "live_server", "django_db_reset_sequences"}


@contextmanager
def owner_connection(dbname: str | None = None) -> Iterator[psycopg.Connection]:
    """A connection of its own to the test database as the schema's owner, autocommit."""
    settings = connection.settings_dict
    owner = db_roles.owner_credentials() or db_roles.app_credentials()
    with psycopg.connect(
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
        dbname=dbname or settings["NAME"],
        user=owner["USER"],
        password=owner["PASSWORD"] or None,
        autocommit=True,
    ) as conn:
        yield conn


def kept_database_is_usable() -> bool:
    """Whether the kept test database is missing (it will be made) or as migrated: not
    left "in use" by a run that did not end, and holding the migrations' data."""
    name = connection.creation._get_test_db_name()
    with connection._nodb_cursor() as cursor:
        cursor.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            [name],
        )
        row = cursor.fetchone()
    if row is None:
        return True
    if row[0] == IN_USE:
        return False
    with owner_connection(name) as conn:
        migrated = conn.execute("SELECT to_regclass('django_content_type')").fetchone()[0]
        return (
            not migrated
            or conn.execute("SELECT EXISTS (SELECT 1 FROM django_content_type)").fetchone()[0]
        )


def empties_tables(item) -> bool:
    """Whether a test is a transactional one, which empties the tables after it."""
    marker = item.get_closest_marker("django_db")
    if marker is not None and (marker.kwargs.get("transaction") or marker.args[:1] == (True,)):
        return True
    return bool(TRANSACTIONAL_FIXTURES & set(getattr(item, "fixturenames", ())))


def mark(state: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            sql.SQL("COMMENT ON DATABASE {} IS {}")
            .format(sql.Identifier(connection.settings_dict["NAME"]), sql.Literal(state))
            .as_string(connection.connection)
        )


def snapshot() -> str:
    """The migrations' data, as the transactional tests restore it."""
    contents = getattr(connection, "_test_serialized_contents", None)
    return contents if contents is not None else connection.creation.serialize_db_to_string()


def restore(contents: str) -> None:
    """Empty the tables (as the owner) and load the migrations' data again."""
    call_command("flush", verbosity=0, interactive=False, inhibit_post_migrate=True)
    connection.creation.deserialize_db_from_string(contents)


def wait_until_blocked(outcome: dict[str, object], what: str, seconds: float = 30) -> None:
    """Until the connection whose pid another thread put in `outcome["pid"]` waits for a
    lock (a two-connection race: the second one is known to be queued behind the first)."""
    deadline = time.monotonic() + seconds
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            if "pid" in outcome:
                cursor.execute("SELECT cardinality(pg_blocking_pids(%s))", [outcome["pid"]])
                if cursor.fetchone()[0]:
                    return
            time.sleep(0.02)
    raise AssertionError(f"{what} never waited for a lock: {outcome}")
