"""A household moves together: one transfer per member's case, proposed in one transaction
(all or nothing) to one receiving team, accepted or returned as one, with one handover
booking for the whole household (transfers.services.handover shares it).

A household that is not ready is refused naming each member who is not and why; a member
outside the proposer's scope is counted, never named.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from cases.enums import CaseState, HouseholdRelation
from cases.models import Case, Client, Household, HouseholdMember, Team
from cases.roles import SENDING_ROLES, is_member, require_role
from cases.rules import ppt_coordinator_missing
from cases.selectors import clients_visible_to, open_case_of
from core.errors import Conflict, CriteriaNotMet, InvalidInput, RoutingNeedsManualChoice
from criteria.models import Review
from criteria.selectors import review_readiness
from transfers.enums import OPEN_TRANSFER_STATES, TransferState
from transfers.models import Transfer

from .decisions import transfer_accept, transfer_return
from .locks import lock_case
from .proposal import routed_team_for, transfer_propose

BLOCKER_WORDS = {
    "family_reunification_pending": gettext_lazy("Family reunification is pending"),
    "homeless_or_crisis_accommodation": gettext_lazy("Homeless or in crisis accommodation"),
}


def household_not_ready(reasons: list[str]) -> CriteriaNotMet:
    """The refusal of a household that is not ready: which members, and why (members
    outside the scope are counted, not named). The API's `criteria_not_met`, worded for a
    household."""
    error = CriteriaNotMet(reasons=reasons)
    error.detail = _("The household is not ready for transfer: %(reasons)s.") % {
        "reasons": "; ".join(reasons)
    }
    error.args = (error.detail,)
    return error


def _open_review(case: Case) -> Review | None:
    return case.reviews.filter(completed_at__isnull=True).order_by("-started_at").first()


@dataclass(frozen=True)
class MemberReadiness:
    """One member of a household as the household's review shows it: the open case and
    review (if any), why the member is not ready (None when ready, or for a child with no
    case of their own, who moves with the family's cases), and the criteria by name."""

    member: HouseholdMember
    case: Case | None
    review: Review | None
    why: str | None
    not_met: tuple[str, ...] = ()
    unassessed: tuple[str, ...] = ()
    blockers: tuple[str, ...] = ()

    @property
    def ready(self) -> bool:
        return self.why is None and self.case is not None

    @property
    def moves_with_family(self) -> bool:
        return self.case is None and self.why is None


def _member_readiness(actor: AbstractBaseUser, member: HouseholdMember) -> MemberReadiness:
    case = open_case_of(member.client)
    if case is None:
        why = None
        if member.relation != HouseholdRelation.CHILD:
            why = _("no open case")
        return MemberReadiness(member=member, case=None, review=None, why=why)
    review = _open_review(case)

    def refused(why: str) -> MemberReadiness:
        return MemberReadiness(member=member, case=case, review=review, why=why)

    if not is_member(actor, team=case.team, roles=SENDING_ROLES):
        return refused(_("the case is in another team's caseload"))
    if case.state == CaseState.TRANSFER_PENDING:
        return refused(_("a transfer is already proposed"))
    if case.state in (CaseState.ACTIVE, CaseState.REVIEW_DUE):
        return refused(_("the review has not been started"))
    if case.state != CaseState.IN_REVIEW or review is None:
        return refused(_("the case is “%(state)s”") % {"state": case.get_state_display()})
    readiness = review_readiness(review)
    if not readiness.ready:
        names = {
            a.criterion.code: a.criterion.name
            for a in review.assessments.select_related("criterion")
        }
        blockers = tuple(str(BLOCKER_WORDS.get(code, code)) for code in readiness.blockers)
        unmet = tuple(str(names.get(code, code)) for code in readiness.unmet)
        return MemberReadiness(
            member=member,
            case=case,
            review=review,
            why=_("not ready: %(reasons)s") % {"reasons": ", ".join(blockers + unmet)},
            not_met=tuple(str(names.get(code, code)) for code in readiness.not_met),
            unassessed=tuple(str(names.get(code, code)) for code in readiness.unassessed),
            blockers=blockers,
        )
    if ppt_coordinator_missing(is_ppt=case.client.is_ppt, coordinator=case.ppt_coordinator):
        return refused(_("a PPT client needs a named coordinator"))
    return MemberReadiness(member=member, case=case, review=review, why=None)


def household_members_readiness(
    *, actor: AbstractBaseUser, household: Household
) -> tuple[list[MemberReadiness], int]:
    """(each member the actor may see with their readiness, how many members they may
    not see): what the household's review shows, and what its proposal checks."""
    members = list(household.members.select_related("client").order_by("joined_at", "pk"))
    visible = set(
        clients_visible_to(actor)
        .filter(pk__in=[m.client_id for m in members])
        .values_list("pk", flat=True)
    )
    rows = [_member_readiness(actor, m) for m in members if m.client_id in visible]
    return rows, len(members) - len(rows)


def household_readiness(
    *, actor: AbstractBaseUser, household: Household
) -> tuple[list[tuple[HouseholdMember, Case]], list[str]]:
    """(the members' cases to transfer, the problems): each problem names the member and
    why. A child with no case of their own moves with the family's cases."""
    rows, hidden = household_members_readiness(actor=actor, household=household)
    found: list[tuple[HouseholdMember, Case]] = []
    problems: list[str] = []
    for row in rows:
        name = f"{row.member.client.first_name} {row.member.client.last_name}"
        if row.why:
            problems.append(f"{name}: {row.why}")
        elif row.case is not None:
            found.append((row.member, row.case))
    if hidden:
        problems.append(
            ngettext(
                "%(n)s member of the household is not in your caseload",
                "%(n)s members of the household are not in your caseload",
                hidden,
            )
            % {"n": hidden}
        )
    if not found and not problems:
        problems.append(_("no member has an open case"))
    return found, problems


@transaction.atomic
def household_transfer_propose(
    *,
    actor: AbstractBaseUser,
    household: Household,
    receiving_team: Team | None = None,
    override_reason: str = "",
    decision: str = "",
    consent_basis: str = "",
    consent_note: str = "",
    **summary: str,
) -> list[Transfer]:
    """One transfer per member's case, all to one team, in one transaction: every member
    is ready, or nothing is written and the refusal (CriteriaNotMet) names who and why. The team is
    the one chosen, or the routed team of the first adult's case; a member routed
    elsewhere (a young adult to the youth team) moves with the household, which is the
    reason recorded."""
    household = Household.objects.select_for_update().get(pk=household.pk)
    found, problems = household_readiness(actor=actor, household=household)
    if problems:
        raise household_not_ready(problems)
    cases = {case.pk: lock_case(case.pk) for _m, case in sorted(found, key=lambda f: f[1].pk)}
    if receiving_team is None:
        try:
            receiving_team = routed_team_for(cases[found[0][1].pk])
        except RoutingNeedsManualChoice as exc:
            raise InvalidInput({"receiving_team": exc.detail}) from exc
    transfers = []
    for _member, case in found:
        routed = _routed_or_none(case)
        reason = override_reason
        if routed != receiving_team and not reason.strip():
            reason = _("Moves with the household to the same team.")
        review = _open_review(case)
        assert review is not None  # readiness checked it
        transfer = transfer_propose(
            actor=actor,
            review=review,
            receiving_team=receiving_team,
            override_reason=reason,
            decision=decision,
            consent_basis=consent_basis,
            consent_note=consent_note,
            **summary,
        )
        transfer.household = household
        transfer.save(update_fields=["household"])
        transfers.append(transfer)
    return transfers


def household_transfer_propose_for(
    *, actor: AbstractBaseUser, client: Client, **proposal: Any
) -> list[Transfer]:
    """`household_transfer_propose` for the household of `client` (how the API names it):
    a caseworker or supervisor of the client's open case's team (of the first member's
    with one, for a child with none) proposes; a client in no household is a conflict."""
    membership = HouseholdMember.objects.filter(client=client).select_related("household").first()
    if membership is None:
        raise Conflict(_("The client is not in a household."))
    case = open_case_of(client) or next(
        (
            found
            for member in membership.household.members.select_related("client").order_by(
                "joined_at", "pk"
            )
            if (found := open_case_of(member.client)) is not None
        ),
        None,
    )
    if case is None:
        raise household_not_ready([_("no member has an open case")])
    require_role(actor, team=case.team, roles=SENDING_ROLES, action="propose_transfer")
    return household_transfer_propose(actor=actor, household=membership.household, **proposal)


def _routed_or_none(case: Case) -> Team | None:
    try:
        return routed_team_for(case)
    except RoutingNeedsManualChoice:
        return None


def household_siblings(transfer: Transfer, *, state: str | None = None) -> list[Transfer]:
    """The open transfers proposed together with `transfer` (itself included), by id."""
    if transfer.household_id is None:
        return [transfer]
    siblings = Transfer.objects.filter(
        household_id=transfer.household_id, state__in=OPEN_TRANSFER_STATES
    )
    if state is not None:
        siblings = siblings.filter(state=state)
    return list(siblings.order_by("pk")) or [transfer]


def _together(transfer: Transfer, state: str, act: Callable[[Transfer], Transfer]) -> Transfer:
    """Run `act` on every sibling in `state`, in id order, in one transaction; the
    transfer asked for is acted on even if it alone is (its service refuses it then)."""
    with transaction.atomic():
        done = None
        siblings = household_siblings(transfer, state=state)
        if transfer.pk not in {s.pk for s in siblings}:
            siblings = [transfer]
        for sibling in siblings:
            result = act(sibling)
            if sibling.pk == transfer.pk:
                done = result
        assert done is not None
        return done


def transfer_accept_together(
    *, actor: AbstractBaseUser, transfer: Transfer, receiving_worker: AbstractBaseUser
) -> Transfer:
    """Accept a transfer, and with it every transfer of its household still proposed."""
    return _together(
        transfer,
        TransferState.PROPOSED,
        lambda t: transfer_accept(actor=actor, transfer=t, receiving_worker=receiving_worker),
    )


def transfer_return_together(
    *, actor: AbstractBaseUser, transfer: Transfer, **arguments: Any
) -> Transfer:
    """Return a transfer, and with it every transfer of its household still proposed."""
    return _together(
        transfer,
        TransferState.PROPOSED,
        lambda t: transfer_return(actor=actor, transfer=t, **arguments),
    )
