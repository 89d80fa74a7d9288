"""The access log (käyttöloki): every read of client data writes its rows before the data
is shown, and a denied attempt is logged too. If the rows cannot be written the request
fails (fail closed): the caller writes them before returning anything."""

from __future__ import annotations

from collections.abc import Iterable

from django_guid import get_guid

from . import clock
from .models import AccessLog, AccessOutcome, Membership

# Purpose codes (legal basis of the access), as the report and the API name them.
PURPOSE_CASE_MANAGEMENT = "case_management"
# Sending the handover request to the receiving team's booking system.
PURPOSE_BOOKING = "handover_booking"


def _actor_summary(user) -> tuple[str, str]:
    membership = Membership.objects.filter(user=user).select_related("team").order_by("id").first()
    if membership is not None:
        return membership.role, membership.team.code
    return ("administrator" if user.is_superuser else ""), ""


def log_access(
    *,
    user,
    action: str,
    subjects: Iterable[tuple[int | None, int | None]],
    outcome: str = AccessOutcome.ALLOWED,
    purpose: str = PURPOSE_CASE_MANAGEMENT,
    request_id: str | None = None,
) -> int:
    """One row per (client id, case id) read. Returns how many rows were written. The
    request id is the current request's (or the task's, carried from its request)."""
    if request_id is None:
        request_id = get_guid() or ""
    role, team = _actor_summary(user)
    now = clock.now()
    rows = [
        AccessLog(
            created_at=now,
            actor=user,
            actor_role=role,
            actor_team=team,
            client_id=client_id,
            case_id=case_id,
            action=action,
            purpose=purpose,
            outcome=outcome,
            request_id=request_id,
        )
        for client_id, case_id in dict.fromkeys(subjects)
    ]
    AccessLog.objects.bulk_create(rows)
    return len(rows)
