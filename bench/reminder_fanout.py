"""Reminder fan-out: N reviews due in 7 days, every caseworker wants e-mail.

Counts the broker messages one reminder run publishes (target: at most ceil(N/500) + 1,
the +1 being the sweep's own task) and times the sweep against the raw scan plus one bulk
INSERT of the same inbox rows.
Usage: make bench (or: scripts/with-postgres.sh scripts/with-redis.sh .venv/bin/python
bench/reminder_fanout.py [N])
"""

from __future__ import annotations

import datetime as dt
import math
import sys

from common import interleaved, report, setup_django

SIZES = [int(sys.argv[1])] if len(sys.argv) > 1 else [1_000, 10_000]
TODAY = dt.date(2027, 1, 4)


def main():
    setup_django("silta_bench_fanout")
    from celery.signals import before_task_publish
    from django.contrib.auth import get_user_model
    from django.db import connection

    from cases.enums import Role, TeamKind
    from cases.models import Membership, Region, Team
    from config.celery import app
    from notifications.models import NotificationPreference
    from transfers.reminders import reminder_sweep

    connection.set_autocommit(True)
    team = Team.objects.create(
        code="koto2",
        name="Koto 2",
        kind=TeamKind.IMMIGRATION_UNIT,
        region=Region.objects.get(code="pohjoinen"),
    )
    users = []
    for i in range(50):
        user = get_user_model().objects.create(username=f"w{i}", email=f"w{i}@example.invalid")
        Membership.objects.create(user=user, team=team, role=Role.CASEWORKER)
        NotificationPreference.objects.create(user=user, email=True)
        users.append(user.pk)

    published = []
    before_task_publish.connect(lambda **kw: published.append(kw["sender"]), weak=False)
    lines = [
        "| N due in 7 days | broker messages | limit ceil(N/500)+1 | raw scan + INSERT "
        "| reminder sweep | ratio |",
        "|---|---|---|---|---|---|",
    ]
    for size in SIZES:
        with connection.cursor() as cursor:
            cursor.execute(
                "TRUNCATE cases_case, cases_client, "
                "notifications_notification, notifications_outboxmessage CASCADE"
            )
            cursor.execute(
                """
                INSERT INTO cases_client (first_name, last_name, date_of_birth, language,
                    interpreter_needed, street_address, postal_code, post_office,
                    housing_situation, children_count, family_reunification_pending,
                    reunited_family, family_situation_stable, is_ppt, created_at, updated_at)
                SELECT 'Bench', 'Client ' || g, DATE '1980-01-01', 'ara', false, '', '00700',
                    '', 'settled', 0, false, false, false, false, now(), now()
                FROM generate_series(1, %s) g
                """,
                [size],
            )
            cursor.execute(
                """
                INSERT INTO cases_case (client_id, team_id, responsible_worker_id, state,
                    integration_started_on, review_due_on, ppt_coordinator, closure_reason,
                    closure_text, created_at)
                SELECT c.id, %s, (%s::bigint[])[1 + c.id %% 50], 'active', %s, %s, '', '',
                    '', now()
                FROM cases_client c
                """,
                [team.pk, users, TODAY - dt.timedelta(days=720), TODAY + dt.timedelta(days=7)],
            )
            cursor.execute("VACUUM ANALYZE cases_case")

        def clear():
            with connection.cursor() as cursor:
                cursor.execute("TRUNCATE notifications_notification, notifications_outboxmessage")

        def raw():
            with connection.cursor() as cursor:
                cursor.execute(
                    """
                    INSERT INTO notifications_notification (recipient_id, kind, reference,
                        link, case_id, subject_key, on_date, params, created_at)
                    SELECT responsible_worker_id, 'review_due_soon',
                        'SILTA-' || lpad(id::text, 6, '0'), '/cases/' || id || '/', id,
                        'case:' || id, %s, '{"days": 7}', now()
                    FROM cases_case WHERE state = 'active' AND review_due_on = %s
                    """,
                    [TODAY, TODAY + dt.timedelta(days=7)],
                )

        def sweep():
            published.clear()
            app.send_task("silta.reminder_sweep")  # how beat starts it: the +1
            reminder_sweep(today=TODAY)

        raw_time, sweep_time = interleaved(raw, sweep, repeat=3, before=clear)
        messages = len(published)
        limit = math.ceil(size / 500) + 1
        app.control.purge()
        lines.append(
            f"| {size:,} | {messages} | {limit} | {raw_time * 1000:.1f} ms | "
            f"{sweep_time * 1000:.1f} ms | {sweep_time / raw_time:.2f}x |"
        )
        if messages > limit:
            lines.append(f"FAIL: {messages} broker messages for N={size}")
            report("reminder_fanout", lines)
            sys.exit(1)
    report("reminder_fanout", lines)


if __name__ == "__main__":
    main()
