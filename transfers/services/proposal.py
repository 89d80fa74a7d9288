"""Proposing a transfer: the review is ready, the receiving team is routed (or chosen with
a reason), and the case waits for the receiving team's decision."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.utils.translation import gettext as _

from cases import routing
from cases.enums import CaseAction, TeamKind
from cases.models import Case, Team
from cases.roles import SENDING_ROLES, require_role
from cases.rules import ppt_coordinator_missing
from cases.services import case_move, require_cap_decision
from core import clock
from core.errors import Conflict, CriteriaNotMet, InvalidInput, RoutingNeedsManualChoice
from core.retry import atomic_with_retry
from core.transitions import check_transition, require_text
from criteria.enums import ReviewOutcome
from criteria.models import Review
from criteria.rules import Readiness
from criteria.selectors import review_readiness
from criteria.services import review_finish
from transfers import notices
from transfers.enums import ConsentBasis, TransferAction
from transfers.events import transfer_event
from transfers.models import Transfer

from .locks import lock_case
from .summary import write_summary


def routed_team_for(case: Case) -> Team:
    """The team routing chooses today, or RoutingNeedsManualChoice."""
    client = case.client
    return routing.route(
        postal_code=client.postal_code, date_of_birth=client.date_of_birth, on=clock.today()
    )


def _require_ready(
    case: Case, review: Review, *, role: str, decision: str
) -> tuple[Readiness, bool]:
    """(readiness, at the cap): the review is ready (or, at the cap, a supervisor decided
    in writing) and a PPT client has a named coordinator; otherwise CriteriaNotMet."""
    at_cap = require_cap_decision(case, role=role, decision=decision)
    readiness = review_readiness(review)
    if not readiness.ready and not at_cap:
        raise CriteriaNotMet(reasons=list(readiness.blockers) + list(readiness.unmet))
    if ppt_coordinator_missing(is_ppt=case.client.is_ppt, coordinator=case.ppt_coordinator):
        raise CriteriaNotMet(reasons=[_("a PPT client needs a named coordinator")])
    return readiness, at_cap


def _choose_team(
    case: Case, receiving_team: Team | None, override_reason: str
) -> tuple[Team, Team | None, str]:
    """(team, routed team, reason): the routed team unless another is chosen, which needs
    a reason; where routing cannot choose, the caller must."""
    try:
        routed: Team | None = routed_team_for(case)
    except RoutingNeedsManualChoice:
        if receiving_team is None:
            raise
        routed = None
    team = receiving_team or routed
    assert team is not None  # routing raised when it could not choose and none was given
    if team.kind not in (TeamKind.ADULT, TeamKind.YOUTH) or not team.is_active:
        raise InvalidInput({"receiving_team": _("Choose an active regional adult or youth team.")})
    if team != routed:
        override_reason = require_text(
            override_reason,
            "override_reason",
            _("Give the reason for choosing a team other than the routed one."),
        )
    return team, routed, override_reason


def _require_consent(basis: str, note: str) -> tuple[str, str]:
    """(basis, note): the client's consent or the legal basis, chosen; another legal basis
    is named in the note."""
    if basis not in ConsentBasis.values:
        raise InvalidInput(
            {
                "consent_basis": _(
                    "Record whether the client consented to the transfer of their data, "
                    "or the legal basis when consent is not needed."
                )
            }
        )
    note = (note or "").strip()
    if basis == ConsentBasis.OTHER_LEGAL_BASIS:
        note = require_text(note, "consent_note", _("Name the legal basis for the transfer."))
    return basis, note


@atomic_with_retry
def transfer_propose(
    *,
    actor: AbstractBaseUser,
    review: Review,
    receiving_team: Team | None = None,
    override_reason: str = "",
    decision: str = "",
    sender_availability: str = "",
    consent_basis: str = "",
    consent_note: str = "",
    settled: str = "",
    open_items: str = "",
    risks: str = "",
    escorted_why: str = "",
    coordinator_contact: str = "",
    note_to_team: str = "",
) -> Transfer:
    """in_review -> transfer_pending, with a new Transfer (proposed).

    Requires a ready review (every applicable criterion met or excepted, no blocker) and,
    for a PPT client, a named coordinator. The receiving team is routed; choosing another
    team, or choosing by hand where routing cannot, needs a reason, which is logged.
    At the cap a supervisor may decide on a transfer that is not ready, in writing.
    An escorted transfer carries the sending worker's availability for the front desk.
    The client's consent to the transfer of their data, or the legal basis when consent is
    not needed, is required and recorded with who recorded it and when. The sender's
    handover summary is its first version.
    """
    case = lock_case(review.case_id)
    role = require_role(actor, team=case.team, roles=SENDING_ROLES, action="propose_transfer")
    check_transition(case, CaseAction.PROPOSE_TRANSFER)
    review = Review.objects.select_for_update().get(pk=review.pk)
    if not review.is_open:
        raise Conflict(_("This review is already completed."))
    readiness, at_cap = _require_ready(case, review, role=role, decision=decision)
    team, routed, override_reason = _choose_team(case, receiving_team, override_reason)
    consent_basis, consent_note = _require_consent(consent_basis, consent_note)

    now = clock.now()
    review_finish(review, outcome=ReviewOutcome.READY, at=now)
    transfer = Transfer.objects.create(
        case=case,
        review=review,
        sending_team=case.team,
        sending_worker=case.responsible_worker,
        receiving_team=team,
        routed_team=routed,
        override_reason=override_reason.strip(),
        escorted=readiness.escorted,
        sender_availability=sender_availability.strip() if readiness.escorted else "",
        consent_basis=consent_basis,
        consent_note=consent_note,
        consent_recorded_by_id=actor.pk,
        consent_recorded_at=now,
        proposed_at=now,
    )
    write_summary(
        transfer,
        author=actor,
        settled=settled,
        open_items=open_items,
        risks=risks,
        escorted_why=escorted_why,
        coordinator_contact=coordinator_contact,
        note_to_team=note_to_team,
    )
    case_move(
        case,
        CaseAction.PROPOSE_TRANSFER,
        actor=actor,
        role=role,
        transfer_id=transfer.pk,
        review_id=review.pk,
        params={"at_cap": at_cap, "decision": decision, "ready": readiness.ready},
    )
    transfer_event(
        transfer,
        TransferAction.PROPOSE,
        actor=actor,
        role=role,
        source="",
        reason=override_reason,
        review_id=review.pk,
        params={
            "receiving_team": team.code,
            "routed_team": routed.code if routed else None,
            "overridden": team != routed,
            "escorted": transfer.escorted,
            "consent_basis": consent_basis,
        },
    )
    notices.transfer_proposed(transfer, actor=actor)
    return transfer
