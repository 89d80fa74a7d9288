"""Routing: which regional team receives a client.

The region of the client's postal code (the routing table, data), then the youth team if
the client is under the youth team's age limit on the day of the proposal (data), else the
adult team. Never guesses: a postal code not in the table asks a person to choose.
"""

from __future__ import annotations

import datetime as dt
from typing import cast

from django.utils.translation import gettext as _

from cases import rules
from cases.enums import TeamKind
from cases.models import PostalArea, Team
from core.errors import RoutingNeedsManualChoice


def route(*, postal_code: str, date_of_birth: dt.date, on: dt.date) -> Team:
    area = (
        PostalArea.objects.select_related("region").filter(postal_code=postal_code).first()
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
    teams = {
        team.kind: team
        for team in Team.objects.filter(
            region=area.region, is_active=True, kind__in=[TeamKind.ADULT, TeamKind.YOUTH]
        )
    }
    youth = teams.get(TeamKind.YOUTH)
    # A youth team always has a max_client_age (a check constraint on Team).
    if youth is not None and rules.age_on(date_of_birth, on) < cast(int, youth.max_client_age):
        return youth
    adult = teams.get(TeamKind.ADULT)
    if adult is None:
        raise RoutingNeedsManualChoice(
            postal_code=postal_code,
            reason=_("region %(region)s has no active adult team") % {"region": area.region},
        )
    return adult
