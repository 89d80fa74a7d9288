"""The guards of the review services (criteria/services.py), proved where they are enforced:
calling the service itself. Each refusal changes nothing."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.utils import translation

from cases.enums import CaseAction, CaseState, HousingSituation, Role
from cases.models import Event
from core import clock
from core.errors import ActorNotAllowed, CapReached, Conflict, InvalidInput, TransitionNotAllowed
from criteria import services as criteria_services
from criteria.enums import ReviewAction
from criteria.models import (
    AssessmentStatus,
    ChecklistTemplate,
    CriterionDefinition,
    Review,
    ReviewOutcome,
)
from criteria.selectors import current_checklist, open_review_of
from tests.factories import assess_all_met, case_in_state, member, open_case, reload
from tests.snapshot import snapshot

pytestmark = pytest.mark.django_db

MET, NOT_MET, NOT_APPLICABLE = (
    AssessmentStatus.MET,
    AssessmentStatus.NOT_MET,
    AssessmentStatus.NOT_APPLICABLE,
)


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def in_review(org, **client):
    return case_in_state(org, CaseState.IN_REVIEW, **client)


def assessment(case, code):
    return open_review_of(case).assessments.select_related("criterion").get(criterion__code=code)


def update(org, case, code, status, actor=None, **fields):
    return criteria_services.assessment_update(
        actor=actor or org.caseworker, assessment=assessment(case, code), status=status, **fields
    )


def events(case, action):
    return Event.objects.filter(case=case, action=action).order_by("pk")


# --- starting a review ---------------------------------------------------------------------


def test_review_start__by_the_sending_team_with_one_event(org):
    case = case_in_state(org, CaseState.REVIEW_DUE)
    review = criteria_services.review_start(actor=org.koto_supervisor, case=case)
    assert reload(case).state == CaseState.IN_REVIEW
    assert review.started_by == org.koto_supervisor and review.is_open
    event = events(case, CaseAction.START_REVIEW).get()
    assert event.review_id == review.pk
    assert event.params == {"checklist_version": current_checklist().version}
    assert event.actor_role == Role.SUPERVISOR


@pytest.mark.parametrize("actor", ["receiving_supervisor", "outsider", "front_desk"])
def test_review_start__by_someone_outside_the_sending_team__refused(org, actor):
    case = case_in_state(org, CaseState.REVIEW_DUE)
    before = snapshot()
    with pytest.raises(ActorNotAllowed):
        criteria_services.review_start(actor=getattr(org, actor), case=case)
    assert snapshot() == before


def test_review_start__before_the_review_is_due__refused_and_no_review_made(org):
    case = open_case(org)
    before = snapshot()
    with pytest.raises(TransitionNotAllowed):
        criteria_services.review_start(actor=org.caseworker, case=case)
    assert snapshot() == before


# --- assessing a criterion ---------------------------------------------------------------


def test_assess__met_with_note_and_one_event(org):
    case = in_review(org)
    saved = update(org, case, "finances", MET, note="Kela decision in force")
    assert (saved.status, saved.note) == (MET, "Kela decision in force")
    event = Event.objects.filter(review=saved.review, action=ReviewAction.ASSESS).get()
    assert (event.from_state, event.to_state) == (AssessmentStatus.UNASSESSED, MET)
    assert event.params == {"criterion": "finances", "multi_problem": False}


def test_assess__not_met_with_a_plan_saved_whole(org):
    case = in_review(org)
    target = clock.today() + dt.timedelta(days=30)
    saved = update(
        org, case, "finances", NOT_MET,
        plan_action="Apply for income support", plan_owner="Social counsellor",
        plan_target_on=target,
    )  # fmt: skip
    saved = reload(saved)
    assert (saved.plan_action, saved.plan_owner, saved.plan_target_on) == (
        "Apply for income support",
        "Social counsellor",
        target,
    )


@pytest.mark.parametrize(
    ("code", "status", "fields", "field"),
    [
        ("finances", "nearly", {}, "status"),
        ("finances", NOT_APPLICABLE, {}, "status"),
        ("finances", NOT_MET, {"plan_action": "   "}, "plan_action"),
        ("finances", MET, {"multi_problem": True}, "multi_problem"),
    ],
)
def test_assess__bad_input__refused_naming_the_field(org, code, status, fields, field):
    case = in_review(org)
    before = snapshot()
    with pytest.raises(InvalidInput) as refused:
        update(org, case, code, status, **fields)
    assert list(refused.value.errors) == [field]
    assert snapshot() == before


def test_assess__multi_problem_marked_on_the_criterion_that_has_the_marker(org):
    case = in_review(org)
    saved = update(org, case, "authorities", MET, multi_problem=True)
    assert reload(saved).multi_problem is True


def test_assess__children_not_applicable_for_a_client_without_children(org):
    case = in_review(org, children_count=0)
    saved = update(org, case, "children", NOT_APPLICABLE)
    assert saved.status == NOT_APPLICABLE


def test_assess__set_back_to_not_assessed_as_the_admin_offers__saved_without_a_plan(org):
    """Only "not met" needs a plan: a criterion set back to "not assessed yet" (a choice
    of the admin's form) is saved as it is, with its event."""
    case = in_review(org)
    update(org, case, "finances", NOT_MET, plan_action="Apply for income support")
    saved = update(org, case, "finances", AssessmentStatus.UNASSESSED.value)
    assert reload(saved).status == AssessmentStatus.UNASSESSED
    event = events(case, ReviewAction.ASSESS).last()
    assert (event.from_state, event.to_state) == (NOT_MET, AssessmentStatus.UNASSESSED)


@pytest.mark.parametrize("actor", ["receiving_worker", "outsider"])
def test_assess__by_someone_outside_the_sending_team__refused(org, actor):
    case = in_review(org)
    before = snapshot()
    with pytest.raises(ActorNotAllowed):
        update(org, case, "finances", MET, actor=getattr(org, actor))
    assert snapshot() == before


def test_assess__a_deactivated_caseworker__refused(org):
    case = in_review(org)
    gone = member(org.koto, Role.CASEWORKER, is_active=False)
    with pytest.raises(ActorNotAllowed):
        update(org, case, "finances", MET, actor=gone)


def test_assess__a_completed_review__conflict(org):
    case = in_review(org)
    old = assessment(case, "finances")
    assess_all_met(org, case)
    from transfers import services

    services.transfer_propose(
        consent_basis="consent", actor=org.caseworker, review=open_review_of(case)
    )
    with pytest.raises(Conflict):
        criteria_services.assessment_update(actor=org.caseworker, assessment=old, status=NOT_MET)
    with pytest.raises(Conflict):
        criteria_services.assessment_approve_exception(
            actor=org.koto_supervisor, assessment=old, justification="x"
        )


# --- a supervisor's exception ----------------------------------------------------------------


def _homeless_housing_not_met(org):
    case = in_review(org, housing_situation=HousingSituation.HOMELESS)
    update(org, case, "housing", NOT_MET, plan_action="Housing application")
    return case


def test_exception__approved_by_a_supervisor_in_writing_with_one_event(org):
    case = _homeless_housing_not_met(org)
    approved = criteria_services.assessment_approve_exception(
        actor=org.koto_supervisor,
        assessment=assessment(case, "housing"),
        justification="  Supported housing from next month  ",
    )
    approved = reload(approved)
    assert approved.exception_approved
    assert approved.exception_approved_by == org.koto_supervisor
    assert approved.exception_justification == "Supported housing from next month"
    assert approved.exception_approved_at is not None
    event = Event.objects.get(review=approved.review, action=ReviewAction.APPROVE_EXCEPTION)
    assert event.reason == "Supported housing from next month"
    assert event.params == {"criterion": "housing"}
    assert event.actor_role == Role.SUPERVISOR


@pytest.mark.parametrize("actor", ["caseworker", "receiving_supervisor", "outsider"])
def test_exception__by_anyone_but_a_supervisor_of_the_team__refused(org, actor):
    case = _homeless_housing_not_met(org)
    before = snapshot()
    with pytest.raises(ActorNotAllowed):
        criteria_services.assessment_approve_exception(
            actor=getattr(org, actor), assessment=assessment(case, "housing"), justification="x"
        )
    assert snapshot() == before


def test_exception__without_justification_or_where_none_is_allowed__refused(org):
    case = _homeless_housing_not_met(org)
    with pytest.raises(InvalidInput) as blank:
        criteria_services.assessment_approve_exception(
            actor=org.koto_supervisor, assessment=assessment(case, "housing"), justification=" "
        )
    assert list(blank.value.errors) == ["justification"]
    with pytest.raises(InvalidInput) as none_allowed:
        criteria_services.assessment_approve_exception(
            actor=org.koto_supervisor, assessment=assessment(case, "finances"), justification="x"
        )
    assert list(none_allowed.value.errors) == ["criterion"]
    assert not assessment(case, "housing").exception_approved


def test_exception__withdrawn_when_the_status_changes_kept_when_it_does_not(org):
    case = _homeless_housing_not_met(org)
    criteria_services.assessment_approve_exception(
        actor=org.koto_supervisor, assessment=assessment(case, "housing"), justification="Why"
    )
    update(org, case, "housing", NOT_MET, plan_action="Housing application", note="checked")
    kept = assessment(case, "housing")
    assert kept.exception_approved and kept.exception_justification == "Why"
    update(org, case, "housing", MET)
    gone = assessment(case, "housing")
    assert not gone.exception_approved
    assert gone.exception_approved_by is None and gone.exception_justification == ""


def test_exception__on_a_met_housing_criterion__withdrawn_when_it_is_reassessed_not_met(org):
    """The exception that lifts a homeless client's housing blocker was approved for "met";
    judged not met after all, the approval no longer holds (whichever way the change goes)."""
    case = in_review(org, housing_situation=HousingSituation.HOMELESS)
    update(org, case, "housing", MET)
    criteria_services.assessment_approve_exception(
        actor=org.koto_supervisor, assessment=assessment(case, "housing"), justification="Why"
    )
    update(org, case, "housing", NOT_MET, plan_action="Housing application")
    gone = assessment(case, "housing")
    assert not gone.exception_approved
    assert gone.exception_approved_by is None and gone.exception_justification == ""


# --- completing a review as not ready --------------------------------------------------------


def _not_ready(org, **client):
    case = in_review(org, **client)
    update(org, case, "health", NOT_MET, plan_action="Psychiatric nurse contact")
    return case


def test_not_ready__completed_with_the_next_review_and_one_event(org):
    case = _not_ready(org, housing_situation=HousingSituation.HOMELESS)
    review = open_review_of(case)
    next_on = clock.today() + dt.timedelta(days=180)
    criteria_services.review_complete_not_ready(
        actor=org.caseworker, review=review, next_review_on=next_on
    )
    review = reload(review)
    assert (review.outcome, review.next_review_on) == (ReviewOutcome.NOT_READY, next_on)
    assert review.completed_at is not None
    case = reload(case)
    assert (case.state, case.review_due_on) == (CaseState.ACTIVE, next_on)
    event = events(case, CaseAction.COMPLETE_NOT_READY).get()
    assert event.review_id == review.pk
    assert event.params["next_review_on"] == next_on.isoformat()
    assert "health" in event.params["unmet"]
    assert event.params["blockers"] == ["homeless_or_crisis_accommodation"]


def test_not_ready__a_not_met_criterion_without_plan__refused_naming_it(org):
    case = in_review(org)
    review = open_review_of(case)
    # Not met without a plan can only come from an earlier version of the rules: set it.
    review.assessments.filter(criterion__code="health").update(status=NOT_MET)
    with pytest.raises(InvalidInput) as refused:
        criteria_services.review_complete_not_ready(
            actor=org.caseworker, review=review, next_review_on=clock.today() + dt.timedelta(1)
        )
    assert list(refused.value.errors) == ["plan_action"]
    # Named as the checklist names it, never by its code.
    message = refused.value.errors["plan_action"]
    assert "Health" in message and "health" not in message, message


@pytest.mark.parametrize("actor", ["receiving_supervisor", "outsider"])
def test_not_ready__by_someone_outside_the_sending_team__refused(org, actor):
    case = _not_ready(org)
    before = snapshot()
    with pytest.raises(ActorNotAllowed):
        criteria_services.review_complete_not_ready(
            actor=getattr(org, actor),
            review=open_review_of(case),
            next_review_on=clock.today() + dt.timedelta(days=30),
        )
    assert snapshot() == before


def test_not_ready__a_completed_review__conflict(org):
    case = _not_ready(org)
    review = open_review_of(case)
    criteria_services.review_complete_not_ready(
        actor=org.caseworker, review=review, next_review_on=clock.today() + dt.timedelta(days=9)
    )
    case_in_due = reload(case)
    from cases import services as case_services

    case_services.case_mark_due(case=case_in_due)
    criteria_services.review_start(actor=org.caseworker, case=case_in_due)
    with pytest.raises(Conflict):
        criteria_services.review_complete_not_ready(
            actor=org.caseworker, review=review, next_review_on=clock.today() + dt.timedelta(9)
        )


def test_not_ready__on_the_cap_day__refused(org):
    case = open_case(org, started_months_ago=60)
    from cases import services as case_services

    case_services.case_mark_due(case=case)
    criteria_services.review_start(actor=org.caseworker, case=case)
    update(org, case, "health", NOT_MET, plan_action="x")
    with pytest.raises(CapReached):
        criteria_services.review_complete_not_ready(
            actor=org.koto_supervisor,
            review=open_review_of(case),
            next_review_on=clock.today() + dt.timedelta(days=1),
        )


@pytest.mark.parametrize(
    ("next_on", "words"),
    [
        (None, "Give the date of the next review"),
        ("today", "must be after today"),
        ("past_cap", "5-year cap"),
    ],
)
def test_not_ready__next_review_date__refused_with_the_reason(org, next_on, words):
    case = _not_ready(org)
    day = {None: None, "today": clock.today(), "past_cap": case.cap_on + dt.timedelta(days=1)}
    with pytest.raises(InvalidInput) as refused:
        criteria_services.review_complete_not_ready(
            actor=org.caseworker, review=open_review_of(case), next_review_on=day[next_on]
        )
    assert words in refused.value.errors["next_review_on"]


# --- after a return: the review continues from the last one ---------------------------------


def test_review_continue__copies_every_assessment_and_the_exception(org):
    case = _homeless_housing_not_met(org)
    criteria_services.assessment_approve_exception(
        actor=org.koto_supervisor, assessment=assessment(case, "housing"), justification="Why"
    )
    update(org, case, "authorities", MET, multi_problem=True, note="Cannot read")
    previous = open_review_of(case)
    # As after a returned transfer: the review ended ready, the next one continues it.
    criteria_services.review_finish(previous, outcome=ReviewOutcome.READY, at=clock.now())
    copy = criteria_services.review_continue(previous=previous, actor=None)
    assert copy.pk != previous.pk and copy.template == previous.template
    assert copy.started_by == previous.started_by
    fields = [
        "criterion_id", "status", "note", "plan_action", "plan_owner", "plan_target_on",
        "multi_problem", "exception_justification", "exception_approved_by",
        "exception_approved_at",
    ]  # fmt: skip
    assert list(copy.assessments.order_by("criterion__order").values(*fields)) == list(
        previous.assessments.order_by("criterion__order").values(*fields)
    )
    criteria_services.review_finish(copy, outcome=ReviewOutcome.READY, at=clock.now())
    by_someone = criteria_services.review_continue(previous=previous, actor=org.koto_supervisor)
    assert by_someone.started_by == org.koto_supervisor


# --- checklist versions ------------------------------------------------------------------------


def test_checklist_copy__a_new_unpublished_version_after_the_latest(org):
    v1 = current_checklist()
    v2 = criteria_services.checklist_copy(template=v1)
    v3 = criteria_services.checklist_copy(template=v1)  # a copy of the old one still comes last
    assert (v2.version, v3.version) == (v1.version + 1, v1.version + 2)
    assert not v2.is_current and v2.published_at is None
    assert v2.sponsor_long_residence_years == v1.sponsor_long_residence_years
    assert v2.title == v1.title
    fields = ["code", "order", "name_fi", "exception_allowed", "requires_children"]
    assert list(v2.criteria.order_by("order").values(*fields)) == list(
        v1.criteria.order_by("order").values(*fields)
    )
    assert current_checklist() == v1


def test_checklist_publish__one_current_version_and_never_an_empty_one(org):
    v1 = current_checklist()
    empty = ChecklistTemplate.objects.create(version=v1.version + 5, title="Empty")
    with pytest.raises(InvalidInput) as refused:
        criteria_services.checklist_publish(template=empty)
    assert list(refused.value.errors) == ["criteria"]
    assert current_checklist() == v1
    v2 = criteria_services.checklist_copy(template=v1)
    published = criteria_services.checklist_publish(template=v2)
    assert published.is_current and published.published_at is not None
    assert list(ChecklistTemplate.objects.filter(is_current=True)) == [v2]
    assert CriterionDefinition.objects.filter(template=v2).count() == v1.criteria.count()


# --- nothing half-written -------------------------------------------------------------------


@pytest.mark.parametrize("service", ["start", "assess", "exception", "not_ready"])
def test_services__event_cannot_be_written__the_change_is_undone(org, service):
    case = case_in_state(org, CaseState.REVIEW_DUE)
    if service != "start":
        criteria_services.review_start(actor=org.caseworker, case=case)
        update(org, case, "housing", NOT_MET, plan_action="Housing application")
    before = snapshot()
    calls = {
        "start": lambda: criteria_services.review_start(actor=org.caseworker, case=case),
        "assess": lambda: update(org, case, "finances", MET),
        "exception": lambda: criteria_services.assessment_approve_exception(
            actor=org.koto_supervisor, assessment=assessment(case, "housing"), justification="x"
        ),
        "not_ready": lambda: criteria_services.review_complete_not_ready(
            actor=org.caseworker,
            review=open_review_of(case),
            next_review_on=clock.today() + dt.timedelta(days=30),
        ),
    }
    with (
        mock.patch("criteria.services.review_event", side_effect=RuntimeError("down")),
        mock.patch("cases.services.case_event", side_effect=RuntimeError("down")),
        pytest.raises(RuntimeError),
    ):
        calls[service]()
    assert snapshot() == before
    assert Review.objects.filter(case=case).count() == (0 if service == "start" else 1)


def test_assess__statuses_as_a_form_or_the_api_sends_them__same_rules(org):
    """The page and the API send the status as plain text, not as the enum's member."""
    case = in_review(org)
    not_met, not_applicable = "".join(["not_", "met"]), "".join(["not_", "applicable"])
    with pytest.raises(InvalidInput) as no_plan:
        update(org, case, "finances", not_met)
    assert list(no_plan.value.errors) == ["plan_action"]
    with pytest.raises(InvalidInput) as applies:
        update(org, case, "finances", not_applicable)
    assert list(applies.value.errors) == ["status"]


def test_checklist_copy__a_criterion_that_cannot_be_copied__no_version_is_left_behind(org):
    v1 = current_checklist()
    before = snapshot()
    with (
        mock.patch.object(
            CriterionDefinition.objects, "bulk_create", side_effect=RuntimeError("down")
        ),
        pytest.raises(RuntimeError),
    ):
        criteria_services.checklist_copy(template=v1)
    assert snapshot() == before
    assert list(ChecklistTemplate.objects.values_list("version", flat=True)) == [v1.version]


def test_checklist_publish__the_new_version_cannot_be_saved__the_old_one_stays_current(org):
    v1 = current_checklist()
    v2 = criteria_services.checklist_copy(template=v1)
    before = snapshot()
    with (
        mock.patch.object(ChecklistTemplate, "save", side_effect=RuntimeError("down")),
        pytest.raises(RuntimeError),
    ):
        criteria_services.checklist_publish(template=v2)
    assert snapshot() == before
    assert current_checklist() == v1
