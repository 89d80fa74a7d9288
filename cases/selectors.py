"""Reads of clients and cases, scoped to what a user's teams need to see (deny by default).

An Immigration Unit member sees their teams' cases and clients. A regional team member
sees a case and its client once their team has accepted its transfer (the case's
`receiving_team`): before that, the transfer itself is all they need (transfers.selectors).
A superuser (an administrator of the service) sees everything in the admin.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet
from stdnum.exceptions import ValidationError as StdnumValidationError
from stdnum.fi import hetu as stdnum_hetu

from core import clock

from .enums import CaseState, TeamKind
from .models import (
    OPEN_STATES,
    BookingHours,
    Case,
    Client,
    Event,
    HouseholdMember,
    MeetingHours,
    Region,
    Team,
    search_form,
)
from .roles import desk_ids_of, scope_team_ids, team_kinds
from .rules import CAP_MONTHS, ClientFacts
from .validators import normalise_personal_identity_code

OPEN_CASE_STATES = tuple(OPEN_STATES)


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


def _branches(teams: list[int], user: Any = None) -> tuple[list[Q], bool]:
    """The branches of the scope over cases for these teams, and whether one of them is an
    Immigration Unit team: their own cases (Immigration Unit) and those they received
    (regional). A user of only one kind of team gets one branch, a filter the planner
    matches to an index (an OR across both it cannot)."""
    kinds = team_kinds(teams, user)
    own = TeamKind.IMMIGRATION_UNIT in kinds
    branches = [sending_side(teams)] if own else []
    if kinds - {TeamKind.IMMIGRATION_UNIT}:
        branches.append(Q(receiving_team_id__in=teams))
    return branches, own


def _scope(teams: list[int], user: Any = None) -> Q:
    """The cases of these teams: their own (Immigration Unit) and those they received."""
    branches, _own = _branches(teams, user)
    scope = Q(pk__in=[])
    for branch in branches:
        scope = branch if scope == Q(pk__in=[]) else scope | branch
    return scope


def sending_side(teams: Iterable[int], *, prefix: str = "") -> Q:
    """The Immigration Unit teams' own cases (`prefix` "case__" for rows of a case). Once
    the handover is held the receiving team owns the case: the sending team keeps reading
    it, never changing it, for SILTA_SENDING_TEAM_READ_DAYS after the handover (to answer
    the receiving worker's questions and close its own follow-up), then not at all."""
    days = settings.SILTA_SENDING_TEAM_READ_DAYS
    still = ~Q(**{f"{prefix}state": CaseState.TRANSFERRED})
    if days > 0:
        still |= Q(**{f"{prefix}transferred_at__gte": clock.now() - dt.timedelta(days=days)})
    return Q(**{f"{prefix}team_id__in": list(teams)}) & still


def cases_visible_to(user: Any) -> QuerySet[Case]:
    cases = Case.objects.select_related(
        "client", "team", "responsible_worker", "receiving_team", "receiving_worker"
    )
    if user.is_superuser:
        return cases
    return cases.filter(_scope(scope_team_ids(user), user))


def case_scope_sql(user: Any, *, alias: str) -> tuple[str, list[Any]]:
    """`cases_visible_to(user)`'s condition as SQL text over `cases_case AS alias`, with
    its parameters: for a hot read written as SQL (the API's list of cases), where
    building and compiling the queryset cost more than running it. The same branches as
    `_scope` (tests compare the two)."""
    if user.is_superuser:
        return "TRUE", []
    teams = scope_team_ids(user)
    kinds = team_kinds(teams, user)
    terms: list[str] = []
    params: list[Any] = []
    if TeamKind.IMMIGRATION_UNIT in kinds:
        still = f"{alias}.state <> %s"
        params += [teams, CaseState.TRANSFERRED]
        days = settings.SILTA_SENDING_TEAM_READ_DAYS
        if days > 0:
            still = f"({still} OR {alias}.transferred_at >= %s)"
            params.append(clock.now() - dt.timedelta(days=days))
        terms.append(f"({alias}.team_id = ANY(%s::bigint[]) AND {still})")
    if kinds - {TeamKind.IMMIGRATION_UNIT}:
        terms.append(f"{alias}.receiving_team_id = ANY(%s::bigint[])")
        params.append(teams)
    if not terms or not teams:
        return "FALSE", []
    return f"({' OR '.join(terms)})", params


def clients_visible_to(user: Any) -> QuerySet[Client]:
    """The clients the user may see: an EXISTS per branch of the scope, each correlated on
    the client (the index on cases' client), so one client's check reads that client's
    cases only, whatever the size of the caseload (an IN over the team's cases would
    hash all of them first)."""
    if user.is_superuser:
        return Client.objects.all()
    teams = scope_team_ids(user)
    branches, own = _branches(teams, user)
    visible = Q(pk__in=[])
    for branch in branches:
        exists = Q(Exists(Case.objects.filter(branch, client_id=OuterRef("pk"))))
        visible = exists if visible == Q(pk__in=[]) else visible | exists
    if own:
        # A client just created, before a case is opened, is visible to its creator while
        # the creator works in the Immigration Unit (not after leaving it). A client without
        # a case has no event with a case either; saying so lets the probe read the client's
        # rows of the partial index on events without a case, not every event of the user.
        created = Q(
            Exists(Event.objects.filter(actor=user, client_id=OuterRef("pk"), case__isnull=True))
        ) & Q(~Exists(Case.objects.filter(client_id=OuterRef("pk"))))
        visible = created if visible == Q(pk__in=[]) else visible | created
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


# Search ------------------------------------------------------------------------------------

_REFERENCE = re.compile(r"^(?:silta\s*-?\s*)?(\d{1,9})$", re.IGNORECASE)
_DATE_FORMATS = ("%d.%m.%Y", "%Y-%m-%d", "%d.%m.%y")


@dataclass(frozen=True)
class SearchTerms:
    """What a search box's text is: an identity code (exact, normalised), a case
    reference, a date of birth, or words of a name (each must occur, dots optional)."""

    kind: str  # "identity_code", "reference", "date_of_birth", "name" or "none"
    value: Any


def search_terms(text: str) -> SearchTerms:
    text = " ".join(text.split())
    if not text:
        return SearchTerms("none", None)
    try:
        code = normalise_personal_identity_code(text)
        if len(code) == 11 and stdnum_hetu.validate(code, allow_temporary=True):
            return SearchTerms("identity_code", code)
    except StdnumValidationError:
        pass
    reference = _REFERENCE.match(text)
    if reference:
        return SearchTerms("reference", int(reference.group(1)))
    for pattern in _DATE_FORMATS:
        try:
            return SearchTerms("date_of_birth", dt.datetime.strptime(text, pattern).date())
        except ValueError:
            continue
    words = search_form(text).split()
    return SearchTerms("name", words) if words else SearchTerms("none", None)


def _client_filter(terms: SearchTerms, prefix: str = "") -> Q:
    if terms.kind == "identity_code":
        return Q(**{f"{prefix}personal_identity_code": terms.value})
    if terms.kind == "date_of_birth":
        return Q(**{f"{prefix}date_of_birth": terms.value})
    if terms.kind == "name":
        found = Q()
        for word in terms.value:
            found &= Q(**{f"{prefix}search_name__contains": word})
        return found
    return Q(pk__in=[])


def cases_matching(cases: QuerySet[Case], text: str) -> QuerySet[Case]:
    """The cases among `cases` (already scoped) whose client or reference matches `text`."""
    terms = search_terms(text)
    if terms.kind == "reference":
        return cases.filter(pk=terms.value)
    return cases.filter(_client_filter(terms, "client__"))


def clients_without_case_matching(user: Any, text: str) -> QuerySet[Client]:
    """Clients in the user's scope with no case yet whose facts match `text` (a client
    just registered is found before a case is opened). The same rule as
    `clients_visible_to` for a client with no case, asked of the matching clients only
    (the scope's own subquery would read every case of the team)."""
    terms = search_terms(text)
    if terms.kind in ("reference", "none"):
        return Client.objects.none()
    found = Client.objects.filter(_client_filter(terms)).filter(
        ~Exists(Case.objects.filter(client_id=OuterRef("pk")))
    )
    if not user.is_superuser:
        teams = scope_team_ids(user)
        if not Team.objects.filter(pk__in=teams, kind=TeamKind.IMMIGRATION_UNIT).exists():
            return Client.objects.none()
        found = found.filter(
            Exists(Event.objects.filter(client_id=OuterRef("pk"), case__isnull=True, actor=user))
        )
    return found.order_by("last_name", "first_name", "id")


# Households --------------------------------------------------------------------------------


def household_members_of(client: Client) -> list[HouseholdMember]:
    """The members of `client`'s household (client included), adults first; empty when the
    client has none. Unscoped: the caller shows only those the user may see."""
    household_id = (
        HouseholdMember.objects.filter(client=client).values_list("household_id", flat=True).first()
    )
    if household_id is None:
        return []
    members = HouseholdMember.objects.filter(household_id=household_id).select_related("client")
    return sorted(members, key=lambda m: (m.is_child, m.joined_at, m.pk))
