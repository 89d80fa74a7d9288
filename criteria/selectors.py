"""Reads that feed the readiness rules."""

from __future__ import annotations

from django.db.models import QuerySet

from . import rules
from .models import ChecklistTemplate, CriterionAssessment, Review


def client_facts(client) -> rules.ClientFacts:
    return rules.ClientFacts(
        has_children=client.has_children,
        family_reunification_pending=client.family_reunification_pending,
        housing_situation=client.housing_situation,
        is_ppt=client.is_ppt,
        reunited_family=client.reunited_family,
        sponsor_in_finland_since=client.sponsor_in_finland_since,
        family_situation_stable=client.family_situation_stable,
    )


def assessments_of(review: Review) -> QuerySet[CriterionAssessment]:
    return review.assessments.select_related("criterion").order_by("criterion__order")


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


def review_readiness(review: Review) -> rules.Readiness:
    return rules.readiness(
        client_facts(review.case.client),
        [criterion_facts(a) for a in assessments_of(review)],
    )


def current_checklist() -> ChecklistTemplate:
    return ChecklistTemplate.objects.get(is_current=True)


def open_review_of(case) -> Review | None:
    return case.reviews.filter(completed_at__isnull=True).first()
