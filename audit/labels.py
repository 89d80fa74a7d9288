"""What an access-log row records, in words: its action, its purpose and the actor's
role, as the client's own report and the administrator's list show them (GLOSSARY: a user
or a client never reads an internal code such as `web_list` or `case_management`).

The actions and purposes are the codes Silta's surfaces and tasks write through
audit.access; each has its label here, and a code no label names is shown as itself. The
roles are the cases app's, which registers their labels when it is ready (as the partners
app registers the disclosure log's), so this layer never imports it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext_lazy as _

from .access import (
    PURPOSE_BOOKING,
    PURPOSE_CASE_MANAGEMENT,
    PURPOSE_CLIENT_NOTICE,
    PURPOSE_REFERRAL,
    ROLE_PARTNER_CONTACT,
)

PURPOSE_LABELS: dict[str, Any] = {
    PURPOSE_CASE_MANAGEMENT: _("Case work"),
    PURPOSE_BOOKING: _("Booking the handover meeting"),
    PURPOSE_REFERRAL: _("Referral to a partner, with the client's consent"),
    PURPOSE_CLIENT_NOTICE: _("Notice to the client"),
}

ACTION_LABELS: dict[str, Any] = {
    # The web app.
    "web_read": _("Opened the client's data"),
    "web_list": _("Saw the client in a list"),
    "web_search": _("Found the client by searching"),
    "web_transition": _("Recorded a change in the client's case"),
    "web_client_letter": _("Made a letter to the client"),
    "access_report": _("Made a report of the client's access log"),
    # The API (integrations).
    "api_read": _("Read the client's data through the interface"),
    "api_list": _("Saw the client in a list through the interface"),
    "api_history": _("Read the case's events through the interface"),
    "api_referrals": _("Read the case's referrals through the interface"),
    "api_replay": _("Got a repeated answer through the interface"),
    "api_transition": _("Recorded a change in the client's case through the interface"),
    "api_create": _("Added the client's data through the interface"),
    "api_update": _("Changed the client's data through the interface"),
    "api_access_report": _("Read the client's access log through the interface"),
    # The administrators' pages.
    "admin_list": _("Saw the client in a list as administrator"),
    "admin_view": _("Opened the client's data as administrator"),
    "admin_history": _("Opened the change history as administrator"),
    "admin_create": _("Added the client's data as administrator"),
    "admin_change": _("Changed the client's data as administrator"),
    # A supervisor's export of a list to a file.
    "export": _("Exported the client's data to a file"),
    "export_download": _("Downloaded a file holding the client's data"),
    # A partner organisation, through a referral's signed link.
    "partner_link_read": _("A partner read the referral"),
    "partner_link_answer": _("A partner answered the referral"),
    # Silta's own tasks, on behalf of the worker the row names.
    "task_booking_send": _("Silta sent the handover booking to the booking system"),
    "task_booking_cancel": _("Silta cancelled the handover booking in the booking system"),
}

# Actions written with a variable ending (the kind of notice, the request's number):
# labelled by their beginning.
ACTION_FAMILY_LABELS: dict[str, Any] = {
    # cases.intake.access_action: a contact request about the client, once linked to them.
    "contact_request_read:": _("Opened a contact request about the client"),
    "task_booking_": _("Silta sent the handover booking's data to the booking system"),
    "task_client_": _("Silta sent the client a text message about the handover meeting"),
}

_ROLE_LABELS: dict[str, Any] = {
    "administrator": _("Administrator"),
    ROLE_PARTNER_CONTACT: _("A partner's contact"),
}


def register_role_labels(roles: Iterable[tuple[str, Any]]) -> None:
    """Name the role codes an app's memberships write into the log."""
    _ROLE_LABELS.update(roles)


def action_label(code: str) -> str:
    """The action in the active language (an unknown code as itself)."""
    if code in ACTION_LABELS:
        return str(ACTION_LABELS[code])
    for start, label in ACTION_FAMILY_LABELS.items():
        if code.startswith(start):
            return str(label)
    return code


def purpose_label(code: str) -> str:
    return str(PURPOSE_LABELS.get(code, code))


def role_label(code: str) -> str:
    return str(_ROLE_LABELS.get(code, code))


def purpose_choices() -> list[tuple[str, Any]]:
    """The purposes Silta writes, with their labels (the admin's filter)."""
    return list(PURPOSE_LABELS.items())
