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
    """Per team and state: the sum over the team's workers."""
    totals: dict = {}
    for row in TeamStateCount.objects.all():
        totals[(row.team_id, row.state)] = totals.get((row.team_id, row.state), 0) + row.n
    return {key: n for key, n in totals.items() if n}


def counted() -> dict:
    return {
        (team, state): n
        for team, state, n in Case.objects.values_list("team_id", "state").annotate(n=Count("id"))
    }


def kept_per_worker() -> dict:
    return {
        (row.team_id, row.worker_id, row.state): row.n
        for row in TeamStateCount.objects.all()
        if row.n
    }


def counted_per_worker() -> dict:
    return {
        (team, worker, state): n
        for team, worker, state, n in Case.objects.values_list(
            "team_id", "responsible_worker_id", "state"
        ).annotate(n=Count("id"))
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
    assert kept_per_worker() == counted_per_worker()


def test_counts__follow_a_change_of_responsible_worker():
    """A reassignment moves the cases between workers and leaves the team's counts as they
    were: each worker's caseload on the figures page is read from these counts."""
    org = make_org()
    for n in range(3):
        case_in_state(org, CaseState.ACTIVE, first_name=f"Worker{n}")
    case_in_state(org, CaseState.IN_REVIEW, first_name="Reviewed")
    before = kept()
    moved = Case.objects.filter(state=CaseState.ACTIVE).order_by("pk")[:2]
    Case.objects.filter(pk__in=[c.pk for c in moved]).update(responsible_worker=org.koto_supervisor)
    assert kept() == before
    assert kept_per_worker() == counted_per_worker()
    assert kept_per_worker()[(org.koto.pk, org.koto_supervisor.pk, CaseState.ACTIVE)] == 2


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


def test_cases_per_state__the_embedded_database_counts_the_cases_alike():
    """`make run`'s SQLite keeps no counts (no triggers): there the figures count the cases,
    and say what the kept counts say (they once said 0 in every state there)."""
    from transfers.reports import _cases_per_state_counted, cases_per_state

    org = make_org()
    for n, state in enumerate([CaseState.ACTIVE, CaseState.ACTIVE, CaseState.IN_REVIEW]):
        case_in_state(org, state, first_name=f"Embedded{n}")
    kept_here = cases_per_state([org.koto.pk])
    assert kept_here == {"active": 2, "in_review": 1}
    assert _cases_per_state_counted([org.koto.pk]) == kept_here
