"""A plan's owner is reminded before and on its target date (offsets are data), once per
plan and date however often the sweep runs; extension requests and decisions tell the
person who acts next."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from dateutil.relativedelta import relativedelta

from cases.enums import CaseState
from core import clock
from criteria import services as criteria_services
from criteria.models import AssessmentStatus
from criteria.selectors import open_review_of
from notifications.models import Notification, NotificationPreference, ReminderPolicy
from tests.factories import case_in_state, member
from transfers.reminders import reminder_sweep

pytestmark = pytest.mark.django_db
HELSINKI = ZoneInfo("Europe/Helsinki")


def on(day: dt.date):
    return time_machine.travel(dt.datetime.combine(day, dt.time(8), HELSINKI), tick=False)


def planned(org, *, target):
    """A review completed as not ready with a plan on finances due `target`."""
    case = case_in_state(org, CaseState.IN_REVIEW)
    review = open_review_of(case)
    for assessment in review.assessments.select_related("criterion"):
        if assessment.status == AssessmentStatus.NOT_APPLICABLE:
            continue
        not_met = assessment.criterion.code == "finances"
        criteria_services.assessment_update(
            actor=org.caseworker,
            assessment=assessment,
            status=AssessmentStatus.NOT_MET if not_met else AssessmentStatus.MET,
            plan_action="Kela-hakemus" if not_met else "",
            plan_owner="Asiakas" if not_met else "",
            plan_target_on=target if not_met else None,
        )
    criteria_services.review_complete_not_ready(
        actor=org.caseworker,
        review=review,
        next_review_on=case.integration_started_on + relativedelta(months=30),
    )
    return case, review


def plan_notes(case):
    return Notification.objects.filter(case_id=case.pk, kind__startswith="plan_target")


def test_plan_reminder__7_days_before_and_on_the_day__once_per_plan_and_date(org):
    NotificationPreference.objects.create(user=org.caseworker, email=True)
    target = clock.today() + dt.timedelta(days=20)
    case, review = planned(org, target=target)
    for day in (target - dt.timedelta(days=8), target - dt.timedelta(days=7), target):
        with on(day):
            reminder_sweep()
            reminder_sweep()  # however often it runs
    sent = list(plan_notes(case).order_by("on_date"))
    assert [(n.kind, n.on_date, n.params["days"]) for n in sent] == [
        ("plan_target_soon", target - dt.timedelta(days=7), 7),
        ("plan_target_today", target, 0),
    ]
    assert {n.recipient for n in sent} == {org.caseworker}
    assert all(n.link == f"/reviews/{review.pk}/" and n.reference == case.reference for n in sent)
    # A day the sweep did not run is caught up the next day, still once.
    with on(target + dt.timedelta(days=1)):
        reminder_sweep()
    assert plan_notes(case).count() == 2


def test_plan_reminder__offsets_are_data_and_a_met_criterion_is_not_reminded(org):
    ReminderPolicy.objects.filter(kind="plan_target").update(offsets="3")
    target = clock.today() + dt.timedelta(days=10)
    case, _review = planned(org, target=target)
    with on(target - dt.timedelta(days=7)):
        reminder_sweep()
    assert not plan_notes(case).exists()
    with on(target - dt.timedelta(days=3)):
        reminder_sweep()
    assert [n.params["days"] for n in plan_notes(case)] == [3]

    other, _ = planned(org, target=target)
    # The next review starts (its plans replace the last one's) and finances is met there:
    # nobody is reminded of the old plan.
    other.refresh_from_db()
    criteria_services.review_bring_forward(
        actor=org.caseworker, case=other, review_on=clock.today(), reason="Kela päätös tuli"
    )
    new_review = criteria_services.review_start(actor=org.caseworker, case=other)
    finances = new_review.assessments.get(criterion__code="finances")
    criteria_services.assessment_update(
        actor=org.caseworker, assessment=finances, status=AssessmentStatus.MET
    )
    with on(target):
        reminder_sweep()
    assert not plan_notes(other).filter(on_date=target).exists()


def test_plan_reminder__the_default_policy_is_7_and_0_days():
    assert ReminderPolicy.objects.get(kind="plan_target").offset_list == [0, 7]


def test_extension_notices__supervisors_told_of_a_request_the_caseworker_of_the_decision(org):
    other_supervisor = member(org.koto, "supervisor")
    case = case_in_state(org, CaseState.IN_REVIEW)
    review = open_review_of(case)
    for assessment in review.assessments.exclude(status=AssessmentStatus.NOT_APPLICABLE):
        criteria_services.assessment_update(
            actor=org.caseworker,
            assessment=assessment,
            status=AssessmentStatus.NOT_MET,
            plan_action="Suunnitelma",
        )
    request = criteria_services.extension_request(
        actor=org.caseworker,
        review=review,
        next_review_on=case.integration_started_on + relativedelta(months=40),
        reason="Terapia kesken",
    )
    asked = Notification.objects.filter(kind="extension_requested", case_id=case.pk)
    assert {n.recipient for n in asked} == {org.koto_supervisor, other_supervisor}
    assert all("Terapia" not in str(n.params) for n in asked)  # reference and link only
    criteria_services.extension_decide(
        actor=org.koto_supervisor, extension=request, approve=False, reason="Ei perusteita"
    )
    [told] = Notification.objects.filter(kind="extension_refused", case_id=case.pk)
    assert told.recipient == org.caseworker and told.link == f"/reviews/{review.pk}/"
