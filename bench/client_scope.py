"""A client's detail at 1,000 and at 1,000,000 cases: the scope must not grow with the
caseload (cases/selectors.py, clients_visible_to: an EXISTS per branch).

For each size, in a database of its own: the scoped read of one client as the web app and
the API make it (get_in_scope_or_404 over clients_visible_to, as a caseworker of the team
that carries every case, who also created every client: three events per case, one of
them without a case, as the event log holds them), the same for another team's client
(refused: every branch of the scope is evaluated) and the API's client detail through the
whole stack, median of 51 each; the ratio of the large to the small is the figure
(target: about 1.0x).
Usage: make bench (or: scripts/with-postgres.sh .venv/bin/python bench/client_scope.py)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from common import report, setup_django, timed

SIZES = [1_000, 1_000_000]


def _team_and_worker(code: str, username: str):
    """An Immigration Unit team in the North with one caseworker."""
    from django.contrib.auth import get_user_model

    from cases.enums import Role, TeamKind
    from cases.models import Membership, Region, Team

    team = Team.objects.create(
        code=code,
        name=code.capitalize(),
        kind=TeamKind.IMMIGRATION_UNIT,
        region=Region.objects.get(code="pohjoinen"),
    )
    worker = get_user_model().objects.create(username=username)
    Membership.objects.create(user=worker, team=team, role=Role.CASEWORKER)
    return team, worker


def _caseload(cursor, *, team, worker, count: int, surname: str) -> None:
    """`count` clients (surname and a number), each with an active case of `team`."""
    cursor.execute(
        """
        WITH c AS (
            INSERT INTO cases_client (first_name, last_name, date_of_birth, language,
                interpreter_needed, street_address, postal_code, post_office,
                housing_situation, children_count, family_reunification_pending,
                reunited_family, family_situation_stable, is_ppt, created_at, updated_at)
            SELECT 'Bench', %s || ' ' || g, DATE '1980-01-01', 'ara', false, '', '00700', '',
                'settled', 0, false, false, false, false, now(), now()
            FROM generate_series(1, %s) g
            RETURNING id)
        INSERT INTO cases_case (client_id, team_id, responsible_worker_id, state,
            integration_started_on, review_due_on, ppt_coordinator, closure_reason,
            closure_text, created_at)
        SELECT c.id, %s, %s, 'active', DATE '2025-01-01', DATE '2027-01-01', '', '', '', now()
        FROM c
        """,
        [surname, count, team.pk, worker.pk],
    )


def load(connection, cases: int):
    koto, worker = _team_and_worker("koto2", "worker")
    with connection.cursor() as cursor:
        _caseload(cursor, team=koto, worker=worker, count=cases, surname="Client")
        # The event log as the caseload's history leaves it: the worker created each client
        # (an event without a case), opened its case, and the due sweep marked it due.
        cursor.execute("SET session_replication_role = replica")  # history, as the owner
        cursor.execute(
            """
            INSERT INTO cases_event (created_at, subject, action, client_id, case_id,
                actor_id, actor_role, from_state, to_state, reason, params)
            SELECT now(), e.subject, e.action, c.client_id,
                CASE WHEN e.subject = 'client' THEN NULL ELSE c.id END,
                CASE WHEN e.action = 'mark_due' THEN NULL ELSE %s END,
                'caseworker', '', '', '', '{}'
            FROM cases_case c CROSS JOIN (VALUES ('client', 'create'), ('case', 'open'),
                ('case', 'mark_due')) AS e(subject, action)
            """,
            [worker.pk],
        )
        cursor.execute("SET session_replication_role = origin")
        for table in ("cases_client", "cases_case", "cases_event"):
            cursor.execute(f"VACUUM ANALYZE {table}")
        cursor.execute("SELECT id FROM cases_client ORDER BY id OFFSET %s LIMIT 1", [cases // 2])
        (client,) = cursor.fetchone()
        # Another team's client: asking for it is refused (404, a denied row), in the same
        # time.
        other_team, other_worker = _team_and_worker("koto3", "other")
        _caseload(cursor, team=other_team, worker=other_worker, count=1, surname="Other")
        cursor.execute("SELECT client_id FROM cases_case WHERE team_id = %s", [other_team.pk])
        (other_client,) = cursor.fetchone()
    return worker, client, other_client


def measure(cases: int) -> dict:
    from django.db import connection
    from django.http import Http404
    from django.test import Client
    from knox.models import AuthToken

    from audit.access import get_in_scope_or_404
    from cases.selectors import clients_visible_to

    connection.set_autocommit(True)
    worker, client_id, other_client_id = load(connection, cases)

    def scoped():
        get_in_scope_or_404(
            clients_visible_to(worker),
            client_id,
            user=worker,
            action="bench",
            subject_of=lambda c: (c.pk, None),
        )

    def refused():
        try:
            get_in_scope_or_404(
                clients_visible_to(worker),
                other_client_id,
                user=worker,
                action="bench",
                subject_of=lambda c: (c.pk, None),
            )
        except Http404:
            return
        raise AssertionError("another team's client was shown")

    browser = Client(
        HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(user=worker)[1]}",
        HTTP_HOST="localhost",
    )

    def detail():
        assert browser.get(f"/api/v1/clients/{client_id}/").status_code == 200

    scoped()
    refused()
    detail()
    query = clients_visible_to(worker).filter(pk=other_client_id)
    plan = "\n".join(query.explain().splitlines()[:16])
    return {
        "scoped": timed(scoped, repeat=51),
        "refused": timed(refused, repeat=51),
        "detail": timed(detail, repeat=51),
        "plan": plan,
    }


def one(size: int) -> None:
    """One size in a database of its own, in a process of its own; prints its figures."""
    setup_django(f"silta_bench_scope_{size}")
    print(json.dumps(measure(size)))


def main() -> None:
    if sys.argv[1:2] == ["--one"]:
        one(int(sys.argv[2]))
        return
    results = {}
    for size in SIZES:
        out = subprocess.run(
            [sys.executable, __file__, "--one", str(size)],
            check=True,
            capture_output=True,
            text=True,
            env=os.environ.copy(),
        ).stdout
        results[size] = json.loads(out.strip().splitlines()[-1])
    small, large = SIZES[0], SIZES[-1]
    lines = [
        f"one team carries every case; median of 51 each; sizes {small:,} and {large:,} cases",
        "",
        "| read | " + " | ".join(f"{size:,} cases" for size in SIZES) + " | ratio |",
        "|---|" + "---|" * len(SIZES) + "---|",
    ]
    for key, name in (
        ("scoped", "scoped read of one client"),
        ("refused", "another team's client asked for (404, a denied row)"),
        ("detail", "API client detail"),
    ):
        times = " | ".join(f"{results[size][key] * 1000:.2f} ms" for size in SIZES)
        ratio = results[large][key] / results[small][key]
        lines.append(f"| {name} | {times} | {ratio:.2f}x |")
    lines += [
        "",
        f"plan of another team's client at {large:,} cases (every branch evaluated):",
        "```",
        results[large]["plan"],
        "```",
    ]
    report("client_scope", lines)


if __name__ == "__main__":
    main()
