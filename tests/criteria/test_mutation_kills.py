"""Rules of criteria/services.py that the mutation run (make mutate) found untested: each
test here kills a mutant that changed behaviour with every other test still green (see
mutation/reports/criteria-services.md)."""

import pytest
from dateutil.relativedelta import relativedelta
from django.utils import translation

from cases.enums import CaseState
from cases.models import Event
from core import clock
from core.errors import Conflict, InvalidInput
from criteria import services as criteria_services
from criteria.enums import ExtensionStatus
from criteria.models import AssessmentStatus
from criteria.selectors import open_review_of
from tests.factories import case_in_state, open_case, reload

pytestmark = pytest.mark.django_db


def not_ready_review(org):
    """A case in review with finances not met (with a plan), the other criteria met."""
    case = case_in_state(org, CaseState.IN_REVIEW)
    review = open_review_of(case)
    for assessment in review.assessments.select_related("criterion"):
        if assessment.status == AssessmentStatus.NOT_APPLICABLE:
            continue
        met = assessment.criterion.code != "finances"
        criteria_services.assessment_update(
            actor=org.caseworker,
            assessment=assessment,
            status=AssessmentStatus.MET if met else AssessmentStatus.NOT_MET,
            plan_action="" if met else "Kela-hakemus",
        )
    return case, review


def extension_requested(org):
    """`not_ready_review` with the caseworker's request for a later review (40 months)."""
    case, review = not_ready_review(org)
    request = criteria_services.extension_request(
        actor=org.caseworker,
        review=review,
        next_review_on=case.integration_started_on + relativedelta(months=40),
        reason="Terapia kesken",
    )
    return request


def housing_exception_requested(org):
    """A case in review with housing not met (with a plan) and an exception requested."""
    review = open_review_of(case_in_state(org, CaseState.IN_REVIEW))
    housing = review.assessments.get(criterion__code="housing")
    criteria_services.assessment_update(
        actor=org.caseworker,
        assessment=housing,
        status=AssessmentStatus.NOT_MET,
        plan_action="Vuokra-asunnon haku",
    )
    criteria_services.assessment_request_exception(
        actor=org.caseworker, assessment=reload(housing), justification="Asunto tulossa"
    )
    return review, housing


def test_extension_decide__a_refused_request_cannot_be_decided_again(org):
    request = extension_requested(org)
    criteria_services.extension_decide(
        actor=org.koto_supervisor, extension=request, approve=False, reason="Siirto nyt"
    )
    with pytest.raises(Conflict):
        criteria_services.extension_decide(
            actor=org.koto_supervisor, extension=request, approve=True, reason="Sittenkin"
        )
    assert reload(request).status == ExtensionStatus.REFUSED


@pytest.mark.parametrize("other", ["earlier", "later"])
def test_review_assess__an_assessment_of_another_review_is_refused(org, other):
    first = open_review_of(case_in_state(org, CaseState.IN_REVIEW))
    second = open_review_of(case_in_state(org, CaseState.IN_REVIEW, first_name="Omar"))
    review, foreign = (second, first) if other == "earlier" else (first, second)
    assessment = foreign.assessments.exclude(status=AssessmentStatus.NOT_APPLICABLE).first()
    with pytest.raises(InvalidInput) as raised:
        criteria_services.review_assess(
            actor=org.caseworker,
            review=review,
            changes=[(assessment, {"status": AssessmentStatus.MET})],
        )
    assert set(raised.value.errors) == {"review"}
    assert reload(assessment).status == AssessmentStatus.UNASSESSED


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_bring_forward__in_autocommit_it_runs_in_a_transaction_of_its_own(org):
    """Called outside any transaction (a worker, a shell), the service still locks the case
    and writes the date, the event and the due state together."""
    case = open_case(org, started_months_ago=6)
    criteria_services.review_bring_forward(
        actor=org.koto_supervisor, case=case, review_on=clock.today(), reason="Asunto löytyi"
    )
    case = reload(case)
    assert (case.review_due_on, case.state) == (clock.today(), CaseState.REVIEW_DUE)
    assert Event.objects.filter(case=case, action="bring_forward").count() == 1


@pytest.mark.parametrize("status", [AssessmentStatus.UNASSESSED, AssessmentStatus.MET])
def test_request_exception__on_housing_not_assessed_or_met__conflict_naming_it(org, status):
    review = open_review_of(case_in_state(org, CaseState.IN_REVIEW))
    housing = review.assessments.select_related("criterion").get(criterion__code="housing")
    if status == AssessmentStatus.MET:
        criteria_services.assessment_update(
            actor=org.caseworker, assessment=housing, status=AssessmentStatus.MET
        )
    with translation.override("en"), pytest.raises(Conflict) as refused:
        criteria_services.assessment_request_exception(
            actor=org.caseworker, assessment=housing, justification="Asunto tulossa"
        )
    assert refused.value.detail == (
        "“Settled housing” needs no exception now: assess it first, or it is met."
    )
    assert not reload(housing).exception_requested


def test_approve_exception__the_supervisors_own_justification_is_recorded_over_the_request(
    org,
):
    """A supervisor who writes the justification anew (the request's wording was not
    enough) approves with their own text; the request's stands only when they write none."""
    review, housing = housing_exception_requested(org)
    criteria_services.assessment_approve_exception(
        actor=org.koto_supervisor,
        assessment=reload(housing),
        justification="Vuokrasopimus allekirjoitettu 1.2.",
    )
    assert reload(housing).exception_justification == "Vuokrasopimus allekirjoitettu 1.2."
    approved = Event.objects.get(review=review, action="approve_exception")
    assert approved.reason == "Vuokrasopimus allekirjoitettu 1.2."


def test_not_ready__a_next_review_on_the_threshold_itself_needs_no_approval(org):
    """The threshold is the last next-review date a caseworker sets alone: completing the
    review as not ready with exactly that date needs no supervisor."""
    case, review = not_ready_review(org)
    threshold_on = criteria_services.extension_threshold_on(review)
    criteria_services.review_complete_not_ready(
        actor=org.caseworker, review=review, next_review_on=threshold_on
    )
    case = reload(case)
    assert (case.state, case.review_due_on) == (CaseState.ACTIVE, threshold_on)
    assert not review.extension_requests.exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_extension_request__in_autocommit_it_runs_in_a_transaction_of_its_own(org):
    """Called outside any transaction, the request is still made under the case's and
    the review's locks, with its event."""
    request = extension_requested(org)
    assert reload(request).status == ExtensionStatus.PENDING


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_extension_decide__in_autocommit_it_runs_in_a_transaction_of_its_own(org):
    request = extension_requested(org)
    criteria_services.extension_decide(
        actor=org.koto_supervisor, extension=request, approve=False, reason="Siirto nyt"
    )
    assert reload(request).status == ExtensionStatus.REFUSED


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_refuse_exception__in_autocommit_it_runs_in_a_transaction_of_its_own(org):
    review, housing = housing_exception_requested(org)
    criteria_services.assessment_refuse_exception(
        actor=org.koto_supervisor, assessment=reload(housing), reason="Ei vielä sopimusta"
    )
    assert not reload(housing).exception_requested
    assert Event.objects.filter(review=review, action="refuse_exception").count() == 1
