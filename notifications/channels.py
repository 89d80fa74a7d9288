"""Delivering outbox rows through a registry of channels.

Each channel registers how it delivers a row, and optionally what a retry and a final
failure do (Sentry's notification providers work the same way). E-mail and Microsoft Teams
register here; the transfers app registers its booking requests. The relay looks a row's
channel up and never knows who delivers.

What leaves Silta by e-mail or Teams is a headline, a case reference and a link: never a
name, an identity code or any other client detail. The templates get only those values
(tests/notifications/test_templates.py renders every kind for a canary client to prove it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from .models import Channel, NotificationKind, OutboxMessage, TeamChannel


@dataclass(frozen=True)
class Delivery:
    deliver: Callable[[OutboxMessage], None]
    on_retry: Callable[[OutboxMessage], None] | None = None
    on_final_failure: Callable[[OutboxMessage], None] | None = None


_registry: dict[str, Delivery] = {}


def register(
    channel: str,
    *,
    deliver: Callable[[OutboxMessage], None],
    on_retry: Callable[[OutboxMessage], None] | None = None,
    on_final_failure: Callable[[OutboxMessage], None] | None = None,
) -> None:
    """Make `channel` deliverable. Registering a name again replaces it (a test's stand-in)."""
    _registry[channel] = Delivery(deliver, on_retry, on_final_failure)


def registered(channel: str) -> Delivery:
    try:
        return _registry[channel]
    except KeyError:
        raise LookupError(f"no delivery registered for the {channel!r} channel") from None


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
    NotificationKind.IDENTITY_CODE_ATTEMPT: _(
        "Someone tried to register a client of your team again"
    ),
}


def message_context(
    *, kind: str, reference: str = "", link: str = "", params: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The only values templates see: a headline, the reference and link the sender gave
    (the link made absolute with SILTA_BASE_URL), and numbers from the params."""
    params = params or {}
    headline = HEADLINES[kind]
    return {
        "headline": str(headline) % {"days": params.get("days", "")},
        "reference": reference or params.get("reference", ""),
        "count": params.get("count"),
        "link": settings.SILTA_BASE_URL.rstrip("/") + link,
    }


def render(
    channel: str,
    *,
    kind: str,
    language: str,
    reference: str = "",
    link: str = "",
    params: dict[str, Any] | None = None,
) -> dict[str, str]:
    with translation.override(language):
        context = message_context(kind=kind, reference=reference, link=link, params=params)
        if channel == Channel.TEAMS:
            return {"text": render_to_string("notifications/teams.txt", context).strip()}
        return {
            "subject": " ".join(
                render_to_string("notifications/email_subject.txt", context).split()
            ),
            "body": render_to_string("notifications/email_body.txt", context).strip() + "\n",
        }


def deliver(message: OutboxMessage) -> None:
    registered(message.channel).deliver(message)


def on_final_failure(message: OutboxMessage) -> None:
    hook = registered(message.channel).on_final_failure
    if hook is not None:
        hook(message)


def on_retry(message: OutboxMessage) -> None:
    hook = registered(message.channel).on_retry
    if hook is not None:
        hook(message)


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
        reference=payload.get("reference", ""),
        link=payload.get("link", ""),
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
        reference=payload.get("reference", ""),
        link=payload.get("link", ""),
        params=payload.get("params"),
    )
    response = httpx.post(channel.teams_webhook_url, json=text, timeout=10)
    response.raise_for_status()


register(Channel.EMAIL, deliver=_deliver_email)
register(Channel.TEAMS, deliver=_deliver_teams)
