"""Codes the transfers app stores or compares: transfer and booking states, return
reasons, the delivery of booking requests, and the actions its events record."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class TransferState(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    INFORMATION_REQUESTED = "information_requested", _("Information requested")
    ACCEPTED = "accepted", _("Accepted")
    RETURNED = "returned", _("Returned")
    BOOKING_REQUESTED = "booking_requested", _("Booking requested")
    BOOKED = "booked", _("Booked")
    COMPLETED = "completed", _("Handover held")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_TRANSFER_STATES = (
    TransferState.PROPOSED,
    TransferState.INFORMATION_REQUESTED,
    TransferState.ACCEPTED,
    TransferState.BOOKING_REQUESTED,
    TransferState.BOOKED,
)


class ReturnReason(models.TextChoices):
    NOT_READY = "not_ready", _("Client not ready for transfer")
    WRONG_TEAM = "wrong_team", _("Wrong receiving team")
    MISSING_INFORMATION = "missing_information", _("Information missing")
    OTHER = "other", _("Other")


class ConsentBasis(models.TextChoices):
    """Why the client's data may go to the receiving team: the client's consent, or the
    legal basis when consent is not needed (recorded with who and when)."""

    CONSENT = "consent", _("The client consented to the transfer of their data")
    SAME_CONTROLLER = (
        "same_controller",
        _(
            "No consent needed: the data stays within the city's social services "
            "(the same controller)"
        ),
    )
    OTHER_LEGAL_BASIS = "other_legal_basis", _("No consent needed: another legal basis (name it)")


class MessageKind(models.TextChoices):
    QUESTION = "question", _("Question")
    ANSWER = "answer", _("Answer")


class BookingStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    CONFIRMED = "confirmed", _("Confirmed")
    HELD = "held", _("Handover held")
    NO_SHOW = "no_show", _("Client did not come")
    CANCELLED = "cancelled", _("Appointment cancelled")


class InterpreterStatus(models.TextChoices):
    # "Booked" is also a transfer state; the interpreter's words have a context of their own.
    NOT_NEEDED = "not_needed", pgettext_lazy("interpreter", "Not needed")
    REQUESTED = "requested", pgettext_lazy("interpreter", "Requested")
    BOOKED = "booked", pgettext_lazy("interpreter", "Booked")
    RELEASED = "released", pgettext_lazy("interpreter", "Released")


class DeliveryStatus(models.TextChoices):
    """Where a booking request stands on its way to the front desk."""

    WAITING = "waiting", _("Waiting for booking hours")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")


class TransferAction(models.TextChoices):
    PROPOSE = "propose", _("Transfer proposed")
    ACCEPT = "accept", _("Transfer accepted")
    RETURN = "return", _("Transfer returned")
    EDIT_SUMMARY = "edit_summary", _("Handover summary edited")
    REQUEST_INFORMATION = "request_information", _("Information requested from the sender")
    ANSWER_INFORMATION = "answer_information", _("The sender answered")
    REQUEST_BOOKING = "request_booking", _("Handover booking requested")
    CONFIRM_BOOKING = "confirm_booking", _("Handover booked")
    CONFIRM_ATTENDANCE = "confirm_attendance", _("Escorting worker confirmed the time")
    REBOOK = "rebook", _("Handover to be booked again")
    RETRY_BOOKING = "retry_booking", _("Booking request sent again")
    COMPLETE = "complete", _("Handover held")
    CANCEL = "cancel", _("Transfer cancelled")


class NoticeKind(models.TextChoices):
    """The client's own notices of the handover appointment (transfers.client_notice)."""

    LETTER = "letter", _("Letter")
    SMS = "sms", _("Text message")
    SMS_REMINDER = "sms_reminder", _("Text message reminder the day before")
