"""The criteria app's event writer: assessments and approved exceptions of a review."""

from __future__ import annotations

from typing import Any

from cases.enums import EventSubject
from cases.events import record_event
from cases.models import Event

from .enums import ReviewAction
from .models import Review


def review_event(
    review: Review,
    action: ReviewAction,
    *,
    actor: Any,
    role: str,
    reason: str = "",
    from_state: str = "",
    to_state: str = "",
    params: dict[str, Any] | None = None,
) -> Event:
    """For an assessment, `from_state` and `to_state` are its status before and after."""
    return record_event(
        subject=EventSubject.REVIEW,
        action=action,
        client_id=review.case.client_id,
        case_id=review.case_id,
        review_id=review.pk,
        actor=actor,
        actor_role=role,
        reason=reason,
        from_state=from_state,
        to_state=to_state,
        params=params,
    )
