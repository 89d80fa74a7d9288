"""Writes of the partners app: a case's home base (kotipesä)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from cases.enums import CaseState, EventSubject
from cases.events import record_event
from cases.models import Case
from cases.roles import SENDING_ROLES, require_role
from core import clock
from core.errors import InvalidInput, TransitionNotAllowed

from .enums import PartnerAction
from .models import HomeBase, PartnerOrganisation

REASON_MAX = 2000


@transaction.atomic
def home_base_record(
    *,
    actor: Any,
    case: Case,
    organisation: PartnerOrganisation | None = None,
    reason: str = "",
) -> HomeBase:
    """Record the case's home base: an active partner organisation, or the reason why
    there is none. A later record replaces the earlier one; each writes an event row.
    Only the case's own team's caseworker or supervisor records it, while the case is
    still the Immigration Unit's (not closed, not transferred)."""
    case = Case.objects.select_for_update(no_key=True).get(pk=case.pk)
    role = require_role(actor, team=case.team, roles=SENDING_ROLES, action="record_home_base")
    if case.state in (CaseState.CLOSED, CaseState.TRANSFERRED):
        raise TransitionNotAllowed(action="record_home_base", state=case.state, allowed=[])
    reason = (reason or "").strip()
    if organisation is None and not reason:
        raise InvalidInput(
            {"organisation": _("Choose a home base, or write why the client has none.")}
        )
    if organisation is not None and not organisation.is_active:
        raise InvalidInput({"organisation": _("This organisation is no longer in the handbook.")})
    if len(reason) > REASON_MAX:
        raise InvalidInput({"reason": _("Write at most %(max)s characters.") % {"max": REASON_MAX}})
    if organisation is not None:
        reason = ""
    home_base, _created = HomeBase.objects.update_or_create(
        case=case,
        defaults={
            "organisation": organisation,
            "reason_none": reason,
            "recorded_by": actor,
            "recorded_at": clock.now(),
        },
    )
    record_event(
        subject=EventSubject.CASE,
        action=PartnerAction.HOME_BASE_RECORD if organisation else PartnerAction.HOME_BASE_NONE,
        client_id=case.client_id,
        case_id=case.pk,
        actor=actor,
        actor_role=role,
        reason=reason,
        params={"organisation": organisation.pk if organisation else None},
    )
    return home_base
