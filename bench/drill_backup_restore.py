"""Drill: a backup with pg_dump and a restore with pg_restore, after which the logs, their
triggers and the app role's limits are all intact.

The database is set up as in production, with two roles (audit/db_roles.py): `migrate`
as the owner, every write as the app's limited role. Both logs hold rows: DRILL_BACKUP_CASES
(200) clients and cases opened through the services, DRILL_BACKUP_EVENTS (50,000) event
rows and DRILL_BACKUP_ACCESS_ROWS (50,000) access-log rows written as the app writes them.
Then, in the order README's "Database roles" gives for a restore:
1. `pg_dump -Fc` as the owner;
2. the roles exist (the same server here: roles are not in a database's dump); a new
   database owned by the owner; `pg_restore --no-owner --single-transaction` as the owner
   (every object is the owner's, whatever it was called before; the grants to the app's
   role come back with the dump, so that role must exist first);
3. the restored database is checked before and after `manage.py migrate` (which
   re-applies and checks the grants): every table's row count and each log's rows byte
   for byte (an md5 over the rows, times included); both logs' triggers present and
   enabled, refusing UPDATE and DELETE even to the owner; the app's role neither
   superuser nor anything else, a member of no role, owner of nothing; as that role
   UPDATE, DELETE, TRUNCATE, DROP, DISABLE TRIGGER, `session_replication_role` and a
   back-dated INSERT refused on both logs, and a plain INSERT taken (and rolled back).
Exits non-zero on any loss or any limit that does not hold.

Usage: make drills (or: scripts/with-postgres.sh .venv/bin/python bench/drill_backup_restore.py)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
from drills import ROOT, env_int
from psycopg import sql

CASES = env_int("DRILL_BACKUP_CASES", 200)
EVENTS = env_int("DRILL_BACKUP_EVENTS", 50_000)
ACCESS_ROWS = env_int("DRILL_BACKUP_ACCESS_ROWS", 50_000)
SOURCE, TARGET = "silta_drill_backup", "silta_drill_restored"
LOGS = ("audit_accesslog", "cases_event")


def with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, ""))


def as_user(url: str, user: str) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, f"{quote(user)}@{host}", parts.path, parts.query, ""))


def pg_tool(name: str, url: str) -> str:
    """The client tool of the server's major version (pg_dump must not be older)."""
    with psycopg.connect(url) as conn:
        major = conn.info.server_version // 10000
    local = Path(f"/usr/lib/postgresql/{major}/bin/{name}")
    found = str(local) if local.exists() else shutil.which(name)
    if not found:
        raise SystemExit(f"{name} not found: install PostgreSQL {major}'s client tools")
    return found


def fingerprint(url: str) -> dict:
    """Row counts of every table, and an md5 over each log's rows in id order."""
    with psycopg.connect(url) as conn:
        tables = [
            name
            for (name,) in conn.execute(
                "SELECT relname::text FROM pg_class WHERE relkind = 'r' "
                "AND relnamespace = 'public'::regnamespace ORDER BY 1"
            )
        ]
        counts = {
            table: conn.execute(
                sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
            ).fetchone()[0]
            for table in tables
        }
        digests = {
            log: conn.execute(
                sql.SQL("SELECT md5(string_agg(t::text, '|' ORDER BY t.id)) FROM {} t").format(
                    sql.Identifier(log)
                )
            ).fetchone()[0]
            for log in LOGS
        }
    return {"counts": counts, "digests": digests}


def columns_of(conn: psycopg.Connection, table: str) -> sql.Composable:
    names = [
        name
        for (name,) in conn.execute(
            "SELECT column_name::text FROM information_schema.columns "
            "WHERE table_schema = 'public' AND table_name = %s "
            "AND column_name NOT IN ('id', 'created_at') ORDER BY ordinal_position",
            [table],
        )
    ]
    return sql.SQL(", ").join(map(sql.Identifier, names))


def text(statement: sql.Composable | str, conn: psycopg.Connection) -> str:
    return statement if isinstance(statement, str) else statement.as_string(conn)


def refused(conn: psycopg.Connection, statement: sql.Composable | str, expect: str) -> str | None:
    """None if PostgreSQL refuses the statement with `expect` in its message, else what
    happened instead. Nothing is kept either way (the transaction is rolled back)."""
    try:
        with conn.transaction(force_rollback=True):
            conn.execute(statement)
    except psycopg.Error as exc:
        message = str(exc).splitlines()[0]
        return None if expect in message else f"refused, but with {message!r}"
    return "was allowed"


def check_limits(owner_url: str, app_url: str, app_role: str) -> list[str]:
    """Every limit on the restored database; returns what does not hold."""
    failures = []
    with psycopg.connect(owner_url) as owner:
        for log in LOGS:
            triggers = dict(
                owner.execute(
                    "SELECT tgname::text, tgenabled::text FROM pg_trigger "
                    "WHERE tgrelid = %s::regclass AND NOT tgisinternal",
                    [log],
                ).fetchall()
            )
            for name in (f"{log}_append_only", f"{log}_database_time"):
                if triggers.get(name) != "O":
                    failures.append(f"{log}: trigger {name} {triggers.get(name, 'missing')}")
            table = sql.Identifier(log)
            for statement in (
                sql.SQL("UPDATE {} SET action = 'rewritten'").format(table),
                sql.SQL("DELETE FROM {}").format(table),
            ):
                problem = refused(owner, statement, "append-only")
                if problem:
                    failures.append(f"owner: {text(statement, owner)}: {problem}")
        row = owner.execute(
            """
            SELECT r.rolsuper OR r.rolcreatedb OR r.rolcreaterole OR r.rolreplication
                    OR r.rolbypassrls,
                (SELECT count(*) FROM pg_auth_members m WHERE m.member = r.oid),
                (SELECT count(*) FROM pg_class c WHERE c.relowner = r.oid
                    AND c.relnamespace = 'public'::regnamespace)
            FROM pg_roles r WHERE r.rolname = %s
            """,
            [app_role],
        ).fetchone()
        if row is None:
            failures.append(f"the app's role {app_role} does not exist")
        elif row != (False, 0, 0):
            failures.append(f"the app's role {app_role}: attributes, memberships, owns: {row}")
    with psycopg.connect(app_url) as app:
        if app.execute("SELECT current_user::text").fetchone()[0] != app_role:
            failures.append("not connected as the app's role")
        for log in LOGS:
            table = sql.Identifier(log)
            columns = columns_of(app, log)
            copy = sql.SQL(
                "INSERT INTO {t} ({c}, created_at) SELECT {c}, {when} FROM {t} "
                "WHERE id = (SELECT min(id) FROM {t})"
            )
            for statement, expect in (
                (sql.SQL("UPDATE {} SET action = 'rewritten'").format(table), "permission denied"),
                (sql.SQL("DELETE FROM {}").format(table), "permission denied"),
                (sql.SQL("TRUNCATE {}").format(table), "permission denied"),
                (sql.SQL("DROP TABLE {}").format(table), "must be owner"),
                (sql.SQL("ALTER TABLE {} DISABLE TRIGGER ALL").format(table), "must be owner"),
                ("SET session_replication_role = replica", "permission denied to set parameter"),
                (
                    copy.format(t=table, c=columns, when=sql.SQL("created_at - interval '1 day'")),
                    "created_at is the database's time",
                ),
            ):
                problem = refused(app, statement, expect)
                if problem:
                    failures.append(f"app: {log}: {text(statement, app)}: {problem}")
            try:
                with app.transaction(force_rollback=True):
                    app.execute(
                        sql.SQL(
                            "INSERT INTO {t} ({c}) SELECT {c} FROM {t} "
                            "WHERE id = (SELECT min(id) FROM {t})"
                        ).format(t=table, c=columns)
                    )
            except psycopg.Error as exc:
                failures.append(f"app: {log}: a plain INSERT refused: {exc}")
    return failures


def fill(owner_url: str, app_url: str) -> None:
    """Migrate as the owner and write both logs as the app's role, through Django."""
    os.environ["DATABASE_URL"] = app_url
    os.environ["DATABASE_OWNER_URL"] = owner_url
    os.environ["CELERY_FILESYSTEM_BROKER_DIR"] = tempfile.mkdtemp(prefix="silta-drill-broker-")
    import common  # noqa: F401  (the path and settings of the benchmarks)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    from audit.access import log_access
    from cases.models import Event
    from tests.factories import make_org, open_case

    org = make_org()
    cases = [open_case(org, first_name=f"C{i}") for i in range(CASES)]
    subjects = [(case.client_id, case.pk) for case in cases]
    written = 0
    while written < ACCESS_ROWS:
        batch = subjects[: ACCESS_ROWS - written]
        written += log_access(user=org.caseworker, action="drill_read", subjects=batch)
    extra = EVENTS - Event.objects.count()
    Event.objects.bulk_create(
        (
            Event(
                subject="case",
                action="drill",
                client_id=subjects[i % len(subjects)][0],
                case_id=subjects[i % len(subjects)][1],
                actor_role="system",
                params={"n": i},
            )
            for i in range(max(extra, 0))
        ),
        batch_size=5000,
    )
    from django.db import connection

    connection.close()


def main() -> int:
    owner_base = os.environ["DATABASE_URL"]
    app_base = os.environ.get("DATABASE_APP_URL") or as_user(owner_base, "silta_app")
    app_role = urlsplit(app_base).username or "silta_app"
    owner_source, owner_target = (with_database(owner_base, db) for db in (SOURCE, TARGET))
    app_source, app_target = (with_database(app_base, db) for db in (SOURCE, TARGET))
    with psycopg.connect(with_database(owner_base, "postgres"), autocommit=True) as conn:
        owner_role = conn.execute("SELECT current_user::text").fetchone()[0]
        for database in (SOURCE, TARGET):
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
            )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(SOURCE)))

    start = time.perf_counter()
    fill(owner_source, app_source)
    fill_s = time.perf_counter() - start
    before = fingerprint(owner_source)
    rows = {log: before["counts"][log] for log in LOGS}
    print(f"source: {rows} ({sum(before['counts'].values())} rows in all), {fill_s:.1f} s")

    failures = []
    folder = Path(tempfile.mkdtemp(prefix="silta-drill-backup-"))
    dump = folder / "silta.dump"
    try:
        start = time.perf_counter()
        subprocess.run(
            [pg_tool("pg_dump", owner_source), "-Fc", "--dbname", owner_source, "-f", str(dump)],
            check=True,
        )
        dump_s = time.perf_counter() - start
        size_mb = dump.stat().st_size / 1e6
        print(f"pg_dump -Fc: {size_mb:.1f} MB in {dump_s:.2f} s")

        start = time.perf_counter()
        with psycopg.connect(with_database(owner_base, "postgres"), autocommit=True) as conn:
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(TARGET), sql.Identifier(owner_role)
                )
            )
        subprocess.run(
            [
                pg_tool("pg_restore", owner_target),
                "--no-owner",
                "--single-transaction",
                "--exit-on-error",
                "--dbname",
                owner_target,
                str(dump),
            ],
            check=True,
        )
        restore_s = time.perf_counter() - start
        print(f"createdb + pg_restore --no-owner --single-transaction: {restore_s:.2f} s")

        after = fingerprint(owner_target)
        lost = {
            table: (n, after["counts"].get(table))
            for table, n in before["counts"].items()
            if after["counts"].get(table) != n
        }
        if lost:
            failures.append(f"row counts differ (before, after): {lost}")
        changed = [log for log in LOGS if after["digests"][log] != before["digests"][log]]
        if changed:
            failures.append(f"log rows differ after the restore: {changed}")
        print(
            f"restored: { ({log: after['counts'][log] for log in LOGS}) }; "
            f"{len(before['counts'])} tables, counts equal: {not lost}; "
            f"log rows identical (md5): {not changed}"
        )

        start = time.perf_counter()
        problems = check_limits(owner_target, app_target, app_role)
        check_s = time.perf_counter() - start
        failures += [f"as restored: {p}" for p in problems]
        print(f"limits as restored: {len(problems)} problems ({check_s:.2f} s)")

        start = time.perf_counter()
        migrate = subprocess.run(
            [str(ROOT / ".venv" / "bin" / "python"), "manage.py", "migrate", "--noinput", "-v1"],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": app_target, "DATABASE_OWNER_URL": owner_target},
            capture_output=True,
            text=True,
            check=False,
        )
        migrate_s = time.perf_counter() - start
        if migrate.returncode != 0:
            failures.append(f"manage.py migrate after the restore: {migrate.stderr.strip()}")
        elif "No migrations to apply" not in migrate.stdout:
            failures.append(f"the restore lacked migrations: {migrate.stdout.strip()}")
        problems = check_limits(owner_target, app_target, app_role)
        failures += [f"after migrate: {p}" for p in problems]
        print(f"manage.py migrate (grants again): {migrate_s:.2f} s; {len(problems)} problems")
        final = fingerprint(owner_target)
        if final["digests"] != before["digests"]:
            failures.append("the logs changed during the checks")
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    from common import report

    lines = [
        f"both logs written as the app's role {app_role}; migrations, pg_dump and "
        f"pg_restore as the owner {owner_role}",
        f"rows: access log {rows['audit_accesslog']}, event log {rows['cases_event']}; "
        f"{sum(before['counts'].values())} rows in {len(before['counts'])} tables",
        f"pg_dump -Fc {size_mb:.1f} MB in {dump_s:.2f} s; createdb + pg_restore --no-owner "
        f"--single-transaction {restore_s:.2f} s; migrate afterwards {migrate_s:.2f} s",
        "restored: every table's row count equal, each log's rows identical (md5, times "
        "included); append-only and database-time triggers enabled; owner's UPDATE and "
        "DELETE refused; the app's role LOGIN only, no membership, owns nothing; its UPDATE, "
        "DELETE, TRUNCATE, DROP, DISABLE TRIGGER, session_replication_role and back-dated "
        "INSERT refused on both logs, its plain INSERT taken",
        "FAIL: " + "; ".join(failures) if failures else "OK: nothing lost, every limit holds",
    ]
    report("drill_backup_restore", lines)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
