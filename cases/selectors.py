"""Reads of clients and cases, scoped to what a user's teams need to see (deny by default).

An Immigration Unit member sees their teams' cases and clients. A regional team member
sees a case and its client once their team has accepted its transfer (the case's
`receiving_team`): before that, the transfer itself is all they need (transfers.selectors).
A superuser (an administrator of the service) sees everything in the admin.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from dateutil.relativedelta import relativedelta
from django.db.models import Exists, OuterRef, Q, QuerySet

from .enums import CaseState, TeamKind
from .models import BookingHours, Case, Client, Event, MeetingHours, Region, Team
from .roles import desk_ids_of, scope_team_ids
from .rules import CAP_MONTHS, ClientFacts

OPEN_CASE_STATES = (
    CaseState.ACTIVE,
    CaseState.REVIEW_DUE,
    CaseState.IN_REVIEW,
    CaseState.TRANSFER_PENDING,
)


def client_facts(client: Client) -> ClientFacts:
    """The facts about a client that the date and readiness rules read."""
    return ClientFacts(
        has_children=client.has_children,
        family_reunification_pending=client.family_reunification_pending,
        housing_situation=client.housing_situation,
        is_ppt=client.is_ppt,
        reunited_family=client.reunited_family,
        sponsor_in_finland_since=client.sponsor_in_finland_since,
        family_situation_stable=client.family_situation_stable,
    )


def _scope(teams: list[int]) -> Q:
    """The cases of these teams: their own (Immigration Unit) and those they received.
    A user of only Immigration Unit teams needs only the first branch and a regional team
    member only the second, which leaves the planner a filter it can match to an index
    (an OR across both it cannot)."""
    kinds = set(Team.objects.filter(pk__in=teams).values_list("kind", flat=True))
    own = TeamKind.IMMIGRATION_UNIT in kinds
    if kinds <= {TeamKind.IMMIGRATION_UNIT}:
        return Q(team_id__in=teams) if own else Q(pk__in=[])
    received = Q(receiving_team_id__in=teams)
    return Q(team_id__in=teams) | received if own else received


def cases_visible_to(user: Any) -> QuerySet[Case]:
    cases = Case.objects.select_related("client", "team", "responsible_worker")
    if user.is_superuser:
        return cases
    return cases.filter(_scope(scope_team_ids(user)))


def clients_visible_to(user: Any) -> QuerySet[Client]:
    if user.is_superuser:
        return Client.objects.all()
    teams = scope_team_ids(user)
    visible = Q(pk__in=Case.objects.filter(_scope(teams)).values("client_id"))
    if Team.objects.filter(pk__in=teams, kind=TeamKind.IMMIGRATION_UNIT).exists():
        # A client just created, before a case is opened, is visible to its creator while
        # the creator works in the Immigration Unit (not after leaving it).
        created = Event.objects.filter(actor=user, client__isnull=False).values("client_id")
        visible |= Q(pk__in=created) & Q(~Exists(Case.objects.filter(client_id=OuterRef("pk"))))
    return Client.objects.filter(visible)


def case_timeline(case: Case, *, newest_first: bool = False) -> QuerySet[Event]:
    order = ("-created_at", "-id") if newest_first else ("created_at", "id")
    return case.events.select_related("actor").order_by(*order)


def open_case_of(client: Client) -> Case | None:
    return client.cases.filter(state__in=OPEN_CASE_STATES).first()


def active_teams(*, kinds: Any = None) -> QuerySet[Team]:
    teams = Team.objects.filter(is_active=True)
    if kinds is not None:
        teams = teams.filter(kind__in=list(kinds))
    return teams.select_related("region").order_by("kind", "name")


def cases_at_cap(team_ids: Iterable[int], today: dt.date) -> QuerySet[Case]:
    """Open cases of these teams at or past the 5-year cap, longest first."""
    return (
        Case.objects.filter(
            team_id__in=list(team_ids),
            integration_started_on__lte=today - relativedelta(months=CAP_MONTHS),
            state__in=OPEN_CASE_STATES,
        )
        .select_related("client", "team", "responsible_worker")
        .order_by("integration_started_on", "id")
    )


def open_cases_of_worker(team: Team, worker: Any) -> QuerySet[Case]:
    """A worker's open cases in a team (for reassignment), by review date."""
    return (
        Case.objects.filter(team=team, responsible_worker=worker, state__in=OPEN_CASE_STATES)
        .select_related("client")
        .order_by("review_due_on", "id")
    )


def booking_hours_of(team_ids: Iterable[int]) -> QuerySet[BookingHours]:
    """The booking hours of these teams' front desks (a desk serving several teams keeps
    one set: its own team's)."""
    return BookingHours.objects.filter(team_id__in=desk_ids_of(team_ids)).select_related("team")


def meeting_hours_of(team_ids: Iterable[int]) -> QuerySet[MeetingHours]:
    return MeetingHours.objects.filter(team_id__in=list(team_ids)).select_related("team")


def regions_by_code() -> dict[str, Region]:
    return {region.code: region for region in Region.objects.all()}
