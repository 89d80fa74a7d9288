"""Routing: which regional team receives a client.

The routing table (data) maps the client's postal code to a region and to a team of each
kind, adult and youth: a region may have several teams of a kind (two adult teams in the
North, youth teams in Kontula and Vuosaari in the East). Where the table names no team of
a kind, the region's only active team of that kind is meant. The youth team receives a
client under its age limit on the day of the proposal (data), otherwise the adult team.

Never guesses: a postal code not in the table, a team the table names that is no longer
active, or a region with several teams of the kind the table does not choose between asks
a person to choose (RoutingNeedsManualChoice), who gives a reason.
"""

from __future__ import annotations

import datetime as dt
from typing import cast

from django.utils.translation import gettext as _

from cases import rules
from cases.enums import TeamKind
from cases.models import PostalArea, Team
from core.errors import RoutingNeedsManualChoice


def _teams_of_kind(area: PostalArea, kind: str) -> list[Team]:
    """The teams of `kind` that may receive the area's clients: the one the table names,
    else the region's active ones (by code, so the answer never depends on row order)."""
    named = area.adult_team if kind == TeamKind.ADULT else area.youth_team
    if named is None:
        return list(
            Team.objects.filter(region=area.region, kind=kind, is_active=True).order_by("code")
        )
    if named.kind != kind:
        raise _not_usable(area, named)
    return [named]


def _not_usable(area: PostalArea, team: Team) -> RoutingNeedsManualChoice:
    return RoutingNeedsManualChoice(
        postal_code=area.postal_code,
        reason=_("the routing table names %(team)s, which is not an active team of this kind")
        % {"team": team},
    )


def _chosen(area: PostalArea, team: Team) -> Team:
    if not team.is_active:
        raise _not_usable(area, team)
    return team


def _several(area: PostalArea, kind: str) -> RoutingNeedsManualChoice:
    label = _("adult teams") if kind == TeamKind.ADULT else _("youth teams")
    return RoutingNeedsManualChoice(
        postal_code=area.postal_code,
        reason=_(
            "region %(region)s has several %(teams)s and the routing table does not name "
            "one for this postal code"
        )
        % {"region": area.region, "teams": label},
    )


def route(*, postal_code: str, date_of_birth: dt.date, on: dt.date) -> Team:
    area = (
        PostalArea.objects.select_related("region", "adult_team", "youth_team")
        .filter(postal_code=postal_code)
        .first()
        if postal_code
        else None
    )
    if area is None:
        raise RoutingNeedsManualChoice(
            postal_code=postal_code,
            reason=_("not in the routing table: a PO box, a company code or another municipality")
            if postal_code
            else _("the client has no postal code"),
        )
    age = rules.age_on(date_of_birth, on)
    # A youth team always has a max_client_age (a check constraint on Team).
    youth = [t for t in _teams_of_kind(area, TeamKind.YOUTH) if age < cast(int, t.max_client_age)]
    if len(youth) > 1:
        raise _several(area, TeamKind.YOUTH)
    if youth:
        return _chosen(area, youth[0])
    adults = _teams_of_kind(area, TeamKind.ADULT)
    if len(adults) > 1:
        raise _several(area, TeamKind.ADULT)
    if not adults:
        raise RoutingNeedsManualChoice(
            postal_code=postal_code,
            reason=_("region %(region)s has no active adult team") % {"region": area.region},
        )
    return _chosen(area, adults[0])
