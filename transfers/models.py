"""Transfers and their handover bookings: one attempt to move a case to a regional team,
and the appointments at the receiving front desk.

States are changed only by `transfers.services`: the FSM fields are protected.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Case as DbCase
from django.db.models import F, Q, When
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from cases.models import Case, Household, Team
from cases.validators import validate_language_code

from .enums import (
    OPEN_TRANSFER_STATES,
    BookingStatus,
    ConsentBasis,
    DeliveryStatus,
    InterpreterStatus,
    MessageKind,
    NoticeKind,
    ReturnReason,
    TransferState,
)

# Open transfers that wait for someone, and when the wait began: proposed (the receiving
# team decides), or accepted and booking requested (the front desk books).
WAITING_STATES = [TransferState.PROPOSED, TransferState.ACCEPTED, TransferState.BOOKING_REQUESTED]
WAITING_SINCE = DbCase(
    When(state=TransferState.PROPOSED, then=F("proposed_at")),
    default=Coalesce("booking_requested_at", "accepted_at"),
)


class Transfer(ConcurrentTransitionMixin, models.Model):
    """One attempt to move a case to a regional team."""

    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, related_name="transfers", verbose_name=_("case")
    )
    review = models.ForeignKey(
        "criteria.Review",
        on_delete=models.PROTECT,
        related_name="transfers",
        verbose_name=_("review"),
    )
    state = FSMField(
        _("state"),
        default=TransferState.PROPOSED,
        choices=TransferState.choices,
        protected=True,
        db_index=True,
    )
    sending_team = models.ForeignKey(
        Team,
        on_delete=models.PROTECT,
        related_name="sent_transfers",
        verbose_name=_("sending team"),
    )
    sending_worker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="sent_transfers",
        verbose_name=_("sending worker"),
    )
    receiving_team = models.ForeignKey(
        Team,
        on_delete=models.PROTECT,
        related_name="incoming_transfers",
        verbose_name=_("receiving team"),
    )
    routed_team = models.ForeignKey(
        Team,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("routed team"),
        help_text=_("The team the routing table chose; empty when it needed a manual choice."),
    )
    override_reason = models.TextField(_("reason for choosing another team"), blank=True)
    receiving_worker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="received_transfers",
        null=True,
        blank=True,
        verbose_name=_("receiving worker"),
    )
    escorted = models.BooleanField(_("escorted transfer"), default=False)
    sender_availability = models.TextField(
        _("sending worker's availability"),
        blank=True,
        help_text=_(
            "For an escorted transfer: when the sending worker can attend the handover. "
            "The front desk sees it when booking."
        ),
    )
    consent_basis = models.CharField(
        _("consent or legal basis"), max_length=20, choices=ConsentBasis.choices, blank=True
    )
    consent_note = models.TextField(_("legal basis"), blank=True)
    consent_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("consent recorded by"),
    )
    consent_recorded_at = models.DateTimeField(_("consent recorded"), null=True, blank=True)
    return_reason = models.CharField(
        _("return reason"), max_length=30, choices=ReturnReason.choices, blank=True
    )
    return_text = models.TextField(_("return explanation"), blank=True)
    cancel_reason = models.TextField(_("cancellation reason"), blank=True)
    proposed_at = models.DateTimeField(_("proposed"))
    information_requested_at = models.DateTimeField(
        _("information requested"), null=True, blank=True
    )
    paused_working_days = models.PositiveIntegerField(
        _("working days paused"),
        default=0,
        help_text=_(
            "Working days the awaiting-acceptance clock stood still while the sender answered "
            "the receiving team's questions."
        ),
    )
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    returned_at = models.DateTimeField(_("returned"), null=True, blank=True)
    booking_requested_at = models.DateTimeField(_("booking requested"), null=True, blank=True)
    booked_at = models.DateTimeField(_("booked"), null=True, blank=True)
    completed_at = models.DateTimeField(_("handover held"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    # Set when a household's transfers were proposed together (transfers.services.household):
    # they are accepted or returned as one and share one handover booking.
    household = models.ForeignKey(
        Household,
        on_delete=models.PROTECT,
        related_name="transfers",
        null=True,
        blank=True,
        verbose_name=_("household"),
    )

    class Meta:
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
        ordering = ["-proposed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(state__in=OPEN_TRANSFER_STATES),
                name="one_open_transfer_per_case",
            ),
        ]
        indexes = [
            # The stalled transfers, longest wait first: a page read in index order.
            models.Index(
                WAITING_SINCE,
                F("id"),
                condition=Q(state__in=WAITING_STATES),
                name="transfer_waiting_since_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case.reference} → {self.receiving_team}"

    @transition(field=state, source=TransferState.PROPOSED, target=TransferState.ACCEPTED)
    def accept(self, *, receiving_worker, at: dt.datetime) -> None:
        self.receiving_worker = receiving_worker
        self.accepted_at = at

    @transition(
        field=state, source=TransferState.PROPOSED, target=TransferState.INFORMATION_REQUESTED
    )
    def request_information(self, *, at: dt.datetime) -> None:
        self.information_requested_at = at

    @transition(
        field=state, source=TransferState.INFORMATION_REQUESTED, target=TransferState.PROPOSED
    )
    def answer_information(self, *, paused_working_days: int) -> None:
        self.paused_working_days += paused_working_days
        self.information_requested_at = None

    @transition(
        field=state,
        source=[TransferState.PROPOSED, TransferState.INFORMATION_REQUESTED],
        target=TransferState.RETURNED,
    )
    def return_to_sender(self, *, reason: str, text: str, at: dt.datetime) -> None:
        self.return_reason = reason
        self.return_text = text
        self.returned_at = at

    @transition(field=state, source=TransferState.ACCEPTED, target=TransferState.BOOKING_REQUESTED)
    def request_booking(self, *, at: dt.datetime) -> None:
        self.booking_requested_at = at

    @transition(field=state, source=TransferState.BOOKING_REQUESTED, target=TransferState.BOOKED)
    def confirm_booking(self, *, at: dt.datetime) -> None:
        self.booked_at = at

    @transition(field=state, source=TransferState.BOOKED, target=TransferState.BOOKING_REQUESTED)
    def rebook(self, *, at: dt.datetime) -> None:
        self.booking_requested_at = at
        self.booked_at = None

    @transition(field=state, source=TransferState.BOOKED, target=TransferState.COMPLETED)
    def complete(self, *, at: dt.datetime) -> None:
        self.completed_at = at

    @transition(field=state, source=list(OPEN_TRANSFER_STATES), target=TransferState.CANCELLED)
    def cancel(self, *, reason: str, at: dt.datetime) -> None:
        self.cancel_reason = reason
        self.cancelled_at = at


class HandoverSummary(models.Model):
    """The sender's handover summary, one row per version (a new version when edited, each
    with its author and time). Before acceptance the receiving team sees only its minimal
    part (the note to the team; with readiness, the approved exceptions' names, escorted or
    not and the language need, read from the transfer): `transfers.selectors`."""

    transfer = models.ForeignKey(
        Transfer, on_delete=models.PROTECT, related_name="summaries", verbose_name=_("transfer")
    )
    version = models.PositiveIntegerField(_("version"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("author"),
    )
    created_at = models.DateTimeField(_("written"))
    settled = models.TextField(_("what is settled"), blank=True)
    open_items = models.TextField(
        _("what is still open: plans in progress, with owners and dates"), blank=True
    )
    risks = models.TextField(_("risks"), blank=True)
    escorted_why = models.TextField(_("escorted or not, and why"), blank=True)
    coordinator_contact = models.TextField(
        _("the PPT coordinator and how to reach them"), blank=True
    )
    note_to_team = models.TextField(_("note to the receiving team"), blank=True)

    class Meta:
        verbose_name = _("handover summary")
        verbose_name_plural = _("handover summaries")
        ordering = ["transfer", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["transfer", "version"], name="one_summary_per_transfer_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.transfer.case.reference}: v{self.version}"


class TransferMessage(models.Model):
    """One question of the receiving team or answer of the sender, kept on the transfer.
    The text is client data: it is shown only where reads are access-logged, and never
    put in a notice. Written once, never changed."""

    transfer = models.ForeignKey(
        Transfer, on_delete=models.PROTECT, related_name="messages", verbose_name=_("transfer")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=MessageKind.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("author"),
    )
    team = models.ForeignKey(
        Team, on_delete=models.PROTECT, related_name="+", verbose_name=_("team")
    )
    text = models.TextField(_("text"))
    created_at = models.DateTimeField(_("written"))

    class Meta:
        verbose_name = _("transfer message")
        verbose_name_plural = _("transfer messages")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.transfer.case.reference}: {self.get_kind_display()}"


class HandoverBooking(models.Model):
    """The handover appointment at the receiving front desk, with its interpreter.

    One row per attempt: a no-show or a cancelled appointment keeps its row and a new
    request follows, so the figures can count unused interpreters."""

    transfer = models.ForeignKey(
        Transfer, on_delete=models.PROTECT, related_name="bookings", verbose_name=_("transfer")
    )
    status = models.CharField(
        _("status"), max_length=20, choices=BookingStatus.choices, default=BookingStatus.REQUESTED
    )
    starts_at = models.DateTimeField(_("time"), null=True, blank=True)
    place = models.CharField(_("place"), max_length=200, blank=True)
    interpreter_language = models.CharField(
        _("interpreter language"), max_length=3, blank=True, validators=[validate_language_code]
    )
    interpreter_status = models.CharField(
        _("interpreter"),
        max_length=20,
        choices=InterpreterStatus.choices,
        default=InterpreterStatus.NOT_NEEDED,
    )
    delivery = models.CharField(
        _("request delivery"),
        max_length=20,
        choices=DeliveryStatus.choices,
        default=DeliveryStatus.WAITING,
    )
    delivery_error = models.TextField(_("delivery error"), blank=True)
    external_ref = models.CharField(_("external booking reference"), max_length=200, blank=True)
    interpreter_name = models.CharField(
        _("interpreter name or booking"), max_length=200, blank=True
    )
    outside_hours = models.BooleanField(
        _("outside meeting hours"),
        default=False,
        help_text=_(
            "The time is not on a working day within the team's meeting hours: booked with "
            "the front desk's reason, or by the booking system (flagged)."
        ),
    )
    outside_hours_reason = models.TextField(_("reason for the time"), blank=True)
    requested_at = models.DateTimeField(_("requested"))
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    sender_confirmed_at = models.DateTimeField(
        _("escorting worker confirmed"),
        null=True,
        blank=True,
        help_text=_("An escorted handover: when the sending worker confirmed the time."),
    )
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)

    class Meta:
        verbose_name = _("handover booking")
        verbose_name_plural = _("handover bookings")
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["transfer"],
                condition=Q(status__in=[BookingStatus.REQUESTED, BookingStatus.CONFIRMED]),
                name="one_live_booking_per_transfer",
            )
        ]

    def __str__(self) -> str:
        return f"{self.transfer.case.reference}: {self.get_status_display()}"


class ClientNoticeTemplate(models.Model):
    """The wording of a client's notice of the handover appointment, per language and
    kind: data an administrator edits in the admin, never code. The texts take these
    placeholders (string.Template: nothing else is looked up): $date, $time, $place,
    $address, $meeting_with, $team, $interpreter (the interpreter line, or nothing) and,
    in the interpreter line, $language. A client whose language has no template gets the
    plain-language Finnish one (selkosuomi), and the caseworker is told on the page."""

    kind = models.CharField(_("kind"), max_length=20, choices=NoticeKind.choices)
    language = models.CharField(
        _("language"),
        max_length=3,
        validators=[validate_language_code],
        help_text=_("ISO 639-3 code of the client's language, e.g. fin, swe, eng, prs."),
    )
    plain_language = models.BooleanField(
        _("plain language"),
        default=False,
        help_text=_("Plain-language Finnish (selkosuomi): for clients without their own."),
    )
    subject = models.CharField(_("heading"), max_length=200, blank=True)
    body = models.TextField(_("text"))
    interpreter_line = models.CharField(
        _("interpreter line"),
        max_length=300,
        blank=True,
        help_text=_("Shown as $interpreter when an interpreter is booked; $language names it."),
    )
    needs_translator_review = models.BooleanField(
        _("needs translator review"),
        default=True,
        help_text=_("Untick once a translator has checked the text."),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("client notice template")
        verbose_name_plural = _("client notice templates")
        ordering = ["kind", "language", "plain_language"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "language", "plain_language"],
                name="one_notice_template_per_kind_and_language",
            )
        ]

    def __str__(self) -> str:
        plain = " (selko)" if self.plain_language else ""
        return f"{self.get_kind_display()}: {self.language}{plain}"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from .client_notice import template_errors

        errors = template_errors(self)
        if errors:
            raise ValidationError(errors)
