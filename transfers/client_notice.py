"""The client's own notice of the handover appointment, in their language: a letter (PDF)
and a text message, with a reminder text message the day before.

The wording is data (`ClientNoticeTemplate`, per kind and language, edited in the admin);
a client whose language has no template gets the plain-language Finnish one and the page
says so (`chosen_template(...).fallback`). The values put in are the appointment's only:
time, place, address, interpreter, who meets the client, and the template's own text on
what to bring. Nothing else of the client is looked up by a template (string.Template),
and a text that would carry the client's identity code is refused before it leaves.

Text messages go through the outbox on the "client_sms" channel (registered in
transfers.apps), with a once-only key per booking, kind and client (a household's members
moving with one booking each get their own, in their own language); the relay retries a
failure with the same key. They are queued only for a client who consents and has a number, and
only while a gateway is configured (notifications.sms). Each one sent is an access-log row
(the appointment and the number leave Silta), written before it leaves.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
import string
import unicodedata
from dataclasses import dataclass
from typing import Any

import pycountry
from babel.dates import format_date, format_time
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.access import PURPOSE_CLIENT_NOTICE, log_access
from core import clock
from core.languages import language_name
from core.pdf import FONT, font_glyphs
from core.pdf import styles as pdf_styles
from notifications import sms
from notifications.channels import register
from notifications.models import OutboxMessage, OutboxStatus
from notifications.services import enqueue

from .enums import BookingStatus, InterpreterStatus, NoticeKind, TransferState
from .models import ClientNoticeTemplate, HandoverBooking, Transfer

logger = logging.getLogger("silta.client_notice")

CHANNEL = "client_sms"
FALLBACK_LANGUAGE = "fin"
PLACEHOLDERS = frozenset(
    {"date", "time", "place", "address", "meeting_with", "team", "interpreter"}
)
INTERPRETER_PLACEHOLDERS = frozenset({"language"})
# What an empty value leaves behind in a one-line text: a comma before a comma or a stop.
_EMPTY_ITEM = re.compile(r",\s*(?=[,.])")


class NoticeRefused(Exception):
    """The text would carry something that must not leave Silta (the identity code)."""


# The templates --------------------------------------------------------------------------


def _unknown(text: str, allowed: frozenset[str]) -> list[str]:
    template = string.Template(text)
    if not template.is_valid():
        return ["$"]
    return sorted(set(template.get_identifiers()) - allowed)


def template_errors(template: ClientNoticeTemplate) -> dict[str, str]:
    """What is wrong with a template an administrator wrote: placeholders it may not use
    (each named), and plain language for anything but Finnish."""
    errors: dict[str, str] = {}
    for field, allowed in (
        ("subject", PLACEHOLDERS),
        ("body", PLACEHOLDERS),
        ("interpreter_line", INTERPRETER_PLACEHOLDERS),
    ):
        unknown = _unknown(getattr(template, field) or "", allowed)
        if unknown:
            errors[field] = _("Unknown placeholders: %(names)s. Use only: %(allowed)s.") % {
                "names": ", ".join(unknown),
                "allowed": ", ".join(f"${name}" for name in sorted(allowed)),
            }
    if template.plain_language and template.language != FALLBACK_LANGUAGE:
        errors["plain_language"] = _("Only the Finnish template has a plain-language version.")
    return errors


@dataclass(frozen=True)
class Chosen:
    template: ClientNoticeTemplate | None
    fallback: bool  # the client's language has none: plain-language Finnish instead


def chosen_template(kind: str, language: str) -> Chosen:
    """The template for the client's language, or the plain-language Finnish one."""
    found = ClientNoticeTemplate.objects.filter(
        kind=kind, language=(language or "").lower(), plain_language=False
    ).first()
    if found is not None:
        return Chosen(found, fallback=False)
    plain = ClientNoticeTemplate.objects.filter(
        kind=kind, language=FALLBACK_LANGUAGE, plain_language=True
    ).first()
    return Chosen(plain, fallback=True)


def _own_template_pk(kind: str, language: str) -> int | None:
    own = chosen_template(kind, language)
    return None if own.template is None or own.fallback else own.template.pk


def _locale(template: ClientNoticeTemplate) -> str:
    """The Babel locale the template's dates and language names are written in."""
    found = pycountry.languages.get(alpha_3=template.language)
    return getattr(found, "alpha_2", None) or "fi"


# The values -------------------------------------------------------------------------------


def values(
    booking: HandoverBooking, template: ClientNoticeTemplate, transfer: Transfer | None = None
) -> dict[str, str]:
    """The appointment, written in the template's language: nothing else of the client."""
    transfer = transfer or booking.transfer
    locale = _locale(template)
    starts = timezone.localtime(booking.starts_at, clock.tz()) if booking.starts_at else None
    worker = transfer.receiving_worker
    interpreter = ""
    if booking.interpreter_status in (InterpreterStatus.BOOKED, InterpreterStatus.REQUESTED):
        code = booking.interpreter_language or transfer.case.client.language
        interpreter = string.Template(template.interpreter_line).safe_substitute(
            language=language_name(code, locale)
        )
    return {
        "date": format_date(starts.date(), "full", locale=locale) if starts else "",
        "time": format_time(starts.time(), "short", locale=locale) if starts else "",
        "place": booking.place,
        "address": transfer.receiving_team.desk.front_desk_location,
        "meeting_with": (worker.get_full_name() or worker.get_username()) if worker else "",
        "team": transfer.receiving_team.name,
        "interpreter": interpreter,
    }


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str
    template: ClientNoticeTemplate
    fallback: bool


def render(
    booking: HandoverBooking,
    kind: str,
    *,
    template: ClientNoticeTemplate | None = None,
    transfer: Transfer | None = None,
) -> Rendered | None:
    """The notice of `kind` for the client of `transfer` (the booking's own transfer, or a
    household member's that moves with it), or None without any template (from `template`
    when given). Raises NoticeRefused if the text would carry the client's identity code."""
    transfer = transfer or booking.transfer
    client = transfer.case.client
    chosen = (
        chosen_template(kind, client.language)
        if template is None
        else Chosen(
            template,
            fallback=template.plain_language
            or template.language != (client.language or "").lower(),
        )
    )
    if chosen.template is None:
        return None
    filled = values(booking, chosen.template, transfer)
    subject = string.Template(chosen.template.subject).safe_substitute(filled).strip()
    # A line whose every placeholder is empty goes ("Osoite: $address" with no address).
    lines = [
        line
        for line in chosen.template.body.splitlines()
        if not (names := string.Template(line).get_identifiers())
        or any(filled.get(name) for name in names)
    ]
    body = string.Template("\n".join(lines)).safe_substitute(filled).strip()
    if kind != NoticeKind.LETTER:
        body = " ".join(body.split())  # one line; no gap where a line was left empty
        body = _EMPTY_ITEM.sub("", body)  # "place, ." with no address: ", " goes
    code = (client.personal_identity_code or "").upper()
    if code and (code in subject.upper() or code in body.upper()):
        raise NoticeRefused("the notice would carry the client's identity code")
    return Rendered(subject, body, chosen.template, chosen.fallback)


# The letter -------------------------------------------------------------------------------


# The letter's font is Silta's PDF font (core.pdf: DejaVu Sans, embedded), so a Russian or
# Ukrainian letter is drawn on any machine. ReportLab draws one glyph per character left to
# right: it neither joins Arabic script's letters nor orders right-to-left text. A letter
# whose text needs that (Arabic, Persian, Dari, Pashto, Kurdish Sorani...) or has a
# character the font lacks (Tigrinya's Ge'ez script) is not faked: it is written from the
# plain-language Finnish template, and the transfer's page tells the caseworker
# (letter_template). Text messages are not affected: the phone draws them.


def letter_can_write(text: str) -> bool:
    """Whether the letter draws `text` truly: a glyph for every character, and no
    right-to-left script (which would need shaping and reordering)."""
    glyphs = font_glyphs()
    return all(
        char.isspace()
        or (ord(char) in glyphs and unicodedata.bidirectional(char) not in ("R", "AL"))
        for char in text
    )


def _template_text(template: ClientNoticeTemplate) -> str:
    return "\n".join((template.subject, template.body, template.interpreter_line or ""))


@dataclass(frozen=True)
class LetterChoice:
    template: ClientNoticeTemplate | None
    fallback: bool  # plain-language Finnish instead of the client's language
    script: bool  # ... because the letter cannot write the language's script


def letter_template(language: str) -> LetterChoice:
    """The letter's template for the client's language: its own if the letter can write
    it, else the plain-language Finnish one (`script` says why)."""
    chosen = chosen_template(NoticeKind.LETTER, language)
    if chosen.template is not None and not letter_can_write(_template_text(chosen.template)):
        plain = chosen_template(NoticeKind.LETTER, "")
        return LetterChoice(plain.template, fallback=True, script=not chosen.fallback)
    return LetterChoice(chosen.template, fallback=chosen.fallback, script=False)


def letter_pdf(booking: HandoverBooking, transfer: Transfer | None = None) -> bytes:
    """The letter to the client of `transfer` (the booking's own by default; each member
    of a household moving with it has their own): the team, the day, the client's name
    and postal address, the heading and the text (paragraphs split at blank lines), in
    DejaVu Sans."""
    from xml.sax.saxutils import escape

    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    transfer = transfer or booking.transfer
    client = transfer.case.client
    choice = letter_template(client.language)
    rendered = render(booking, NoticeKind.LETTER, template=choice.template, transfer=transfer)
    if rendered is None:
        raise NoticeRefused("no letter template")
    if not rendered.fallback and not letter_can_write(f"{rendered.subject}\n{rendered.body}"):
        # A value put in (a date, a language's name) the letter cannot write.
        plain = chosen_template(NoticeKind.LETTER, "").template
        rendered = render(booking, NoticeKind.LETTER, template=plain, transfer=transfer)
        assert rendered is not None
    styles = pdf_styles()
    locale = _locale(rendered.template)
    story: list[Any] = [
        Paragraph(escape(booking.transfer.receiving_team.name), styles["Normal"]),
        Paragraph(escape(format_date(clock.today(), "long", locale=locale)), styles["Normal"]),
        Spacer(1, 10 * mm),
        Paragraph(escape(f"{client.first_name} {client.last_name}"), styles["Normal"]),
        Paragraph(escape(client.street_address), styles["Normal"]),
        Paragraph(escape(f"{client.postal_code} {client.post_office}".strip()), styles["Normal"]),
        Spacer(1, 12 * mm),
        Paragraph(escape(rendered.subject), styles["Heading1"]),
    ]
    for paragraph in rendered.body.split("\n\n"):
        lines = [escape(line) for line in paragraph.splitlines()]
        story.append(Paragraph("<br/>".join(lines), styles["BodyText"]))
        story.append(Spacer(1, 3 * mm))
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=rendered.subject,
        author=booking.transfer.receiving_team.name,
        leftMargin=25 * mm,
        rightMargin=20 * mm,
        initialFontName=FONT,  # not even an unused Helvetica in the file
    )
    document.build(story)
    return buffer.getvalue()


# Text messages ----------------------------------------------------------------------------


# A household's transfers share one booking (transfers.services.handover): each member
# moving with it gets their own text message, in their own language, if they consent and
# have a number. The key names the member's transfer, so each is sent once.


def booking_transfers(booking: HandoverBooking) -> list[Transfer]:
    """The transfers whose clients the booking's meeting is for: its own, and those of its
    household still waiting for it or booked on it, by id."""
    anchor = booking.transfer
    if anchor.household_id is None:
        return [anchor]
    members = (
        Transfer.objects.filter(
            household_id=anchor.household_id,
            state__in=[TransferState.BOOKING_REQUESTED, TransferState.BOOKED],
        )
        .exclude(pk=anchor.pk)
        .select_related("case__client", "receiving_team", "receiving_worker")
        .order_by("pk")
    )
    return [anchor, *members]


def booking_for(transfer: Transfer) -> HandoverBooking | None:
    """The booking whose meeting is the transfer's: its own newest, or, for a household
    member without one, the household's live booking."""
    own = transfer.bookings.order_by("-pk").first()
    if own is not None or transfer.household_id is None:
        return own
    if transfer.state not in (TransferState.BOOKING_REQUESTED, TransferState.BOOKED):
        return None
    return (
        HandoverBooking.objects.filter(
            transfer__household_id=transfer.household_id,
            status__in=[BookingStatus.REQUESTED, BookingStatus.CONFIRMED],
        )
        .order_by("pk")
        .first()
    )


def sms_key(booking: HandoverBooking | int, kind: str, transfer: Transfer | int) -> str:
    pk = booking if isinstance(booking, int) else booking.pk
    member = transfer if isinstance(transfer, int) else transfer.pk
    return f"{CHANNEL}:{kind}:{pk}:{member}"


def _legacy_key(booking: HandoverBooking, kind: str) -> str:
    """The key before each member had their own: the booking's own client's."""
    return f"{CHANNEL}:{kind}:{booking.pk}"


def can_text(booking: HandoverBooking, transfer: Transfer | None = None) -> bool:
    client = (transfer or booking.transfer).case.client
    return bool(sms.sms_in_use() and client.sms_consent and client.phone_number)


def queue_sms(booking: HandoverBooking, kind: str, *, kick: bool = True) -> int:
    """One outbox row per client the booking's meeting is for (booking_transfers) for the
    text message of `kind` (once each: the key), if that client consents, has a number
    and a gateway is configured. In the caller's transaction; the relay sends them after
    commit."""
    if booking.status != BookingStatus.CONFIRMED or not sms.sms_in_use():
        return 0
    now = clock.now()
    legacy_sent = OutboxMessage.objects.filter(key=_legacy_key(booking, kind)).exists()
    return enqueue(
        [
            OutboxMessage(
                channel=CHANNEL,
                key=sms_key(booking, kind, transfer),
                payload={"booking": booking.pk, "kind": kind, "transfer": transfer.pk},
                available_at=now,
                created_at=now,
            )
            for transfer in booking_transfers(booking)
            if can_text(booking, transfer)
            and not (legacy_sent and transfer.pk == booking.transfer_id)
        ],
        kick=kick,
    )


def bookings_for_reminder(today: dt.date, days: int) -> list[HandoverBooking]:
    """Confirmed bookings whose meeting is `days` days after `today` (Helsinki); whose
    clients consent is queue_sms's to check, member by member."""
    day = today + dt.timedelta(days=days)
    start = dt.datetime.combine(day, dt.time(), tzinfo=clock.tz())
    end = start + dt.timedelta(days=1)
    return list(
        HandoverBooking.objects.filter(
            status=BookingStatus.CONFIRMED,
            starts_at__gte=max(start, clock.now()),
            starts_at__lt=end,
        ).select_related("transfer__case__client")
    )


def queue_reminders(today: dt.date, days: int) -> int:
    """The reminder text message for each meeting `days` days ahead: once per booking and
    client (its key), however often the sweep runs."""
    return sum(
        queue_sms(booking, NoticeKind.SMS_REMINDER, kick=False)
        for booking in bookings_for_reminder(today, days)
    )


def sms_messages(booking: HandoverBooking, transfer: Transfer | None = None) -> list[OutboxMessage]:
    """The text messages to the client of `transfer` (the booking's own by default) as
    the outbox has them (for the page)."""
    transfer = transfer or booking.transfer
    kinds = (NoticeKind.SMS, NoticeKind.SMS_REMINDER)
    keys = [sms_key(booking, kind, transfer) for kind in kinds]
    if transfer.pk == booking.transfer_id:
        keys += [_legacy_key(booking, kind) for kind in kinds]
    return list(OutboxMessage.objects.filter(key__in=keys).order_by("created_at", "id"))


def deliver_client_sms(message: OutboxMessage) -> None:
    """The relay's delivery of one text message: read the booking and the member's
    transfer as they are now (a booking cancelled or moved meanwhile, a member no longer
    moving with it, or a consent withdrawn, sends nothing), write the access-log row,
    then hand the text to the provider with the row's key."""
    payload = message.payload
    booking = (
        HandoverBooking.objects.select_related(
            "transfer__case__client",
            "transfer__receiving_team__front_desk_team",
            "transfer__receiving_worker",
        )
        .filter(pk=payload["booking"])
        .first()
    )
    if booking is None or booking.status != BookingStatus.CONFIRMED:
        return
    wanted = payload.get("transfer", booking.transfer_id)
    transfer = next((t for t in booking_transfers(booking) if t.pk == wanted), None)
    if transfer is None:
        return
    client = transfer.case.client
    if not (client.sms_consent and client.phone_number):
        return
    rendered = render(booking, payload["kind"], transfer=transfer)
    if rendered is None:
        logger.warning("client sms %s: no template of kind %s", message.key, payload["kind"])
        return
    log_access(
        user=transfer.receiving_worker or transfer.sending_worker,
        action=f"task_client_{payload['kind']}",
        purpose=PURPOSE_CLIENT_NOTICE,
        subjects=[(client.pk, transfer.case_id)],
    )
    sms.send(to=client.phone_number, text=rendered.body, key=message.key)


def register_client_sms_channel() -> None:
    register(CHANNEL, deliver=deliver_client_sms)


def sms_state(message: OutboxMessage) -> str:
    """A row's state in words for the page."""
    if message.status == OutboxStatus.SENT:
        return _("Sent")
    if message.status == OutboxStatus.FAILED:
        return _("Failed")
    return _("Waiting to be sent")
