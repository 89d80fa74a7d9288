"""The app's database role cannot erase, rewrite or back-date the logs (audit/db_roles.py).

The suite runs as that role (tests/database.py), as the app, the worker and the beat do in
production: every statement below is one the app itself could send, and each is refused by
PostgreSQL. The schema's owner, which runs the migrations, is used here only where a test
needs to act as it."""

# ruff: noqa: S608 -- the SQL names only this module's own table names

import datetime as dt

import psycopg
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from audit import db_roles
from audit.access import log_access
from audit.models import AccessLog
from cases.models import Event
from tests import database
from tests.factories import open_case

pytestmark = pytest.mark.django_db

LOGS = ["audit_accesslog", "cases_event"]
MUST_BE_OWNER = "must be owner of (table|relation)"


@pytest.fixture(autouse=True)
def _two_roles():
    assert db_roles.owner_credentials() is not None, (
        "run the suite with `make test` (or set DATABASE_OWNER_URL to the schema's owner and "
        "DATABASE_URL to the app's role): it runs the app as the limited role"
    )


@pytest.fixture
def logged(org):
    """A row in each log, written the way the app writes them."""
    case = open_case(org)
    log_access(user=org.caseworker, action="view", subjects=[(case.client_id, case.pk)])
    return {
        "audit_accesslog": AccessLog.objects.get(case=case),
        "cases_event": Event.objects.get(case=case, action="open"),
    }


def refused(statement: str, params=None, *, match: str) -> None:
    with (
        pytest.raises(DatabaseError, match=match),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement, params)


def test_the_suite_runs_as_the_apps_role_which_is_neither_superuser_nor_owner():
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT current_user::text, r.rolsuper, r.rolcreatedb, r.rolcreaterole,
                r.rolreplication, r.rolbypassrls,
                (SELECT count(*) FROM pg_auth_members m WHERE m.member = r.oid),
                (SELECT count(*) FROM pg_class c WHERE c.relowner = r.oid),
                (SELECT array_agg(DISTINCT pg_get_userbyid(c.relowner)::text) FROM pg_class c
                 WHERE c.relname = ANY(%s))
            FROM pg_roles r WHERE r.rolname = current_user
            """,
            [LOGS],
        )
        user, superuser, createdb, createrole, replication, bypassrls, groups, owns, owners = (
            cursor.fetchone()
        )
    assert user == settings.SILTA_DATABASE_APP["USER"] != settings.SILTA_DATABASE_OWNER["USER"]
    assert (superuser, createdb, createrole, replication, bypassrls) == (False,) * 5
    assert (groups, owns) == (0, 0), "a member of no role, the owner of nothing"
    assert owners == [settings.SILTA_DATABASE_OWNER["USER"]]
    assert db_roles.role_problems(connection, user) == []


@pytest.mark.parametrize("table", LOGS)
def test_the_apps_role_cannot_erase_or_rewrite_a_log(logged, table):
    row = logged[table]
    for statement, match in [
        (f"UPDATE {table} SET action = 'rewritten' WHERE id = %s", "permission denied"),
        (f"DELETE FROM {table} WHERE id = %s", "permission denied"),
        (f"TRUNCATE {table}", "permission denied"),
        (f"TRUNCATE {table} CASCADE", "permission denied"),
        (f"DROP TABLE {table}", MUST_BE_OWNER),
        (f"DROP TABLE {table} CASCADE", MUST_BE_OWNER),
        (f"ALTER TABLE {table} DISABLE TRIGGER ALL", MUST_BE_OWNER),
        (f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only", MUST_BE_OWNER),
        (f"DROP TRIGGER {table}_append_only ON {table}", MUST_BE_OWNER),
        (f"ALTER TABLE {table} RENAME TO {table}_old", MUST_BE_OWNER),
        (f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE", "permission denied"),
        (
            f"CREATE TRIGGER silta_attack BEFORE UPDATE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger()",
            "permission denied",
        ),
        ("CREATE TABLE silta_attack (id int)", "permission denied for schema"),
        ("SET session_replication_role = replica", "permission denied to set parameter"),
        ("SET LOCAL session_replication_role = replica", "permission denied to set parameter"),
        ("SET ROLE " + settings.SILTA_DATABASE_OWNER["USER"], "permission denied to set role"),
    ]:
        params = [row.pk] if "%s" in statement else None
        refused(statement, params, match=match)
    with connection.cursor() as cursor:
        cursor.execute("SHOW session_replication_role")
        assert cursor.fetchone() == ("origin",)
        cursor.execute(f"SELECT action, created_at FROM {table} WHERE id = %s", [row.pk])
        assert cursor.fetchone() == (row.action, row.created_at)


def copy_of(row, created_at: str) -> tuple[str, list]:
    """An INSERT of a copy of `row` with `created_at` (SQL) as its time."""
    fields = [f for f in type(row)._meta.concrete_fields if f.column not in ("id", "created_at")]
    columns = ", ".join(f.column for f in fields)
    values = ", ".join(["%s"] * len(fields))
    return (
        f"INSERT INTO {type(row)._meta.db_table} ({columns}, created_at) "
        f"VALUES ({values}, {created_at})",
        [f.get_db_prep_save(getattr(row, f.attname), connection) for f in fields],
    )


@pytest.mark.parametrize("table", LOGS)
def test_a_back_dated_insert_is_refused(logged, table):
    row = logged[table]
    model = type(row)
    count = model.objects.count()
    insert, params = copy_of(row, "%s")
    for when in (
        row.created_at - dt.timedelta(days=30),
        row.created_at,  # an earlier row's time, copied
        row.created_at + dt.timedelta(days=30),
        None,
    ):
        refused(insert, [*params, when], match="created_at is the database's time")
    for sql_time in ("now() - interval '1 day'", "clock_timestamp() - interval '1 second'"):
        refused(*copy_of(row, sql_time), match="created_at is the database's time")
    assert model.objects.count() == count
    # The database's own time (the statement's or the transaction's start) is accepted.
    with connection.cursor() as cursor:
        cursor.execute(*copy_of(row, "now()"))
        cursor.execute(*copy_of(row, "statement_timestamp()"))
        cursor.execute(*copy_of(row, "DEFAULT"))
    assert model.objects.count() == count + 3


@pytest.mark.parametrize("table", LOGS)
def test_the_app_appends_with_the_databases_time(logged, table):
    row = logged[table]
    model = type(row)
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement_timestamp()")
        before = cursor.fetchone()[0]
    # As the app writes: the ORM names no time and reads back the one the database set.
    if table == "audit_accesslog":
        log_access(user=row.actor, action="view", subjects=[(row.client_id, row.case_id)])
        new = model.objects.latest("id")
    else:
        new = model.objects.create(
            subject=row.subject, action="note", client_id=row.client_id, actor_role="system"
        )
        assert isinstance(new.created_at, dt.datetime)
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement_timestamp()")
        after = cursor.fetchone()[0]
    assert before <= model.objects.get(pk=new.pk).created_at <= after


def test_every_log_is_select_and_insert_only_and_every_table_usable():
    role = settings.SILTA_DATABASE_APP["USER"]
    assert set(LOGS) <= set(db_roles.append_only_tables())
    assert db_roles.privilege_problems(connection, role) == []
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname::text,
                ARRAY(SELECT p FROM unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE',
                    'TRUNCATE', 'REFERENCES', 'TRIGGER']) AS p
                    WHERE has_table_privilege(%s, c.oid, p)),
                EXISTS (SELECT 1 FROM pg_trigger g JOIN pg_proc f ON f.oid = g.tgfoid
                        WHERE g.tgrelid = c.oid AND f.proname = 'silta_refuse_change')
            FROM pg_class c
            WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p')
            """,
            [role],
        )
        tables = {name: (privileges, guarded) for name, privileges, guarded in cursor}
    append_only = {name for name, (_, guarded) in tables.items() if guarded}
    partitions = set(db_roles.log_partitions(connection))
    assert append_only == set(db_roles.append_only_tables()) | partitions
    for name, (privileges, _) in tables.items():
        if name in partitions:
            # Reached only through the log: nothing on the partition itself.
            assert privileges == [], name
        elif name in append_only:
            assert privileges == ["SELECT", "INSERT"], name
        elif name == "django_migrations":
            assert privileges == ["SELECT"], name
        else:
            assert privileges == ["SELECT", "INSERT", "UPDATE", "DELETE"], name


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_migrate_grants_a_table_a_later_migration_adds(owner_sql):
    """Nobody has to remember the grants: `migrate` gives them for every table there is."""
    owner_sql(
        "CREATE TABLE silta_later (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY)",
        undo_with="DROP TABLE silta_later",
    )
    with pytest.raises(DatabaseError, match="permission denied"), connection.cursor() as cursor:
        cursor.execute("INSERT INTO silta_later DEFAULT VALUES")
    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user::text")
        assert cursor.fetchone()[0] == settings.SILTA_DATABASE_APP["USER"]
        cursor.execute("INSERT INTO silta_later DEFAULT VALUES")
        cursor.execute("SELECT count(*) FROM silta_later")
        assert cursor.fetchone()[0] == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_migrate_refuses_an_apps_role_with_more_than_login(owner_sql, settings):
    owner_sql(
        "DROP ROLE IF EXISTS silta_broad; "
        "CREATE ROLE silta_broad LOGIN CREATEDB IN ROLE pg_write_all_data",
        undo_with="DROP ROLE silta_broad",
    )
    problems = db_roles.role_problems(connection, "silta_broad")
    assert problems == ["has CREATEDB", "is a member of pg_write_all_data"]
    settings.SILTA_DATABASE_APP = {"USER": "silta_broad", "PASSWORD": ""}
    with pytest.raises(CommandError, match="'silta_broad' has CREATEDB; is a member of"):
        call_command("migrate", verbosity=0)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("table", LOGS)
def test_even_the_owner_is_refused_update_and_delete_by_the_trigger(org, table):
    case = open_case(org)
    log_access(user=org.caseworker, action="view", subjects=[(case.client_id, case.pk)])
    with database.owner_connection() as conn:
        for statement in (f"UPDATE {table} SET action = 'rewritten'", f"DELETE FROM {table}"):
            # (the access log's rows are in its monthly partitions, which name themselves)
            with pytest.raises(psycopg.Error, match=rf"{table}(_\d{{4}}_\d\d)? is append-only"):
                conn.execute(statement)
        assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] >= 1
