"""Codes the criteria app stores or compares: assessment statuses, review outcomes and the
actions its events record."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ReviewOutcome(models.TextChoices):
    READY = "ready", _("Ready: transfer proposed")
    NOT_READY = "not_ready", _("Not ready: plan and next review")
    CLOSED = "closed", _("Case closed")


class AssessmentStatus(models.TextChoices):
    UNASSESSED = "unassessed", _("Not assessed yet")
    MET = "met", _("Met")
    NOT_MET = "not_met", _("Not met")
    NOT_APPLICABLE = "not_applicable", _("Not applicable")


class ReviewAction(models.TextChoices):
    ASSESS = "assess", _("Criterion assessed")
    APPROVE_EXCEPTION = "approve_exception", _("Exception approved")
    REQUEST_EXCEPTION = "request_exception", _("Exception requested")
    REFUSE_EXCEPTION = "refuse_exception", _("Exception refused")
    CLOSE_PLAN = "close_plan", _("Plan closed: the criterion is met")
    PLAN_OWNER = "plan_owner", _("Plan's owner changed")
    EXTEND = "extend", _("Integration period extended")
    REQUEST_EXTENSION = "request_extension", _("Extension asked for: needs a supervisor's approval")
    APPROVE_EXTENSION = "approve_extension", _("Extension approved")
    REFUSE_EXTENSION = "refuse_extension", _("Extension refused")
    BRING_FORWARD = "bring_forward", _("Review brought forward")


class ExtensionStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for a supervisor")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")
