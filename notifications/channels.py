"""Delivering outbox rows: e-mail, Microsoft Teams, and booking requests.

What leaves Silta by e-mail or Teams is a headline, a case reference and a link: never a
name, an identity code or any other client detail. The templates get only those values
(tests/tasks/test_templates.py renders every kind for a canary client to prove it).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from .models import Channel, NotificationKind, OutboxMessage, TeamChannel

HEADLINES = {
    NotificationKind.REVIEW_DUE: _("A readiness review is due"),
    NotificationKind.REVIEW_DUE_SOON: _("A readiness review is due in %(days)s days"),
    NotificationKind.OVERDUE_DIGEST: _("Reviews overdue by %(days)s working days or more"),
    NotificationKind.TRANSFER_AWAITING: _("A transfer is waiting for acceptance"),
    NotificationKind.TRANSFER_AWAITING_ESCALATED: _(
        "A transfer has waited for acceptance %(days)s working days"
    ),
    NotificationKind.BOOKING_REQUESTED: _("A handover booking is requested"),
    NotificationKind.BOOKING_UNCONFIRMED: _("A handover booking is not confirmed"),
    NotificationKind.BOOKING_CONFIRMED: _("The handover is booked"),
    NotificationKind.BOOKING_FAILED: _("A booking request could not be sent"),
    NotificationKind.INTERPRETER_FREE: _("Interpreter free"),
    NotificationKind.CAP_APPROACHING: _("The 5-year cap is %(days)s days away"),
}


def message_context(*, kind: str, case=None, params: dict | None = None) -> dict:
    """The only values templates see. Params are limited to numbers and references."""
    params = params or {}
    headline = HEADLINES[kind]
    return {
        "headline": str(headline) % {"days": params.get("days", "")},
        "reference": case.reference if case is not None else params.get("reference", ""),
        "count": params.get("count"),
        "link": _link(case, kind),
    }


# Before acceptance the receiving team may not open the case: its link is the inbox.
_TO_INBOX = {NotificationKind.TRANSFER_AWAITING, NotificationKind.TRANSFER_AWAITING_ESCALATED}


def _link(case, kind: str) -> str:
    """A link into the web app: the case page, the receiving team's inbox, or the
    notifications inbox. It names no client."""
    base = settings.SILTA_BASE_URL.rstrip("/")
    if kind in _TO_INBOX:
        return base + reverse("web:inbox")
    if case is None:
        return base + reverse("web:notifications")
    return base + reverse("web:case", args=[case.pk])


def render(channel: str, *, kind: str, language: str, case=None, params=None) -> dict:
    with translation.override(language):
        context = message_context(kind=kind, case=case, params=params)
        if channel == Channel.TEAMS:
            return {"text": render_to_string("notifications/teams.txt", context).strip()}
        return {
            "subject": " ".join(
                render_to_string("notifications/email_subject.txt", context).split()
            ),
            "body": render_to_string("notifications/email_body.txt", context).strip() + "\n",
        }


def deliver(message: OutboxMessage) -> None:
    if message.channel == Channel.EMAIL:
        _deliver_email(message)
    elif message.channel == Channel.TEAMS:
        _deliver_teams(message)
    elif message.channel == Channel.BOOKING:
        from transfers.booking import deliver_booking

        deliver_booking(message)
    else:  # pragma: no cover - the choices are closed
        raise ValueError(message.channel)


def _case(payload):
    from transfers.models import Case

    return Case.objects.filter(pk=payload.get("case")).first() if payload.get("case") else None


def _deliver_email(message: OutboxMessage) -> None:
    from .services import recipient_language

    payload = message.payload
    user = (
        get_user_model()
        .objects.select_related("notification_preference")
        .get(pk=payload["recipient"])
    )
    if not user.email:
        return  # nothing to send to; the inbox row is there
    text = render(
        Channel.EMAIL,
        kind=payload["kind"],
        language=recipient_language(user),
        case=_case(payload),
        params=payload.get("params"),
    )
    EmailMessage(
        subject=text["subject"],
        body=text["body"],
        to=[user.email],
        # The idempotency key as Message-ID: a resend after a crash is the same message.
        headers={"Message-ID": f"<{message.key.replace(':', '.')}@silta>"},
    ).send()


def _deliver_teams(message: OutboxMessage) -> None:
    import httpx

    payload = message.payload
    channel = TeamChannel.objects.get(team_id=payload["team"], enabled=True)
    text = render(
        Channel.TEAMS,
        kind=payload["kind"],
        language=settings.LANGUAGE_CODE,
        case=_case(payload),
        params=payload.get("params"),
    )
    response = httpx.post(channel.teams_webhook_url, json=text, timeout=10)
    response.raise_for_status()


def on_final_failure(message: OutboxMessage) -> None:
    if message.channel == Channel.BOOKING:
        from transfers.booking import booking_delivery_failed

        booking_delivery_failed(message)


def on_retry(message: OutboxMessage) -> None:
    if message.channel == Channel.BOOKING:
        from transfers.booking import booking_delivery_retried

        booking_delivery_retried(message)
