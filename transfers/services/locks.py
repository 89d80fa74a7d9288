"""The one lock order of every write to a transfer: its case, then the transfer, then its
booking. Every service and the worker's delivery take their locks through here, before
they write anything, so two of them can wait for each other but never in a cycle.

The rows are locked FOR NO KEY UPDATE: as exclusive as FOR UPDATE between writers, but a
row that only refers to them (an event, an access-log row, a notice) can still be
inserted by others meanwhile, instead of queueing behind the lock.
"""

from __future__ import annotations

from cases.models import Case
from transfers.enums import BookingStatus
from transfers.models import HandoverBooking, Transfer


def lock_case(case_id: int) -> Case:
    return Case.objects.select_for_update(no_key=True).get(pk=case_id)


def lock_transfer(transfer: Transfer | int) -> tuple[Case, Transfer]:
    """(case, transfer), locked in that order and read afresh (the caller's copy may be
    stale; a transfer's case never changes, so it can be read before the lock)."""
    if isinstance(transfer, Transfer):
        pk, case_id = transfer.pk, transfer.case_id
    else:
        pk = transfer
        case_id = Transfer.objects.values_list("case_id", flat=True).get(pk=pk)
    case = lock_case(case_id)
    # Only the transfer's row is locked; its teams and sending worker, which every
    # transition reads (the role check, the notices), come in the same query.
    locked = (
        Transfer.objects.select_for_update(no_key=True, of=("self",))
        .select_related("sending_team", "receiving_team", "sending_worker")
        .get(pk=pk)
    )
    locked.case = case  # the same row, just locked: read once
    return case, locked


def lock_booking(booking_id: int) -> tuple[Case, Transfer, HandoverBooking]:
    """(case, transfer, booking), locked in that order; the booking comes with its
    transfer's teams, case, client and workers read (not locked)."""
    transfer_id = HandoverBooking.objects.values_list("transfer_id", flat=True).get(pk=booking_id)
    case, transfer = lock_transfer(transfer_id)
    booking = (
        HandoverBooking.objects.select_for_update(no_key=True, of=("self",))
        .select_related(
            "transfer__receiving_team",
            "transfer__case__client",
            "transfer__sending_worker",
            "transfer__receiving_worker",
        )
        .get(pk=booking_id)
    )
    return case, transfer, booking


def lock_live_booking(transfer: Transfer) -> HandoverBooking | None:
    """The transfer's requested or confirmed booking, locked (the caller holds the case
    and the transfer already)."""
    return (
        HandoverBooking.objects.select_for_update(no_key=True)
        .filter(transfer=transfer, status__in=[BookingStatus.REQUESTED, BookingStatus.CONFIRMED])
        .first()
    )
