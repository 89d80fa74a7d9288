"""Words for codes the services store: event actions, readiness blockers and the stages a
transfer waits in; client languages named in the page's language (core.languages)."""

from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from audit.access import PARTNER_LINK_USERNAME, partner_team_code
from cases.enums import (
    CaseAction,
    CaseState,
    ClientAction,
    ClosureReason,
    ContactRequestAction,
    ContactRequestState,
    EventSubject,
)
from cases.models import Team
from core.languages import language_choices, language_name
from criteria.enums import ReviewAction
from partners.enums import PartnerAction
from partners.models import PartnerOrganisation
from transfers.enums import BookingStatus, TransferAction, TransferState

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
# The partners app writes case events of its own (the home base, referrals), and a contact
# request linked to a client is in the client's case's timeline.
EVENT_ACTIONS.update(
    {(str(EventSubject.CASE), str(value)): label for value, label in PartnerAction.choices}
)
EVENT_ACTIONS.update(
    {
        (str(EventSubject.CONTACT_REQUEST), str(value)): label
        for value, label in ContactRequestAction.choices
    }
)


def event_label(event) -> str:
    """The words for an event's action (the code itself if no enum has it)."""
    return EVENT_ACTIONS.get(
        (event.subject, event.action), ACTIONS_ANY_SUBJECT.get(event.action, event.action)
    )


# The states an event moves its subject between, by subject (the review's are its case's).
STATES_BY_SUBJECT = {
    EventSubject.CASE: CaseState,
    EventSubject.REVIEW: CaseState,
    EventSubject.TRANSFER: TransferState,
    EventSubject.BOOKING: BookingStatus,
    EventSubject.CONTACT_REQUEST: ContactRequestState,
}


def event_state(event, state: str) -> str:
    """One of the event's states (from or to) in words; a state its subject's enum does
    not name as itself."""
    states = STATES_BY_SUBJECT.get(event.subject)
    if states is not None and state in states.values:
        return str(states(state).label)
    return state


def event_actor(event) -> str:
    """Who did it, as a page names them: the full name (else the username); a partner's
    contact answering through a referral's link (Silta's shared account) as such. Empty
    for Silta's own steps."""
    actor = event.actor
    if actor is None:
        return ""
    if actor.get_username() == PARTNER_LINK_USERNAME:
        return str(_("A partner's contact"))
    return actor.get_full_name() or actor.get_username()


def event_reason(event) -> str:
    """The event's reason as written, except a case closed without words of its own: its
    reason's code (the service keeps the code there) in words."""
    if (
        event.subject == EventSubject.CASE
        and event.action == CaseAction.CLOSE
        and event.reason in ClosureReason.values
    ):
        return str(ClosureReason(event.reason).label)
    return event.reason


def actor_team_names() -> dict[str, str]:
    """The names behind the team codes an access-log row keeps: Silta's teams, and the
    partner organisations whose contacts read through a referral's link."""
    names = dict(Team.objects.values_list("code", "name"))
    names.update(
        (partner_team_code(pk), name)
        for pk, name in PartnerOrganisation.objects.values_list("pk", "name")
    )
    return names


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
