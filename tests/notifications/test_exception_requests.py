"""Exception requests: the caseworker asks with a justification, the team's supervisors are
told; a supervisor approves or refuses with a reason, and the caseworker is told. Both are
in the case history; the notices carry the reference and a link only."""

from __future__ import annotations

import pytest
from django.db import transaction

from cases.enums import CaseState, Role
from cases.models import Client, Event
from core.errors import ActorNotAllowed, Conflict, InvalidInput
from criteria import services as criteria_services
from criteria.enums import AssessmentStatus
from criteria.selectors import open_review_of
from notifications.channels import render
from notifications.models import (
    Channel,
    Notification,
    NotificationKind,
    NotificationPreference,
    OutboxMessage,
)
from tests.factories import case_in_state, member, reload

pytestmark = pytest.mark.django_db

JUSTIFICATION = "CANARY-NAME starts a job at Y-Säätiö next month"
REASON = "CANARY-NAME's income is not settled yet"


@pytest.fixture
def housing(org):
    """A review whose housing criterion (an exception is possible) is not met, with a
    second supervisor in the team and everyone taking e-mail."""
    org.second_supervisor = member(org.koto, Role.SUPERVISOR)
    for user in (org.caseworker, org.koto_supervisor, org.second_supervisor, org.outsider):
        NotificationPreference.objects.create(user=user, email=True)
    case = case_in_state(org, CaseState.IN_REVIEW)
    Client.objects.filter(pk=case.client_id).update(first_name="CANARY-NAME")
    review = open_review_of(case)
    housing = review.assessments.get(criterion__code="housing")
    criteria_services.assessment_update(
        actor=org.caseworker,
        assessment=housing,
        status=AssessmentStatus.NOT_MET,
        plan_action="Apply for a rental flat",
    )
    return reload(housing)


def _request(org, assessment, text=JUSTIFICATION):
    return criteria_services.assessment_request_exception(
        actor=org.caseworker, assessment=assessment, justification=text
    )


def _told(kind):
    return sorted(Notification.objects.filter(kind=kind).values_list("recipient_id", flat=True))


def test_request__tells_each_supervisor_of_the_team_once_and_is_in_the_history(org, housing):
    _request(org, housing)
    assert _told(NotificationKind.EXCEPTION_REQUESTED) == sorted(
        [org.koto_supervisor.pk, org.second_supervisor.pk]
    )
    emails = OutboxMessage.objects.filter(
        channel=Channel.EMAIL, payload__kind=NotificationKind.EXCEPTION_REQUESTED
    )
    assert sorted(m.payload["recipient"] for m in emails) == _told(
        NotificationKind.EXCEPTION_REQUESTED
    )
    event = Event.objects.get(action="request_exception")
    assert (event.actor, event.reason, event.params) == (
        org.caseworker,
        JUSTIFICATION,
        {"criterion": "housing"},
    )
    assert reload(housing).exception_requested


def test_request__twice_conflicts_and_blank_justification_is_refused(org, housing):
    with pytest.raises(InvalidInput) as refused:
        _request(org, housing, text="  ")
    assert "justification" in refused.value.errors
    assert not Event.objects.filter(action="request_exception").exists()
    _request(org, housing)
    with pytest.raises(Conflict):
        _request(org, housing)
    assert Event.objects.filter(action="request_exception").count() == 1


def test_request__not_on_a_criterion_that_allows_none(org, housing):
    family = housing.review.assessments.get(criterion__code="family")
    with pytest.raises(InvalidInput) as refused:
        _request(org, family)
    assert "criterion" in refused.value.errors


def test_refuse__tells_the_caseworker_with_no_reason_text(org, housing):
    _request(org, housing)
    criteria_services.assessment_refuse_exception(
        actor=org.koto_supervisor, assessment=housing, reason=REASON
    )
    assert _told(NotificationKind.EXCEPTION_REFUSED) == [org.caseworker.pk]
    event = Event.objects.get(action="refuse_exception")
    assert (event.actor, event.reason) == (org.koto_supervisor, REASON)
    housing = reload(housing)
    assert not housing.exception_requested and not housing.exception_approved
    assert housing.exception_refusal_reason == REASON
    # A new request replaces the refusal and waits again.
    _request(org, housing, text="A flat is signed now")
    assert reload(housing).exception_requested


def test_refuse__only_a_supervisor_of_the_team_and_only_a_waiting_request(org, housing):
    with pytest.raises(Conflict):
        criteria_services.assessment_refuse_exception(
            actor=org.koto_supervisor, assessment=housing, reason=REASON
        )
    _request(org, housing)
    for someone in (org.caseworker, org.outsider):
        with pytest.raises(ActorNotAllowed):
            criteria_services.assessment_refuse_exception(
                actor=someone, assessment=housing, reason=REASON
            )
    with pytest.raises(InvalidInput) as refused:
        criteria_services.assessment_refuse_exception(
            actor=org.koto_supervisor, assessment=housing, reason=""
        )
    assert "reason" in refused.value.errors
    assert not Event.objects.filter(action="refuse_exception").exists()
    assert _told(NotificationKind.EXCEPTION_REFUSED) == []


def test_approve__a_request_keeps_its_justification_and_tells_the_caseworker(org, housing):
    _request(org, housing)
    criteria_services.assessment_approve_exception(
        actor=org.second_supervisor, assessment=housing, justification=""
    )
    housing = reload(housing)
    assert housing.exception_approved and not housing.exception_requested
    assert housing.exception_justification == JUSTIFICATION
    assert _told(NotificationKind.EXCEPTION_APPROVED) == [org.caseworker.pk]
    with pytest.raises(Conflict):  # a second supervisor at the same time: one wins
        criteria_services.assessment_approve_exception(
            actor=org.koto_supervisor, assessment=housing, justification="x"
        )
    with pytest.raises(Conflict):
        criteria_services.assessment_refuse_exception(
            actor=org.koto_supervisor, assessment=housing, reason=REASON
        )


def test_request__withdrawn_when_the_criterion_is_assessed_again(org, housing):
    _request(org, housing)
    criteria_services.assessment_update(
        actor=org.caseworker, assessment=housing, status=AssessmentStatus.MET
    )
    assert not reload(housing).exception_requested


@pytest.mark.parametrize("decision", ["request", "approve", "refuse"])
def test_exception_notices__none_when_the_change_rolls_back(org, housing, decision):
    if decision != "request":
        _request(org, housing)
    before = (Notification.objects.count(), OutboxMessage.objects.count(), Event.objects.count())
    with pytest.raises(RuntimeError), transaction.atomic():
        if decision == "request":
            _request(org, housing)
        elif decision == "approve":
            criteria_services.assessment_approve_exception(
                actor=org.koto_supervisor, assessment=housing, justification="ok"
            )
        else:
            criteria_services.assessment_refuse_exception(
                actor=org.koto_supervisor, assessment=housing, reason=REASON
            )
        raise RuntimeError("rolled back")
    after = (Notification.objects.count(), OutboxMessage.objects.count(), Event.objects.count())
    assert after == before


def test_exception_notices__rendered_in_each_language_without_client_detail(org, housing):
    _request(org, housing)
    criteria_services.assessment_refuse_exception(
        actor=org.koto_supervisor, assessment=housing, reason=REASON
    )
    for note in Notification.objects.filter(
        kind__in=[NotificationKind.EXCEPTION_REQUESTED, NotificationKind.EXCEPTION_REFUSED]
    ):
        assert note.link == (
            f"/supervisor/?exception={housing.pk}#exception-{housing.pk}"
            if note.kind == NotificationKind.EXCEPTION_REQUESTED
            else f"/reviews/{housing.review_id}/"
        )
        seen = set()
        for language in ("fi", "sv", "en"):
            text = render(
                Channel.EMAIL,
                kind=note.kind,
                language=language,
                reference=note.reference,
                link=note.link,
                params=note.params,
            )
            body = text["subject"] + text["body"]
            assert note.reference in body
            for secret in ("CANARY", "Y-Säätiö", "income"):
                assert secret not in body
            seen.add(text["subject"])
        assert len(seen) == 3
