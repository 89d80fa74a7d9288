"""The readiness rules as the services enforce them: who may do what, and what is refused."""

import datetime as dt

import pytest
from dateutil.relativedelta import relativedelta
from django.utils import translation

from cases import services as case_services
from cases.enums import CaseState, HousingSituation, Role
from cases.models import Event, Membership
from core import clock
from core.errors import (
    ActorNotAllowed,
    CapReached,
    CriteriaNotMet,
    InvalidInput,
    RoutingNeedsManualChoice,
)
from criteria import services as criteria_services
from criteria.models import AssessmentStatus, ChecklistTemplate
from criteria.selectors import current_checklist, open_review_of
from partners.services import home_base_record
from tests.factories import assess_all_met, case_in_state, open_case, reload
from tests.snapshot import snapshot
from transfers import services
from transfers.enums import TransferState

pytestmark = pytest.mark.django_db


def assessment(case, code):
    return open_review_of(case).assessments.get(criterion__code=code)


def in_review(org, **client):
    return case_in_state(org, CaseState.IN_REVIEW, **client)


def test_review__starts_on_the_current_checklist_with_one_assessment_per_criterion(org):
    case = in_review(org, children_count=2)
    review = open_review_of(case)
    assert review.template == current_checklist()
    assert review.assessments.count() == 7
    assert set(review.assessments.values_list("status", flat=True)) == {"unassessed"}


def test_review__children_start_not_applicable_for_a_client_without_children(org):
    case = in_review(org, children_count=0)
    assert assessment(case, "children").status == AssessmentStatus.NOT_APPLICABLE


def test_review__not_applicable_refused_for_a_criterion_that_applies(org):
    case = in_review(org, children_count=1)
    with translation.override("en"), pytest.raises(InvalidInput) as raised:
        criteria_services.assessment_update(
            actor=org.caseworker,
            assessment=assessment(case, "children"),
            status=AssessmentStatus.NOT_APPLICABLE,
        )
    assert "applies to this client" in raised.value.errors["status"]


def test_review__not_met_needs_a_plan(org):
    case = in_review(org)
    with pytest.raises(InvalidInput) as raised:
        criteria_services.assessment_update(
            actor=org.caseworker,
            assessment=assessment(case, "finances"),
            status=AssessmentStatus.NOT_MET,
        )
    assert "plan_action" in raised.value.errors


def test_propose__criteria_not_met__refused_and_nothing_changes(org):
    case = in_review(org)
    before = snapshot()
    with pytest.raises(CriteriaNotMet) as raised:
        services.transfer_propose(
            consent_basis="consent", actor=org.caseworker, review=open_review_of(case)
        )
    assert "finances" in raised.value.extra["reasons"]
    assert snapshot() == before


def test_propose__homeless__blocked_until_supervisor_exception(org):
    case = in_review(org, housing_situation=HousingSituation.HOMELESS)
    assess_all_met(org, case)
    with pytest.raises(CriteriaNotMet) as raised:
        services.transfer_propose(
            consent_basis="consent", actor=org.caseworker, review=open_review_of(case)
        )
    assert raised.value.extra["reasons"] == ["homeless_or_crisis_accommodation"]

    housing = assessment(case, "housing")
    with pytest.raises(ActorNotAllowed):
        criteria_services.assessment_approve_exception(
            actor=org.caseworker, assessment=housing, justification="Housing promised"
        )
    with pytest.raises(InvalidInput) as raised:
        criteria_services.assessment_approve_exception(
            actor=org.koto_supervisor, assessment=housing, justification="  "
        )
    assert "justification" in raised.value.errors

    criteria_services.assessment_approve_exception(
        actor=org.koto_supervisor,
        assessment=housing,
        justification="Y-Säätiö flat signed for next month",
    )
    transfer = services.transfer_propose(
        consent_basis="consent", actor=org.caseworker, review=open_review_of(case)
    )
    assert transfer.state == TransferState.PROPOSED
    approved = Event.objects.get(action="approve_exception", case=case)
    assert approved.actor == org.koto_supervisor
    assert approved.reason == "Y-Säätiö flat signed for next month"
    assert approved.params == {"criterion": "housing"}
    housing = reload(housing)
    assert housing.exception_approved_by == org.koto_supervisor


def test_exception__refused_where_the_rule_allows_none(org):
    case = in_review(org)
    with pytest.raises(InvalidInput) as raised:
        criteria_services.assessment_approve_exception(
            actor=org.koto_supervisor, assessment=assessment(case, "family"), justification="x"
        )
    assert "criterion" in raised.value.errors


def test_propose__family_reunification_pending__always_blocked(org):
    case = in_review(org, family_reunification_pending=True)
    assess_all_met(org, case)
    with pytest.raises(CriteriaNotMet) as raised:
        services.transfer_propose(
            consent_basis="consent", actor=org.koto_supervisor, review=open_review_of(case)
        )
    assert raised.value.extra["reasons"] == ["family_reunification_pending"]


def test_propose__multi_problem_marker__transfer_is_escorted(org):
    case = in_review(org)
    assess_all_met(org, case)
    criteria_services.assessment_update(
        actor=org.caseworker,
        assessment=assessment(case, "authorities"),
        status=AssessmentStatus.MET,
        multi_problem=True,
    )
    transfer = services.transfer_propose(
        consent_basis="consent", actor=org.caseworker, review=open_review_of(case)
    )
    assert transfer.escorted is True


def test_propose__ppt_without_coordinator__refused_then_allowed_once_named(org):
    case = in_review(org, is_ppt=True)
    assess_all_met(org, case)
    with pytest.raises(CriteriaNotMet):
        services.transfer_propose(
            consent_basis="consent", actor=org.caseworker, review=open_review_of(case)
        )
    case_services.case_set_coordinator(
        actor=org.caseworker, case=case, coordinator="Malmi health centre, nurse"
    )
    transfer = services.transfer_propose(
        consent_basis="consent", actor=org.caseworker, review=open_review_of(case)
    )
    assert transfer.state == TransferState.PROPOSED


def test_propose__routed_by_postal_code_and_age(org):
    case = in_review(org, date_of_birth=clock.today() - relativedelta(years=22))
    assess_all_met(org, case)
    transfer = services.transfer_propose(
        consent_basis="consent", actor=org.caseworker, review=open_review_of(case)
    )
    assert transfer.receiving_team == org.youth
    assert transfer.routed_team == org.youth
    assert transfer.override_reason == ""


def test_propose__override_of_routed_team_needs_a_reason_which_is_logged(org):
    case = in_review(org)
    assess_all_met(org, case)
    with pytest.raises(InvalidInput) as raised:
        services.transfer_propose(
            consent_basis="consent",
            actor=org.caseworker,
            review=open_review_of(case),
            receiving_team=org.other_adult,
        )
    assert "override_reason" in raised.value.errors
    transfer = services.transfer_propose(
        consent_basis="consent",
        actor=org.caseworker,
        review=open_review_of(case),
        receiving_team=org.other_adult,
        override_reason="Client moves to Haaga next week",
    )
    assert (transfer.receiving_team, transfer.routed_team) == (org.other_adult, org.adult)
    event = Event.objects.get(transfer=transfer, action="propose")
    assert event.reason == "Client moves to Haaga next week"
    assert event.params["overridden"] is True


def test_propose__unknown_postal_code__asks_for_manual_choice(org):
    case = in_review(org, postal_code="00099")
    assess_all_met(org, case)
    with pytest.raises(RoutingNeedsManualChoice):
        services.transfer_propose(
            consent_basis="consent", actor=org.caseworker, review=open_review_of(case)
        )
    transfer = services.transfer_propose(
        consent_basis="consent",
        actor=org.caseworker,
        review=open_review_of(case),
        receiving_team=org.adult,
        override_reason="PO box; client lives in Malmi",
    )
    assert transfer.routed_team is None


def test_not_ready__next_review_required_and_not_past_the_cap(org):
    case = case_in_state(org, CaseState.IN_REVIEW)
    criteria_services.assessment_update(
        actor=org.caseworker,
        assessment=assessment(case, "health"),
        status=AssessmentStatus.NOT_MET,
        plan_action="Psychiatric nurse contact",
    )
    review = open_review_of(case)
    for bad in (None, clock.today(), case.cap_on + dt.timedelta(days=1)):
        with pytest.raises(InvalidInput) as raised:
            criteria_services.review_complete_not_ready(
                actor=org.caseworker, review=review, next_review_on=bad
            )
        assert "next_review_on" in raised.value.errors
    # Up to the cap, with a supervisor's approval (past the 36-month threshold).
    criteria_services.extension_decide(
        actor=org.koto_supervisor,
        extension=criteria_services.extension_request(
            actor=org.caseworker, review=review, next_review_on=case.cap_on, reason="Hoito"
        ),
        approve=True,
        reason="Hyväksytty",
    )
    criteria_services.review_complete_not_ready(
        actor=org.caseworker, review=review, next_review_on=case.cap_on
    )
    case = reload(case)
    assert case.state == CaseState.ACTIVE
    assert case.review_due_on == case.cap_on


def test_not_ready__refused_when_every_criterion_is_met(org):
    case = in_review(org)
    assess_all_met(org, case)
    with pytest.raises(Exception) as raised:
        criteria_services.review_complete_not_ready(
            actor=org.caseworker,
            review=open_review_of(case),
            next_review_on=clock.today() + dt.timedelta(days=90),
        )
    assert raised.value.code == "conflict"


def _case_at_cap(org, **client):
    case = open_case(org, started_months_ago=61, **client)
    case_services.case_mark_due(case=case)
    criteria_services.review_start(actor=org.caseworker, case=case)
    return reload(case)


def test_cap__no_next_review_only_transfer_or_closure_by_a_supervisor(org):
    case = _case_at_cap(org)
    review = open_review_of(case)
    with pytest.raises(CapReached):
        criteria_services.review_complete_not_ready(
            actor=org.koto_supervisor,
            review=review,
            next_review_on=clock.today() + dt.timedelta(days=30),
        )
    with pytest.raises(CapReached):
        services.case_close(actor=org.caseworker, case=case, reason="no_further_need")
    with pytest.raises(CapReached):
        services.transfer_propose(consent_basis="consent", actor=org.caseworker, review=review)
    with pytest.raises(InvalidInput):
        services.transfer_propose(
            consent_basis="consent", actor=org.koto_supervisor, review=review, decision=""
        )
    # The supervisor decides on the transfer even though the checklist is not complete.
    transfer = services.transfer_propose(
        consent_basis="consent",
        actor=org.koto_supervisor,
        review=review,
        decision="5-year cap: continue in the region",
    )
    event = Event.objects.get(case=case, action="propose_transfer")
    assert event.params["at_cap"] is True
    assert event.params["ready"] is False
    assert event.actor_role == Role.SUPERVISOR
    assert transfer.state == TransferState.PROPOSED


def test_cap__supervisor_closes_with_decision_recorded(org):
    case = _case_at_cap(org)
    home_base_record(actor=org.caseworker, case=case, reason="Ei halua kotipesää.")
    services.case_close(
        actor=org.koto_supervisor, case=case, reason="no_further_need", decision="Managing well"
    )
    event = Event.objects.get(case=case, action="close")
    assert event.params["at_cap"] is True and event.params["decision"] == "Managing well"


def test_case__reunited_family_with_long_resident_sponsor__review_due_after_12_months(org):
    start = clock.today() - relativedelta(months=3)
    from tests.factories import make_client

    client = make_client(
        org,
        reunited_family=True,
        family_situation_stable=True,
        sponsor_in_finland_since=start - relativedelta(years=6),
    )
    case = criteria_services.case_open(
        actor=org.caseworker,
        client=client,
        team=org.koto,
        responsible_worker=org.caseworker,
        integration_started_on=start,
    )
    assert case.review_due_on == start + relativedelta(months=12)


def test_checklist__new_version_applies_to_new_reviews_only(org):
    old_case = in_review(org)
    v1 = current_checklist()
    v2 = criteria_services.checklist_copy(template=v1)
    v2.criteria.filter(code="study_work").update(name_fi="Opiskelu, työ tai arki")
    criteria_services.checklist_publish(template=v2)
    assert ChecklistTemplate.objects.get(is_current=True) == v2

    new_case = in_review(org, first_name="Second")
    assert open_review_of(old_case).template == v1
    assert open_review_of(new_case).template == v2
    assert assessment(new_case, "study_work").criterion.name_fi == "Opiskelu, työ tai arki"


def test_actor__other_team_cannot_act_and_nothing_changes(org):
    case = in_review(org)
    assess_all_met(org, case)
    transfer = services.transfer_propose(
        consent_basis="consent", actor=org.caseworker, review=open_review_of(case)
    )
    before = snapshot()
    with pytest.raises(ActorNotAllowed):
        services.transfer_accept(
            actor=org.outsider, transfer=transfer, receiving_worker=org.receiving_worker
        )
    with pytest.raises(ActorNotAllowed):
        services.transfer_accept(
            actor=org.caseworker, transfer=transfer, receiving_worker=org.receiving_worker
        )
    with pytest.raises(ActorNotAllowed):
        services.transfer_cancel(actor=org.receiving_worker, transfer=transfer, reason="x")
    assert snapshot() == before


def test_actor__superuser_without_membership_is_not_exempt(org, django_user_model):
    admin = django_user_model.objects.create_superuser("root", password="pw")
    case = in_review(org)
    with pytest.raises(ActorNotAllowed):
        services.case_close(actor=admin, case=case, reason="moved_away")
    assert not Membership.objects.filter(user=admin).exists()
