from django.db import models
from django.utils.translation import gettext_lazy as _


class TeamKind(models.TextChoices):
    IMMIGRATION_UNIT = "immigration_unit", _("Immigration Unit team")
    ADULT = "adult", _("Adult social work team")
    YOUTH = "youth", _("Youth team")


class Role(models.TextChoices):
    CASEWORKER = "caseworker", _("Caseworker")
    RECEIVING_WORKER = "receiving_worker", _("Receiving worker")
    FRONT_DESK = "front_desk", _("Front desk")
    SUPERVISOR = "supervisor", _("Supervisor")


class HousingSituation(models.TextChoices):
    SETTLED = "settled", _("Settled housing")
    TEMPORARY = "temporary", _("Temporary housing")
    CRISIS_ACCOMMODATION = "crisis_accommodation", _("Crisis accommodation")
    HOMELESS = "homeless", _("Homeless")


class CaseState(models.TextChoices):
    ACTIVE = "active", _("Active")
    REVIEW_DUE = "review_due", _("Review due")
    IN_REVIEW = "in_review", _("In review")
    TRANSFER_PENDING = "transfer_pending", _("Transfer pending")
    TRANSFERRED = "transferred", _("Transferred")
    CLOSED = "closed", _("Closed")


class ClosureReason(models.TextChoices):
    NO_FURTHER_NEED = "no_further_need", _("No further need of social services")
    MOVED_AWAY = "moved_away", _("Moved away")
    DECEASED = "deceased", _("Deceased")
    OTHER = "other", _("Other")


class TransferState(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    ACCEPTED = "accepted", _("Accepted")
    RETURNED = "returned", _("Returned")
    BOOKING_REQUESTED = "booking_requested", _("Booking requested")
    BOOKED = "booked", _("Booked")
    COMPLETED = "completed", _("Handover held")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_TRANSFER_STATES = (
    TransferState.PROPOSED,
    TransferState.ACCEPTED,
    TransferState.BOOKING_REQUESTED,
    TransferState.BOOKED,
)


class ReturnReason(models.TextChoices):
    NOT_READY = "not_ready", _("Client not ready for transfer")
    WRONG_TEAM = "wrong_team", _("Wrong receiving team")
    MISSING_INFORMATION = "missing_information", _("Information missing")
    OTHER = "other", _("Other")


class BookingStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    CONFIRMED = "confirmed", _("Confirmed")
    HELD = "held", _("Handover held")
    NO_SHOW = "no_show", _("Client did not come")
    CANCELLED = "cancelled", _("Appointment cancelled")


class InterpreterStatus(models.TextChoices):
    NOT_NEEDED = "not_needed", _("Not needed")
    REQUESTED = "requested", _("Requested")
    BOOKED = "booked", _("Booked")
    RELEASED = "released", _("Released")
