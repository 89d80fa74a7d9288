"""Lists by page number (people) and by keyset (integrations walking a whole list)."""

import pytest

from audit.models import AccessLog
from tests.factories import as_user, make_org, open_case

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
