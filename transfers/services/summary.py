"""The sender's handover summary, versioned with the transfer: written when proposing and
edited by the sender while the transfer is open; every edit is a new version with its
author and time, and an event row (which names the version, never the text)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Max
from django.utils.translation import gettext as _

from cases.roles import SENDING_ROLES, require_role
from core import clock
from core.errors import Conflict
from core.retry import atomic_with_retry
from transfers.enums import OPEN_TRANSFER_STATES, TransferAction
from transfers.events import transfer_event
from transfers.models import HandoverSummary, Transfer

from .locks import lock_transfer

SUMMARY_FIELDS = (
    "settled",
    "open_items",
    "risks",
    "escorted_why",
    "coordinator_contact",
    "note_to_team",
)


def write_summary(transfer: Transfer, *, author: Any, **texts: str) -> HandoverSummary:
    """A new version of the summary (the caller holds the transfer's lock)."""
    latest = transfer.summaries.aggregate(latest=Max("version"))["latest"] or 0
    return HandoverSummary.objects.create(
        transfer=transfer,
        version=latest + 1,
        author_id=author.pk,
        created_at=clock.now(),
        **{name: (texts.get(name) or "").strip() for name in SUMMARY_FIELDS},
    )


@atomic_with_retry
def transfer_summary_edit(
    *,
    actor: AbstractBaseUser,
    transfer: Transfer,
    settled: str = "",
    open_items: str = "",
    risks: str = "",
    escorted_why: str = "",
    coordinator_contact: str = "",
    note_to_team: str = "",
) -> HandoverSummary:
    """The sender edits the summary of an open transfer: a new version, the earlier ones
    kept. Editing a closed transfer's summary is a Conflict."""
    _case, transfer = lock_transfer(transfer)
    role = require_role(actor, team=transfer.sending_team, roles=SENDING_ROLES, action="summary")
    if transfer.state not in OPEN_TRANSFER_STATES:
        raise Conflict(
            _("The transfer is “%(state)s”: its summary can no longer be edited.")
            % {"state": transfer.get_state_display()},
            state=transfer.state,
        )
    summary = write_summary(
        transfer,
        author=actor,
        settled=settled,
        open_items=open_items,
        risks=risks,
        escorted_why=escorted_why,
        coordinator_contact=coordinator_contact,
        note_to_team=note_to_team,
    )
    transfer_event(
        transfer,
        TransferAction.EDIT_SUMMARY,
        actor=actor,
        role=role,
        source=transfer.state,
        params={"version": summary.version},
    )
    return summary
