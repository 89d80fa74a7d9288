"""The API over 100,000 cases, against raw SQL in the same run.

1. Listing cases, page of 50, through the whole stack (token auth, scope, filters,
   pagination, one access-log row per case, JSON) against a raw cursor fetching the same
   50 rows plus json.dumps: page 1 by page number (count bounded by
   SILTA_API_COUNT_LIMIT) and by keyset (`cursor`), page 1000 by keyset (target: at most
   2.5x, 2.5x and 1.5x) and by page number (an offset; no target). Beside the raw read,
   the statement the API itself sends (the rows and their access-log rows in one
   data-modifying CTE) sent raw: what the log the law requires costs in the database
   alone, before any Python.
2. Accepting transfers one by one through POST /transfers/{id}/accept/ against raw SQL
   doing the same writes in one transaction each (lock, case, transfer, event, outbox
   row, the sender's notice, access-log row), in alternating batches of 10. Target: at
   least 50% of the raw throughput.
3. The floors (FLOORS): what a request costs before it does any work, layer by layer,
   from Django alone to Silta's own middleware and token check and a small page of
   Silta's, so the ratios can be read against what the stack costs at all.

Usage: make bench (or: scripts/with-postgres.sh scripts/with-redis.sh
       .venv/bin/python bench/api.py [CASES] [ACCEPTS])
"""

from __future__ import annotations

import datetime as dt
import json
import os
import statistics
import sys
import time

from common import report, setup_django, timed

CASES = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
ACCEPTS = int(sys.argv[2]) if len(sys.argv) > 2 else 300
TODAY = dt.date(2027, 1, 4)


def load(connection):
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
        user = User.objects.create(username=f"worker{i}")
        Membership.objects.create(user=user, team=koto, role=Role.CASEWORKER)
        workers.append(user.pk)
    receiver = User.objects.create(username="receiver")
    Membership.objects.create(user=receiver, team=adult, role=Role.RECEIVING_WORKER)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO cases_client (first_name, last_name, date_of_birth, language,
                interpreter_needed, street_address, postal_code, post_office,
                housing_situation, children_count, family_reunification_pending,
                reunited_family, family_situation_stable, is_ppt, created_at, updated_at,
                search_name, phone_number, sms_consent)
            SELECT 'Bench', 'Client ' || g, DATE '1980-01-01', 'ara', true, '', '00700', '',
                'settled', 0, false, false, false, false, now(), now(), 'bench client ' || g,
                '', false
            FROM generate_series(1, %s) g
            """,
            [CASES + ACCEPTS * 2],
        )
        cursor.execute(
            """
            INSERT INTO cases_case (client_id, team_id, responsible_worker_id, state,
                integration_started_on, review_due_on, ppt_coordinator, closure_reason,
                closure_text, created_at)
            SELECT c.id, %s, (%s::bigint[])[1 + c.id %% 50],
                CASE WHEN c.id > %s THEN 'transfer_pending' ELSE 'active' END,
                %s::date + (c.id %% 1095)::int - 730, %s::date + (c.id %% 1095)::int,
                '', '', '', now()
            FROM cases_client c
            """,
            [koto.pk, workers, CASES, TODAY, TODAY],
        )
        cursor.execute("SELECT id FROM criteria_checklisttemplate WHERE is_current")
        template = cursor.fetchone()[0]
        cursor.execute(
            """
            INSERT INTO criteria_review (case_id, template_id, started_at, started_by_id,
                completed_at, outcome)
            SELECT id, %s, now(), responsible_worker_id, now(), 'ready'
            FROM cases_case WHERE state = 'transfer_pending'
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
                false, '', '', '', '', 'consent', '', now(), 0, now()
            FROM criteria_review r JOIN cases_case c ON c.id = r.case_id
            """,
            [koto.pk, adult.pk, adult.pk],
        )
        for table in ("cases_client", "cases_case", "transfers_transfer"):
            cursor.execute(f"VACUUM ANALYZE {table}")
    return User.objects.get(pk=workers[0]), receiver, adult


def token_for(user) -> str:
    from knox.models import AuthToken

    return AuthToken.objects.create(user=user)[1]


RAW_LIST = """
    SELECT c.id, 'SILTA-' || lpad(c.id::text, 6, '0'), c.client_id, t.code,
        u.username, c.state, c.integration_started_on, c.review_due_on,
        c.ppt_coordinator, c.closure_reason, c.closed_at
    FROM cases_case c
    JOIN cases_team t ON t.id = c.team_id
    JOIN auth_user u ON u.id = c.responsible_worker_id
    WHERE c.team_id = %s {where}
    ORDER BY {order} LIMIT 50 {offset}
"""


def bench_list(connection, caseworker, page, *, keyset=False):
    """Page `page` of 50: by page number (offset) or by keyset (`cursor`, id order: the
    cursor of page `page` names the last id of the page before, as `next` would)."""
    import base64

    from django.test import Client

    client = Client(HTTP_AUTHORIZATION=f"Token {token_for(caseworker)}", HTTP_HOST="localhost")
    team = caseworker.memberships.get().team_id
    offset = 50 * (page - 1)
    if keyset:
        after = 0
        if page > 1:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT id FROM cases_case WHERE team_id = %s ORDER BY id OFFSET %s LIMIT 1",
                    [team, offset - 1],
                )
                after = cursor.fetchone()[0]
        cursor_param = base64.b64encode(f"p={after}".encode()).decode() if page > 1 else ""
        url = f"/api/v1/cases/?page_size=50&cursor={cursor_param}"
        sql = RAW_LIST.format(where="AND c.id > %s", order="c.id", offset="")
        params = [team, after]
    else:
        url = f"/api/v1/cases/?page_size=50&page={page}"
        sql = RAW_LIST.format(where="", order="c.review_due_on, c.id", offset="OFFSET %s")
        params = [team, offset]
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    # The API's own statement, its values in line: the page and its 50 access-log rows.
    (logged_sql,) = [q["sql"] for q in queries.captured_queries if "audit_accesslog" in q["sql"]]

    def api():
        response = client.get(url)
        assert response.status_code == 200
        assert len(json.loads(response.content)["results"]) == 50

    def raw():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        body = json.dumps({"results": rows}, default=str)
        assert len(rows) == 50 and body

    def raw_logged():
        with connection.cursor() as cursor:
            cursor.execute(logged_sql)
            rows = cursor.fetchall()
        body = json.dumps({"results": rows[:50]}, default=str)
        assert len(rows) >= 50 and body

    # The three in turn, 21 times: drift falls on all alike.
    runs = [[timed(f, repeat=1) for f in (raw, raw_logged, api)] for _ in range(21)]
    return tuple(statistics.median(run[at] for run in runs) for at in range(3))


FLOORS = {
    "django": "Django alone, no middleware: a view answering {} as JSON, no sign-in",
    "drf": "with DRF: a DRF view answering {}, no sign-in, no middleware",
    "knox": "with knox's own token check and IsAuthenticated, no middleware",
    "silta": "Silta's floor: its middleware and its token check (one query: the token, "
    "the user, the memberships and the lockout), a DRF view answering {}",
    "regions": "a small page of Silta's: GET /api/v1/regions/ (five rows through the ORM, "
    "the page-number paginator and a model serializer; no client data, no log rows)",
}


def bench_floors(caseworker) -> dict[str, float]:
    """What a request costs before it does any work, layer by layer (FLOORS), each the
    median of 101 through Django's test client as every API figure here. Set beside the
    raw baselines, they show how far a ratio target can be met at all on this stack."""
    import types

    from django.http import JsonResponse
    from django.test import Client, override_settings
    from django.urls import include, path
    from knox.auth import TokenAuthentication
    from rest_framework.permissions import IsAuthenticated
    from rest_framework.response import Response
    from rest_framework.views import APIView

    class Empty(APIView):
        def get(self, request):
            return Response({})

    class Open(Empty):
        authentication_classes = []
        permission_classes = []

    class Knox(Empty):
        authentication_classes = [TokenAuthentication]
        permission_classes = [IsAuthenticated]

    urls = types.ModuleType("bench_floor_urls")
    urls.urlpatterns = [  # type: ignore[attr-defined]
        path("django/", lambda request: JsonResponse({})),
        path("drf/", Open.as_view()),
        path("knox/", Knox.as_view()),
        path("silta/", Empty.as_view()),  # Silta's authentication and permission settings
        path("", include("config.urls")),
    ]
    sys.modules[urls.__name__] = urls
    token = token_for(caseworker)
    paths = {name: f"/{name}/" for name in ("django", "drf", "knox", "silta")}
    paths["regions"] = "/api/v1/regions/"
    floors = {}
    for name, url in paths.items():
        bare = name in ("django", "drf", "knox")
        with override_settings(ROOT_URLCONF=urls.__name__, **({"MIDDLEWARE": []} if bare else {})):
            client = Client(HTTP_AUTHORIZATION=f"Token {token}", HTTP_HOST="localhost")

            def get(client=client, url=url):
                assert client.get(url).status_code == 200

            for _ in range(10):
                get()
            floors[name] = timed(get, repeat=101)
    return floors


def bench_accept(connection, receiver, team):
    from django.test import Client

    from transfers.models import Transfer

    client = Client(HTTP_AUTHORIZATION=f"Token {token_for(receiver)}", HTTP_HOST="localhost")
    ids = list(
        Transfer.objects.filter(state="proposed").order_by("id").values_list("id", flat=True)
    )
    api_ids, raw_ids = ids[:ACCEPTS], ids[ACCEPTS : ACCEPTS * 2]

    def api(batch):
        for pk in batch:
            response = client.post(
                f"/api/v1/transfers/{pk}/accept/",
                {"receiving_worker": "receiver"},
                content_type="application/json",
            )
            assert response.status_code == 200, response.content

    def raw(batch):
        for pk in batch:
            with connection.cursor() as cursor:
                cursor.execute("BEGIN")
                cursor.execute(
                    "SELECT t.state, c.client_id, t.case_id, t.receiving_team_id "
                    "FROM transfers_transfer t "
                    "JOIN cases_case c ON c.id = t.case_id WHERE t.id = %s FOR UPDATE",
                    [pk],
                )
                state, client_id, case_id, team_id = cursor.fetchone()
                assert state == "proposed"
                # The case now records the team that accepted it (its scope reads this).
                cursor.execute(
                    "UPDATE cases_case SET receiving_team_id = %s, receiving_worker_id = %s "
                    "WHERE id = %s",
                    [team_id, receiver.pk, case_id],
                )
                cursor.execute(
                    "UPDATE transfers_transfer SET state = 'accepted', receiving_worker_id = %s, "
                    "accepted_at = now() WHERE id = %s",
                    [receiver.pk, pk],
                )
                cursor.execute(
                    "INSERT INTO cases_event (created_at, subject, action, client_id, "
                    "case_id, transfer_id, actor_id, actor_role, from_state, to_state, reason, "
                    "params) VALUES (now(), 'transfer', 'accept', %s, %s, %s, %s, "
                    "'receiving_worker', 'proposed', 'accepted', '', %s)",
                    [client_id, case_id, pk, receiver.pk, json.dumps({"receiving_worker": 1})],
                )
                cursor.execute(
                    "INSERT INTO notifications_outboxmessage (key, channel, payload, status, "
                    "attempts, available_at, created_at, last_error) "
                    "VALUES (%s, 'booking', %s, 'pending', 0, now(), now(), '')",
                    [f"raw:open:{pk}", json.dumps({"action": "open", "transfer": pk})],
                )
                # The sending worker's notice of the acceptance (once per subject and day).
                cursor.execute(
                    "INSERT INTO notifications_notification (recipient_id, kind, reference, "
                    "link, case_id, transfer_id, subject_key, on_date, params, created_at) "
                    "SELECT t.sending_worker_id, 'transfer_accepted', "
                    "'SILTA-' || lpad(t.case_id::text, 6, '0'), '/transfers/' || t.id || '/', "
                    "t.case_id, t.id, 'transfer:' || t.id || ':accepted', current_date, "
                    "'{}', now() FROM transfers_transfer t WHERE t.id = %s "
                    "ON CONFLICT DO NOTHING",
                    [pk],
                )
                cursor.execute(
                    "INSERT INTO audit_accesslog (created_at, actor_id, actor_role, "
                    "actor_team, client_id, case_id, action, purpose, outcome, request_id) "
                    "VALUES (now(), %s, 'receiving_worker', 'pohjoinen-aiso', %s, %s, "
                    "'api_transition', 'case_management', 'allowed', '')",
                    [receiver.pk, client_id, case_id],
                )
                cursor.execute("COMMIT")

    if os.environ.get("BENCH_PROFILE"):
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.runcall(api, api_ids)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
        sys.exit(0)  # a profiled run's times are not figures: bench/results is left alone
    # In batches of 10, raw and API alternately: load on the machine falls on both alike.
    raw_time = api_time = 0.0
    for at in range(0, ACCEPTS, 10):
        start = time.perf_counter()
        raw(raw_ids[at : at + 10])
        raw_time += time.perf_counter() - start
        start = time.perf_counter()
        api(api_ids[at : at + 10])
        api_time += time.perf_counter() - start
    return raw_time, api_time


def show_queries(connection, caseworker, receiver):
    """BENCH_QUERIES=1: the SQL of one list and one accept, with times."""
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from transfers.models import Transfer

    for user, method, url, body in [
        (caseworker, "get", "/api/v1/cases/?page_size=50", None),
        (
            receiver,
            "post",
            f"/api/v1/transfers/{Transfer.objects.filter(state='proposed').first().pk}/accept/",
            {"receiving_worker": "receiver"},
        ),
    ]:
        client = Client(HTTP_AUTHORIZATION=f"Token {token_for(user)}", HTTP_HOST="localhost")
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            if body:
                client.post(url, body, content_type="application/json")
            else:
                client.get(url)
            total = time.perf_counter() - start
        print(f"{method.upper()} {url}: {len(queries)} queries, {total * 1000:.1f} ms")
        for query in queries.captured_queries:
            print(f"  {query['time']} {query['sql'][:160]}")


def lists_page_one_raw(lists) -> float:
    """The raw time of the first list row (page 1 by page number)."""
    (raw, _logged, _api), _target = next(iter(lists.values()))
    return raw


def main():
    setup_django("silta_bench_api")
    from django.conf import settings
    from django.db import connection

    connection.set_autocommit(True)
    caseworker, receiver, team = load(connection)
    if os.environ.get("BENCH_QUERIES"):
        show_queries(connection, caseworker, receiver)
        return

    last = CASES // 100
    lists = {
        f"page 1 of 50, by page number (count up to {settings.SILTA_API_COUNT_LIMIT:,})": (
            bench_list(connection, caseworker, 1),
            "<= 2.5x",
        ),
        "page 1 of 50, by keyset (`cursor`)": (
            bench_list(connection, caseworker, 1, keyset=True),
            "<= 2.5x",
        ),
        f"page {last} of 50, by keyset (`cursor`)": (
            bench_list(connection, caseworker, last, keyset=True),
            "<= 1.5x",
        ),
        f"page {last} of 50, by page number (offset)": (
            bench_list(connection, caseworker, last),
            "(people: no target)",
        ),
    }
    raw_accept, api_accept = bench_accept(connection, receiver, team)
    floors = bench_floors(caseworker)
    raw_rate, api_rate = ACCEPTS / raw_accept, ACCEPTS / api_accept
    report(
        "api",
        [
            f"cases: {CASES:,}; list: median of 21 interleaved runs; "
            f"accept: {ACCEPTS} transfers each way, one request or transaction at a time, "
            "in alternating batches of 10; "
            f"load average at the end {os.getloadavg()[0]:.2f} (2 cores, shared)",
            "",
            "| measure | raw | raw with its access-log rows | API | ratio to raw "
            "| ratio to raw with its log rows | target (to raw) |",
            "|---|---|---|---|---|---|---|",
            *(
                f"| list cases, {what} | {raw * 1000:.2f} ms | {logged * 1000:.2f} ms "
                f"({logged / raw:.2f}x raw) | {api * 1000:.2f} ms | {api / raw:.2f}x "
                f"| {api / logged:.2f}x | {target} |"
                for what, ((raw, logged, api), target) in lists.items()
            ),
            f"| accept transfers | {raw_rate:.0f}/s | {raw_rate:.0f}/s (the raw writes "
            f"include it) | {api_rate:.0f}/s | {api_rate / raw_rate:.0%} of raw | "
            f"{api_rate / raw_rate:.0%} | >= 50% |",
            "",
            "What a request costs before it does any work (medians of 101), against the raw "
            f"list page 1 ({lists_page_one_raw(lists) * 1000:.2f} ms) and the raw accept "
            f"({raw_accept / ACCEPTS * 1000:.2f} ms, whose 50% target leaves "
            f"{2 * raw_accept / ACCEPTS * 1000:.2f} ms per request):",
            "",
            "| floor | time | of the raw list page 1 | of the raw accept |",
            "|---|---|---|---|",
            *(
                f"| {FLOORS[name]} | {floor * 1000:.2f} ms "
                f"| {floor / lists_page_one_raw(lists):.2f}x "
                f"| {floor / (raw_accept / ACCEPTS):.2f}x |"
                for name, floor in floors.items()
            ),
        ],
    )


if __name__ == "__main__":
    main()
