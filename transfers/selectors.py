"""Reads scoped to what a user's teams need to see (deny by default).

An Immigration Unit member sees their teams' cases and clients. A regional team member
sees the transfers addressed to their teams, and the case and client behind one only once
they have accepted it: before that, the transfer itself is all they need. A superuser (an
administrator of the service) sees everything in the admin.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet

from .enums import TeamKind, TransferState
from .models import Case, Client, Event, Team, Transfer

# From acceptance on, the receiving team carries the case.
RECEIVED_STATES = (
    TransferState.ACCEPTED,
    TransferState.BOOKING_REQUESTED,
    TransferState.BOOKED,
    TransferState.COMPLETED,
)


def team_ids_of(user) -> list[int]:
    if user is None or not user.is_authenticated or not user.is_active:
        return []
    return list(user.memberships.values_list("team_id", flat=True).distinct())


def _received_case_ids(teams) -> QuerySet:
    return Transfer.objects.filter(receiving_team_id__in=teams, state__in=RECEIVED_STATES).values(
        "case_id"
    )


def cases_visible_to(user) -> QuerySet[Case]:
    cases = Case.objects.select_related("client", "team", "responsible_worker")
    if user.is_superuser:
        return cases
    teams = team_ids_of(user)
    # A subquery, not a join: no duplicate rows, so no DISTINCT over the whole caseload.
    # A case belongs to an Immigration Unit team, so a user of only such teams needs only
    # the first branch and a regional team member only the second, which leaves the
    # planner a filter it can match to the case indexes (an OR across both it cannot).
    kinds = set(Team.objects.filter(pk__in=teams).values_list("kind", flat=True))
    own = Q(team_id__in=teams) if TeamKind.IMMIGRATION_UNIT in kinds else Q(pk__in=[])
    if kinds <= {TeamKind.IMMIGRATION_UNIT}:
        return cases.filter(own)
    received = Q(pk__in=_received_case_ids(teams))
    return cases.filter(received if TeamKind.IMMIGRATION_UNIT not in kinds else own | received)


def transfers_visible_to(user) -> QuerySet[Transfer]:
    transfers = Transfer.objects.select_related(
        "case__client", "sending_team", "receiving_team", "routed_team", "receiving_worker"
    )
    if user.is_superuser:
        return transfers
    teams = team_ids_of(user)
    return transfers.filter(Q(sending_team_id__in=teams) | Q(receiving_team_id__in=teams))


def clients_visible_to(user) -> QuerySet[Client]:
    if user.is_superuser:
        return Client.objects.all()
    teams = team_ids_of(user)
    return Client.objects.filter(
        Q(pk__in=Case.objects.filter(team_id__in=teams).values("client_id"))
        | Q(pk__in=Case.objects.filter(pk__in=_received_case_ids(teams)).values("client_id"))
        # A client just created, before a case is opened, is visible to its creator's unit.
        | (
            Q(pk__in=Event.objects.filter(actor=user, client__isnull=False).values("client_id"))
            & ~Exists(Case.objects.filter(client_id=OuterRef("pk")))
        )
    )
