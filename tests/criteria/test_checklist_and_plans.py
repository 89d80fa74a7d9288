"""The checklist saved in one go, "not assessed yet" apart from "not met", and plans that
are closed when their criterion is met."""

import datetime as dt

import pytest
from django.db import connection
from django.utils import translation

from cases.enums import CaseState
from cases.models import Event
from core import clock
from core.errors import InvalidInput
from criteria import rules
from criteria import services as criteria_services
from criteria.models import AssessmentStatus
from criteria.selectors import open_review_of, review_readiness
from tests.factories import case_in_state, reload

pytestmark = pytest.mark.django_db


def checklist(case):
    review = open_review_of(case)
    return review, {a.criterion.code: a for a in review.assessments.select_related("criterion")}


def not_met(plan="Kela-hakemus", target=None, owner=""):
    return {
        "status": AssessmentStatus.NOT_MET,
        "plan_action": plan,
        "plan_owner": owner,
        "plan_target_on": target,
    }


def test_readiness__before_anything_is_assessed_nothing_is_not_met_and_no_exception(org):
    case = case_in_state(org, CaseState.IN_REVIEW, housing_situation="homeless")
    review, _ = checklist(case)
    readiness = review_readiness(review)
    assert not readiness.ready
    assert readiness.not_met == ()
    assert len(readiness.unassessed) == 6  # children does not apply: no children
    assert set(readiness.unmet) == set(readiness.unassessed)
    assert readiness.exceptions_possible == ()  # housing is not assessed yet
    assert readiness.missing_plans == ()


def test_readiness__assessed_not_met_moves_from_unassessed_to_not_met(org):
    case = case_in_state(org, CaseState.IN_REVIEW)
    review, by_code = checklist(case)
    criteria_services.assessment_update(
        actor=org.caseworker, assessment=by_code["housing"], **not_met()
    )
    readiness = review_readiness(review)
    assert readiness.not_met == ("housing",)
    assert "housing" not in readiness.unassessed and len(readiness.unassessed) == 5
    assert readiness.exceptions_possible == ("housing",)


def test_rules__a_criterion_marked_not_applicable_that_applies_again_is_to_assess():
    facts = rules.CriterionFacts(
        code="children", status=rules.NOT_APPLICABLE, requires_children=True
    )
    client = rules.ClientFacts(
        has_children=True, family_reunification_pending=False, housing_situation="settled"
    )
    result = rules.readiness(client, [facts])
    assert result.unassessed == ("children",) and result.not_met == ()


def test_review_assess__all_or_nothing_with_every_criterions_errors(org):
    case = case_in_state(org, CaseState.IN_REVIEW)
    review, by_code = checklist(case)
    yesterday = clock.today() - dt.timedelta(days=1)
    with translation.override("en"), pytest.raises(criteria_services.ChecklistInvalid) as raised:
        criteria_services.review_assess(
            actor=org.caseworker,
            review=review,
            changes=[
                (by_code["housing"], {"status": AssessmentStatus.MET}),
                (by_code["finances"], not_met(target=yesterday)),
                (by_code["health"], not_met(plan="")),
            ],
        )
    errors = raised.value.by_assessment
    assert set(errors) == {by_code["finances"].pk, by_code["health"].pk}
    assert "past" in errors[by_code["finances"].pk]["plan_target_on"]
    assert "plan_action" in errors[by_code["health"].pk]
    assert f"a{by_code['health'].pk}-plan_action" in raised.value.errors
    assert reload(by_code["housing"]).status == AssessmentStatus.UNASSESSED  # rolled back
    assert not Event.objects.filter(review=review, subject="review").exists()


def test_plan_target__refused_in_the_past_and_past_the_cap_but_today_is_fine(org):
    case = case_in_state(org, CaseState.IN_REVIEW)
    _, by_code = checklist(case)
    today = clock.today()
    with translation.override("en"):
        for target, words in (
            (today - dt.timedelta(days=1), "past"),
            (case.cap_on + dt.timedelta(days=1), "cap"),
        ):
            with pytest.raises(InvalidInput) as raised:
                criteria_services.assessment_update(
                    actor=org.caseworker, assessment=by_code["finances"], **not_met(target=target)
                )
            assert words in raised.value.errors["plan_target_on"]
    done = criteria_services.assessment_update(
        actor=org.caseworker, assessment=by_code["finances"], **not_met(target=today)
    )
    assert done.plan_target_on == today


def test_plan__closed_when_the_criterion_is_met_and_the_closing_recorded(org):
    case = case_in_state(org, CaseState.IN_REVIEW)
    review, by_code = checklist(case)
    target = clock.today() + dt.timedelta(days=20)
    criteria_services.assessment_update(
        actor=org.caseworker,
        assessment=by_code["finances"],
        **not_met(target=target, owner="Asiakas"),
    )
    met = criteria_services.assessment_update(
        actor=org.caseworker,
        assessment=by_code["finances"],
        status=AssessmentStatus.MET,
        plan_action="Kela-hakemus",  # still in the form: the plan is closed all the same
        plan_target_on=target,
    )
    met = reload(met)
    assert (met.plan_action, met.plan_owner, met.plan_target_on) == ("", "", None)
    [closed] = Event.objects.filter(review=review, action="close_plan")
    assert closed.params == {"criterion": "finances", "plan_target_on": target.isoformat()}
    assert closed.actor == org.caseworker
    # Met again without a plan: nothing more to close.
    criteria_services.assessment_update(
        actor=org.caseworker, assessment=by_code["finances"], status=AssessmentStatus.MET
    )
    assert Event.objects.filter(review=review, action="close_plan").count() == 1


def test_plan__with_an_action_and_no_target_date_closed_when_the_criterion_is_met(org):
    """A plan is open when it has an action or a target date: one written without a date
    is closed (and the closing recorded) all the same."""
    case = case_in_state(org, CaseState.IN_REVIEW)
    review, by_code = checklist(case)
    criteria_services.assessment_update(
        actor=org.caseworker, assessment=by_code["finances"], **not_met(target=None)
    )
    criteria_services.assessment_update(
        actor=org.caseworker, assessment=by_code["finances"], status=AssessmentStatus.MET
    )
    [closed] = Event.objects.filter(review=review, action="close_plan")
    assert closed.params == {"criterion": "finances", "plan_target_on": None}
    assert reload(by_code["finances"]).plan_action == ""


def test_plan__closed_when_met_is_given_as_the_plain_text_a_form_or_the_api_sends(org):
    """The checklist form and the API give the status as text ("met"), not as the enum:
    the plan is closed and recorded just as for the enum member."""
    case = case_in_state(org, CaseState.IN_REVIEW)
    review, by_code = checklist(case)
    target = clock.today() + dt.timedelta(days=20)
    criteria_services.assessment_update(
        actor=org.caseworker, assessment=by_code["finances"], **not_met(target=target)
    )
    criteria_services.review_assess(
        actor=org.caseworker,
        review=review,
        changes=[(by_code["finances"], {"status": "met", "plan_target_on": target})],
    )
    met = reload(by_code["finances"])
    assert (met.status, met.plan_action, met.plan_target_on) == ("met", "", None)
    [closed] = Event.objects.filter(review=review, action="close_plan")
    assert closed.params == {"criterion": "finances", "plan_target_on": target.isoformat()}


def test_review_assess__saves_the_checklist_when_ids_run_into_the_thousands(org):
    """As in production, where review ids run past the small numbers: an assessment of
    the review asked for is recognised as its own by the id's value."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence('criteria_review', 'id'))"
            " FROM generate_series(1, 1000)"
        )
    case = case_in_state(org, CaseState.IN_REVIEW)
    review, by_code = checklist(case)
    review = reload(review)
    assessment = reload(by_code["housing"])
    assert review.pk > 1000
    [saved] = criteria_services.review_assess(
        actor=org.caseworker,
        review=review,
        changes=[(assessment, {"status": AssessmentStatus.MET})],
    )
    assert reload(saved).status == AssessmentStatus.MET
