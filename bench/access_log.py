"""The access log at scale: a client's two years, a case's rows, one day's rows.

Generates ROWS access-log rows (default 10,000,000, as `make bench` runs it; the issue's
100 million: `make bench-access-log ACCESS_LOG_ROWS=100000000`, into
results/access_log_100m.txt) spread evenly over the last 24 months for one client per
1,000 rows (10,000 clients at 10 million, 100,000 at 100 million, one case each: a client's
two years hold about 1,000 rows at any size, as a busy client's would) and 300 users, in
the monthly partitions (migration 0005), with generate_series as the owner. As a bulk load
is done, the log's indexes are dropped first and built again after the rows are in (the
same definitions, read from the catalogue). Then times, median of 7 each, the three
questions the log must answer, as the app asks them (the ORM's values, the report's query
in audit/report.py) and as the bare SQL (cursor.fetchall), each target < 50 ms; and the
administrator's access-log list (the first page, a client, a day, a user) against the bare
SQL of the same page.
Usage: make bench (or: scripts/with-postgres.sh .venv/bin/python bench/access_log.py [ROWS])
"""

from __future__ import annotations

import datetime as dt
import statistics
import sys
import time

from common import report, setup_django, timed

ROWS = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000
CLIENTS = max(10_000, ROWS // 1_000)
USERS = 300
MONTHS = 24


def load(connection) -> None:
    from django.contrib.auth import get_user_model

    from audit.models import AccessLog
    from cases.enums import Role, TeamKind
    from cases.models import Membership, Region, Team

    region = Region.objects.get(code="pohjoinen")
    team = Team.objects.create(
        code="koto2", name="Koto 2", kind=TeamKind.IMMIGRATION_UNIT, region=region
    )
    users = [get_user_model().objects.create(username=f"worker{i}") for i in range(USERS)]
    Membership.objects.bulk_create(
        Membership(user=user, team=team, role=Role.CASEWORKER) for user in users
    )
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO cases_client (first_name, last_name, date_of_birth, language,
                interpreter_needed, street_address, postal_code, post_office,
                housing_situation, children_count, family_reunification_pending,
                reunited_family, family_situation_stable, is_ppt, created_at, updated_at)
            SELECT 'Bench', 'Client ' || g, DATE '1980-01-01', 'ara', false, '', '00700', '',
                'settled', 0, false, false, false, false, now(), now()
            FROM generate_series(1, %s) g
            """,
            [CLIENTS],
        )
        cursor.execute(
            """
            INSERT INTO cases_case (client_id, team_id, responsible_worker_id, state,
                integration_started_on, review_due_on, ppt_coordinator, closure_reason,
                closure_text, created_at)
            SELECT c.id, %s, %s, 'active', DATE '2025-01-01', DATE '2027-01-01', '', '', '',
                now()
            FROM cases_client c
            """,
            [team.pk, users[0].pk],
        )
    # The past months, made with django-postgres-extra's schema editor as the manager does.
    now = dt.datetime.now(dt.UTC)
    first = (now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)).date()
    with connection.schema_editor() as editor:
        month = first
        for _ in range(MONTHS):
            month = (month - dt.timedelta(days=1)).replace(day=1)
            following = (month + dt.timedelta(days=32)).replace(day=1)
            editor.add_range_partition(
                AccessLog,
                name=f"{month:%Y_%m}",
                from_values=f"{month} 00:00:00",
                to_values=f"{following} 00:00:00",
            )
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(id), max(id) FROM cases_client")
        low, _high = cursor.fetchone()
        cursor.execute("SELECT min(id) FROM auth_user")
        (first_user,) = cursor.fetchone()
        # A bulk load: the indexes (all but the primary key) are built once the rows are in.
        cursor.execute(
            """
            SELECT i.indexname, i.indexdef FROM pg_indexes i
            WHERE i.schemaname = current_schema() AND i.tablename = 'audit_accesslog'
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c
                              WHERE c.conrelid = 'audit_accesslog'::regclass
                                AND c.conname = i.indexname)
            """
        )
        indexes = cursor.fetchall()
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        # The owner writes history: the time and foreign-key triggers are skipped for it.
        cursor.execute("SET session_replication_role = replica")
        step = 1_000_000
        for start in range(0, ROWS, step):
            cursor.execute(
                """
                INSERT INTO audit_accesslog (created_at, actor_role, actor_team, action,
                    purpose, outcome, request_id, actor_id, client_id, case_id)
                SELECT now() - make_interval(days => %(months)s * 30)
                        + (g::float8 / %(rows)s) * make_interval(days => %(months)s * 30),
                    'caseworker', 'koto2', 'web_read', 'case_management', 'allowed', '',
                    %(user)s + g %% %(users)s,
                    %(client)s + (g * 7919) %% %(clients)s,
                    %(client)s + (g * 7919) %% %(clients)s
                FROM generate_series(%(start)s::bigint, %(stop)s::bigint) g
                """,
                {
                    "months": MONTHS,
                    "rows": ROWS,
                    "user": first_user,
                    "users": USERS,
                    "client": low,
                    "clients": CLIENTS,
                    "start": start,
                    "stop": min(start + step, ROWS) - 1,
                },
            )
        cursor.execute("SET session_replication_role = origin")
        cursor.execute("SET maintenance_work_mem = '1GB'")
        for _name, definition in indexes:
            # The parent's definition reads ON ONLY; built on every partition as a migration does.
            cursor.execute(definition.replace(" ON ONLY ", " ON ", 1))
        cursor.execute("VACUUM ANALYZE audit_accesslog")


def main() -> None:
    setup_django("silta_bench_access_log")
    from django.db import connection

    from audit.models import AccessLog
    from audit.report import COLUMNS, client_rows

    connection.set_autocommit(True)
    started = time.perf_counter()
    load(connection)
    loading = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(client_id), min(case_id) FROM audit_accesslog")
        client, case = cursor.fetchone()
        cursor.execute(
            "SELECT count(*) FROM pg_inherits WHERE inhparent = 'audit_accesslog'::regclass"
        )
        (partition_count,) = cursor.fetchone()
        cursor.execute(
            "SELECT pg_size_pretty(sum(pg_total_relation_size(inhrelid))) FROM pg_inherits "
            "WHERE inhparent = 'audit_accesslog'::regclass"
        )
        (size,) = cursor.fetchone()
        cursor.execute(
            "SELECT string_agg(indexname, ', ' ORDER BY indexname) FROM pg_indexes "
            "WHERE schemaname = current_schema() AND tablename = 'audit_accesslog'"
        )
        (index_names,) = cursor.fetchone()
    now = dt.datetime.now(dt.UTC)
    two_years = now - dt.timedelta(days=730)
    day_start = (now - dt.timedelta(days=3)).replace(hour=0, minute=0, second=0, microsecond=0)
    day_end = day_start + dt.timedelta(days=1)
    # The report's columns, the actor's name joined as the ORM joins it.
    columns = (
        "l.created_at, u.first_name, u.last_name, u.username, l.actor_role, l.actor_team, "
        "l.action, l.purpose, l.outcome"
    )
    log = "audit_accesslog l JOIN auth_user u ON u.id = l.actor_id"

    def raw(sql, params):
        def run():
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall()

        run.sql = (sql, params)  # type: ignore[attr-defined]
        return run

    def server_time(bare) -> tuple[float, float]:
        """The server's own planning and execution time (EXPLAIN ANALYZE), median of 7:
        what the query costs, apart from the client's side and this machine's load."""
        sql, params = bare.sql
        plans, runs = [], []
        with connection.cursor() as cursor:
            for _ in range(7):
                cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params)
                result = cursor.fetchone()[0][0]
                plans.append(result["Planning Time"])
                runs.append(result["Execution Time"])
        return statistics.median(plans), statistics.median(runs)

    questions = [
        (
            "a client's report, two years (audit/report.py)",
            lambda: client_rows(client, since=two_years),
            raw(
                f"SELECT {columns} FROM {log} WHERE l.client_id = %s "
                "AND l.created_at >= %s ORDER BY l.created_at, l.id",
                [client, two_years],
            ),
        ),
        (
            "a case's rows",
            lambda: list(
                AccessLog.objects.filter(case_id=case).order_by("created_at", "id").values(*COLUMNS)
            ),
            raw(
                f"SELECT {columns} FROM {log} WHERE l.case_id = %s ORDER BY l.created_at, l.id",
                [case],
            ),
        ),
        (
            "one day's rows",
            lambda: list(
                AccessLog.objects.filter(created_at__gte=day_start, created_at__lt=day_end)
                .order_by("created_at", "id")
                .values(*COLUMNS)
            ),
            raw(
                f"SELECT {columns} FROM {log} WHERE l.created_at >= %s "
                "AND l.created_at < %s ORDER BY l.created_at, l.id",
                [day_start, day_end],
            ),
        ),
        (
            "one day's rows, first page of 50",
            lambda: list(
                AccessLog.objects.filter(created_at__gte=day_start, created_at__lt=day_end)
                .order_by("created_at", "id")
                .values(*COLUMNS)[:50]
            ),
            raw(
                f"SELECT {columns} FROM {log} WHERE l.created_at >= %s "
                "AND l.created_at < %s ORDER BY l.created_at, l.id LIMIT 50",
                [day_start, day_end],
            ),
        ),
    ]
    lines = [
        f"rows: {ROWS:,} over {MONTHS} months ({partition_count} partitions, {size}); "
        f"{CLIENTS:,} clients (a case each), {USERS} users; generated in {loading:.0f} s",
        f"indexes: {index_names}",
        "median of 7 runs each, warm cache; target: each question < 50 ms (the app's time)",
        "",
        "| question | rows | app (ORM values) | bare SQL | server: planning + execution "
        "| target met |",
        "|---|---|---|---|---|---|",
    ]
    for name, app, bare in questions:
        found = len(app())
        app_time = timed(app, repeat=7)
        bare_time = timed(bare, repeat=7)
        planning, execution = server_time(bare)
        met = "yes" if app_time < 0.05 else "no"
        lines.append(
            f"| {name} | {found:,} | {app_time * 1000:.1f} ms | {bare_time * 1000:.1f} ms | "
            f"{planning:.2f} + {execution:.2f} ms | {met} |"
        )
    lines += [
        "",
        "The administrator's access-log list (web/admin/audit.py, LargeLogAdmin) through the "
        "whole stack, signed in, median of 7, against the bare SQL of the same page of 100:",
        "",
        "| admin page | app (whole request) | bare SQL of the page | ratio |",
        "|---|---|---|---|",
    ]
    for name, params, bare in admin_pages(connection, client, two_years, day_start, day_end):
        page_time = timed(admin_get(params), repeat=7)
        bare_time = timed(bare, repeat=7)
        lines.append(
            f"| {name} | {page_time * 1000:.1f} ms | {bare_time * 1000:.1f} ms "
            f"| {page_time / bare_time:.1f}x |"
        )
    report(name_of_results(), lines)


def name_of_results() -> str:
    name = "access_log" if ROWS == 10_000_000 else f"access_log_{ROWS:_}"
    return name.replace("_000_000", "m") if ROWS % 1_000_000 == 0 else name


_browser = None


def admin_get(params: dict):
    """A GET of the admin's access-log list as a superuser (static files unhashed, as the
    tests serve them)."""
    global _browser
    if _browser is None:
        from django.conf import settings
        from django.contrib.auth import get_user_model
        from django.test import Client, override_settings

        override_settings(
            STORAGES={
                **settings.STORAGES,
                "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
            }
        ).enable()
        admin = get_user_model().objects.create_superuser("bench-admin", "b@example.org", "-")
        _browser = Client(HTTP_HOST="localhost")
        _browser.force_login(admin)

    def run():
        assert _browser.get("/admin/audit/accesslog/", params).status_code == 200

    return run


def admin_pages(connection, client, two_years, day_start, day_end):
    """(name, the admin's query string, the bare SQL of its first page of 100)."""
    columns = "l.*, u.username, c.last_name"
    log = (
        "audit_accesslog l JOIN auth_user u ON u.id = l.actor_id "
        "LEFT JOIN cases_client c ON c.id = l.client_id"
    )
    order = "ORDER BY l.created_at DESC, l.id DESC LIMIT 100"

    def bare(where: str, params: list):
        def run():
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT {columns} FROM {log} {where} {order}", params)
                return cursor.fetchall()

        return run

    return [
        ("the list, first page", {}, bare("", [])),
        ("a client by number", {"q": str(client)}, bare("WHERE l.client_id = %s", [client])),
        (
            "one day (the date filter)",
            {"created_at__gte": str(day_start), "created_at__lt": str(day_end)},
            bare("WHERE l.created_at >= %s AND l.created_at < %s", [day_start, day_end]),
        ),
        ("a user by username", {"q": "worker7"}, bare("WHERE u.username = %s", ["worker7"])),
    ]


if __name__ == "__main__":
    main()
