"""A supervisor's export of the whole caseload: 100,000 overdue reviews as XLSX and as CSV
(exports/), against writing the same rows with the library alone (openpyxl's write-only
workbook, Python's csv module), one run each; and the export's peak memory (tracemalloc,
Python's own allocations) at 10,000 and 100,000 rows, which must not grow with the rows.

Silta's export does everything a supervisor's export does: reads the rows through the
overdue-reviews report in chunks, puts the words in Finnish and the dates in the Finnish
format, and writes one access-log row per client before each chunk is written. The
baseline gets the same rows ready-made in a list (its building is not timed) and only
writes them.
Usage: make bench (or: scripts/with-postgres.sh .venv/bin/python bench/export.py)
"""

from __future__ import annotations

import csv
import datetime as dt
import tempfile
import time
import tracemalloc

from common import report, setup_django

SMALL, LARGE = 10_000, 100_000
TODAY = "2027-01-04"


def load(connection):
    """Two Immigration Unit teams, 10,000 and 90,000 cases, all with their review overdue;
    one supervisor of the first team (10,000 rows) and one of both (100,000 rows)."""
    from django.contrib.auth import get_user_model

    from cases.enums import Role, TeamKind
    from cases.models import Client, Membership, Region, Team

    region = Region.objects.get(code="pohjoinen")
    small = Team.objects.create(
        code="koto2", name="Koto-tiimi 2", kind=TeamKind.IMMIGRATION_UNIT, region=region
    )
    rest = Team.objects.create(
        code="koto3", name="Koto-tiimi 3", kind=TeamKind.IMMIGRATION_UNIT, region=region
    )
    User = get_user_model()
    workers = []
    for i in range(50):
        user = User.objects.create(username=f"worker{i}", first_name="Työntekijä", last_name=str(i))
        Membership.objects.create(user=user, team=small if i < 5 else rest, role=Role.CASEWORKER)
        workers.append(user.pk)
    few = User.objects.create(username="supervisor-small")
    Membership.objects.create(user=few, team=small, role=Role.SUPERVISOR)
    many = User.objects.create(username="supervisor-all")
    for team in (small, rest):
        Membership.objects.create(user=many, team=team, role=Role.SUPERVISOR)
    # Through the model, so that fields added later get their defaults.
    Client.objects.bulk_create(
        (
            Client(
                first_name="Bench",
                last_name=f"Client {i}",
                date_of_birth=dt.date(1980, 1, 1),
                language="ara",
                postal_code="00700",
                search_name=f"bench client {i}",
            )
            for i in range(LARGE)
        ),
        batch_size=5000,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO cases_case (client_id, team_id, responsible_worker_id, state,
                integration_started_on, review_due_on, ppt_coordinator, closure_reason,
                closure_text, created_at)
            SELECT c.id,
                CASE WHEN n <= %(small)s THEN %(first)s ELSE %(rest)s END,
                CASE WHEN n <= %(small)s THEN (%(workers)s::bigint[])[1 + n %% 5]
                     ELSE (%(workers)s::bigint[])[6 + n %% 45] END,
                CASE WHEN n %% 3 = 0 THEN 'in_review' ELSE 'review_due' END,
                %(today)s::date - 800, %(today)s::date - 1 - (n %% 90)::int,
                '', '', '', now()
            FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM cases_client) c
            """,
            {
                "small": SMALL,
                "first": small.pk,
                "rest": rest.pk,
                "workers": workers,
                "today": TODAY,
            },
        )
        for table in ("cases_client", "cases_case"):
            cursor.execute(f"VACUUM ANALYZE {table}")
    return few, many


def baseline_rows(connection, team_codes):
    """The rows Silta writes, made ready with one query and plain Python."""
    import datetime as dt

    from django.utils.translation import gettext

    from cases.enums import CaseState
    from cases.models import case_reference

    on = dt.date.fromisoformat(TODAY)
    labels = {state: gettext(label) for state, label in CaseState.choices}
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.id, t.name, u.first_name || ' ' || u.last_name, c.review_due_on, c.state
            FROM cases_case c JOIN cases_team t ON t.id = c.team_id
            JOIN auth_user u ON u.id = c.responsible_worker_id
            WHERE t.code = ANY(%s) ORDER BY c.review_due_on, c.id
            """,
            [team_codes],
        )
        return [
            [case_reference(pk), team, worker, due, (on - due).days, labels[state]]
            for pk, team, worker, due, state in cursor.fetchall()
        ]


def library_xlsx(rows, headers, out):
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Sheet")
    sheet.append(headers)
    for values in rows:
        due = WriteOnlyCell(sheet, value=values[3])
        due.number_format = "d.m.yyyy"
        sheet.append([values[0], values[1], values[2], due, values[4], values[5]])
    book.save(out)


def library_csv(rows, headers, out):
    import io

    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="")
    writer = csv.writer(text, delimiter=";")
    writer.writerow(headers)
    for values in rows:
        due = values[3]
        writer.writerow([*values[:3], f"{due.day}.{due.month}.{due.year}", *values[4:]])
    text.flush()
    text.detach()


def silta(user, format, out):
    from exports import services

    table = services.export_table(user=user, kind="overdue", params={}, language="fi")
    services.write(table, format, out, services.access_logger(user))


def once(fn) -> float:
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        fn(out)
        return time.perf_counter() - start


def peak(fn) -> int:
    with tempfile.TemporaryFile() as out:
        tracemalloc.start()
        tracemalloc.reset_peak()
        fn(out)
        found = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return found


def main() -> None:
    setup_django("silta_bench_export")
    import time_machine
    from django.db import connection
    from django.utils import translation

    from audit.models import AccessLog

    connection.set_autocommit(True)
    few, many = load(connection)
    lines: list[str] = []
    with time_machine.travel(f"{TODAY} 10:00 +02:00", tick=True), translation.override("fi"):
        rows = baseline_rows(connection, ["koto2", "koto3"])
        assert len(rows) == LARGE
        headers = ["Asiakkuus", "Tiimi", "Työntekijä", "Arvioinnin määräpäivä", "Myöhässä", "Tila"]
        times = {}
        for format, library in (("xlsx", library_xlsx), ("csv", library_csv)):
            before = AccessLog.objects.count()
            base = once(lambda out, library=library: library(rows, headers, out))
            ours = once(lambda out, format=format: silta(many, format, out))
            logged = AccessLog.objects.count() - before
            assert logged == LARGE, logged
            times[format] = (base, ours, logged)
        rows.clear()  # the memory runs below measure the export alone
        memory = {}
        for format in ("xlsx", "csv"):
            for user, size in ((few, SMALL), (many, LARGE)):
                memory[(format, size)] = peak(
                    lambda out, user=user, format=format: silta(user, format, out)
                )
    lines += [
        f"{LARGE:,} cases (overdue reviews), one run each; Silta: the report's rows read in "
        "chunks of 2,000, Finnish words and dates, one access-log row per client written "
        "before its chunk; the library alone: the same rows ready-made in a list",
        "",
        "| format | library alone | Silta's export | ratio | access-log rows |",
        "|---|---|---|---|---|",
    ]
    for format, (base, ours, logged) in times.items():
        lines.append(
            f"| {format.upper()} | {base:.2f} s | {ours:.2f} s | {ours / base:.2f}x | {logged:,} |"
        )
    lines += [
        "",
        "peak memory of the export (tracemalloc: Python's allocations while exporting)",
        "",
        f"| format | {SMALL:,} rows | {LARGE:,} rows | ratio |",
        "|---|---|---|---|",
    ]
    for format in ("xlsx", "csv"):
        small, large = memory[(format, SMALL)], memory[(format, LARGE)]
        lines.append(
            f"| {format.upper()} | {small / 2**20:.1f} MiB | {large / 2**20:.1f} MiB | "
            f"{large / small:.2f}x |"
        )
    report("export", lines)


if __name__ == "__main__":
    main()
