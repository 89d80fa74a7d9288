"""The in-app inbox, the transactional outbox, channel preferences and reminder policies.

A notification and every outgoing message (e-mail, Teams, booking request) is first a row
written in the same transaction as the change that caused it; the relay sends the rows
after commit. Unique keys make every reminder happen once per (subject, kind, date,
recipient), however often a sweep runs.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class NotificationKind(models.TextChoices):
    REVIEW_DUE = "review_due", _("Review due")
    REVIEW_DUE_SOON = "review_due_soon", _("Review due soon")
    OVERDUE_DIGEST = "overdue_digest", _("Overdue reviews")
    TRANSFER_AWAITING = "transfer_awaiting", _("Transfer awaiting acceptance")
    TRANSFER_AWAITING_ESCALATED = (
        "transfer_awaiting_escalated",
        _("Transfer awaiting acceptance: escalated"),
    )
    BOOKING_REQUESTED = "booking_requested", _("Handover booking requested")
    BOOKING_UNCONFIRMED = "booking_unconfirmed", _("Handover booking not confirmed")
    BOOKING_CONFIRMED = "booking_confirmed", _("Handover booked")
    BOOKING_FAILED = "booking_failed", _("Booking request failed")
    INTERPRETER_FREE = "interpreter_free", _("Interpreter free")
    CAP_APPROACHING = "cap_approaching", _("5-year cap approaching")
    IDENTITY_CODE_ATTEMPT = (
        "identity_code_attempt",
        _("Attempt to register a client of your team again"),
    )
    # The hand-offs: each tells the person who acts next (transfers/notices.py says who).
    TRANSFER_PROPOSED = "transfer_proposed", _("Transfer proposed to your team")
    TRANSFER_ACCEPTED = "transfer_accepted", _("Transfer accepted")
    TRANSFER_RETURNED = "transfer_returned", _("Transfer returned")
    TRANSFER_CANCELLED = "transfer_cancelled", _("Transfer cancelled")
    BOOKING_WAITING = "booking_waiting", _("Booking request waits for booking hours")
    HANDOVER_HELD = "handover_held", _("Handover held")
    HANDOVER_MISSED = "handover_missed", _("Handover to be booked again")
    EXCEPTION_REQUESTED = "exception_requested", _("Exception requested")
    EXCEPTION_APPROVED = "exception_approved", _("Exception approved")
    EXCEPTION_REFUSED = "exception_refused", _("Exception refused")
    CASE_REASSIGNED = "case_reassigned", _("Case assigned to you")
    REVIEW_BROUGHT_FORWARD = "review_brought_forward", _("Review brought forward")
    # Follow-up between reviews (criteria): plans' target dates and extensions.
    PLAN_TARGET_SOON = "plan_target_soon", _("Plan's target date soon")
    PLAN_TARGET_TODAY = "plan_target_today", _("Plan's target date today")
    EXTENSION_REQUESTED = "extension_requested", _("Extension waits for approval")
    EXTENSION_APPROVED = "extension_approved", _("Extension approved")
    EXTENSION_REFUSED = "extension_refused", _("Extension refused")
    PLAN_OWNER_NAMED = "plan_owner_named", _("Plan given to you")
    # Asking before returning (transfers.services.questions).
    TRANSFER_QUESTION = "transfer_question", _("Question about a transfer")
    TRANSFER_ANSWERED = "transfer_answered", _("Question about a transfer answered")
    # Referrals to partners (partners.channel): the e-mail could not be sent.
    REFERRAL_MAIL_FAILED = "referral_mail_failed", _("Referral e-mail not sent")
    # The intake queue (cases.intake): a contact request given to a worker.
    CONTACT_REQUEST_ROUTED = "contact_request_routed", _("Contact request routed to you")
    EXPORT_READY = "export_ready", _("Export ready")


class Notification(models.Model):
    """One item in a user's inbox: a case reference and a link, never client details."""

    # The due sweep writes one row per case, so this table has one index besides its key:
    # the once-only key, which leads with the recipient and so also serves the inbox. The
    # recipient is checked by the writers (ids from rows they hold), not by a per-row
    # foreign-key trigger; see cases.models.Event.
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        db_index=False,
        db_constraint=False,
    )
    kind = models.CharField(_("kind"), max_length=40, choices=NotificationKind.choices)
    # What the notice shows: a case reference and a path in the web app, given by the app
    # that sends it. The ids are kept for the API's readers; this app reads neither.
    reference = models.CharField(_("reference"), max_length=20, blank=True)
    link = models.CharField(_("link"), max_length=200, blank=True)
    case_id = models.BigIntegerField(null=True, blank=True)
    transfer_id = models.BigIntegerField(null=True, blank=True)
    # What the reminder is about and for which day: the once-only key.
    subject_key = models.CharField(max_length=60)
    on_date = models.DateField()
    params = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("created"))
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "kind", "on_date", "subject_key"],
                name="notification_once_per_subject_kind_date_recipient",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.subject_key}"


class Channel(models.TextChoices):
    """The channels this app delivers itself. Other apps register theirs (the transfers
    app's "booking" requests) in notifications.channels."""

    EMAIL = "email", _("E-mail")
    EMAIL_DIGEST = "email_digest", _("Daily e-mail digest")
    TEAMS = "teams", _("Microsoft Teams")


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class OutboxMessage(models.Model):
    channel = models.CharField(_("channel"), max_length=20)
    # Unique: the same message is never queued twice; also the idempotency key sent out.
    key = models.CharField(_("idempotency key"), max_length=120, unique=True)
    payload = models.JSONField(_("payload"), default=dict)
    status = models.CharField(
        _("status"), max_length=20, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    available_at = models.DateTimeField(_("send at"))
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"))
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("outgoing message")
        verbose_name_plural = _("outgoing messages")
        ordering = ["available_at", "id"]
        indexes = [
            models.Index(
                fields=["available_at", "id"],
                condition=Q(status="pending"),
                name="outbox_pending_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.key} ({self.status})"


class EmailDelivery(models.TextChoices):
    """How a user gets their notices on a channel besides the inbox."""

    IMMEDIATE = "immediate", _("At once")
    DIGEST = "digest", _("In a daily digest")
    INBOX = "inbox", _("Inbox only")


class NotificationPreference(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    language = models.CharField(
        _("language"), max_length=2, choices=settings.LANGUAGES, default="fi"
    )
    # E-mail: at once (email), once a day in a digest (email and email_digest), or not at
    # all, the inbox only (not email). `email_choice` reads and writes the three as one.
    email = models.BooleanField(_("also by e-mail"), default=True)
    email_digest = models.BooleanField(_("e-mail as a daily digest"), default=False)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")

    def __str__(self) -> str:
        return str(self.user)

    @property
    def email_choice(self) -> str:
        if not self.email:
            return EmailDelivery.INBOX
        return EmailDelivery.DIGEST if self.email_digest else EmailDelivery.IMMEDIATE

    @email_choice.setter
    def email_choice(self, value: str) -> None:
        self.email = value != EmailDelivery.INBOX
        self.email_digest = value == EmailDelivery.DIGEST


class TeamChannel(models.Model):
    """A team's Microsoft Teams incoming webhook (optional)."""

    team = models.OneToOneField("cases.Team", on_delete=models.CASCADE, related_name="+")
    teams_webhook_url = models.URLField(_("Teams incoming webhook URL"), max_length=500)
    enabled = models.BooleanField(_("enabled"), default=True)

    class Meta:
        verbose_name = _("team channel")
        verbose_name_plural = _("team channels")

    def __str__(self) -> str:
        return str(self.team)


class ReminderKind(models.TextChoices):
    REVIEW_DUE_SOON = "review_due_soon", _("Review due in N days (caseworker)")
    OVERDUE_ESCALATION = "overdue_escalation", _("Review overdue N working days (supervisor)")
    ACCEPTANCE_TEAM = "acceptance_team", _("Awaiting acceptance N working days (team)")
    ACCEPTANCE_SUPERVISOR = (
        "acceptance_supervisor",
        _("Awaiting acceptance N working days (supervisor)"),
    )
    BOOKING_UNCONFIRMED = (
        "booking_unconfirmed",
        _("Booking not confirmed in N working days (front desk and sender)"),
    )
    CAP_WARNING = "cap_warning", _("N days before the 5-year cap (caseworker and supervisor)")
    PLAN_TARGET = "plan_target", _("N days before a plan's target date (caseworker)")
    CLIENT_SMS_REMINDER = (
        "client_sms_reminder",
        _("Text message to the client N days before the handover (with consent)"),
    )


class ReminderPolicy(models.Model):
    """What the city may tune, in the admin: one row per reminder, with its offsets."""

    kind = models.CharField(_("reminder"), max_length=40, choices=ReminderKind.choices, unique=True)
    offsets = models.CharField(
        _("offsets"),
        max_length=100,
        help_text=_("Days (or working days, as the reminder says), comma-separated, e.g. 30,7,0."),
    )
    enabled = models.BooleanField(_("enabled"), default=True)

    class Meta:
        verbose_name = _("reminder policy")
        verbose_name_plural = _("reminder policies")
        ordering = ["kind"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.offsets}"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        try:
            values = [int(part) for part in self.offsets.split(",") if part.strip()]
        except ValueError:
            values = [-1]
        if not values or min(values) < 0:
            raise ValidationError(
                {"offsets": _("Whole numbers of days, 0 or more, separated by commas.")}
            )

    @property
    def offset_list(self) -> list[int]:
        return sorted({int(part) for part in self.offsets.split(",") if part.strip()})
