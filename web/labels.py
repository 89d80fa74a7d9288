"""Words for codes the services store: event actions, readiness blockers and the stages a
transfer waits in."""

import functools

import pycountry
from babel import Locale
from django.conf import settings
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from cases.enums import CaseAction, ClientAction, EventSubject
from criteria.enums import ReviewAction
from transfers.enums import TransferAction

# Each event subject's actions are its app's enum: the words are the enum's own labels.
ACTIONS_BY_SUBJECT = {
    EventSubject.CLIENT: ClientAction,
    EventSubject.CASE: CaseAction,
    EventSubject.REVIEW: ReviewAction,
    EventSubject.TRANSFER: TransferAction,
}

# Keyed by (subject, action): two enums may use the same value for different things.
EVENT_ACTIONS = {
    (str(subject), str(value)): label
    for subject, enum in ACTIONS_BY_SUBJECT.items()
    for value, label in enum.choices
}


def _unambiguous() -> dict:
    """Action -> label for the values only one enum has (an event of an unexpected
    subject still gets words, never ones meant for another action)."""
    found: dict = {}
    for (_subject, action), label in EVENT_ACTIONS.items():
        found.setdefault(action, []).append(label)
    return {action: labels[0] for action, labels in found.items() if len(labels) == 1}


ACTIONS_ANY_SUBJECT = _unambiguous()


def event_label(event) -> str:
    """The words for an event's action (the code itself if no enum has it)."""
    return EVENT_ACTIONS.get(
        (event.subject, event.action), ACTIONS_ANY_SUBJECT.get(event.action, event.action)
    )


BLOCKERS = {
    "family_reunification_pending": _("Family reunification is pending"),
    "homeless_or_crisis_accommodation": _("Homeless or in crisis accommodation"),
}

STAGES = {"acceptance": _("Awaiting acceptance"), "booking": _("Booking not confirmed")}


# Where CLDR names an ISO 639-3 language under another code than ISO 639-1's (Dari is
# Persian as spoken in Afghanistan in CLDR).
_CLDR_CODE = {"prs": "fa_AF"}


@functools.cache
def _names(page_language: str) -> dict[str, str]:
    return dict(Locale.parse(page_language).languages)


def language_name(code: str | None, page_language: str | None = None) -> str:
    """A client's language (ISO 639-3, as stored) named in the page's language from CLDR
    (Babel): "arabia" on a Finnish page, "arabiska" on a Swedish one, "Arabic" in English.
    The stored code is shown only for a language CLDR does not name."""
    if not code:
        return ""
    page = (page_language or get_language() or settings.LANGUAGE_CODE).split("-")[0]
    names = _names(page)
    found = pycountry.languages.get(alpha_3=code.lower())
    for candidate in (
        _CLDR_CODE.get(code.lower()),
        getattr(found, "alpha_2", None),
        code.lower(),
    ):
        if candidate and candidate in names:
            return names[candidate]
    return code


def language_choices(codes, page_language: str | None = None) -> list[tuple[str, str]]:
    """(code, name) pairs for a select, sorted by the name in the page's language."""
    return sorted(
        ((code, language_name(code, page_language)) for code in codes),
        key=lambda pair: pair[1].casefold(),
    )
