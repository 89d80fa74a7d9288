"""The pages a supervisor and a caseworker open, at 10,000 and 100,000 cases: their time
must not grow with the caseload (at 100,000 at most 1.3x the time at 10,000, and at most
100 ms).

Each size in a database (and a process) of its own, one Immigration Unit team carrying
every case: 70% active, 8% overdue for review, 5% in review (half with the housing
criterion not met, an exception to decide), 5% with a transfer proposed 20 days ago
(stalled), the rest transferred or closed; one case in 50 started over five years ago (at
the cap). Pages through the whole stack (Django's test client, signed in), median of 21
each, the sizes interleaved view by view (two processes, one per size), with the
access-log rows each view wrote.
Usage: make bench (or: scripts/with-postgres.sh .venv/bin/python bench/pages.py)
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys

from common import report, setup_django, signed_in_clients, timed

SIZES = [10_000, 100_000]
REPEAT = 21
TODAY = "2027-01-04"


def load(connection, cases: int):
    from django.contrib.auth import get_user_model

    from cases.enums import Role, TeamKind
    from cases.models import Membership, Region, Team

    region = Region.objects.get(code="pohjoinen")
    koto = Team.objects.create(
        code="koto2", name="Koto 2", kind=TeamKind.IMMIGRATION_UNIT, region=region
    )
    adult = Team.objects.create(
        code="pohjoinen-aiso", name="Pohjoinen AISO", kind=TeamKind.ADULT, region=region
    )
    User = get_user_model()
    workers = []
    for i in range(50):
        user = User.objects.create(username=f"worker{i}", first_name="W", last_name=str(i))
        Membership.objects.create(user=user, team=koto, role=Role.CASEWORKER)
        workers.append(user.pk)
    supervisor = User.objects.create(username="supervisor")
    Membership.objects.create(user=supervisor, team=koto, role=Role.SUPERVISOR)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO cases_client (first_name, last_name, date_of_birth, language,
                interpreter_needed, street_address, postal_code, post_office,
                housing_situation, children_count, family_reunification_pending,
                reunited_family, family_situation_stable, is_ppt, created_at, updated_at,
                search_name, phone_number, sms_consent)
            SELECT 'Bench', 'Client ' || g, DATE '1980-01-01', 'ara', false, '', '00700', '',
                'settled', 0, false, false, false, false, now(), now(), 'bench client ' || g,
                '', false
            FROM generate_series(1, %s) g
            """,
            [cases],
        )
        cursor.execute(
            """
            INSERT INTO cases_case (client_id, team_id, responsible_worker_id, state,
                integration_started_on, review_due_on, ppt_coordinator, closure_reason,
                closure_text, created_at)
            SELECT c.id, %(team)s, (%(workers)s::bigint[])[1 + c.id %% 50],
                CASE WHEN c.id %% 100 < 70 THEN 'active'
                     WHEN c.id %% 100 < 78 THEN 'review_due'
                     WHEN c.id %% 100 < 83 THEN 'in_review'
                     WHEN c.id %% 100 < 88 THEN 'transfer_pending'
                     WHEN c.id %% 100 < 94 THEN 'transferred'
                     ELSE 'closed' END,
                %(today)s::date - CASE WHEN c.id %% 50 = 7 THEN 1900 ELSE 400 END,
                CASE WHEN c.id %% 100 BETWEEN 70 AND 82
                     THEN %(today)s::date - 1 - (c.id %% 90)::int
                     ELSE %(today)s::date + (c.id %% 700)::int END,
                '', '', '', now()
            FROM cases_client c
            """,
            {"team": koto.pk, "workers": workers, "today": TODAY},
        )
        cursor.execute("SELECT id FROM criteria_checklisttemplate WHERE is_current")
        template = cursor.fetchone()[0]
        cursor.execute(
            """
            INSERT INTO criteria_review (case_id, template_id, started_at, started_by_id,
                completed_at, outcome)
            SELECT id, %s, now() - interval '10 days', responsible_worker_id,
                CASE WHEN state = 'in_review' THEN NULL ELSE now() END,
                CASE WHEN state = 'in_review' THEN '' ELSE 'ready' END
            FROM cases_case WHERE state IN ('in_review', 'transfer_pending')
            """,
            [template],
        )
        cursor.execute(
            """
            INSERT INTO criteria_criterionassessment (status, note, plan_action, plan_owner,
                multi_problem, exception_justification, exception_refusal_reason,
                criterion_id, review_id)
            SELECT CASE WHEN r.case_id %% 2 = 0 AND d.code = 'housing' THEN 'not_met'
                        ELSE 'met' END,
                '', 'plan', '', false, '', '', d.id, r.id
            FROM criteria_review r
            CROSS JOIN criteria_criteriondefinition d
            WHERE r.completed_at IS NULL AND d.template_id = %s
            """,
            [template],
        )
        cursor.execute(
            """
            INSERT INTO transfers_transfer (case_id, review_id, state, sending_team_id,
                sending_worker_id, receiving_team_id, routed_team_id, override_reason,
                escorted, return_reason, return_text, cancel_reason, sender_availability,
                consent_basis, consent_note, consent_recorded_at, paused_working_days,
                proposed_at)
            SELECT r.case_id, r.id, 'proposed', %s, c.responsible_worker_id, %s, %s, '',
                false, '', '', '', '', 'consent', '', now(), 0, %s::timestamptz - interval '20 days'
            FROM criteria_review r JOIN cases_case c ON c.id = r.case_id
            WHERE c.state = 'transfer_pending'
            """,
            [koto.pk, adult.pk, adult.pk, TODAY],
        )
        for table in TABLES:
            cursor.execute(f"VACUUM ANALYZE {table}")
        cursor.execute("SELECT id FROM cases_client ORDER BY id OFFSET %s LIMIT 1", [cases // 2])
        (client,) = cursor.fetchone()
    return supervisor, User.objects.get(pk=workers[0]), client


TABLES = (
    "cases_client",
    "cases_case",
    "criteria_review",
    "criteria_criterionassessment",
    "transfers_transfer",
)


def settle(connection) -> None:
    """VACUUM ANALYZE the loaded tables once both sizes are loaded: a VACUUM run while the
    other process was still loading left the visibility map empty (relallvisible 0 on
    cases_case), so counts the index answers alone fetched every heap page instead; a
    caseload mostly at rest, as autovacuum keeps it, is what the pages meet."""
    with connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(f"VACUUM ANALYZE {table}")


def serve(cases: int) -> None:
    """Load `cases`, then time one view of each page asked on stdin (one name a line),
    answering on stdout: the parent interleaves the sizes, so load on the machine falls
    on both alike."""
    setup_django(f"silta_bench_pages_{cases}")
    from django.db import connection

    from audit.models import AccessLog

    connection.set_autocommit(True)
    supervisor, worker, client_id = load(connection, cases)
    with signed_in_clients(TODAY, supervisor, worker) as (web, api):
        pages = {
            "/supervisor/": (web, "/supervisor/"),
            "/supervisor/figures/": (web, "/supervisor/figures/"),
            "/cases/?who=team (supervisor)": (web, "/cases/?who=team"),
            "API client detail": (api, f"/api/v1/clients/{client_id}/"),
        }
        rows = {}
        for name, (browser, url) in pages.items():
            before = AccessLog.objects.count()
            assert browser.get(url).status_code == 200, name
            rows[name] = AccessLog.objects.count() - before
            for _ in range(2):  # warm
                browser.get(url)
        print(json.dumps({"ready": rows}), flush=True)
        for line in sys.stdin:
            if line.strip() == "vacuum":
                settle(connection)
                print(json.dumps({"settled": True}), flush=True)
                continue
            browser, url = pages[line.strip()]

            def get(browser=browser, url=url):
                assert browser.get(url).status_code == 200

            print(json.dumps({"time": timed(get, repeat=1)}), flush=True)


def _answer(process) -> dict:
    while True:
        line = process.stdout.readline()
        if not line:
            raise RuntimeError("the bench process ended")
        if line.startswith("{"):
            return json.loads(line)


def main() -> None:
    if sys.argv[1:2] == ["--serve"]:
        serve(int(sys.argv[2]))
        return
    processes = {
        size: subprocess.Popen(
            [sys.executable, __file__, "--serve", str(size)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=os.environ.copy(),
        )
        for size in SIZES
    }
    rows = {size: _answer(process)["ready"] for size, process in processes.items()}
    for process in processes.values():
        process.stdin.write("vacuum\n")
        process.stdin.flush()
        _answer(process)
    names = list(rows[SIZES[0]])
    times: dict = {size: {name: [] for name in names} for size in SIZES}
    for _ in range(REPEAT):
        for name in names:
            for size, process in processes.items():
                process.stdin.write(name + "\n")
                process.stdin.flush()
                times[size][name].append(_answer(process)["time"])
    for process in processes.values():
        process.stdin.close()
        process.wait()
    small, large = SIZES
    lines = [
        f"median of {REPEAT} each, the two sizes interleaved view by view (each in its own "
        "database and process), signed in, whole stack (Django's test client); access-log "
        "rows written per view; target: at most 1.3x and 100 ms at the larger size; "
        f"load average at the end {os.getloadavg()[0]:.2f} (2 cores, shared)",
        "",
        f"| page | {small:,} cases | {large:,} cases | ratio | rows per view | met |",
        "|---|---|---|---|---|---|",
    ]
    for name in names:
        a, b = (statistics.median(times[size][name]) for size in SIZES)
        ratio = b / a
        met = "yes" if ratio <= 1.3 and b <= 0.1 else "no"
        lines.append(
            f"| {name} | {a * 1000:.1f} ms | {b * 1000:.1f} ms | "
            f"{ratio:.2f}x | {rows[small][name]} / {rows[large][name]} | {met} |"
        )
    report("pages", lines)


if __name__ == "__main__":
    main()
