"""Words for codes the services store: event actions, readiness blockers and the stages a
transfer waits in; client languages named in the page's language (core.languages)."""

from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from cases.enums import CaseAction, ClientAction, EventSubject
from core.languages import language_choices, language_name
from criteria.enums import ReviewAction
from partners.enums import PartnerAction
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
# The partners app writes case events of its own (the home base, referrals).
EVENT_ACTIONS.update(
    {(str(EventSubject.CASE), str(value)): label for value, label in PartnerAction.choices}
)


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

__all__ = ["language_choices", "language_name"]


def region_name(region) -> str:
    """A region (cases.Region) named in the page's language."""
    if region is None:
        return ""
    page = (get_language() or "fi")[:2]
    return str(getattr(region, f"name_{page}", "") or region.name_fi)
