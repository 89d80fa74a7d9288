"""Closing a case. It lives here, at the top of the flow, because closing ends everything
that is still open: the transfer (cancelled, its interpreter released) and the review."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.utils.translation import gettext as _

from cases.enums import CaseAction, ClosureReason
from cases.models import Case
from cases.roles import SENDING_ROLES, require_role
from cases.services import case_hand_to, case_move, require_cap_decision
from core import clock
from core.errors import InvalidInput
from core.retry import atomic_with_retry
from core.transitions import check_transition, require_text
from criteria.enums import ReviewOutcome
from criteria.selectors import open_review_of
from criteria.services import review_finish
from partners.selectors import home_base_of
from transfers.enums import OPEN_TRANSFER_STATES

from .decisions import transfer_cancel_locked
from .locks import lock_case, lock_transfer


@atomic_with_retry
def case_close(
    *, actor: AbstractBaseUser, case: Case, reason: str, text: str = "", decision: str = ""
) -> Case:
    """Close the relationship from any state that is not final. An open transfer is
    cancelled and an open review ends with it. At the 60-month cap only a supervisor
    decides, and the decision is recorded. A case closed as "no further need" has its
    home base (or why none) recorded first, and the closure's event names it."""
    case = lock_case(case.pk)
    role = require_role(actor, team=case.team, roles=SENDING_ROLES, action="close")
    check_transition(case, CaseAction.CLOSE)
    if reason not in ClosureReason.values:
        raise InvalidInput({"reason": _("Choose one of the closure reasons.")})
    if reason == ClosureReason.OTHER:
        text = require_text(text, "text", _("Explain the reason when it is “other”."))
    at_cap = require_cap_decision(case, role=role, decision=decision)
    home_base = home_base_of(case)
    if reason == ClosureReason.NO_FURTHER_NEED and home_base is None:
        raise InvalidInput(
            {
                "reason": _(
                    "Record the client's home base, or why there is none, before closing "
                    "the case as “no further need”."
                )
            }
        )
    now = clock.now()
    open_transfer = case.transfers.filter(state__in=OPEN_TRANSFER_STATES).first()
    if open_transfer is not None:
        transfer_cancel_locked(
            lock_transfer(open_transfer)[1],
            actor=actor,
            role=role,
            reason=_("The case was closed."),
            reopen_case=False,
        )
    review = open_review_of(case)
    if review is not None:
        review_finish(review, outcome=ReviewOutcome.CLOSED, at=now)
    if case.receiving_team_id is not None:
        case_hand_to(case, team=None)
    case_move(
        case,
        CaseAction.CLOSE,
        actor=actor,
        role=role,
        reason=text or reason,
        params={
            "reason": reason,
            "at_cap": at_cap,
            "decision": decision,
            # The closure record names the home base the client can return to.
            "home_base": home_base.organisation.name
            if home_base is not None and home_base.organisation is not None
            else None,
            "home_base_reason": home_base.reason_none if home_base is not None else "",
        },
        closure_reason=reason,
        text=text,
        at=now,
    )
    return case
