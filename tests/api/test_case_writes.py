"""Opening cases and naming the PPT coordinator through the API."""

import pytest

from cases.models import Case, Event
from tests.factories import as_user, make_client, make_org, open_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def org(db):
    return make_org()


def test_case_open__review_due_from_the_rules_and_logged(org):
    client = make_client(org)
    response = as_user(org.caseworker).post(
        "/api/v1/cases/",
        {
            "client": client.pk,
            "team": "koto2",
            "responsible_worker": org.caseworker.username,
            "integration_started_on": "2026-01-15",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["review_due_on"] == "2028-01-15"
    assert Event.objects.filter(case_id=response.json()["id"], action="open").exists()


def test_case_open__client_of_another_team__not_found_and_nothing_opened(org):
    case = open_case(org)
    from cases.enums import Role, TeamKind
    from cases.models import Region, Team
    from tests.factories import member

    koto1 = Team.objects.create(
        code="koto1",
        name="Koto-tiimi 1",
        kind=TeamKind.IMMIGRATION_UNIT,
        region=Region.objects.get(code="lansi"),
    )
    other = member(koto1, Role.CASEWORKER)
    response = as_user(other).post(
        "/api/v1/cases/",
        {
            "client": case.client_id,
            "team": "koto1",
            "responsible_worker": other.username,
            "integration_started_on": "2026-01-15",
        },
        format="json",
    )
    assert response.status_code == 400
    assert "client" in response.json()["errors"]
    assert Case.objects.count() == 1


def test_case_patch__only_the_coordinator_changes(org):
    case = open_case(org)
    response = as_user(org.caseworker).patch(
        f"/api/v1/cases/{case.pk}/",
        {"ppt_coordinator": "Malmi health centre", "state": "closed", "team": "koto9"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    case.refresh_from_db()
    assert (case.ppt_coordinator, case.state) == ("Malmi health centre", "active")
    assert as_user(org.caseworker).put(f"/api/v1/cases/{case.pk}/", {}).status_code == 405


def test_case_open__nul_in_a_slug__400_not_500(org):
    """Found by schemathesis: PostgreSQL refuses NUL characters in a query string."""
    client = make_client(org)
    response = as_user(org.caseworker).post(
        "/api/v1/cases/",
        {
            "client": client.pk,
            "team": "koto\u00002",
            "responsible_worker": "x\u0000y",
            "integration_started_on": "2026-01-15",
        },
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"team", "responsible_worker"}
