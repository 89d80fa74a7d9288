"""Reads of a user's own inbox (a notification carries a case reference, never client
details, so reading it is not a read of client data)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from .models import Notification, OutboxMessage, OutboxStatus


def inbox_of(user: Any) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user).order_by("-created_at", "-id")


def unread_count(user: Any) -> int:
    return inbox_of(user).filter(read_at__isnull=True).count()


def failed_messages(*, channel: str, payload_any: dict[str, list[int]]) -> list[OutboxMessage]:
    """Failed rows of a channel whose payload names any of the given ids (for example
    {"transfer": [7], "booking": [3, 4]})."""
    about = Q(pk__in=[])
    for key, ids in payload_any.items():
        about |= Q(**{f"payload__{key}__in": ids})
    return list(OutboxMessage.objects.filter(about, channel=channel, status=OutboxStatus.FAILED))
