"""The cases per team and state that the database keeps (cases.TeamStateCount, statement
triggers): always what counting the cases says, whatever writes them (the services, a
bulk UPDATE, a deletion), and what the supervisor's figures show."""

import datetime as dt

import pytest
from django.db.models import Count

from cases.enums import CaseState, TeamKind
from cases.models import Case, Region, Team, TeamStateCount
from tests.factories import as_user, case_in_state, make_client, make_org

pytestmark = pytest.mark.django_db


def kept() -> dict:
    return {(row.team_id, row.state): row.n for row in TeamStateCount.objects.all() if row.n}


def counted() -> dict:
    return {
        (team, state): n
        for team, state, n in Case.objects.values_list("team_id", "state").annotate(n=Count("id"))
    }


def test_counts__follow_every_write_of_a_case():
    org = make_org()
    for n, state in enumerate(CaseState.values):
        case_in_state(org, state, first_name=f"Count{n}")
    case_in_state(org, CaseState.ACTIVE, first_name="Another")
    assert kept() == counted()
    assert kept()[(org.koto.pk, CaseState.ACTIVE)] == 2

    # A bulk UPDATE (as the due sweep's) and a change of team, then a deletion.
    other = Team.objects.create(
        code="koto1",
        name="Koto-tiimi 1",
        kind=TeamKind.IMMIGRATION_UNIT,
        region=Region.objects.get(code="lansi"),
    )
    Case.objects.filter(state=CaseState.ACTIVE).update(state=CaseState.REVIEW_DUE)
    Case.objects.filter(state=CaseState.CLOSED).update(team=other)
    assert kept() == counted()
    assert (org.koto.pk, CaseState.ACTIVE) not in kept()
    bare = Case.objects.create(
        client=make_client(org, first_name="Bare"),
        team=other,
        responsible_worker=org.caseworker,
        integration_started_on=dt.date(2026, 1, 5),
        review_due_on=dt.date(2026, 7, 5),
    )
    assert kept()[(other.pk, CaseState.ACTIVE)] == 1
    bare.delete()
    assert kept() == counted()


def test_figures__show_the_kept_counts():
    org = make_org()
    for n, state in enumerate([CaseState.ACTIVE, CaseState.ACTIVE, CaseState.IN_REVIEW]):
        case_in_state(org, state, first_name=f"Figure{n}")
    figures = as_user(org.koto_supervisor).get("/api/v1/supervisor/figures/").json()
    assert figures["cases_by_state"] == {
        **dict.fromkeys(CaseState.values, 0),
        "active": 2,
        "in_review": 1,
    }
