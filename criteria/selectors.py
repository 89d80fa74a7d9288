"""Reads of checklists, reviews and assessments; the one place readiness is computed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from cases.enums import CaseState
from cases.selectors import cases_visible_to, client_facts

from . import rules
from .enums import AssessmentStatus, ExtensionStatus
from .models import (
    ChecklistTemplate,
    CriterionAssessment,
    CriterionDefinition,
    ExtensionRequest,
    Review,
)

# Cases whose plans are followed up: not yet transferred or closed.
PLAN_CASE_STATES = (CaseState.ACTIVE, CaseState.REVIEW_DUE, CaseState.IN_REVIEW)


def assessments_of(review: Review) -> QuerySet[CriterionAssessment]:
    return review.assessments.select_related(
        "criterion", "exception_approved_by", "exception_refused_by"
    ).order_by("criterion__order")


def ordered_assessments(review: Review) -> list[CriterionAssessment]:
    """The review's assessments in checklist order, from its prefetch where there is one."""
    if "assessments" in getattr(review, "_prefetched_objects_cache", {}):
        return sorted(review.assessments.all(), key=lambda a: a.criterion.order)
    return list(assessments_of(review))


def criterion_facts(assessment: CriterionAssessment) -> rules.CriterionFacts:
    criterion = assessment.criterion
    return rules.CriterionFacts(
        code=criterion.code,
        status=assessment.status,
        exception_allowed=criterion.exception_allowed,
        exception_approved=assessment.exception_approved,
        has_multi_problem_marker=criterion.has_multi_problem_marker,
        multi_problem=assessment.multi_problem,
        requires_children=criterion.requires_children,
        has_plan=bool(assessment.plan_action.strip()),
    )


def review_readiness(
    review: Review, assessments: Sequence[CriterionAssessment] | None = None
) -> rules.Readiness:
    """The review's readiness: the services, the web app and the API all read it here.
    Pass the assessments when they are already loaded."""
    if assessments is None:
        assessments = ordered_assessments(review)
    return rules.readiness(
        client_facts(review.case.client), [criterion_facts(a) for a in assessments]
    )


def open_review_ids(case_ids: Iterable[int]) -> dict[int, int]:
    """{case id: its open review's id} for those of these cases that have one (a page of
    the caseload links each one's review)."""
    return dict(
        Review.objects.filter(case_id__in=list(case_ids), completed_at__isnull=True).values_list(
            "case_id", "pk"
        )
    )


def reviews_visible_to(user: Any) -> QuerySet[Review]:
    """Reviews of the cases the user may see."""
    return Review.objects.filter(case__in=cases_visible_to(user).values("pk")).select_related(
        "case__client", "case__team", "case__responsible_worker", "template"
    )


def assessments_visible_to(user: Any) -> QuerySet[CriterionAssessment]:
    return CriterionAssessment.objects.filter(
        review__in=reviews_visible_to(user).values("pk")
    ).select_related("criterion", "review__case__client", "review__case__team")


def exceptions_waiting(team_ids: Iterable[int]) -> list[dict[str, Any]]:
    """Open reviews of these teams with a not-met criterion whose exception a supervisor may
    approve: {"review": review, "criteria": [{"code", "name"}]}, oldest review first."""
    reviews = (
        Review.objects.filter(case__team_id__in=list(team_ids), completed_at__isnull=True)
        .select_related("case__client", "case__team", "case__responsible_worker")
        .prefetch_related("assessments__criterion")
        .order_by("started_at", "id")
    )
    waiting = []
    for review in reviews:
        assessments = ordered_assessments(review)
        possible = review_readiness(review, assessments).exceptions_possible
        wanted = [
            {"code": a.criterion.code, "name": a.criterion.name}
            for a in assessments
            if a.criterion.code in possible and a.status == AssessmentStatus.NOT_MET
        ]
        if wanted:
            waiting.append({"review": review, "criteria": wanted})
    return waiting


def waiting_exceptions_of(review_ids: Iterable[int]) -> dict[int, list[dict[str, str]]]:
    """For these open reviews (a page of transfers.reports.exceptions_waiting_query), the
    criteria whose exception waits for a supervisor, in checklist order: {review id:
    [{"code", "name"}]}. The stored assessments as readiness() decides it (not met, the
    criterion allows an exception, none approved, and it applies to the client: one about
    children only to a parent), read as values in one query, not every assessment of every
    review built as objects and the readiness recomputed per review."""
    from .models import _lang

    name = f"criterion__name_{_lang()}"
    found: dict[int, list[dict[str, str]]] = {}
    for review_id, code, criterion_name in (
        CriterionAssessment.objects.filter(
            Q(criterion__requires_children=False) | Q(review__case__client__children_count__gt=0),
            review_id__in=list(review_ids),
            status=AssessmentStatus.NOT_MET,
            criterion__exception_allowed=True,
            exception_approved_at__isnull=True,
        )
        .order_by("review_id", "criterion__order")
        .values_list("review_id", "criterion__code", name)
    ):
        found.setdefault(review_id, []).append({"code": code, "name": criterion_name})
    return found


def exception_requests_waiting(team_ids: Iterable[int]) -> QuerySet[CriterionAssessment]:
    """Exception requests of these teams' open reviews that wait for a supervisor's
    decision, oldest first (with the case, the criterion and who asked)."""
    return (
        CriterionAssessment.objects.filter(
            review__case__team_id__in=list(team_ids),
            review__completed_at__isnull=True,
            exception_requested_at__isnull=False,
            exception_approved_at__isnull=True,
            exception_refused_at__isnull=True,
        )
        .select_related("criterion", "review__case__client", "exception_requested_by")
        .order_by("exception_requested_at", "id")
    )


def criterion_names(codes: Iterable[str]) -> dict[str, str]:
    """Each code's name in the latest checklist version that has it."""
    names: dict[str, str] = {}
    for criterion in CriterionDefinition.objects.filter(code__in=list(codes)).order_by(
        "-template__version"
    ):
        names.setdefault(criterion.code, criterion.name)
    return names


def current_checklist() -> ChecklistTemplate:
    return ChecklistTemplate.objects.get(is_current=True)


def open_review_of(case: Any) -> Review | None:
    review: Review | None = case.reviews.filter(completed_at__isnull=True).first()
    return review


def current_plans() -> QuerySet[CriterionAssessment]:
    """The plans in force: a criterion not met with a plan and a target date, in its case's
    latest review (a later review replaces the earlier one's plans), of a case still in the
    Immigration Unit."""
    later = Review.objects.filter(case_id=OuterRef("review__case_id"), pk__gt=OuterRef("review_id"))
    return (
        CriterionAssessment.objects.filter(
            status=AssessmentStatus.NOT_MET,
            plan_target_on__isnull=False,
            review__case__state__in=PLAN_CASE_STATES,
        )
        .exclude(plan_action="")
        .filter(~Exists(later))
    )


def overdue_plans(
    *, on: dt.date, team_ids: Iterable[int], worker: Any = None
) -> QuerySet[CriterionAssessment]:
    """Plans whose target date has passed, in these teams (those one worker follows up when
    given: the plans they own, and those of their cases that name no owner), the latest
    first-due first."""
    found = current_plans().filter(plan_target_on__lt=on, review__case__team_id__in=list(team_ids))
    if worker is not None:
        found = found.filter(
            Q(plan_owner_user=worker)
            | Q(plan_owner_user__isnull=True, review__case__responsible_worker=worker)
        )
    return found.select_related(
        "criterion",
        "review__case__client",
        "review__case__responsible_worker",
        "plan_owner_user",
    ).order_by("plan_target_on", "id")


def extension_requests_waiting(team_ids: Iterable[int]) -> QuerySet[ExtensionRequest]:
    """Extension requests waiting for a supervisor of these teams, oldest first."""
    return (
        ExtensionRequest.objects.filter(
            status=ExtensionStatus.PENDING,
            review__case__team_id__in=list(team_ids),
            review__completed_at__isnull=True,
        )
        .select_related("review__case__client", "review__case__team", "requested_by")
        .order_by("requested_at", "id")
    )


def extension_requests_visible_to(user: Any) -> QuerySet[ExtensionRequest]:
    return ExtensionRequest.objects.filter(
        review__in=reviews_visible_to(user).values("pk")
    ).select_related("review__case__client", "review__case__team", "requested_by")
