"""Every write to reviews and assessments, and opening a case (its first review date
follows the current checklist version)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext as _

from cases import rules as date_rules
from cases import services as case_services
from cases.enums import CaseAction, CaseState, EventSubject, Role
from cases.events import record_event
from cases.models import Case, Client
from cases.roles import SENDING_ROLES, is_member, require_role
from cases.selectors import client_facts
from core import clock
from core.errors import CapReached, Conflict, InvalidInput
from core.transitions import check_transition, lock, require_text
from notifications.models import NotificationKind
from notifications.services import notify

from . import rules
from .enums import ExtensionStatus, ReviewAction
from .events import review_event
from .models import (
    AssessmentStatus,
    ChecklistTemplate,
    CriterionAssessment,
    CriterionDefinition,
    ExtensionRequest,
    Review,
    ReviewOutcome,
)
from .selectors import current_checklist, review_readiness

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def case_open(**arguments: Any) -> Case:
    """Open a case (cases.services.case_open) with its first review date set by the current
    checklist version's threshold for a reunited family's sponsor."""
    return case_services.case_open(
        **arguments, threshold_years=current_checklist().sponsor_long_residence_years
    )


def client_update(**arguments: Any) -> Client:
    """Change a client's facts (cases.services.client_update); the open case's first
    review date follows them by the current checklist version's threshold."""
    return case_services.client_update(
        **arguments, threshold_years=current_checklist().sponsor_long_residence_years
    )


def review_finish(
    review: Review, *, outcome: str, at: dt.datetime, next_review_on: dt.date | None = None
) -> Review:
    """End an open review with its outcome. Runs in the caller's transaction (the service
    that decided the case's next step holds the review locked)."""
    review.completed_at = at
    review.outcome = outcome
    review.next_review_on = next_review_on
    review.save(update_fields=["completed_at", "outcome", "next_review_on"])
    return review


def _create_review(
    *, case: Case, actor: AbstractBaseUser, template: ChecklistTemplate | None = None
) -> Review:
    """A review on the given (or current) checklist version with one assessment per
    criterion; criteria that do not apply to this client start as not applicable."""
    template = template or current_checklist()
    review = Review.objects.create(
        case=case, template=template, started_at=clock.now(), started_by=cast("User", actor)
    )
    facts = client_facts(case.client)
    CriterionAssessment.objects.bulk_create(
        CriterionAssessment(
            review=review,
            criterion=criterion,
            status=(
                AssessmentStatus.UNASSESSED
                if rules.is_applicable(
                    rules.CriterionFacts(
                        code=criterion.code, requires_children=criterion.requires_children
                    ),
                    facts,
                )
                else AssessmentStatus.NOT_APPLICABLE
            ),
        )
        for criterion in template.criteria.all()
    )
    return review


@transaction.atomic
def review_start(*, actor: AbstractBaseUser, case: Case) -> Review:
    """review_due -> in_review: a review against the current checklist version."""
    case = lock(Case, case.pk)
    role = require_role(actor, team=case.team, roles=SENDING_ROLES, action="start_review")
    check_transition(case, CaseAction.START_REVIEW)
    review = _create_review(case=case, actor=actor)
    case_services.case_move(
        case,
        CaseAction.START_REVIEW,
        actor=actor,
        role=role,
        review_id=review.pk,
        params={"checklist_version": review.template.version},
    )
    return review


def review_continue(*, previous: Review, actor: AbstractBaseUser | None) -> Review:
    """After a returned or cancelled transfer: a new review on the same checklist version,
    starting from the previous assessments so only what changed needs work.
    Runs inside the caller's transaction."""
    review = Review.objects.create(
        case=previous.case,
        template=previous.template,
        started_at=clock.now(),
        started_by=cast("User", actor or previous.started_by),
    )
    CriterionAssessment.objects.bulk_create(
        CriterionAssessment(
            review=review,
            criterion=old.criterion,
            status=old.status,
            note=old.note,
            plan_action=old.plan_action,
            plan_owner=old.plan_owner,
            plan_owner_user=old.plan_owner_user,
            plan_target_on=old.plan_target_on,
            multi_problem=old.multi_problem,
            exception_justification=old.exception_justification,
            exception_approved_by=old.exception_approved_by,
            exception_approved_at=old.exception_approved_at,
            exception_requested_by=old.exception_requested_by,
            exception_requested_at=old.exception_requested_at,
            exception_refused_by=old.exception_refused_by,
            exception_refused_at=old.exception_refused_at,
            exception_refusal_reason=old.exception_refusal_reason,
        )
        for old in previous.assessments.all()
    )
    return review


def _lock_open_assessment(assessment: CriterionAssessment) -> CriterionAssessment:
    assessment = (
        CriterionAssessment.objects.select_for_update(of=("self",))
        .select_related("review__case__team", "review__case__client", "criterion")
        .get(pk=assessment.pk)
    )
    if not assessment.review.is_open:
        raise Conflict(_("This review is completed; it can no longer be changed."))
    return assessment


def _check_plan_target(target_on: dt.date | None, *, cap: dt.date) -> None:
    problem = date_rules.plan_target_problem(target_on=target_on, today=clock.today(), cap=cap)
    if problem == "in_past":
        raise InvalidInput({"plan_target_on": _("The plan's target date cannot be in the past.")})
    if problem == "past_cap":
        raise InvalidInput(
            {
                "plan_target_on": _(
                    "The plan's target date cannot be after the end of the integration "
                    "period (the 5-year cap, %(cap)s)."
                )
                % {"cap": formats.date_format(cap, "SHORT_DATE_FORMAT")}
            }
        )


class ChecklistInvalid(InvalidInput):
    """Bad input in criteria of a checklist saved at once. `by_assessment` maps each
    assessment's id to its field errors; `errors` names each field as the web form does
    (`a<id>-<field>`)."""

    def __init__(self, by_assessment: Mapping[int, Mapping[str, str]]) -> None:
        self.by_assessment = {pk: dict(errors) for pk, errors in by_assessment.items()}
        super().__init__(
            {
                f"a{pk}-{field}": message
                for pk, errors in self.by_assessment.items()
                for field, message in errors.items()
            }
        )


@transaction.atomic
def review_assess(
    *,
    actor: AbstractBaseUser,
    review: Review,
    changes: Sequence[tuple[CriterionAssessment, Mapping[str, Any]]],
) -> list[CriterionAssessment]:
    """Record several criteria of one review at once (the whole checklist in one form):
    all or nothing. Each change is `assessment_update` of one assessment with its fields;
    when any is refused, nothing is written and every criterion's errors are raised
    together (ChecklistInvalid)."""
    errors: dict[int, dict[str, str]] = {}
    saved = []
    for assessment, fields in changes:
        if assessment.review_id != review.pk:
            raise InvalidInput({"review": _("The assessment is not part of this review.")})
        try:
            saved.append(assessment_update(actor=actor, assessment=assessment, **fields))
        except InvalidInput as exc:
            errors[assessment.pk] = exc.errors
    if errors:
        raise ChecklistInvalid(errors)
    return saved


class _Kept:
    """The plan's owner as it was (not given by the caller)."""


KEPT = _Kept()


@transaction.atomic
def assessment_update(
    *,
    actor: AbstractBaseUser,
    assessment: CriterionAssessment,
    status: str,
    note: str = "",
    plan_action: str = "",
    plan_owner: str = "",
    plan_owner_user: AbstractBaseUser | _Kept | None = KEPT,
    plan_target_on: dt.date | None = None,
    multi_problem: bool = False,
) -> CriterionAssessment:
    """Record one criterion's assessment. A change of status withdraws an exception that
    was approved for the earlier status. A criterion assessed as met has no plan: a plan
    it had is closed (an event records it). The plan's owner (`plan_owner_user`, a
    caseworker or supervisor of the case's team; optional) is reminded of its target date
    instead of the responsible worker; naming or changing them is an event of its own. Not
    given (KEPT), the owner stays as it was: a caller that does not know of owners (an API
    client of an earlier version) does not remove one."""
    assessment = _lock_open_assessment(assessment)
    review = assessment.review
    role = require_role(actor, team=review.case.team, roles=SENDING_ROLES, action="assess")
    criterion = assessment.criterion
    if status not in AssessmentStatus.values:
        raise InvalidInput({"status": _("Choose met, not met or not applicable.")})
    applicable = rules.is_applicable(
        rules.CriterionFacts(code=criterion.code, requires_children=criterion.requires_children),
        client_facts(review.case.client),
    )
    if status == AssessmentStatus.NOT_APPLICABLE and applicable:
        raise InvalidInput(
            {"status": _("“%(criterion)s” applies to this client.") % {"criterion": criterion.name}}
        )
    if multi_problem and not criterion.has_multi_problem_marker:
        raise InvalidInput({"multi_problem": _("This criterion has no multi-problem marker.")})
    if status == AssessmentStatus.NOT_MET and not plan_action.strip():
        raise InvalidInput({"plan_action": _("Write a plan for what is missing.")})
    closed_plan = None
    if status == AssessmentStatus.MET:
        if assessment.plan_action.strip() or assessment.plan_target_on:
            closed_plan = {
                "criterion": criterion.code,
                "plan_target_on": (
                    assessment.plan_target_on.isoformat() if assessment.plan_target_on else None
                ),
            }
        plan_action, plan_owner, plan_owner_user, plan_target_on = "", "", None, None
    if isinstance(plan_owner_user, _Kept):
        plan_owner_user = assessment.plan_owner_user
    if plan_owner_user is not None and not is_member(
        plan_owner_user, team=review.case.team, roles=SENDING_ROLES
    ):
        raise InvalidInput(
            {"plan_owner_user": _("The plan's owner must be a worker of the case's team.")}
        )
    if plan_target_on != assessment.plan_target_on:  # a date kept as it was is not re-judged
        _check_plan_target(plan_target_on, cap=review.case.cap_on)
    previous_status = assessment.status
    previous_owner_id = assessment.plan_owner_user_id
    assessment.status = status
    assessment.note = note
    assessment.plan_action = plan_action
    assessment.plan_owner = plan_owner
    assessment.plan_owner_user = cast("User | None", plan_owner_user)
    assessment.plan_target_on = plan_target_on
    assessment.multi_problem = multi_problem
    if previous_status != status and (
        assessment.exception_approved or assessment.exception_requested
    ):
        assessment.exception_approved_at = None
        assessment.exception_approved_by = None
        assessment.exception_requested_at = None
        assessment.exception_requested_by = None
        assessment.exception_justification = ""
    assessment.save()
    review_event(
        review,
        ReviewAction.ASSESS,
        actor=actor,
        role=role,
        from_state=previous_status,
        to_state=status,
        params={"criterion": criterion.code, "multi_problem": multi_problem},
    )
    if closed_plan is not None:
        review_event(review, ReviewAction.CLOSE_PLAN, actor=actor, role=role, params=closed_plan)
    if assessment.plan_owner_user_id != previous_owner_id and (
        closed_plan is None or assessment.plan_owner_user_id is not None
    ):
        event = review_event(
            review,
            ReviewAction.PLAN_OWNER,
            actor=actor,
            role=role,
            params={
                "criterion": criterion.code,
                "from": previous_owner_id,
                "to": assessment.plan_owner_user_id,
            },
        )
        new_owner = assessment.plan_owner_user
        if new_owner is not None and new_owner.pk != actor.pk:
            # The new owner is told at once (reference and link only), not only by the
            # reminders before the target date.
            notify(
                recipients=[new_owner],
                kind=NotificationKind.PLAN_OWNER_NAMED,
                subject_key=f"assessment:{assessment.pk}:owner:{new_owner.pk}:event:{event.pk}",
                on_date=clock.today(),
                reference=review.case.reference,
                link=_review_link(review),
                case_id=review.case_id,
            )
    return assessment


@transaction.atomic
def assessment_approve_exception(
    *, actor: AbstractBaseUser, assessment: CriterionAssessment, justification: str
) -> CriterionAssessment:
    """A supervisor approves an exception to an "as a rule" criterion, in writing. The
    system records who approved what and why."""
    assessment = _lock_open_assessment(assessment)
    review = assessment.review
    role = require_role(
        actor, team=review.case.team, roles=[Role.SUPERVISOR], action="approve_exception"
    )
    if not assessment.criterion.exception_allowed:
        raise InvalidInput(
            {
                "criterion": _("No exception is possible for “%(criterion)s”.")
                % {"criterion": assessment.criterion.name}
            }
        )
    if assessment.exception_approved:
        raise Conflict(_("This exception is already approved."))
    if not justification.strip() and assessment.exception_requested:
        justification = assessment.exception_justification  # the request's, as written
    justification = require_text(
        justification, "justification", _("Write the justification for the exception.")
    )
    assessment.exception_justification = justification
    assessment.exception_approved_by = cast("User", actor)
    assessment.exception_approved_at = clock.now()
    assessment.save(
        update_fields=["exception_justification", "exception_approved_by", "exception_approved_at"]
    )
    event = review_event(
        review,
        ReviewAction.APPROVE_EXCEPTION,
        actor=actor,
        role=role,
        reason=justification,
        params={"criterion": assessment.criterion.code},
    )
    _tell_decided(assessment, actor=actor, kind=NotificationKind.EXCEPTION_APPROVED, event=event)
    return assessment


def _review_link(review: Review) -> str:
    return reverse("web:review", args=[review.pk])


def _exception_possible(assessment: CriterionAssessment) -> None:
    """Refuses a request on a criterion that allows no exception, or one whose exception
    would change nothing now (the readiness rules' `exceptions_possible`: not met, or
    housing while the client is homeless; assessed first)."""
    criterion = assessment.criterion
    if not criterion.exception_allowed:
        raise InvalidInput(
            {
                "criterion": _("No exception is possible for “%(criterion)s”.")
                % {"criterion": criterion.name}
            }
        )
    if criterion.code not in review_readiness(assessment.review).exceptions_possible:
        raise Conflict(
            _("“%(criterion)s” needs no exception now: assess it first, or it is met.")
            % {"criterion": criterion.name}
        )


def exception_request_link(pk: int) -> str:
    """Where a supervisor decides a requested exception: the supervisor page, on the page
    of its list that holds the request, at the request."""
    return reverse("web:supervisor") + f"?exception={pk}#exception-{pk}"


@transaction.atomic
def assessment_request_exception(
    *, actor: AbstractBaseUser, assessment: CriterionAssessment, justification: str
) -> CriterionAssessment:
    """A caseworker (or supervisor) of the case's team asks for an exception to a criterion
    that is not met and allows one, with the justification. The request waits for a
    supervisor (`assessment_approve_exception` or `assessment_refuse_exception`), is in
    the case history (an event with the justification) and tells the team's supervisors
    (a notice with the case reference and a link to the review only). Refused with
    Conflict while a request already waits or the exception is approved; an earlier
    refusal is replaced by the new request."""
    assessment = _lock_open_assessment(assessment)
    review = assessment.review
    role = require_role(
        actor, team=review.case.team, roles=SENDING_ROLES, action="request_exception"
    )
    if assessment.exception_approved:
        raise Conflict(_("This exception is already approved."))
    _exception_possible(assessment)
    if assessment.exception_requested:
        raise Conflict(_("An exception request already waits for a supervisor."))
    justification = require_text(
        justification, "justification", _("Write the justification for the exception.")
    )
    assessment.exception_justification = justification
    assessment.exception_requested_by = cast("User", actor)
    assessment.exception_requested_at = clock.now()
    assessment.exception_refused_by = None
    assessment.exception_refused_at = None
    assessment.exception_refusal_reason = ""
    assessment.save(
        update_fields=[
            "exception_justification",
            "exception_requested_by",
            "exception_requested_at",
            "exception_refused_by",
            "exception_refused_at",
            "exception_refusal_reason",
        ]
    )
    event = review_event(
        review,
        ReviewAction.REQUEST_EXCEPTION,
        actor=actor,
        role=role,
        reason=justification,
        params={"criterion": assessment.criterion.code},
    )
    case = review.case
    supervisors = (
        get_user_model()
        .objects.filter(
            is_active=True, memberships__team=case.team, memberships__role=Role.SUPERVISOR
        )
        .exclude(pk=actor.pk)
        .distinct()
    )
    notify(
        recipients=supervisors,
        kind=NotificationKind.EXCEPTION_REQUESTED,
        subject_key=f"assessment:{assessment.pk}:event:{event.pk}",
        on_date=clock.today(),
        reference=case.reference,
        link=exception_request_link(assessment.pk),
        case_id=case.pk,
    )
    return assessment


@transaction.atomic
def assessment_refuse_exception(
    *, actor: AbstractBaseUser, assessment: CriterionAssessment, reason: str
) -> CriterionAssessment:
    """A supervisor of the case's team refuses a requested exception, with the reason. The
    refusal is in the case history (an event with the reason) and the caseworker is told
    (a notice without the reason's text). Conflict when no request waits."""
    assessment = _lock_open_assessment(assessment)
    review = assessment.review
    role = require_role(
        actor, team=review.case.team, roles=[Role.SUPERVISOR], action="refuse_exception"
    )
    if not assessment.exception_requested:
        raise Conflict(_("No exception request waits for a decision."))
    reason = require_text(reason, "reason", _("Write the reason for refusing the exception."))
    assessment.exception_refused_by = cast("User", actor)
    assessment.exception_refused_at = clock.now()
    assessment.exception_refusal_reason = reason
    assessment.save(
        update_fields=["exception_refused_by", "exception_refused_at", "exception_refusal_reason"]
    )
    event = review_event(
        review,
        ReviewAction.REFUSE_EXCEPTION,
        actor=actor,
        role=role,
        reason=reason,
        params={"criterion": assessment.criterion.code},
    )
    _tell_decided(assessment, actor=actor, kind=NotificationKind.EXCEPTION_REFUSED, event=event)
    return assessment


def _supervisors_of(case: Case, *, besides: AbstractBaseUser) -> list[Any]:
    """The active supervisors of the case's team, but the one who acts."""
    return list(
        get_user_model()
        .objects.filter(
            is_active=True, memberships__team=case.team, memberships__role=Role.SUPERVISOR
        )
        .exclude(pk=besides.pk)
        .distinct()
    )


def _tell_decided(
    assessment: CriterionAssessment, *, actor: AbstractBaseUser, kind: str, event: Any
) -> None:
    """The caseworker (and whoever asked, if someone else) acts next on the review."""
    case = assessment.review.case
    people = {case.responsible_worker_id, assessment.exception_requested_by_id} - {
        None,
        actor.pk,
    }
    notify(
        recipients=list(people),
        kind=kind,
        subject_key=f"assessment:{assessment.pk}:event:{event.pk}",
        on_date=clock.today(),
        reference=case.reference,
        link=_review_link(assessment.review),
        case_id=case.pk,
    )


def _criterion_names(review: Review, codes: Sequence[str]) -> list[str]:
    """The criteria of these codes as the review's checklist names them (its version's
    names in the reader's language), in the order given."""
    names = {
        a.criterion.code: a.criterion.name
        for a in review.assessments.select_related("criterion").filter(criterion__code__in=codes)
    }
    return [str(names.get(code, code)) for code in codes]


@transaction.atomic
def review_complete_not_ready(
    *, actor: AbstractBaseUser, review: Review, next_review_on: dt.date | None
) -> Review:
    """in_review -> active: not ready. Every unmet criterion has a plan; the next review
    date is in the future and not past the 60-month cap. At the cap this is refused: only
    a transfer or a closure remains. The integration period is extended to the next review
    (an event records the decision); past the city's threshold only as far as a supervisor
    approved (extension_request, extension_decide)."""
    case = lock(Case, review.case_id)
    role = require_role(actor, team=case.team, roles=SENDING_ROLES, action="complete_not_ready")
    check_transition(case, CaseAction.COMPLETE_NOT_READY)
    review = Review.objects.select_for_update().get(pk=review.pk)
    if not review.is_open:
        raise Conflict(_("This review is already completed."))
    today = clock.today()
    if date_rules.is_at_cap(today=today, cap=case.cap_on):
        raise CapReached(
            _(
                "The case has reached the 5-year cap on %(cap)s: only a transfer or a closure, "
                "decided by a supervisor, remains."
            )
            % {"cap": formats.date_format(case.cap_on, "SHORT_DATE_FORMAT")}
        )
    _check_next_review(next_review_on, case=case, today=today)
    assert next_review_on is not None  # _check_next_review refuses a missing date
    approval = _extension_approval(review, case=case, next_review_on=next_review_on)
    readiness = review_readiness(review)
    if readiness.ready:
        raise Conflict(_("Every criterion is met: propose the transfer instead."))
    if readiness.missing_plans:
        raise InvalidInput(
            {
                "plan_action": _("Plan what is missing first: %(codes)s.")
                % {"codes": ", ".join(_criterion_names(review, readiness.missing_plans))}
            }
        )
    review_finish(
        review, outcome=ReviewOutcome.NOT_READY, at=clock.now(), next_review_on=next_review_on
    )
    review_event(
        review,
        ReviewAction.EXTEND,
        actor=actor,
        role=role,
        from_state=case.review_due_on.isoformat(),
        to_state=next_review_on.isoformat(),
        params={
            "months": rules.months_between(case.integration_started_on, next_review_on),
            "approval_after_months": review.template.extension_approval_after_months,
            "approved_request": approval.pk if approval else None,
        },
    )
    case_services.case_move(
        case,
        CaseAction.COMPLETE_NOT_READY,
        actor=actor,
        role=role,
        next_review_on=next_review_on,
        review_id=review.pk,
        params={
            "next_review_on": next_review_on.isoformat(),
            "unmet": list(readiness.unmet),
            "blockers": list(readiness.blockers),
        },
    )
    return review


def _check_next_review(next_review_on: dt.date | None, *, case: Case, today: dt.date) -> None:
    problem = date_rules.next_review_problem(
        next_review_on=next_review_on, today=today, cap=case.cap_on
    )
    if problem:
        messages = {
            "required": _("Give the date of the next review."),
            "not_in_future": _("The next review must be after today."),
            "past_cap": _("The next review may not be after the 5-year cap (%(cap)s).")
            % {"cap": _date(case.cap_on)},
        }
        raise InvalidInput({"next_review_on": messages[problem]})


def _date(day: dt.date) -> str:
    return formats.date_format(day, "SHORT_DATE_FORMAT")


def extension_threshold_on(review: Review) -> dt.date:
    """The last next-review date that needs no supervisor's approval: the city's threshold
    (months of integration period, a setting of the checklist version) from its start."""
    return date_rules.add_months(
        review.case.integration_started_on, review.template.extension_approval_after_months
    )


def _extension_approval(
    review: Review, *, case: Case, next_review_on: dt.date
) -> ExtensionRequest | None:
    """The supervisor's approval that covers `next_review_on`, when it is past the
    threshold; InvalidInput when there is none."""
    threshold_on = extension_threshold_on(review)
    if next_review_on <= threshold_on:
        return None
    approval = (
        review.extension_requests.filter(
            status=ExtensionStatus.APPROVED, next_review_on__gte=next_review_on
        )
        .order_by("-decided_at", "-id")
        .first()
    )
    if approval is None:
        raise InvalidInput(
            {
                "next_review_on": _(
                    "A next review after %(date)s extends the integration period past "
                    "%(months)s months: a supervisor must approve the extension first. Ask "
                    "for the approval below."
                )
                % {
                    "date": _date(threshold_on),
                    "months": review.template.extension_approval_after_months,
                }
            }
        )
    return approval


@transaction.atomic
def extension_request(
    *, actor: AbstractBaseUser, review: Review, next_review_on: dt.date | None, reason: str
) -> ExtensionRequest:
    """A caseworker asks a supervisor to approve an extension past the city's threshold,
    with the reason; one request waits per review at a time."""
    case = lock(Case, review.case_id)
    role = require_role(actor, team=case.team, roles=SENDING_ROLES, action="request_extension")
    review = Review.objects.select_for_update().select_related("template").get(pk=review.pk)
    if not review.is_open:
        raise Conflict(_("This review is already completed."))
    _check_next_review(next_review_on, case=case, today=clock.today())
    assert next_review_on is not None
    threshold_on = extension_threshold_on(review)
    if next_review_on <= threshold_on:
        raise InvalidInput(
            {
                "next_review_on": _(
                    "No approval is needed for a next review up to %(date)s: complete the "
                    "review as not ready."
                )
                % {"date": _date(threshold_on)}
            }
        )
    reason = require_text(reason, "reason", _("Write why the integration period is extended."))
    if review.extension_requests.filter(status=ExtensionStatus.PENDING).exists():
        raise Conflict(_("An extension request of this review already waits for a supervisor."))
    request = ExtensionRequest.objects.create(
        review=review,
        next_review_on=next_review_on,
        reason=reason,
        requested_by=cast("User", actor),
        requested_at=clock.now(),
    )
    event = review_event(
        review,
        ReviewAction.REQUEST_EXTENSION,
        actor=actor,
        role=role,
        reason=reason,
        params={"request": request.pk, "next_review_on": next_review_on.isoformat()},
    )
    notify(
        recipients=_supervisors_of(case, besides=actor),
        kind=NotificationKind.EXTENSION_REQUESTED,
        subject_key=f"extension:{request.pk}:event:{event.pk}",
        on_date=clock.today(),
        reference=case.reference,
        link=reverse("web:supervisor"),
        case_id=case.pk,
    )
    return request


@transaction.atomic
def extension_decide(
    *, actor: AbstractBaseUser, extension: ExtensionRequest, approve: bool, reason: str
) -> ExtensionRequest:
    """A supervisor of the case's team approves or refuses an extension request, with the
    reason; the decision is in the case history."""
    extension = (
        ExtensionRequest.objects.select_for_update(of=("self",))
        .select_related("review__case__team")
        .get(pk=extension.pk)
    )
    review = extension.review
    role = require_role(
        actor, team=review.case.team, roles=[Role.SUPERVISOR], action="decide_extension"
    )
    if extension.status != ExtensionStatus.PENDING:
        raise Conflict(_("This extension request is already decided."))
    if not review.is_open:
        raise Conflict(_("This review is already completed."))
    reason = require_text(reason, "reason", _("Write the reason for the decision."))
    extension.status = ExtensionStatus.APPROVED if approve else ExtensionStatus.REFUSED
    extension.decided_by = cast("User", actor)
    extension.decided_at = clock.now()
    extension.decision_reason = reason
    extension.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
    event = review_event(
        review,
        ReviewAction.APPROVE_EXTENSION if approve else ReviewAction.REFUSE_EXTENSION,
        actor=actor,
        role=role,
        reason=reason,
        params={"request": extension.pk, "next_review_on": extension.next_review_on.isoformat()},
    )
    notify(
        recipients=list(
            {extension.requested_by_id, review.case.responsible_worker_id} - {actor.pk}
        ),
        kind=NotificationKind.EXTENSION_APPROVED if approve else NotificationKind.EXTENSION_REFUSED,
        subject_key=f"extension:{extension.pk}:event:{event.pk}",
        on_date=clock.today(),
        reference=review.case.reference,
        link=_review_link(review),
        case_id=review.case_id,
    )
    return extension


@transaction.atomic
def review_bring_forward(
    *, actor: AbstractBaseUser, case: Case, review_on: dt.date | None, reason: str
) -> Case:
    """The situation changed: the caseworker brings the next review forward, with the
    reason. On today's date the review is due at once (the case moves to review due)."""
    case = lock(Case, case.pk)
    role = require_role(actor, team=case.team, roles=SENDING_ROLES, action="bring_review_forward")
    if case.state != CaseState.ACTIVE:
        raise Conflict(_("Only a case waiting for its next review can have it brought forward."))
    today = clock.today()
    if review_on is None:
        raise InvalidInput({"review_on": _("Give the date of the review.")})
    if review_on < today:
        raise InvalidInput({"review_on": _("The review date cannot be in the past.")})
    if review_on >= case.review_due_on:
        raise InvalidInput(
            {
                "review_on": _("Choose a date before the review now planned (%(date)s).")
                % {"date": _date(case.review_due_on)}
            }
        )
    reason = require_text(reason, "reason", _("Write why the review is brought forward."))
    previous = case.review_due_on
    case.review_due_on = review_on
    case.save(update_fields=["review_due_on"])
    event = record_event(
        subject=EventSubject.REVIEW,
        action=ReviewAction.BRING_FORWARD,
        client_id=case.client_id,
        case_id=case.pk,
        actor=actor,
        actor_role=role,
        reason=reason,
        from_state=previous.isoformat(),
        to_state=review_on.isoformat(),
    )
    if review_on <= today:
        case_services.case_move(case, CaseAction.MARK_DUE, actor=actor, role=role)
    case_services.notice_review_brought_forward(case, actor=actor, event_id=event.pk)
    return case


@transaction.atomic
def checklist_copy(*, template: ChecklistTemplate) -> ChecklistTemplate:
    """A new, unpublished version with the same criteria, to edit in the admin. Reviews
    already started keep the version they started with."""
    latest = ChecklistTemplate.objects.select_for_update().order_by("-version").first()
    assert latest is not None  # `template` itself is a version
    copy = ChecklistTemplate.objects.create(
        version=latest.version + 1,
        title=template.title,
        is_current=False,
        sponsor_long_residence_years=template.sponsor_long_residence_years,
        extension_approval_after_months=template.extension_approval_after_months,
    )
    CriterionDefinition.objects.bulk_create(
        CriterionDefinition(
            template=copy,
            **{
                field.name: getattr(criterion, field.name)
                for field in CriterionDefinition._meta.concrete_fields
                if field.name not in ("id", "template")
            },
        )
        for criterion in template.criteria.all()
    )
    return copy


@transaction.atomic
def checklist_publish(*, template: ChecklistTemplate) -> ChecklistTemplate:
    """Make this version the one new reviews use."""
    if not template.criteria.exists():
        raise InvalidInput({"criteria": _("A checklist version needs at least one criterion.")})
    ChecklistTemplate.objects.select_for_update().filter(is_current=True).update(is_current=False)
    template.is_current = True
    template.published_at = clock.now()
    template.save(update_fields=["is_current", "published_at"])
    return template
