"""Two database roles on PostgreSQL: the schema's owner and the app's limited role.

`DATABASE_URL` is the role the web app, the Celery worker and the beat connect as. It reads
and writes the data, but on the logs (every `AppendOnlyModel`: the access log and the
event log) it may only SELECT and INSERT. It owns nothing, belongs to no other role and is
not a superuser, so it can neither TRUNCATE, DROP or ALTER a table, nor DISABLE a trigger,
nor set `session_replication_role`.

`DATABASE_OWNER_URL` is the same database as the role that owns the schema. `manage.py
migrate` and `manage.py flush` (audit/management/commands) connect as it by themselves.
`migrate` first makes sure the app's role exists with those limits (it creates it with the
password of `DATABASE_URL` if it is missing, and refuses to go on if it has more), and
after the migrations grants it exactly the privileges above on every table of the schema,
so a table that a later migration adds is covered without anyone having to remember it.

Without `DATABASE_OWNER_URL` (the SQLite quick start, or one role for everything) nothing
here does anything.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from .models import AppendOnlyModel

CREDENTIALS = ("USER", "PASSWORD")


class RoleError(Exception):
    """The app's role has privileges it must not have, or cannot be set up."""


def owner_credentials() -> dict[str, Any] | None:
    """The owner's user and password, or None when one role does everything."""
    owner = getattr(settings, "SILTA_DATABASE_OWNER", None)
    if not owner or owner["USER"] == app_role():
        return None
    return dict(owner)


def app_role() -> str:
    """The app's role: the user of DATABASE_URL."""
    return str(settings.SILTA_DATABASE_APP["USER"])


def app_credentials() -> dict[str, Any]:
    return dict(settings.SILTA_DATABASE_APP)


def _connect_with(connection: BaseDatabaseWrapper, credentials: dict[str, Any]) -> None:
    """Reconnect `connection` (and every later connection to its alias, in any thread:
    they share the settings) with these credentials."""
    if all(connection.settings_dict.get(key) == credentials[key] for key in CREDENTIALS):
        return
    if connection.in_atomic_block:
        raise RoleError("the database role cannot change inside a transaction")
    connection.close()
    connection.settings_dict.update({key: credentials[key] for key in CREDENTIALS})


def connect_as_owner(connection: BaseDatabaseWrapper) -> bool:
    """Connect as the schema's owner. False (and nothing changed) without two roles."""
    owner = owner_credentials()
    if owner is None or connection.vendor != "postgresql":
        return False
    _connect_with(connection, owner)
    return True


def connect_as_app(connection: BaseDatabaseWrapper) -> None:
    """Connect as the app's role again (what DATABASE_URL says)."""
    if owner_credentials() is not None and connection.vendor == "postgresql":
        _connect_with(connection, app_credentials())


@contextmanager
def as_owner(using: str = DEFAULT_DB_ALIAS) -> Iterator[bool]:
    """Run the block connected as the owner; yields whether there is a separate owner.
    The connection it had before is restored afterwards."""
    connection = connections[using]
    saved = {key: connection.settings_dict.get(key) for key in CREDENTIALS}
    switched = connect_as_owner(connection)
    try:
        yield switched
    finally:
        if switched:
            _connect_with(connection, saved)


def append_only_tables() -> list[str]:
    return sorted(
        model._meta.db_table
        for model in apps.get_models()
        if issubclass(model, AppendOnlyModel) and not model._meta.proxy
    )


def log_partitions(connection: BaseDatabaseWrapper) -> list[str]:
    """The partitions of the logs in the schema (the access log's months): the app's
    role reaches their rows only through the log itself, so it has no privilege on them."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH RECURSIVE part(oid) AS (
                SELECT i.inhrelid FROM pg_inherits i
                WHERE i.inhparent = ANY(ARRAY(SELECT to_regclass(t) FROM unnest(%s::text[]) t))
                UNION ALL
                SELECT i.inhrelid FROM pg_inherits i JOIN part ON i.inhparent = part.oid
            )
            SELECT c.relname::text FROM part JOIN pg_class c ON c.oid = part.oid
            WHERE c.relnamespace = current_schema()::regnamespace ORDER BY 1
            """,
            [append_only_tables()],
        )
        return [name for (name,) in cursor.fetchall()]


def ensure_app_role(connection: BaseDatabaseWrapper) -> None:
    """Create the app's role if it is missing (LOGIN and nothing else), or check that the
    existing one has no attribute or membership beyond that."""
    from psycopg import sql

    role = app_role()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if cursor.fetchone() is None:
            statement = sql.SQL(
                "CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION "
                "NOBYPASSRLS NOINHERIT"
            ).format(sql.Identifier(role))
            password = app_credentials()["PASSWORD"]
            if password:
                statement += sql.SQL(" PASSWORD {}").format(sql.Literal(password))
            try:
                cursor.execute(statement.as_string(connection.connection))
            except Exception as exc:
                raise RoleError(
                    f"the app's database role {role!r} does not exist and the owner cannot "
                    f"create it ({exc}); create it (README, Database roles) and run again"
                ) from exc
    problems = role_problems(connection, role)
    if problems:
        raise RoleError(f"the app's database role {role!r} " + "; ".join(problems))


def role_problems(connection: BaseDatabaseWrapper, role: str) -> list[str]:
    """What the role has that the app's role must not have: an attribute beyond LOGIN,
    membership of any role (the owner's included), a table of the schema; empty when it is
    limited as it should be."""
    problems = []
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT r.rolsuper, r.rolcreatedb, r.rolcreaterole, r.rolreplication,
                r.rolbypassrls,
                ARRAY(SELECT g.rolname FROM pg_auth_members m
                      JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid),
                ARRAY(SELECT c.relname::text FROM pg_class c WHERE c.relowner = r.oid
                      AND c.relnamespace = current_schema()::regnamespace)
            FROM pg_roles r WHERE r.rolname = %s
            """,
            [role],
        )
        row = cursor.fetchone()
    if row is None:
        return ["does not exist"]
    superuser, createdb, createrole, replication, bypassrls, groups, owns = row
    for flag, name in (
        (superuser, "SUPERUSER"),
        (createdb, "CREATEDB"),
        (createrole, "CREATEROLE"),
        (replication, "REPLICATION"),
        (bypassrls, "BYPASSRLS"),
    ):
        if flag:
            problems.append(f"has {name}")
    if groups:
        problems.append(f"is a member of {', '.join(sorted(groups))}")
    if owns:
        problems.append(f"owns {', '.join(sorted(owns)[:5])}")
    return problems


def grant_app_privileges(connection: BaseDatabaseWrapper) -> None:
    """Give the app's role exactly its privileges on every table and sequence of the
    schema, in one transaction: SELECT, INSERT, UPDATE and DELETE on the data; SELECT and
    INSERT only on the append-only logs and nothing on their partitions (the rows are
    reached through the log); SELECT only on django_migrations; never
    TRUNCATE, REFERENCES or TRIGGER; no CREATE in the schema. Then check the result as
    PostgreSQL sees it (PUBLIC's privileges included) and that every log has its
    append-only trigger."""
    from psycopg import sql

    role = sql.Identifier(app_role())
    logs = append_only_tables()
    statements = [
        "REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {role}",
        "REVOKE ALL ON ALL SEQUENCES IN SCHEMA {schema} FROM {role}",
        "REVOKE CREATE ON SCHEMA {schema} FROM PUBLIC, {role}",
        "GRANT USAGE ON SCHEMA {schema} TO {role}",
        "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role}",
        "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {role}",
        "REVOKE INSERT, UPDATE, DELETE ON django_migrations FROM {role}",
    ] + [f"REVOKE UPDATE, DELETE ON {{log{i}}} FROM {{role}}" for i in range(len(logs))]
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        parts = log_partitions(connection)
        statements += [f"REVOKE ALL ON {{part{i}}} FROM {{role}}" for i in range(len(parts))]
        cursor.execute("SELECT current_schema()")
        schema = sql.Identifier(cursor.fetchone()[0])
        names = {f"log{i}": sql.Identifier(table) for i, table in enumerate(logs)}
        names |= {f"part{i}": sql.Identifier(table) for i, table in enumerate(parts)}
        for statement in statements:
            cursor.execute(
                sql.SQL(statement)
                .format(schema=schema, role=role, **names)
                .as_string(connection.connection)
            )
    problems = privilege_problems(connection, app_role())
    if problems:
        raise RoleError(f"after the grants, the app's role {app_role()!r}: " + "; ".join(problems))


def privilege_problems(connection: BaseDatabaseWrapper, role: str) -> list[str]:
    """What is wrong with the role's privileges on the schema, as PostgreSQL decides them:
    any privilege on a log beyond SELECT and INSERT, TRUNCATE or TRIGGER on any table,
    CREATE in the schema, and a log or a partition of one without its append-only trigger
    (or with any privilege at all on a partition)."""
    parts = log_partitions(connection)
    logs = append_only_tables() + parts
    problems = []
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname::text, p.privilege
            FROM pg_class c
            CROSS JOIN unnest(ARRAY['UPDATE', 'DELETE', 'TRUNCATE', 'TRIGGER', 'REFERENCES'])
                AS p(privilege)
            WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p')
              AND has_table_privilege(%s, c.oid, p.privilege)
              AND (c.relname = ANY(%s) OR p.privilege IN ('TRUNCATE', 'TRIGGER'))
            ORDER BY 1, 2
            """,
            [role, logs],
        )
        problems += [f"may {privilege} {table}" for table, privilege in cursor.fetchall()]
        cursor.execute(
            """
            SELECT t.relname, p.privilege FROM unnest(%s::text[]) AS t(relname)
            CROSS JOIN unnest(ARRAY['SELECT', 'INSERT']) AS p(privilege)
            WHERE has_table_privilege(%s, to_regclass(t.relname), p.privilege) ORDER BY 1, 2
            """,
            [parts, role],
        )
        problems += [f"may {privilege} {table}" for table, privilege in cursor.fetchall()]
        cursor.execute(
            "SELECT has_schema_privilege(%s, current_schema(), 'CREATE')",
            [role],
        )
        if cursor.fetchone()[0]:
            problems.append("may CREATE in the schema")
        cursor.execute(
            """
            SELECT t.relname::text FROM unnest(%s::text[]) AS t(relname)
            WHERE NOT EXISTS (
                SELECT 1 FROM pg_trigger g JOIN pg_proc f ON f.oid = g.tgfoid
                WHERE g.tgrelid = to_regclass(t.relname)
                  AND f.proname = 'silta_refuse_change' AND g.tgenabled <> 'D'
            )
            """,
            [logs],
        )
        problems += [f"{table} has no enabled append-only trigger" for (table,) in cursor]
    return problems
