"""The supervisor's lists are bounded by what a person reads: each a page of 25 with its
count, filtered, sorted and counted in SQL (transfers/reports.py), with access-log rows
only for the clients shown."""

import datetime as dt
import importlib

import pytest
import time_machine
from django.urls import reverse

from audit.models import AccessLog
from cases.enums import CaseState
from core import clock, workdays
from criteria import services as criteria_services
from criteria.models import AssessmentStatus
from criteria.selectors import exceptions_waiting, open_review_of
from tests.factories import case_in_state, open_case, transfer_in_state
from transfers import reports
from transfers.enums import TransferState

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "today",
    [
        dt.date(2026, 12, 28),  # after Christmas Eve, Christmas and St Stephen's Day
        dt.date(2026, 6, 22),  # after Midsummer
        dt.date(2027, 1, 4),  # a Monday after New Year
        dt.date(2026, 11, 29),  # a Sunday
    ],
)
@pytest.mark.parametrize("threshold", [0, 1, 2, 3, 5, 10])
def test_the_stalled_moment_agrees_with_counting_day_by_day(today, threshold):
    before = reports.stalled_since(today, threshold)
    for back in range(0, 40):
        day = today - dt.timedelta(days=back)
        counted = workdays.working_days_between(day, today) >= threshold
        for moment in (dt.time(0, 0), dt.time(23, 59)):
            since = dt.datetime.combine(day, moment, tzinfo=clock.tz())
            assert (before is None or since < before) == counted, (day, moment)


def test_the_stalled_query_is_the_day_by_day_report(org):
    waiting = [
        transfer_in_state(org, TransferState.PROPOSED, first_name="Ehdotettu"),
        transfer_in_state(org, TransferState.ACCEPTED, first_name="Hyvaksytty"),
        transfer_in_state(org, TransferState.BOOKING_REQUESTED, first_name="Varattu"),
    ]
    teams = [org.koto.pk]
    for days in (0, 2, 3, 5, 9, 20):
        on = clock.today() + dt.timedelta(days=days)
        by_days = [row.transfer.pk for row in reports.waiting_transfers(teams, on) if row.stalled]
        assert [t.pk for t in reports.stalled_query(teams, on)] == by_days, days
    assert {t.pk for t in reports.stalled_query(teams, clock.today() + dt.timedelta(days=20))} == {
        t.pk for t in waiting
    }


def test_the_exceptions_query_is_the_readiness_rule(org):
    housing_case = case_in_state(org, CaseState.IN_REVIEW, first_name="Poikkeus")
    housing = open_review_of(housing_case).assessments.get(criterion__code="housing")
    criteria_services.assessment_update(
        actor=org.caseworker,
        assessment=housing,
        status=AssessmentStatus.NOT_MET,
        plan_action="Asunnon haku",
    )
    case_in_state(org, CaseState.IN_REVIEW, first_name="Kesken")  # nothing not met
    teams = [org.koto.pk]
    by_rule = [item["review"].pk for item in exceptions_waiting(teams)]
    assert by_rule, "the busy week has an exception to decide"
    assert [review.pk for review in reports.exceptions_waiting_query(teams)] == by_rule
    assert reports.exceptions_waiting_count(teams) == len(by_rule)


def test_the_exceptions_count_applies_a_criterion_about_children_to_parents_only(org):
    """A criterion about children waits for a decision only on a parent's review: the
    count reads the client for such a criterion alone, and agrees with the list."""
    from cases.models import Client
    from criteria.models import CriterionAssessment, CriterionDefinition

    CriterionDefinition.objects.filter(code="children").update(exception_allowed=True)
    for name, children in (("Vanhempi", 2), ("Lapseton", 0)):
        case = case_in_state(org, CaseState.IN_REVIEW, first_name=name)
        Client.objects.filter(pk=case.client_id).update(children_count=children)
        CriterionAssessment.objects.filter(
            review=open_review_of(case), criterion__code="children"
        ).update(status=AssessmentStatus.NOT_MET)
    teams = [org.koto.pk]
    listed = list(reports.exceptions_waiting_query(teams))
    assert [review.case.client.first_name for review in listed] == ["Vanhempi"]
    assert reports.exceptions_waiting_count(teams) == 1


def test_a_review_with_two_exceptions_waiting_is_counted_once_and_names_both(org):
    """The count is of reviews (as the list), not of their assessments; the page names
    each review's waiting criteria as the readiness rule does, in checklist order."""
    from cases.models import Client
    from criteria.models import CriterionAssessment, CriterionDefinition
    from criteria.selectors import waiting_exceptions_of

    CriterionDefinition.objects.filter(code="children").update(exception_allowed=True)
    case = case_in_state(org, CaseState.IN_REVIEW, first_name="Kaksi")
    Client.objects.filter(pk=case.client_id).update(children_count=1)
    review = open_review_of(case)
    CriterionAssessment.objects.filter(
        review=review, criterion__code__in=["children", "housing"]
    ).update(status=AssessmentStatus.NOT_MET)
    teams = [org.koto.pk]
    by_rule = exceptions_waiting(teams)
    assert [item["review"].pk for item in by_rule] == [review.pk]
    assert reports.exceptions_waiting_count(teams) == 1
    assert waiting_exceptions_of([review.pk]) == {review.pk: by_rule[0]["criteria"]}
    assert {c["code"] for c in by_rule[0]["criteria"]} == {"children", "housing"}


def test_the_overdue_counts_are_the_overdue_list_counted(org):
    """Per team and worker, from the kept counts less the cases not yet past their date:
    the same as counting the overdue list, with the page's filters."""
    from collections import Counter

    from cases.models import Case

    on = clock.today()
    for n, (state, days) in enumerate(
        [
            (CaseState.REVIEW_DUE, -3),
            (CaseState.REVIEW_DUE, -40),
            (CaseState.REVIEW_DUE, 0),  # due today: not overdue
            (CaseState.REVIEW_DUE, 5),
            (CaseState.IN_REVIEW, -1),
            (CaseState.IN_REVIEW, 10),
            (CaseState.ACTIVE, -2),  # not yet swept: not in the list
        ]
    ):
        case = case_in_state(org, state, first_name=f"Myohassa{n}")
        Case.objects.filter(pk=case.pk).update(review_due_on=on + dt.timedelta(days=days))
    Case.objects.filter(client__first_name="Myohassa4").update(
        responsible_worker=org.koto_supervisor
    )
    teams = [org.koto.pk]

    def listed(**filters):
        cases = reports.overdue_reviews(teams, on)
        if filters.get("team_code"):
            cases = cases.filter(team__code=filters["team_code"])
        if filters.get("worker"):
            cases = cases.filter(responsible_worker__username=filters["worker"])
        return dict(Counter((c.team_id, c.responsible_worker_id) for c in cases))

    assert reports.overdue_counts(teams, on) == listed()
    assert sum(reports.overdue_counts(teams, on).values()) == 3
    for filters in (
        {"team_code": org.koto.code},
        {"team_code": "nobody"},
        {"worker": org.koto_supervisor.username},
        {"worker": org.caseworker.username, "team_code": org.koto.code},
    ):
        assert reports.overdue_counts(teams, on, **filters) == listed(**filters), filters


def test_each_list_is_a_page_with_its_count_and_only_the_shown_are_logged(client, org, monkeypatch):
    monkeypatch.setattr(importlib.import_module("web.views.supervisor"), "PAGE_SIZE", 2)
    stalled = [
        transfer_in_state(org, TransferState.PROPOSED, first_name=f"Siirto{i}") for i in range(3)
    ]
    capped = [open_case(org, started_months_ago=61 + i, first_name=f"Katto{i}") for i in range(3)]
    with time_machine.travel(clock.now() + dt.timedelta(days=14)):
        client.force_login(org.koto_supervisor)
        response = client.get(reverse("web:supervisor"))
        assert response.status_code == 200, response
        first = response.content.decode()
        logged = set(
            AccessLog.objects.filter(actor=org.koto_supervisor, action="web_list").values_list(
                "case_id", flat=True
            )
        )
        second = client.get(reverse("web:supervisor") + "?stalled_page=2&cap_page=2")
    section = first.split('id="h-stalled"', 1)[1].split("</section>", 1)[0]
    assert "3 " in section.split("</h2>", 1)[0]
    shown = [t for t in stalled if t.case.reference in section]
    assert len(shown) == 2
    assert "stalled_page=2" in section
    assert {t.case_id for t in shown} <= logged
    assert len({t.case_id for t in stalled} & logged) == 2, "only the shown page is logged"
    assert len({c.pk for c in capped} & logged) == 2
    assert second.status_code == 200
    rest = second.content.decode().split('id="h-stalled"', 1)[1].split("</section>", 1)[0]
    assert sum(t.case.reference in rest for t in stalled) == 1
