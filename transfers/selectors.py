"""Reads scoped to what a user's teams need to see (deny by default).

An Immigration Unit member sees their teams' cases and clients; a regional team member
sees the transfers addressed to their teams and those cases. A superuser (an
administrator of the service) sees everything in the admin.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from .models import Case, Client, Transfer


def team_ids_of(user) -> list[int]:
    if user is None or not user.is_authenticated or not user.is_active:
        return []
    return list(user.memberships.values_list("team_id", flat=True).distinct())


def cases_visible_to(user) -> QuerySet[Case]:
    cases = Case.objects.select_related("client", "team", "responsible_worker")
    if user.is_superuser:
        return cases
    teams = team_ids_of(user)
    return cases.filter(Q(team_id__in=teams) | Q(transfers__receiving_team_id__in=teams)).distinct()


def transfers_visible_to(user) -> QuerySet[Transfer]:
    transfers = Transfer.objects.select_related(
        "case__client", "sending_team", "receiving_team", "receiving_worker"
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
        Q(cases__team_id__in=teams)
        | Q(cases__transfers__receiving_team_id__in=teams)
        # A client just created, before a case is opened, is visible to its creator's unit.
        | Q(cases__isnull=True, events__actor=user)
    ).distinct()
