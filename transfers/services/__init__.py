"""Every write to transfers and handover bookings, by area: the proposal, the receiving
team's decisions, the handover, and closing a case (which ends an open transfer).

Each service runs in one transaction: it locks the rows it changes before it writes
anything, always in one order (the case, the transfer, its booking: `locks.py`, which the
worker's delivery of a booking request uses too, so two of them never deadlock), checks
the actor's role in the right team, runs the transition, and writes one event row per
state change. If anything fails, nothing is written. Should the database still break a
lock cycle, the service runs again a bounded number of times and then answers
ConcurrentUpdate (`core.retry`), never a server error.
"""

from .closure import case_close
from .decisions import transfer_accept, transfer_cancel, transfer_return
from .escort import transfer_confirm_attendance
from .handover import (
    transfer_complete,
    transfer_confirm_booking,
    transfer_rebook,
    transfer_request_booking,
    transfer_retry_booking_request,
)
from .household import (
    MemberReadiness,
    household_members_readiness,
    household_readiness,
    household_transfer_propose,
    household_transfer_propose_for,
    transfer_accept_together,
    transfer_return_together,
)
from .proposal import routed_team_for, transfer_propose
from .questions import transfer_answer_information, transfer_request_information
from .summary import transfer_summary_edit

__all__ = [
    "MemberReadiness",
    "case_close",
    "household_members_readiness",
    "household_readiness",
    "household_transfer_propose",
    "household_transfer_propose_for",
    "routed_team_for",
    "transfer_accept",
    "transfer_accept_together",
    "transfer_answer_information",
    "transfer_cancel",
    "transfer_complete",
    "transfer_confirm_attendance",
    "transfer_confirm_booking",
    "transfer_propose",
    "transfer_rebook",
    "transfer_request_booking",
    "transfer_request_information",
    "transfer_retry_booking_request",
    "transfer_return",
    "transfer_return_together",
    "transfer_summary_edit",
]
