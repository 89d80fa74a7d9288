"""Checklist templates (versioned data), reviews and their assessments."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from core import clock

from .enums import AssessmentStatus, ExtensionStatus, ReviewOutcome


class ChecklistTemplate(models.Model):
    """One version of the readiness checklist. A review keeps the version it started with;
    a new version is made in the admin (copy, edit, publish) without a code change."""

    version = models.PositiveIntegerField(_("version"), unique=True)
    title = models.CharField(_("title"), max_length=200)
    is_current = models.BooleanField(
        _("current"),
        default=False,
        help_text=_("New reviews use the current version. Exactly one version is current."),
    )
    sponsor_long_residence_years = models.PositiveSmallIntegerField(
        _("sponsor's long residence (years)"),
        default=4,
        help_text=_(
            "A reunited family whose sponsor has lived in Finland at least this long, "
            "in a stable situation, is reviewed after 12 months instead of 24."
        ),
    )
    extension_approval_after_months = models.PositiveSmallIntegerField(
        _("extension needs approval after (months)"),
        default=36,
        help_text=_(
            "Completing a review as not ready extends the integration period to the next "
            "review. An extension past this many months from its start needs a "
            "supervisor's approval."
        ),
    )
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("checklist version")
        verbose_name_plural = _("checklist versions")
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_current"], condition=Q(is_current=True), name="one_current_checklist"
            )
        ]

    def __str__(self) -> str:
        return f"{self.title} v{self.version}"

    @property
    def is_frozen(self) -> bool:
        """A version in use, or ever used, is never edited: copy it to change it."""
        return self.is_current or self.published_at is not None or self.reviews.exists()


class CriterionDefinition(models.Model):
    template = models.ForeignKey(
        ChecklistTemplate, on_delete=models.PROTECT, related_name="criteria"
    )
    code = models.SlugField(_("code"), max_length=40)
    order = models.PositiveSmallIntegerField(_("order"))
    name_fi = models.CharField(_("name (Finnish)"), max_length=200)
    name_sv = models.CharField(_("name (Swedish)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    guidance_fi = models.TextField(_("guidance (Finnish)"))
    guidance_sv = models.TextField(_("guidance (Swedish)"))
    guidance_en = models.TextField(_("guidance (English)"))
    exception_allowed = models.BooleanField(
        _("supervisor may approve an exception"),
        default=False,
        help_text=_(
            "“As a rule” criteria: a supervisor may approve an exception with a "
            "written justification."
        ),
    )
    has_multi_problem_marker = models.BooleanField(
        _("has the multi-problem marker"),
        default=False,
        help_text=_(
            "When the marker is set (e.g. cannot read or write), the transfer is escorted."
        ),
    )
    requires_children = models.BooleanField(
        _("applies only to clients with children"), default=False
    )

    class Meta:
        verbose_name = _("criterion")
        verbose_name_plural = _("criteria")
        ordering = ["template", "order"]
        constraints = [
            models.UniqueConstraint(fields=["template", "code"], name="unique_criterion_code"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return getattr(self, f"name_{_lang()}")

    @property
    def guidance(self) -> str:
        return getattr(self, f"guidance_{_lang()}")


def _lang() -> str:
    lang = (get_language() or "fi")[:2]
    return lang if lang in ("fi", "sv", "en") else "fi"


class Review(models.Model):
    case = models.ForeignKey(
        "cases.Case",
        on_delete=models.PROTECT,
        related_name="reviews",
        verbose_name=_("case"),
    )
    template = models.ForeignKey(
        ChecklistTemplate,
        on_delete=models.PROTECT,
        related_name="reviews",
        verbose_name=_("checklist version"),
    )
    started_at = models.DateTimeField(_("started"))
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("started by"),
    )
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    outcome = models.CharField(
        _("outcome"), max_length=20, choices=ReviewOutcome.choices, blank=True
    )
    next_review_on = models.DateField(_("next review"), null=True, blank=True)

    class Meta:
        verbose_name = _("review")
        verbose_name_plural = _("reviews")
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(completed_at__isnull=True),
                name="one_open_review_per_case",
            )
        ]
        indexes = [
            # The supervisor's open reviews, oldest first: a page read in index order.
            models.Index(
                fields=["started_at", "id"],
                condition=Q(completed_at__isnull=True),
                name="review_open_started_idx",
            ),
        ]

    def __str__(self) -> str:
        started = clock.written(self.started_at, "SHORT_DATE_FORMAT")
        return f"{self.case.reference} {started}".strip()

    @property
    def is_open(self) -> bool:
        return self.completed_at is None


class CriterionAssessment(models.Model):
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="assessments")
    criterion = models.ForeignKey(
        CriterionDefinition,
        on_delete=models.PROTECT,
        related_name="assessments",
        verbose_name=_("criterion"),
    )
    status = models.CharField(
        _("assessment"),
        max_length=20,
        choices=AssessmentStatus.choices,
        default=AssessmentStatus.UNASSESSED,
    )
    note = models.TextField(_("note"), blank=True)
    plan_action = models.TextField(_("what is done about it"), blank=True)
    plan_owner = models.CharField(_("who does it"), max_length=200, blank=True)
    # The worker of the case's team who follows the plan up and is reminded of its target
    # date (the case's responsible worker when none is named); `plan_owner` describes who
    # does the work (the client, a partner).
    plan_owner_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("plan's owner"),
    )
    plan_target_on = models.DateField(_("by when"), null=True, blank=True)
    multi_problem = models.BooleanField(
        _("multiple problems (e.g. cannot read or write)"), default=False
    )
    exception_justification = models.TextField(_("exception justification"), blank=True)
    exception_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("exception approved by"),
    )
    exception_approved_at = models.DateTimeField(_("exception approved"), null=True, blank=True)
    # A caseworker's request for an exception waits for a supervisor while it is requested
    # and neither approved nor refused; the justification is exception_justification.
    exception_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("exception requested by"),
    )
    exception_requested_at = models.DateTimeField(_("exception requested"), null=True, blank=True)
    exception_refused_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("exception refused by"),
    )
    exception_refused_at = models.DateTimeField(_("exception refused"), null=True, blank=True)
    exception_refusal_reason = models.TextField(_("reason for refusing the exception"), blank=True)

    class Meta:
        verbose_name = _("assessment")
        verbose_name_plural = _("assessments")
        ordering = ["review", "criterion__order"]
        constraints = [
            models.UniqueConstraint(fields=["review", "criterion"], name="unique_assessment"),
        ]
        indexes = [
            # An open review's exceptions still to decide (the supervisor's list): one
            # probe per review, never a scan of every assessment.
            models.Index(
                fields=["review"],
                condition=Q(status=AssessmentStatus.NOT_MET, exception_approved_at__isnull=True),
                name="assessment_exception_open_idx",
            ),
            # Plans past their target date (the caseload's and supervisor's lists, oldest
            # first) and exception requests waiting for a decision: read in index order
            # from the few rows that qualify, not by scanning every assessment ever made.
            models.Index(
                fields=["plan_target_on", "id"],
                condition=Q(status=AssessmentStatus.NOT_MET, plan_target_on__isnull=False),
                name="assessment_plan_due_idx",
            ),
            models.Index(
                fields=["exception_requested_at", "id"],
                condition=Q(
                    exception_requested_at__isnull=False,
                    exception_approved_at__isnull=True,
                    exception_refused_at__isnull=True,
                ),
                name="assessment_exception_asked_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.criterion.code}: {self.get_status_display()}"

    @property
    def exception_approved(self) -> bool:
        return self.exception_approved_at is not None

    @property
    def exception_requested(self) -> bool:
        """A request waits for a supervisor's decision."""
        return (
            self.exception_requested_at is not None
            and self.exception_approved_at is None
            and self.exception_refused_at is None
        )


class ExtensionRequest(models.Model):
    """A caseworker asks a supervisor to approve extending the integration period past the
    city's threshold (ChecklistTemplate.extension_approval_after_months): the review can
    then be completed as not ready with a next review up to the approved date."""

    review = models.ForeignKey(Review, on_delete=models.PROTECT, related_name="extension_requests")
    next_review_on = models.DateField(_("next review"))
    reason = models.TextField(_("reason"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("asked by"),
    )
    requested_at = models.DateTimeField(_("asked"))
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=ExtensionStatus.choices,
        default=ExtensionStatus.PENDING,
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_reason = models.TextField(_("reason for the decision"), blank=True)

    class Meta:
        verbose_name = _("extension request")
        verbose_name_plural = _("extension requests")
        ordering = ["requested_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["review"],
                condition=Q(status="pending"),
                name="one_pending_extension_per_review",
            )
        ]

    def __str__(self) -> str:
        return f"{self.review} -> {self.next_review_on} ({self.status})"
