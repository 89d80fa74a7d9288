"""Typed writers of the event log: one row per transition and decision, written in the same
transaction as the change. Each app has its own writer for its own subjects and actions
(criteria.events, transfers.events); all of them end in `record_event`."""

from __future__ import annotations

from typing import Any

from .enums import CaseAction, ClientAction, EventSubject, MembershipAction
from .models import Case, Client, Event


def record_event(
    *,
    subject: EventSubject,
    action: str,
    client_id: int | None,
    actor: Any,
    actor_role: str = "",
    case_id: int | None = None,
    transfer_id: int | None = None,
    review_id: int | None = None,
    from_state: str = "",
    to_state: str = "",
    reason: str = "",
    params: dict[str, Any] | None = None,
) -> Event:
    """The one writer of event rows. `action` is a member of an app's action enum; only a
    membership event has no client."""
    return Event.objects.create(
        subject=subject,
        action=action,
        client_id=client_id,
        case_id=case_id,
        transfer_id=transfer_id,
        review_id=review_id,
        from_state=from_state,
        to_state=to_state,
        actor=actor,
        actor_role=actor_role,
        reason=reason,
        params=params or {},
    )


def client_event(
    client: Client, action: ClientAction, *, actor: Any, role: str, params: dict[str, Any]
) -> Event:
    return record_event(
        subject=EventSubject.CLIENT,
        action=action,
        client_id=client.pk,
        actor=actor,
        actor_role=role,
        params=params,
    )


def case_event(
    case: Case,
    action: CaseAction,
    *,
    actor: Any,
    role: str,
    source: str,
    transfer_id: int | None = None,
    review_id: int | None = None,
    reason: str = "",
    params: dict[str, Any] | None = None,
) -> Event:
    """A case's event: `source` is the state before, the case's state now the state after."""
    return record_event(
        subject=EventSubject.CASE,
        action=action,
        client_id=case.client_id,
        case_id=case.pk,
        transfer_id=transfer_id,
        review_id=review_id,
        actor=actor,
        actor_role=role,
        from_state=source,
        to_state=case.state,
        reason=reason,
        params=params,
    )


def membership_event(
    action: MembershipAction,
    *,
    member: Any,
    from_role: str = "",
    to_role: str = "",
    params: dict[str, Any],
) -> Event:
    """A staff member's team membership or admin permissions changed by a sign-in through
    the city's identity service: no client, no actor (Silta acted on the directory's word),
    the member and what changed in `params`, the role before and after as the states."""
    return record_event(
        subject=EventSubject.MEMBERSHIP,
        action=action,
        client_id=None,
        actor=None,
        actor_role="directory",
        from_state=from_role,
        to_state=to_role,
        params={"member": member.pk, "username": member.get_username(), **params},
    )
