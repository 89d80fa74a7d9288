"""The "partner_referral" channel of the notifications outbox: the e-mail that tells a
partner organisation's contact about a referral. Queued in the referral's transaction
(nothing is sent if it rolls back) and delivered by the relay after commit, retried with
backoff when the mail server fails. Registered when the app is ready (partners.apps).

The mail holds the signed link and nothing else about the client: no name, no identity
code, not even the case reference. The outbox row holds only the referral's id; the text
is made when it is sent, the same each time (the link is signed at the referral's sending
time), so a retry sends the same message. If it fails for good, whoever sent the
referral is told."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMessage
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from core import clock
from notifications.channels import register
from notifications.models import NotificationKind, OutboxMessage
from notifications.services import enqueue, notify

from .models import Referral

CHANNEL = "partner_referral"


def referral_mail_key(referral: Referral | int) -> str:
    """The once-only key: one e-mail per referral, whatever retries or relays do."""
    pk = referral if isinstance(referral, int) else referral.pk
    return f"{CHANNEL}:{pk}"


def queue_referral_mail(referral: Referral) -> int:
    """The partner contact's e-mail as an outbox row, in the caller's transaction."""
    now = clock.now()
    return enqueue(
        [
            OutboxMessage(
                channel=CHANNEL,
                key=referral_mail_key(referral),
                payload={"referral": referral.pk},
                available_at=now,
                created_at=now,
            )
        ]
    )


def render_referral_mail(referral: Referral) -> dict[str, str]:
    """The subject and body, in the city's language (the partner has no account and so no
    language of their own): the link, how long it works, and nothing about the client."""
    from .services import referral_link, referral_link_days

    with translation.override(settings.LANGUAGE_CODE):
        subject = _("A referral from the City of Helsinki's social services")
        body = _(
            "You have a referral from social services. Open it here:\n%(link)s\n\n"
            "The link works for %(days)s days. This message carries no client details by "
            "design. Do not reply with any."
        ) % {"link": referral_link(referral), "days": referral_link_days()}
    return {"subject": subject, "body": body + "\n"}


def deliver_referral_mail(message: OutboxMessage) -> None:
    """The relay's delivery: to the address the referral was sent to (kept on the
    referral, so a later change in the handbook does not redirect it)."""
    referral = (
        Referral.objects.select_related("organisation").filter(pk=message.payload["referral"])
    ).first()
    if referral is None:
        return
    text = render_referral_mail(referral)
    EmailMessage(
        subject=text["subject"],
        body=text["body"],
        to=[referral.contact_email],
        # The idempotency key as Message-ID: a resend after a crash is the same message.
        headers={"Message-ID": f"<{message.key.replace(':', '.')}@silta>"},
    ).send()


def referral_mail_failed(message: OutboxMessage) -> None:
    """The mail failed for good (after the relay's retries): whoever sent the referral is
    told (reference and link only), so the partner can be reached another way."""
    referral = (
        Referral.objects.select_related("case", "sent_by")
        .filter(pk=message.payload["referral"])
        .first()
    )
    if referral is None:
        return
    notify(
        recipients=[referral.sent_by] if referral.sent_by.is_active else [],
        kind=NotificationKind.REFERRAL_MAIL_FAILED,
        subject_key=f"outbox:{message.pk}",
        on_date=clock.today(),
        reference=referral.case.reference,
        link=reverse("web:case", args=[referral.case_id]) + "#h-referrals",
        case_id=referral.case_id,
    )


def register_referral_channel() -> None:
    register(CHANNEL, deliver=deliver_referral_mail, on_final_failure=referral_mail_failed)
