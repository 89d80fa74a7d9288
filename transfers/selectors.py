"""Reads of transfers and handover bookings, scoped to the user's teams (deny by default).

A transfer is visible to the sending and the receiving team; before acceptance the
receiving team sees the transfer only (cases.selectors decides who sees the case)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Q, QuerySet

from cases.roles import scope_team_ids
from cases.selectors import sending_side
from criteria.selectors import ordered_assessments, review_readiness
from partners.models import PartnerOrganisation
from partners.selectors import home_base_of

from . import handoff
from .enums import BookingStatus, TransferState
from .models import HandoverBooking, Transfer, TransferMessage

# From acceptance on, the receiving team carries the case.
RECEIVED_STATES = (
    TransferState.ACCEPTED,
    TransferState.BOOKING_REQUESTED,
    TransferState.BOOKED,
    TransferState.COMPLETED,
)


def transfers_visible_to(user: Any) -> QuerySet[Transfer]:
    transfers = Transfer.objects.select_related(
        "case__client", "sending_team", "receiving_team", "routed_team", "receiving_worker"
    )
    if user.is_superuser:
        return transfers
    teams = scope_team_ids(user)
    # The sending team sees its transfers while it may read their case (cases.selectors).
    return transfers.filter(
        (Q(sending_team_id__in=teams) & sending_side(teams, prefix="case__"))
        | Q(receiving_team_id__in=teams)
    )


def _bookings_of(team_ids: Iterable[int]) -> QuerySet[HandoverBooking]:
    return HandoverBooking.objects.filter(
        transfer__receiving_team_id__in=list(team_ids)
    ).select_related(
        "transfer__case__client",
        "transfer__receiving_team",
        "transfer__receiving_worker",
        "transfer__sending_worker",
    )


def booking_queue(team_ids: Iterable[int]) -> QuerySet[HandoverBooking]:
    """Requested handover bookings of these teams' front desks, oldest first."""
    return (
        _bookings_of(team_ids)
        .filter(transfer__state=TransferState.BOOKING_REQUESTED, status=BookingStatus.REQUESTED)
        .order_by("requested_at", "id")
    )


def booked_handovers(team_ids: Iterable[int]) -> QuerySet[HandoverBooking]:
    """Confirmed handovers of these teams, soonest first."""
    return (
        _bookings_of(team_ids)
        .filter(transfer__state=TransferState.BOOKED, status=BookingStatus.CONFIRMED)
        .order_by("starts_at", "id")
    )


def latest_booking(transfer: Transfer) -> HandoverBooking | None:
    """The transfer's newest handover booking (a no-show or a cancellation keeps its row)."""
    return transfer.bookings.order_by("-pk").first()


def booking_request_failed(transfer: Transfer) -> bool:
    """Whether a booking request of this transfer failed for good and waits to be sent
    again: also when the request after acceptance failed before any booking existed."""
    return bool(handoff.failed_requests(transfer))


def messages_of(transfer: Transfer) -> list[TransferMessage]:
    """The questions and answers on the transfer, oldest first. Their text is client data:
    the caller has written the access-log row of the transfer it shows them with."""
    return list(transfer.messages.select_related("author", "team").order_by("created_at", "id"))


def _partner_contact(organisation: PartnerOrganisation | None) -> str:
    if organisation is None:
        return ""
    parts = [organisation.street_address, organisation.phone, organisation.email]
    return " · ".join(part for part in parts if part)


def handover_summary(transfer: Transfer, *, full: bool) -> dict[str, Any]:
    """What a team sees of the handover summary. Before acceptance the receiving team gets
    the documented minimal part (least disclosure): whether the client is ready, the names
    of the approved exceptions, escorted or not, the language and interpreter need, and the
    sender's note to the team. The sending team, and the receiving team from acceptance on,
    get all of it: what is settled, what is open with its plans, the risks, the exceptions
    with their justification, why escorted or not, the PPT coordinator and how to reach
    them, and every version's author and time. The caller has written the read's
    access-log row."""
    versions = list(transfer.summaries.select_related("author").order_by("-version"))
    latest = versions[0] if versions else None
    # Read once, for the exceptions and the readiness.
    assessments = ordered_assessments(transfer.review)
    excepted = [a for a in assessments if a.exception_approved_by_id is not None]
    client = transfer.case.client
    minimal: dict[str, Any] = {
        # Not ready only when a supervisor decided on the transfer at the 5-year cap.
        "ready": review_readiness(transfer.review, assessments).ready,
        "exceptions": [str(a.criterion.name) for a in excepted],
        "escorted": transfer.escorted,
        "language": client.language,
        "interpreter_needed": client.interpreter_needed,
        "note_to_team": latest.note_to_team if latest else "",
    }
    if not full:
        return minimal
    home_base = home_base_of(transfer.case)
    return {
        **minimal,
        # The home base (kotipesä) the caseworker found, or why none: the receiving team
        # knows where the client can turn once social work ends.
        "home_base": None
        if home_base is None
        else {
            "organisation": home_base.organisation.name if home_base.organisation else "",
            "contact": _partner_contact(home_base.organisation),
            "reason_none": home_base.reason_none,
        },
        "version": latest.version if latest else 0,
        "settled": latest.settled if latest else "",
        "open_items": latest.open_items if latest else "",
        "risks": latest.risks if latest else "",
        "escorted_why": latest.escorted_why if latest else "",
        "ppt_coordinator": transfer.case.ppt_coordinator,
        "coordinator_contact": latest.coordinator_contact if latest else "",
        "exception_justifications": [
            {"criterion": str(a.criterion.name), "justification": a.exception_justification}
            for a in excepted
        ],
        "versions": [
            {
                "version": v.version,
                "author": v.author.get_full_name() or v.author.get_username(),
                "created_at": v.created_at,
            }
            for v in versions
        ],
    }
