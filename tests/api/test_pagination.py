"""Lists by page number (people) and by keyset (integrations walking a whole list)."""

import datetime as dt
import json

import pytest
from django.contrib.auth import get_user_model
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from api.cases import CaseSerializer
from audit.models import AccessLog
from cases.enums import CaseState
from cases.models import Case
from cases.selectors import case_scope_sql, cases_visible_to
from core import clock
from tests.factories import as_user, case_in_state, make_org, open_case

pytestmark = pytest.mark.django_db


def test_keyset__walks_every_row_once_in_id_order_without_a_count_and_logs_each_page():
    org = make_org()
    cases = [open_case(org, first_name=f"Keyset{n}") for n in range(7)]
    api = as_user(org.caseworker)
    seen, url, pages = [], "/api/v1/cases/?cursor=&page_size=3", 0
    while url:
        body = api.get(url).json()
        assert body["count"] is None
        seen += [row["id"] for row in body["results"]]
        url, pages = body["next"], pages + 1
        # A case opened while walking (a higher id) is met later, never a repeat.
        if pages == 1:
            cases.append(open_case(org, first_name="Late"))
    assert seen == sorted(case.pk for case in cases)
    assert pages == 3
    # Each page's rows were access-logged as any other list.
    logged = AccessLog.objects.filter(action="api_list", case__in=cases)
    assert sorted(logged.values_list("case_id", flat=True)) == sorted(seen)


def test_keyset__a_forged_cursor_is_404_not_500():
    org = make_org()
    open_case(org)
    response = as_user(org.caseworker).get("/api/v1/cases/?cursor=%00not-a-cursor")
    assert response.status_code in (400, 404)
    assert response["Content-Type"] == "application/problem+json"


def test_page_numbers__still_count():
    org = make_org()
    for n in range(3):
        open_case(org, first_name=f"Paged{n}")
    body = as_user(org.caseworker).get("/api/v1/cases/?page_size=2").json()
    assert body["count"] == 3
    assert len(body["results"]) == 2


def test_rows_read_as_values__answer_as_the_serializer_does_for_every_state():
    """The case list reads values, not objects: each row is what CaseSerializer says of
    the case (read through the detail), in every state, transferred and closed included."""
    org = make_org()
    cases = [
        case_in_state(org, state, first_name=f"Row{n}") for n, state in enumerate(CaseState.values)
    ]
    Case.objects.filter(pk=cases[0].pk).update(ppt_coordinator="Koordinaattori Oy")
    api = as_user(org.koto_supervisor)
    listed = {row["id"]: row for row in api.get("/api/v1/cases/?page_size=50").json()["results"]}
    assert {case.pk for case in cases} <= listed.keys()
    for case in cases:
        detail = CaseSerializer(Case.objects.get(pk=case.pk)).data
        assert listed[case.pk] == json.loads(json.dumps(detail, cls=DjangoJSONEncoder)), case.state
    handed = next(row for row in listed.values() if row["state"] == CaseState.TRANSFERRED)
    assert (handed["owner_team"], handed["transferred_at"]) != (handed["team"], None)


@override_settings(SILTA_API_COUNT_LIMIT=3)
def test_page_numbers__count_up_to_the_limit_then_null_and_the_pages_go_on():
    org = make_org()
    cases = [open_case(org, first_name=f"Bounded{n}") for n in range(5)]
    api = as_user(org.caseworker)
    seen, url = [], "/api/v1/cases/?page_size=2"
    while url:
        body = api.get(url).json()
        assert body["count"] is None
        seen += [row["id"] for row in body["results"]]
        url = body["next"]
    assert sorted(seen) == sorted(case.pk for case in cases)
    assert len(seen) == 5
    # Past the end: 404 as before; `last` counts in full.
    assert api.get("/api/v1/cases/?page_size=2&page=4").status_code == 404
    last = api.get("/api/v1/cases/?page_size=2&page=last").json()
    assert (len(last["results"]), last["next"]) == (1, None)
    # Up to the limit the count is exact.
    assert api.get("/api/v1/cases/?page_size=2&state=closed").json()["count"] == 0
    # Only the rows shown are logged, not the one read to know a next page follows.
    before = AccessLog.objects.filter(action="api_list").count()
    api.get("/api/v1/cases/?page_size=2")
    assert AccessLog.objects.filter(action="api_list").count() == before + 2


def test_a_list_reads_the_actors_memberships_once():
    org = make_org()
    open_case(org)
    api = as_user(org.caseworker)
    with CaptureQueriesContext(connection) as queries:
        assert api.get("/api/v1/cases/").status_code == 200
    reads = [q["sql"] for q in queries.captured_queries if '"cases_membership"' in q["sql"]]
    assert len(reads) == 1, reads


@pytest.mark.parametrize(
    "query",
    [
        "cursor=&page_size=2",
        "page_size=2",
        "page_size=2&ordering=-id",
        "page_size=2&page=2&ordering=-review_due_on,-id",
    ],
)
def test_a_page_and_its_access_log_rows_are_one_statement_logging_only_the_rows_shown(query):
    """The rows shown and their access-log rows in one statement (a data-modifying CTE):
    no rows without their log rows, and no log row for the row read only to know that a
    next page follows."""
    org = make_org()
    for n in range(5):
        open_case(org, first_name=f"Logged{n}")
    api = as_user(org.caseworker)
    before = set(AccessLog.objects.values_list("pk", flat=True))
    with CaptureQueriesContext(connection) as queries:
        body = api.get(f"/api/v1/cases/?{query}").json()
    shown = [row["id"] for row in body["results"]]
    assert len(shown) == 2
    reads = [q["sql"] for q in queries.captured_queries if '"cases_case"' in q["sql"]]
    logged = [sql for sql in reads if "INSERT INTO audit_accesslog" in sql]
    assert len(logged) == 1
    # Besides, at most a count (by page number through the queryset, it comes apart).
    assert all("COUNT(" in sql and "INSERT" not in sql for sql in reads if sql not in logged)
    if "ordering" not in query:  # by fixed SQL: the count comes with the page
        assert len(reads) == 1
    new = AccessLog.objects.exclude(pk__in=before)
    assert sorted(new.values_list("case_id", flat=True)) == sorted(shown)
    assert {(r.action, r.actor_id, r.actor_role, r.outcome) for r in new} == {
        ("api_list", org.caseworker.pk, "caseworker", "allowed")
    }
    assert sorted(new.values_list("client_id", flat=True)) == sorted(
        row["client"] for row in body["results"]
    )


def test_an_order_that_does_not_name_one_row_logs_the_rows_shown_after_the_read():
    org = make_org()
    for n in range(3):
        open_case(org, first_name=f"Tied{n}")
    api = as_user(org.caseworker)
    before = set(AccessLog.objects.values_list("pk", flat=True))
    body = api.get("/api/v1/cases/?page_size=2&ordering=review_due_on").json()
    shown = sorted(row["id"] for row in body["results"])
    new = AccessLog.objects.exclude(pk__in=before)
    assert sorted(new.values_list("case_id", flat=True)) == shown


def _every_state_and_an_old_handover(org):
    """A case in every state, one handed over long ago (past the sending team's days)."""
    cases = [case_in_state(org, state, first_name=f"S{n}") for n, state in enumerate(CaseState)]
    old = case_in_state(org, CaseState.TRANSFERRED, first_name="Old")
    Case.objects.filter(pk=old.pk).update(transferred_at=clock.now() - dt.timedelta(days=400))
    return [*cases, old]


@pytest.mark.parametrize("days", [30, 0])
def test_the_scope_as_sql_names_the_same_cases_as_the_queryset(settings, days):
    """The case list's fixed SQL takes its scope from `case_scope_sql`: for every kind of
    user it names exactly the cases `cases_visible_to` does."""
    settings.SILTA_SENDING_TEAM_READ_DAYS = days
    org = make_org()
    _every_state_and_an_old_handover(org)
    admin = get_user_model().objects.create(username="admin-scope", is_superuser=True)
    nobody = get_user_model().objects.create(username="no-team")
    users = [
        org.caseworker,
        org.koto_supervisor,
        org.receiving_worker,
        org.front_desk,
        org.receiving_supervisor,
        org.outsider,
        admin,
        nobody,
    ]
    for user in users:
        scope, params = case_scope_sql(user, alias="c")
        with connection.cursor() as cursor:
            cursor.execute(f'SELECT c.id FROM "cases_case" c WHERE {scope}', params)  # noqa: S608
            by_sql = sorted(row[0] for row in cursor.fetchall())
        by_queryset = sorted(cases_visible_to(user).values_list("pk", flat=True))
        assert by_sql == by_queryset, user.username
    assert any(cases_visible_to(user).exists() for user in users[2:6])  # both sides tried


@pytest.mark.parametrize(
    "user", ["caseworker", "koto_supervisor", "receiving_worker", "receiving_supervisor"]
)
def test_the_list_by_fixed_sql_answers_as_the_queryset_list(user):
    """Without filters the case list reads by fixed SQL (api.cases.CaseRows); with a
    filter that keeps every row it reads through the queryset. Both answer the same rows,
    counts and pages, forwards and back."""
    org = make_org()
    _every_state_and_an_old_handover(org)
    for n in range(4):
        open_case(org, first_name=f"More{n}")
    api = as_user(getattr(org, user))
    every = "review_due_on__gte=1900-01-01"  # a filter: through the queryset

    def walk(url, key="next"):
        pages = []
        while url:
            body = api.get(url).json()
            pages.append((body["results"], body["count"]))
            url = body[key]
        return pages

    with CaptureQueriesContext(connection) as queries:
        fixed = walk("/api/v1/cases/?page_size=3")
    assert any('FROM "cases_case" c' in q["sql"] for q in queries.captured_queries)
    assert fixed == walk(f"/api/v1/cases/?page_size=3&{every}")
    assert api.get("/api/v1/cases/?page=last&page_size=3").json()["results"] == fixed[-1][0]
    by_keyset = walk("/api/v1/cases/?page_size=3&cursor=")
    assert by_keyset == walk(f"/api/v1/cases/?page_size=3&cursor=&{every}")
    assert sorted(r["id"] for page, _ in fixed for r in page) == sorted(
        r["id"] for page, _ in by_keyset for r in page
    )
    # Back from the last page by `previous`: the same pages in reverse.
    if len(by_keyset) > 1:
        last_url = "/api/v1/cases/?page_size=3&cursor="
        while (body := api.get(last_url).json())["next"]:
            last_url = body["next"]
        assert [page for page, _ in walk(last_url, key="previous")] == [
            page for page, _ in reversed(by_keyset)
        ]


@pytest.mark.parametrize("page", ["0", "3", "-1", "x", "²"])
def test_a_page_that_is_not_there_answers_404_and_logs_nothing(page):
    """By page number the page is read with its count in one statement: a page past the
    end or below 1 shows nothing and so leaves no access-log row."""
    org = make_org()
    for n in range(3):
        open_case(org, first_name=f"Edge{n}")
    api = as_user(org.caseworker)
    before = AccessLog.objects.filter(action="api_list").count()
    response = api.get(f"/api/v1/cases/?page_size=2&page={page}")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert AccessLog.objects.filter(action="api_list").count() == before
    assert len(api.get("/api/v1/cases/?page_size=2&page=2").json()["results"]) == 1
    assert AccessLog.objects.filter(action="api_list").count() == before + 1
