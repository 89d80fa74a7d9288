"""What a notice shows and where it points: the case reference and a path in the web app.
Built here, by the app that sends the notices, so the notifications app stays generic."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from cases.models import case_reference

__all__ = [
    "about_transfer",
    "case_link",
    "case_reference",
    "inbox_link",
    "incoming_link",
    "sql_case_link",
]


def case_link(case_id: int) -> str:
    """The case page."""
    return reverse("web:case", args=[case_id])


def incoming_link() -> str:
    """The receiving team's incoming transfers: before acceptance it may not open the case."""
    return reverse("web:inbox")


def inbox_link() -> str:
    """The user's notifications, for a notice about no single case."""
    return reverse("web:notifications")


def sql_case_link(column: str) -> str:
    """case_link as an SQL expression over an id column, for the sweeps' bulk inserts."""
    before, after = case_link(987654321).split("987654321")
    return f"'{before}' || {column} || '{after}'"


def about_transfer(transfer: Any) -> dict[str, Any]:
    """notify()'s reference, link and ids for a notice about a transfer's case."""
    return {
        "reference": case_reference(transfer.case_id),
        "link": case_link(transfer.case_id),
        "case_id": transfer.case_id,
        "transfer_id": transfer.pk,
    }
