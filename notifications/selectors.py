"""Reads of a user's own inbox (a notification carries a case reference, never client
details, so reading it is not a read of client data)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from .models import Notification


def inbox_of(user: Any) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user).order_by("-created_at", "-id")


def unread_count(user: Any) -> int:
    return inbox_of(user).filter(read_at__isnull=True).count()
