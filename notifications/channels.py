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
from django.utils import formats, timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext
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
    NotificationKind.TRANSFER_PROPOSED: _("A transfer is proposed to your team"),
    NotificationKind.TRANSFER_ACCEPTED: _("The transfer is accepted"),
    NotificationKind.TRANSFER_RETURNED: _("The transfer is returned: %(label)s"),
    NotificationKind.TRANSFER_CANCELLED: _("The transfer is cancelled"),
    NotificationKind.BOOKING_WAITING: _(
        "The booking request reaches the front desk at %(when)s (booking hours)"
    ),
    NotificationKind.HANDOVER_HELD: _("The handover is held: the case is transferred"),
    NotificationKind.HANDOVER_MISSED: _("The handover is to be booked again: %(label)s"),
    NotificationKind.EXCEPTION_REQUESTED: _("An exception waits for your decision"),
    NotificationKind.EXCEPTION_APPROVED: _("The exception is approved"),
    NotificationKind.EXCEPTION_REFUSED: _("The exception is refused"),
    NotificationKind.CASE_REASSIGNED: _("A case is assigned to you"),
    NotificationKind.REVIEW_BROUGHT_FORWARD: _("A readiness review is brought forward"),
    NotificationKind.PLAN_TARGET_SOON: _("A plan's target date is in %(days)s days"),
    NotificationKind.PLAN_TARGET_TODAY: _("A plan's target date is today"),
    NotificationKind.EXTENSION_REQUESTED: _("An extension waits for your decision"),
    NotificationKind.EXTENSION_APPROVED: _("The extension is approved"),
    NotificationKind.EXTENSION_REFUSED: _("The extension is refused"),
    NotificationKind.PLAN_OWNER_NAMED: _("A plan of a readiness review is given to you"),
    NotificationKind.TRANSFER_QUESTION: _(
        "The receiving team asks a question about a transfer: answer it"
    ),
    NotificationKind.TRANSFER_ANSWERED: _("The sender answered the question about a transfer"),
    NotificationKind.REFERRAL_MAIL_FAILED: _(
        "A referral's e-mail to the partner could not be sent: contact the partner another way"
    ),
    NotificationKind.CONTACT_REQUEST_ROUTED: _("A contact request is routed to you"),
    NotificationKind.EXPORT_READY: _("Your export is ready to download"),
}


def _when(value: Any) -> str:
    """An ISO time from the params, in Helsinki time and the active language's format."""
    moment = parse_datetime(str(value or ""))
    if moment is None:
        return ""
    return formats.date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")


def message_context(
    *, kind: str, reference: str = "", link: str = "", params: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The only values templates see: a headline, the reference and link the sender gave
    (the link made absolute with SILTA_BASE_URL), and numbers from the params."""
    params = params or {}
    headline = HEADLINES[kind]
    # "label" is a code's label as its English message id (a return reason, a booking
    # outcome), translated here into the reader's language; never free text.
    label = params.get("label", "")
    return {
        "headline": str(headline)
        % {
            "days": params.get("days", ""),
            "label": gettext(label) if label else "",
            "when": _when(params.get("when")),
        },
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


def render_digest(*, language: str, on_date: Any, notices: list[Any]) -> dict[str, str]:
    """The daily digest: one line per notice of the day (headline, reference, link)."""
    with translation.override(language):
        items = [
            message_context(kind=n.kind, reference=n.reference, link=n.link, params=n.params)
            for n in notices
        ]
        context = {
            "items": items,
            "count": len(items),
            "on_date": formats.date_format(on_date, "SHORT_DATE_FORMAT"),
            "link": settings.SILTA_BASE_URL.rstrip("/") + "/notifications/",
        }
        return {
            "subject": " ".join(
                render_to_string("notifications/digest_subject.txt", context).split()
            ),
            "body": render_to_string("notifications/digest_body.txt", context).strip() + "\n",
        }


def _deliver_digest(message: OutboxMessage) -> None:
    """One e-mail with the user's notices of one day; read when sent, so a notice already
    read in the inbox is still listed (the digest is a record of the day)."""
    import datetime as dt

    from .models import Notification
    from .services import recipient_language

    payload = message.payload
    user = (
        get_user_model()
        .objects.select_related("notification_preference")
        .get(pk=payload["recipient"])
    )
    on_date = dt.date.fromisoformat(payload["on_date"])
    notices = list(
        Notification.objects.filter(recipient=user, id__in=payload["notifications"]).order_by(
            "created_at", "id"
        )
    )
    if not user.email or not notices:
        return
    text = render_digest(language=recipient_language(user), on_date=on_date, notices=notices)
    EmailMessage(
        subject=text["subject"],
        body=text["body"],
        to=[user.email],
        headers={"Message-ID": f"<{message.key.replace(':', '.')}@silta>"},
    ).send()


register(Channel.EMAIL, deliver=_deliver_email)
register(Channel.EMAIL_DIGEST, deliver=_deliver_digest)
register(Channel.TEAMS, deliver=_deliver_teams)
