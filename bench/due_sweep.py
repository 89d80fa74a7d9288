"""Due sweep over 1,000,000 cases against a raw SQL UPDATE of the same rows, same run.

Reports median times and ratios for a 1-day and a 30-day window, and for a second run
that has nothing to do against an index-only count of the same rows.
Usage: make bench (or: scripts/with-postgres.sh .venv/bin/python bench/due_sweep.py [N])
"""

from __future__ import annotations

import datetime as dt
import os
import sys

from common import interleaved, report, setup_django

CASES = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
SPREAD_DAYS = 1095  # due dates spread evenly over three years
TODAY = dt.date(2027, 1, 4)


def load(connection):
    from django.contrib.auth import get_user_model

    from cases.enums import Role, TeamKind
    from cases.models import Membership, Region, Team

    region = Region.objects.get(code="pohjoinen")
    team = Team.objects.create(
        code="koto2", name="Koto 2", kind=TeamKind.IMMIGRATION_UNIT, region=region
    )
    users = []
    for i in range(50):
        user = get_user_model().objects.create(username=f"worker{i}")
        Membership.objects.create(user=user, team=team, role=Role.CASEWORKER)
        users.append(user.pk)
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
            [CASES],
        )
        cursor.execute(
            """
            INSERT INTO cases_case (client_id, team_id, responsible_worker_id, state,
                integration_started_on, review_due_on, ppt_coordinator, closure_reason,
                closure_text, created_at)
            SELECT c.id, %s, (%s::bigint[])[1 + c.id %% 50], 'active',
                %s::date + (c.id %% %s)::int - 730, %s::date + (c.id %% %s)::int,
                '', '', '', now()
            FROM cases_client c
            """,
            [team.pk, users, TODAY, SPREAD_DAYS, TODAY, SPREAD_DAYS],
        )
        # The bench resets between runs; the log's trigger would refuse that.
        cursor.execute("ALTER TABLE cases_event DISABLE TRIGGER cases_event_append_only")
    vacuum(connection)


def vacuum(connection):
    with connection.cursor() as cursor:
        for table in ("cases_case", "cases_event", "notifications_notification"):
            cursor.execute(f"VACUUM ANALYZE {table}")


def reset(connection):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE cases_case SET state = 'active' WHERE state = 'review_due'")
        cursor.execute("DELETE FROM cases_event WHERE action = 'mark_due'")
        cursor.execute("DELETE FROM notifications_notification")
    vacuum(connection)


def main():
    setup_django("silta_bench_due")
    from django.db import connection

    from transfers.reminders import due_sweep

    connection.set_autocommit(True)
    load(connection)

    def raw(day):
        def run():
            with connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE cases_case SET state = 'review_due' "
                    "WHERE state = 'active' AND review_due_on <= %s",
                    [day],
                )

        return run

    lines = [
        f"cases: {CASES:,}; due dates spread over {SPREAD_DAYS} days; "
        "median of 7 runs, raw and sweep interleaved; target: the 30-day window at most "
        "1.5x the raw UPDATE",
        "",
        "| window | rows | raw UPDATE | due sweep | ratio |",
        "|---|---|---|---|---|",
    ]
    for window in (1, 30):
        day = TODAY + dt.timedelta(days=window - 1)
        rows = due_sweep(today=day)
        reset(connection)
        raw_time, sweep_time = interleaved(
            raw(day), lambda d=day: due_sweep(today=d), before=lambda: reset(connection)
        )
        lines.append(
            f"| {window} day | {rows:,} | {raw_time * 1000:.1f} ms | "
            f"{sweep_time * 1000:.1f} ms | {sweep_time / raw_time:.2f}x |"
        )

    # Nothing to do: the rows are already due; compare with an index-only count.
    reset(connection)
    day = TODAY + dt.timedelta(days=29)
    due_sweep(today=day)
    vacuum(connection)

    def count():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM cases_case WHERE state = 'active' AND review_due_on <= %s",
                [day],
            )
            cursor.fetchone()

    count_time, idle_time = interleaved(count, lambda: due_sweep(today=day), repeat=51)
    lines += [
        "",
        "| second run, nothing to do | index-only count | due sweep | ratio |",
        "|---|---|---|---|",
        f"| 30 day | {count_time * 1000:.2f} ms | {idle_time * 1000:.2f} ms | "
        f"{idle_time / count_time:.2f}x |",
    ]
    lines += ["", f"load average at the end {os.getloadavg()[0]:.2f} (2 cores, shared)"]
    report("due_sweep", lines)


if __name__ == "__main__":
    main()
