"""Asking before returning: the receiving team asks the sender a question instead of
returning the transfer (proposed -> information_requested), and the sender's answer puts it
back before the receiving team (-> proposed). The exchange is kept on the transfer; the
awaiting-acceptance clock stands still while the sender answers."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.utils.translation import gettext as _

from cases.models import Team
from cases.roles import ACCEPTING_ROLES, SENDING_ROLES, require_role
from core import clock, workdays
from core.retry import atomic_with_retry
from core.transitions import check_transition, require_text, run_transition
from transfers import notices
from transfers.enums import MessageKind, TransferAction
from transfers.events import transfer_event
from transfers.models import Transfer, TransferMessage

from .locks import lock_transfer


def _message(
    transfer: Transfer, *, kind: str, author: AbstractBaseUser, team: Team, text: str
) -> TransferMessage:
    return TransferMessage.objects.create(
        transfer=transfer,
        kind=kind,
        author_id=author.pk,
        team=team,
        text=text,
        created_at=clock.now(),
    )


@atomic_with_retry
def transfer_request_information(
    *, actor: AbstractBaseUser, transfer: Transfer, text: str
) -> Transfer:
    """proposed -> information_requested: the receiving team asks the sender a question.
    The awaiting-acceptance clock stops until the answer. Of two people asking at once one
    wins; the other gets a Conflict and nothing of theirs is written."""
    _case, transfer = lock_transfer(transfer)
    role = require_role(
        actor, team=transfer.receiving_team, roles=ACCEPTING_ROLES, action="request_information"
    )
    check_transition(transfer, "request_information")
    text = require_text(text, "text", _("Write the question to the sender."))
    source, _target = run_transition(transfer, "request_information", at=clock.now())
    message = _message(
        transfer, kind=MessageKind.QUESTION, author=actor, team=transfer.receiving_team, text=text
    )
    # The text is client data: the event names the message, never its words.
    transfer_event(
        transfer,
        TransferAction.REQUEST_INFORMATION,
        actor=actor,
        role=role,
        source=source,
        params={"message": message.pk},
    )
    notices.transfer_question_asked(transfer, actor=actor, message_id=message.pk)
    return transfer


@atomic_with_retry
def transfer_answer_information(
    *, actor: AbstractBaseUser, transfer: Transfer, text: str
) -> Transfer:
    """information_requested -> proposed: the sender answers. The working days the question
    waited are added to the transfer's paused time, so the acceptance reminders do not
    count them."""
    _case, transfer = lock_transfer(transfer)
    role = require_role(
        actor, team=transfer.sending_team, roles=SENDING_ROLES, action="answer_information"
    )
    check_transition(transfer, "answer_information")
    text = require_text(text, "text", _("Write the answer to the receiving team."))
    asked = transfer.information_requested_at or clock.now()
    paused = workdays.working_days_between(asked.astimezone(clock.tz()).date(), clock.today())
    source, _target = run_transition(transfer, "answer_information", paused_working_days=paused)
    message = _message(
        transfer, kind=MessageKind.ANSWER, author=actor, team=transfer.sending_team, text=text
    )
    transfer_event(
        transfer,
        TransferAction.ANSWER_INFORMATION,
        actor=actor,
        role=role,
        source=source,
        params={"message": message.pk, "paused_working_days": paused},
    )
    notices.transfer_question_answered(transfer, actor=actor, message_id=message.pk)
    return transfer
