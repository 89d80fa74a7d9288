"""A plan's owner: a worker of the case's team, chosen on the review form, who is reminded
of the plan's target date instead of the responsible worker (once per plan and date); the
free text "who does it" stays as the description. Naming or changing the owner is an event."""

import datetime as dt

import pytest
from django.urls import reverse

from cases.enums import CaseState, Role
from cases.models import Event
from core import clock
from core.errors import InvalidInput
from criteria import services as criteria_services
from criteria.enums import ReviewAction
from criteria.models import AssessmentStatus, CriterionAssessment
from criteria.selectors import open_review_of
from notifications.models import Notification
from tests.criteria.test_plan_reminders import on, plan_notes, planned
from tests.factories import case_in_state, member, reload
from transfers.reminders import reminder_sweep

pytestmark = pytest.mark.django_db


def finances(case) -> CriterionAssessment:
    return CriterionAssessment.objects.get(review__case=case, criterion__code="finances")


def plan_with_owner(org, owner, *, target):
    """An open review whose finances plan (target `target`) is owned by `owner`."""
    case = case_in_state(org, CaseState.IN_REVIEW)
    criteria_services.assessment_update(
        actor=org.caseworker,
        assessment=finances(case),
        status=AssessmentStatus.NOT_MET,
        plan_action="Kela-hakemus",
        plan_owner="Asiakas ja Kelan neuvoja",
        plan_owner_user=owner,
        plan_target_on=target,
    )
    return case


def test_plan_owner__reminded_instead_of_the_responsible_worker_once_per_plan_and_date(org):
    colleague = member(org.koto, Role.CASEWORKER)
    target = clock.today() + dt.timedelta(days=20)
    case = plan_with_owner(org, colleague, target=target)
    for day in (target - dt.timedelta(days=7), target - dt.timedelta(days=7), target, target):
        with on(day):
            reminder_sweep()
    sent = list(plan_notes(case).order_by("on_date"))
    assert [(n.recipient, n.kind, n.on_date) for n in sent] == [
        (colleague, "plan_target_soon", target - dt.timedelta(days=7)),
        (colleague, "plan_target_today", target),
    ]
    assert not Notification.objects.filter(recipient=org.caseworker, case_id=case.pk).filter(
        kind__startswith="plan_target"
    )


def test_plan_owner__none_named__the_responsible_worker_is_reminded(org):
    target = clock.today() + dt.timedelta(days=20)
    case, _review = planned(org, target=target)
    with on(target):
        reminder_sweep()
    assert [n.recipient for n in plan_notes(case)] == [org.caseworker]


def test_plan_owner__left_the_city__the_responsible_worker_is_reminded(org):
    colleague = member(org.koto, Role.CASEWORKER)
    target = clock.today() + dt.timedelta(days=20)
    case = plan_with_owner(org, colleague, target=target)
    colleague.is_active = False
    colleague.save(update_fields=["is_active"])
    with on(target):
        reminder_sweep()
    assert [n.recipient for n in plan_notes(case)] == [org.caseworker]


@pytest.mark.parametrize("who", ["receiving_worker", "outsider", "front_desk"])
def test_plan_owner__not_a_worker_of_the_cases_team__refused_nothing_written(org, who):
    case = case_in_state(org, CaseState.IN_REVIEW)
    with pytest.raises(InvalidInput) as refused:
        criteria_services.assessment_update(
            actor=org.caseworker,
            assessment=finances(case),
            status=AssessmentStatus.NOT_MET,
            plan_action="Kela-hakemus",
            plan_owner_user=getattr(org, who),
        )
    assert "plan_owner_user" in refused.value.errors
    assert reload(finances(case)).status == AssessmentStatus.UNASSESSED
    assert not Event.objects.filter(case=case, action=ReviewAction.ASSESS).exists()


def test_plan_owner__named_changed_and_closed_with_the_plan__each_change_an_event(org):
    colleague = member(org.koto, Role.CASEWORKER)
    case = plan_with_owner(org, colleague, target=clock.today() + dt.timedelta(days=20))
    owned = Event.objects.filter(case=case, action=ReviewAction.PLAN_OWNER)
    named = {"criterion": "finances", "from": None, "to": colleague.pk}
    assert [e.params for e in owned] == [named]
    # Saved again without naming the owner (an older API client): the owner stays.
    criteria_services.assessment_update(
        actor=org.caseworker,
        assessment=finances(case),
        status=AssessmentStatus.NOT_MET,
        plan_action="Kela-hakemus, liitteet",
        plan_target_on=finances(case).plan_target_on,
    )
    assert finances(case).plan_owner_user == colleague and owned.count() == 1
    # Met: the plan closes, and its owner with it (the closing event says so).
    criteria_services.assessment_update(
        actor=org.caseworker, assessment=finances(case), status=AssessmentStatus.MET
    )
    assert finances(case).plan_owner_user is None
    assert Event.objects.filter(case=case, action=ReviewAction.CLOSE_PLAN).count() == 1


def test_plan_owner__chosen_on_the_review_form_from_the_team(client, org):
    colleague = member(org.koto, Role.CASEWORKER, first_name="Liisa", last_name="Virtanen")
    case = case_in_state(org, CaseState.IN_REVIEW)
    review = open_review_of(case)
    assessment = finances(case)
    client.force_login(org.caseworker)
    client.cookies["django_language"] = "en"
    html = client.get(reverse("web:review", args=[review.pk])).content.decode()
    field = f'name="a{assessment.pk}-plan_owner_user"'
    assert field in html and "Liisa Virtanen" in html
    assert org.receiving_worker.get_full_name() not in html.split(field)[1].split("</select>")[0]
    target = clock.today() + dt.timedelta(days=14)
    page = client.post(
        reverse("web:review-assess", args=[review.pk]),
        {
            f"a{assessment.pk}-status": AssessmentStatus.NOT_MET,
            f"a{assessment.pk}-plan_action": "Kela-hakemus",
            f"a{assessment.pk}-plan_owner": "Asiakas",
            f"a{assessment.pk}-plan_owner_user": str(colleague.pk),
            f"a{assessment.pk}-plan_target_on": target.isoformat(),
        },
    )
    assert page.status_code == 302
    saved = reload(assessment)
    assert (saved.plan_owner, saved.plan_owner_user) == ("Asiakas", colleague)
    # The colleague's caseload lists the plan once it is overdue, though the case is not theirs.
    with on(target + dt.timedelta(days=1)):
        client.force_login(colleague)
        html = client.get(reverse("web:caseload")).content.decode()
    assert f"/reviews/{review.pk}/#c-{assessment.pk}" in html


def test_plan_owner__named_owner_is_told_once_with_reference_and_link_only(org):
    colleague = member(org.koto, Role.CASEWORKER)
    target = clock.today() + dt.timedelta(days=20)
    case = plan_with_owner(org, colleague, target=target)
    told = Notification.objects.filter(kind="plan_owner_named")
    notice = told.get()
    review = open_review_of(case)
    assert (notice.recipient, notice.case_id, notice.reference, notice.link) == (
        colleague,
        case.pk,
        case.reference,
        reverse("web:review", args=[review.pk]),
    )
    # Saving the plan again with the same owner tells nobody again.
    criteria_services.assessment_update(
        actor=org.caseworker,
        assessment=finances(case),
        status=AssessmentStatus.NOT_MET,
        plan_action="Kela-hakemus, liitteet",
        plan_target_on=target,
    )
    assert told.count() == 1
    # Whoever names themselves is not told of their own action.
    criteria_services.assessment_update(
        actor=org.caseworker,
        assessment=finances(case),
        status=AssessmentStatus.NOT_MET,
        plan_action="Kela-hakemus",
        plan_owner_user=org.caseworker,
        plan_target_on=target,
    )
    assert told.count() == 1
    assert not told.filter(recipient=org.caseworker).exists()


def test_plan_owner__removed_from_an_open_plan__an_event_of_its_own(org):
    """Taking the owner off a plan that stays open is a change of owner like any other:
    recorded, from the owner to no one."""
    colleague = member(org.koto, Role.CASEWORKER)
    case = plan_with_owner(org, colleague, target=clock.today() + dt.timedelta(days=20))
    criteria_services.assessment_update(
        actor=org.caseworker,
        assessment=finances(case),
        status=AssessmentStatus.NOT_MET,
        plan_action="Kela-hakemus",
        plan_owner_user=None,
        plan_target_on=finances(case).plan_target_on,
    )
    assert finances(case).plan_owner_user is None
    owned = Event.objects.filter(case=case, action=ReviewAction.PLAN_OWNER).order_by("id")
    assert [e.params["to"] for e in owned] == [colleague.pk, None]
