"""The transfers app's event writer: one row per transfer transition and decision."""

from __future__ import annotations

from typing import Any

from cases.enums import EventSubject
from cases.events import record_event
from cases.models import Event

from .enums import TransferAction
from .models import Transfer


def transfer_event(
    transfer: Transfer,
    action: TransferAction,
    *,
    actor: Any,
    role: str,
    source: str,
    reason: str = "",
    review_id: int | None = None,
    params: dict[str, Any] | None = None,
) -> Event:
    """`source` is the state before; the transfer's state now is the state after."""
    return record_event(
        subject=EventSubject.TRANSFER,
        action=action,
        client_id=transfer.case.client_id,
        case_id=transfer.case_id,
        transfer_id=transfer.pk,
        review_id=review_id,
        actor=actor,
        actor_role=role,
        from_state=source,
        to_state=transfer.state,
        reason=reason,
        params=params,
    )
