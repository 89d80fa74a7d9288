"""Extending the integration period (a decision, recorded; past the city's threshold only
with a supervisor's approval), bringing a review forward, and overdue plans."""

import datetime as dt

import pytest
from dateutil.relativedelta import relativedelta
from django.utils import translation

from cases.enums import CaseState
from cases.models import Event
from core import clock
from core.errors import ActorNotAllowed, Conflict, InvalidInput
from criteria import services as criteria_services
from criteria.enums import ExtensionStatus
from criteria.models import AssessmentStatus
from criteria.selectors import (
    extension_requests_waiting,
    open_review_of,
    overdue_plans,
)
from tests.factories import case_in_state, open_case, reload

pytestmark = pytest.mark.django_db


def not_ready_review(org, *, target=None):
    """A case in review with one criterion not met (with a plan), the others met."""
    case = case_in_state(org, CaseState.IN_REVIEW)
    review = open_review_of(case)
    for assessment in review.assessments.select_related("criterion"):
        if assessment.status == AssessmentStatus.NOT_APPLICABLE:
            continue
        if assessment.criterion.code == "finances":
            criteria_services.assessment_update(
                actor=org.caseworker,
                assessment=assessment,
                status=AssessmentStatus.NOT_MET,
                plan_action="Kela-hakemus",
                plan_target_on=target,
            )
        else:
            criteria_services.assessment_update(
                actor=org.caseworker, assessment=assessment, status=AssessmentStatus.MET
            )
    return case, review


def months_from_start(case, months):
    return case.integration_started_on + relativedelta(months=months)


def test_not_ready__the_extension_is_recorded_as_a_decision(org):
    case, review = not_ready_review(org)
    previous = case.review_due_on
    next_review = months_from_start(case, 30)
    criteria_services.review_complete_not_ready(
        actor=org.caseworker, review=review, next_review_on=next_review
    )
    [extend] = Event.objects.filter(review=review, action="extend")
    assert (extend.from_state, extend.to_state) == (previous.isoformat(), next_review.isoformat())
    assert extend.params == {
        "months": 30,
        "approval_after_months": 36,
        "approved_request": None,
    }
    assert extend.actor == org.caseworker


def test_extension_past_the_threshold__refused_until_a_supervisor_approves(org):
    case, review = not_ready_review(org)
    wanted = months_from_start(case, 40)
    with translation.override("en"), pytest.raises(InvalidInput) as raised:
        criteria_services.review_complete_not_ready(
            actor=org.caseworker, review=review, next_review_on=wanted
        )
    assert "supervisor must approve" in raised.value.errors["next_review_on"]
    assert reload(case).state == CaseState.IN_REVIEW

    request = criteria_services.extension_request(
        actor=org.caseworker, review=review, next_review_on=wanted, reason="Terapia kesken"
    )
    assert list(extension_requests_waiting([org.koto.pk])) == [request]
    with pytest.raises(Conflict):  # one request waits at a time
        criteria_services.extension_request(
            actor=org.caseworker, review=review, next_review_on=wanted, reason="Uudelleen"
        )
    with pytest.raises(ActorNotAllowed):  # a caseworker cannot approve their own
        criteria_services.extension_decide(
            actor=org.caseworker, extension=request, approve=True, reason="Ok"
        )
    with translation.override("en"), pytest.raises(InvalidInput) as raised:
        criteria_services.extension_decide(
            actor=org.koto_supervisor, extension=request, approve=True, reason=" "
        )
    assert "reason" in raised.value.errors
    criteria_services.extension_decide(
        actor=org.koto_supervisor, extension=request, approve=True, reason="Hoito jatkuu"
    )
    request = reload(request)
    assert request.status == ExtensionStatus.APPROVED and request.decided_by == org.koto_supervisor
    assert list(extension_requests_waiting([org.koto.pk])) == []
    with pytest.raises(Conflict):
        criteria_services.extension_decide(
            actor=org.koto_supervisor, extension=request, approve=False, reason="Myöhään"
        )
    # Approved up to that date: later is still refused, that date is accepted.
    with pytest.raises(InvalidInput):
        criteria_services.review_complete_not_ready(
            actor=org.caseworker, review=review, next_review_on=wanted + dt.timedelta(days=1)
        )
    criteria_services.review_complete_not_ready(
        actor=org.caseworker, review=review, next_review_on=wanted
    )
    assert reload(case).review_due_on == wanted
    history = list(
        Event.objects.filter(review=review, subject="review")
        .exclude(action="assess")
        .order_by("id")
        .values_list("action", "actor", "reason")
    )
    assert history == [
        ("request_extension", org.caseworker.pk, "Terapia kesken"),
        ("approve_extension", org.koto_supervisor.pk, "Hoito jatkuu"),
        ("extend", org.caseworker.pk, ""),
    ]
    assert Event.objects.get(action="extend", review=review).params["approved_request"] == (
        request.pk
    )


def test_extension_refused__the_review_stays_open_and_the_refusal_recorded(org):
    case, review = not_ready_review(org)
    request = criteria_services.extension_request(
        actor=org.caseworker,
        review=review,
        next_review_on=months_from_start(case, 48),
        reason="Perhe tulossa",
    )
    criteria_services.extension_decide(
        actor=org.koto_supervisor, extension=request, approve=False, reason="Siirto alueelle nyt"
    )
    assert reload(request).status == ExtensionStatus.REFUSED
    assert Event.objects.filter(review=review, action="refuse_extension").exists()
    assert reload(case).state == CaseState.IN_REVIEW


def test_extension_request__not_needed_below_the_threshold(org):
    case, review = not_ready_review(org)
    with translation.override("en"), pytest.raises(InvalidInput) as raised:
        criteria_services.extension_request(
            actor=org.caseworker,
            review=review,
            next_review_on=months_from_start(case, 30),
            reason="x",
        )
    assert "No approval is needed" in raised.value.errors["next_review_on"]


def test_extension_request__not_needed_for_a_next_review_on_the_threshold_itself(org):
    """The threshold is the last date that needs no approval: asking for it is refused
    (complete the review as not ready); the day after needs a supervisor."""
    _case, review = not_ready_review(org)
    threshold_on = criteria_services.extension_threshold_on(review)
    with translation.override("en"), pytest.raises(InvalidInput) as raised:
        criteria_services.extension_request(
            actor=org.caseworker, review=review, next_review_on=threshold_on, reason="x"
        )
    assert "No approval is needed" in raised.value.errors["next_review_on"]
    assert not review.extension_requests.exists()
    request = criteria_services.extension_request(
        actor=org.caseworker,
        review=review,
        next_review_on=threshold_on + dt.timedelta(days=1),
        reason="Terapia kesken",
    )
    assert reload(request).status == ExtensionStatus.PENDING


def test_the_threshold_is_data_of_the_checklist_version(org):
    case, review = not_ready_review(org)
    template = review.template
    template.extension_approval_after_months = 48
    template.save(update_fields=["extension_approval_after_months"])
    criteria_services.review_complete_not_ready(
        actor=org.caseworker, review=review, next_review_on=months_from_start(case, 40)
    )
    assert reload(case).state == CaseState.ACTIVE


def test_bring_forward__with_a_reason_to_a_date_before_the_planned_one(org):
    case = open_case(org, started_months_ago=6)
    planned = case.review_due_on
    soon = clock.today() + dt.timedelta(days=14)
    with translation.override("en"):
        for day, field, words in (
            (clock.today() - dt.timedelta(days=1), "review_on", "past"),
            (planned, "review_on", "before the review now planned"),
            (soon, "reason", "why"),
        ):
            with pytest.raises(InvalidInput) as raised:
                criteria_services.review_bring_forward(
                    actor=org.caseworker,
                    case=case,
                    review_on=day,
                    reason="" if field == "reason" else "Muutto",
                )
            assert words in raised.value.errors[field]
    criteria_services.review_bring_forward(
        actor=org.caseworker, case=case, review_on=soon, reason="Perhe yhdistyi"
    )
    case = reload(case)
    assert case.review_due_on == soon and case.state == CaseState.ACTIVE
    [event] = Event.objects.filter(case=case, action="bring_forward")
    assert (event.from_state, event.to_state, event.reason) == (
        planned.isoformat(),
        soon.isoformat(),
        "Perhe yhdistyi",
    )


def test_bring_forward__to_today_the_review_is_due_at_once(org):
    case = open_case(org, started_months_ago=6)
    criteria_services.review_bring_forward(
        actor=org.caseworker, case=case, review_on=clock.today(), reason="Asunto löytyi"
    )
    case = reload(case)
    assert case.state == CaseState.REVIEW_DUE
    assert Event.objects.filter(case=case, action="mark_due", actor=org.caseworker).exists()
    with pytest.raises(Conflict):  # already due: nothing to bring forward
        criteria_services.review_bring_forward(
            actor=org.caseworker, case=case, review_on=clock.today(), reason="Uudelleen"
        )


def test_bring_forward__only_the_cases_team(org):
    case = open_case(org, started_months_ago=6)
    with pytest.raises(ActorNotAllowed):
        criteria_services.review_bring_forward(
            actor=org.outsider, case=case, review_on=clock.today(), reason="x"
        )


def test_overdue_plans__the_latest_reviews_plans_past_their_date(org):
    target = clock.today() + dt.timedelta(days=10)
    case, review = not_ready_review(org, target=target)
    criteria_services.review_complete_not_ready(
        actor=org.caseworker, review=review, next_review_on=months_from_start(case, 30)
    )
    assert list(overdue_plans(on=target, team_ids=[org.koto.pk])) == []
    [late] = overdue_plans(on=target + dt.timedelta(days=1), team_ids=[org.koto.pk])
    assert late.criterion.code == "finances"
    assert (
        list(
            overdue_plans(
                on=target + dt.timedelta(days=1), team_ids=[org.koto.pk], worker=org.outsider
            )
        )
        == []
    )
    assert list(overdue_plans(on=target + dt.timedelta(days=1), team_ids=[org.adult.pk])) == []
