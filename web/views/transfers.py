"""A transfer as the receiving team and the sending team see it: the inbox, the transfer
page, and every action on a transfer (one table, one view)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from audit.access import log_access
from cases.roles import roles_of
from cases.selectors import booking_hours_of, meeting_hours_of
from core import clock
from notifications import sms
from transfers import client_notice, handoff, services
from transfers.enums import OPEN_TRANSFER_STATES, NoticeKind, TransferState
from transfers.selectors import (
    RECEIVED_STATES,
    booking_request_failed,
    handover_summary,
    messages_of,
    transfers_visible_to,
)
from transfers.services.handover import horizon_days
from web import forms

from .common import act, page_of, scoped, shown, today, transfer_subject

INBOX_TABS = {
    "new": [TransferState.PROPOSED, TransferState.INFORMATION_REQUESTED],
    "open": [TransferState.ACCEPTED, TransferState.BOOKING_REQUESTED, TransferState.BOOKED],
    "done": [TransferState.COMPLETED, TransferState.RETURNED, TransferState.CANCELLED],
}


def _days_waited(transfer) -> int:
    return (today() - transfer.proposed_at.astimezone(clock.tz()).date()).days


@login_required
def inbox(request):
    teams = roles_of(request).receiving_teams
    if not teams:
        raise PermissionDenied(_("The inbox is for regional teams."))
    transfers = transfers_visible_to(request.user).filter(receiving_team__in=teams)
    team_code = request.GET.get("team", "")
    if team_code:
        transfers = transfers.filter(receiving_team__code=team_code)
    counts = transfers.aggregate(
        **{tab: Count("pk", filter=Q(state__in=states)) for tab, states in INBOX_TABS.items()}
    )
    tab = request.GET.get("tab")
    if tab not in INBOX_TABS:
        tab = "new"
    page = page_of(
        request, transfers.filter(state__in=INBOX_TABS[tab]).order_by("proposed_at", "id")
    )
    log_access(user=request.user, action="web_list", subjects=[transfer_subject(t) for t in page])
    for transfer in page:
        transfer.waited = _days_waited(transfer)
    tabs = [
        ("new", _("Awaiting decision"), counts["new"]),
        ("open", _("Accepted, handover ahead"), counts["open"]),
        ("done", _("Handled"), counts["done"]),
    ]
    return render(
        request,
        "web/inbox.html",
        {"tabs": tabs, "tab": tab, "page": page, "teams": teams, "team_code": team_code},
    )


def _transfer_queryset(request):
    return transfers_visible_to(request.user).select_related("case__team", "sending_worker")


def _receiving_forms(transfer, forms_given, *, receiving: bool, desk: bool) -> dict:
    """The receiving team's forms for the transfer's state: accept, ask or return (return
    also while a question waits); confirm the booking; record the handover or book again."""
    state, found = transfer.state, {}
    if receiving and state == TransferState.PROPOSED:
        found["accept_form"] = forms_given.get("accept") or forms.AcceptForm(
            team=transfer.receiving_team, prefix="accept"
        )
        found["return_form"] = forms_given.get("return") or forms.ReturnForm(prefix="return")
        found["ask_form"] = forms_given.get("ask") or forms.AskForm(prefix="ask")
    if receiving and state == TransferState.INFORMATION_REQUESTED:
        # While its question waits the team may still give up and return the transfer.
        found["return_form"] = forms_given.get("return") or forms.ReturnForm(prefix="return")
    if (receiving or desk) and state == TransferState.BOOKING_REQUESTED:
        found["confirm_form"] = forms_given.get("confirm") or forms.ConfirmBookingForm(
            prefix="confirm",
            initial={"place": transfer.receiving_team.desk.front_desk_location},
            horizon_days=horizon_days(),
        )
        found["booking_hours"] = booking_hours_of([transfer.receiving_team_id])
        found["meeting_hours"] = meeting_hours_of([transfer.receiving_team_id])
    if (receiving or desk) and state == TransferState.BOOKED:
        found["complete_form"] = forms_given.get("complete") or forms.SiltaForm(prefix="complete")
        found["rebook_form"] = forms_given.get("rebook") or forms.RebookForm(prefix="rebook")
    return found


def _transfer_page(request, transfer, status=200, **forms_given):
    """The transfer page, also shown again with a form's errors (each showing is a read)."""
    shown(request, transfer_subject(transfer))
    roles = roles_of(request)
    receiving = transfer.receiving_team in roles.receiving_teams
    desk = transfer.receiving_team in roles.desk_teams
    sending = transfer.sending_team in roles.caseload_teams
    full = sending or transfer.state in RECEIVED_STATES
    # A household member's meeting is on the household's one booking.
    booking = client_notice.booking_for(transfer)
    failed = booking_request_failed(transfer)
    context = {
        "transfer": transfer,
        "messages_on_transfer": messages_of(transfer),
        "summary": handover_summary(transfer, full=full),
        "case": transfer.case,
        "full": full,
        "booking": booking,
        "meeting_started": bool(booking and booking.starts_at and booking.starts_at <= clock.now()),
        "delivery_failed": failed,
        "can_open_case": full,
        "waited": _days_waited(transfer),
        **_receiving_forms(transfer, forms_given, receiving=receiving, desk=desk),
    }
    if failed and (receiving or desk or sending):
        context["retry_form"] = forms.SiltaForm(prefix="retry")
    if (
        transfer.escorted
        and transfer.state == TransferState.BOOKED
        and transfer.sending_worker_id == request.user.pk
        and booking is not None
        and booking.transfer_id == transfer.pk
        and booking.sender_confirmed_at is None
        and not context["meeting_started"]
    ):
        context["attend_form"] = forms.SiltaForm(prefix="attend")
    if sending and transfer.state == TransferState.INFORMATION_REQUESTED:
        context["answer_form"] = forms_given.get("answer") or forms.AnswerForm(prefix="answer")
    if sending and transfer.state in OPEN_TRANSFER_STATES:
        context["summary_form"] = forms_given.get("summary") or forms.SummaryForm(
            prefix="summary", initial=context["summary"]
        )
    if full and booking is not None and booking.starts_at is not None:
        context["client_notice"] = _client_notice(transfer, booking)
    if sending and transfer.state in OPEN_TRANSFER_STATES:
        context["cancel_form"] = forms_given.get("cancel") or forms.CancelForm(prefix="cancel")
    return render(request, "web/transfer.html", context, status=status)


def _client_notice(transfer, booking) -> dict[str, Any]:
    """The client's notice of the appointment: the letter, and the text messages (sent, to
    be sent, or why not); whether the client's language has its own template."""
    client = transfer.case.client
    chosen = client_notice.letter_template(client.language)
    return {
        "letter_url": reverse("web:transfer-letter", args=[transfer.pk]),
        "has_template": chosen.template is not None,
        "fallback": chosen.fallback,
        "script": chosen.script,
        "language": client.language_name,
        "sms_in_use": sms.sms_in_use(),
        "consent": client.sms_consent and bool(client.phone_number),
        "messages": [
            {
                "kind": NoticeKind(message.payload.get("kind", NoticeKind.SMS)).label,
                "state": client_notice.sms_state(message),
                "sent_at": message.sent_at,
            }
            for message in client_notice.sms_messages(booking, transfer)
        ],
    }


@login_required
def transfer_letter(request, pk: int):
    """The client's letter of the handover appointment (PDF), for the sending team and the
    receiving team once it has accepted: an access-log row first, like every read."""
    transfer = scoped(request, _transfer_queryset(request), pk, transfer_subject)
    roles = roles_of(request)
    sending = transfer.sending_team in roles.caseload_teams
    # Each client's own letter: a household member's meeting is the household's booking.
    booking = client_notice.booking_for(transfer)
    if not (sending or transfer.state in RECEIVED_STATES) or booking is None:
        raise Http404
    if booking.starts_at is None:
        raise Http404
    log_access(user=request.user, action="web_client_letter", subjects=[transfer_subject(transfer)])
    try:
        pdf = client_notice.letter_pdf(booking, transfer)
    except client_notice.NoticeRefused as exc:
        raise Http404 from exc
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="{transfer.case.reference}-handover-letter.pdf"'
    )
    return response


@login_required
def transfer_detail(request, pk: int):
    transfer = scoped(request, _transfer_queryset(request), pk, transfer_subject)
    return _transfer_page(request, transfer)


@dataclass(frozen=True)
class TransferAction:
    """One action on a transfer: its form (its prefix on the page is the action's name),
    its service, what is said when it is done (or a function of the service's result),
    what the form needs to know about the transfer, and, when the action has words of its
    own for "someone else acted first", those words."""

    form: type[forms.SiltaForm]
    service: Callable[..., Any]
    done: Any
    form_kwargs: Callable[[Any], dict] | None = None
    stale: Any = None


def _accepted(transfer) -> str:
    """Accepted: when the booking request reaches the front desk, if it waits for the
    desk's booking hours (otherwise it goes at once)."""
    reaches = handoff.request_time(transfer.receiving_team)
    if reaches <= clock.now() + dt.timedelta(minutes=1):
        return _("Transfer accepted. The front desk books the handover.")
    return _(
        "Transfer accepted. The booking request reaches the front desk at its next booking "
        "hours, %(when)s; the front desk books the handover then."
    ) % {"when": date_format(localtime(reaches), "DATETIME_FORMAT")}


TRANSFER_ACTIONS = {
    "accept": TransferAction(
        forms.AcceptForm,
        services.transfer_accept_together,
        lambda transfer: _accepted(transfer),
        form_kwargs=lambda transfer: {"team": transfer.receiving_team},
    ),
    "return": TransferAction(
        forms.ReturnForm,
        services.transfer_return_together,
        gettext_lazy("Transfer returned to the Immigration Unit."),
    ),
    "ask": TransferAction(
        forms.AskForm,
        services.transfer_request_information,
        gettext_lazy("Question sent. The transfer waits for the sender's answer."),
    ),
    "answer": TransferAction(
        forms.AnswerForm,
        services.transfer_answer_information,
        gettext_lazy("Answer sent. The transfer is back with the receiving team."),
    ),
    "summary": TransferAction(
        forms.SummaryForm,
        services.transfer_summary_edit,
        gettext_lazy("Handover summary saved as a new version."),
    ),
    "confirm": TransferAction(
        forms.ConfirmBookingForm,
        services.transfer_confirm_booking,
        gettext_lazy("Handover booked."),
        form_kwargs=lambda _transfer: {"horizon_days": horizon_days()},
    ),
    "complete": TransferAction(
        forms.SiltaForm,
        services.transfer_complete,
        gettext_lazy("Handover recorded as held: the case is transferred."),
    ),
    "rebook": TransferAction(
        forms.RebookForm,
        services.transfer_rebook,
        gettext_lazy("Recorded. The handover is to be booked again."),
    ),
    "cancel": TransferAction(
        forms.CancelForm,
        services.transfer_cancel,
        gettext_lazy("Transfer cancelled. The case is back in review."),
    ),
    "attend": TransferAction(
        forms.SiltaForm,
        services.transfer_confirm_attendance,
        gettext_lazy("Thank you: the front desk sees that you confirmed the time."),
    ),
    "retry": TransferAction(
        forms.SiltaForm,
        services.transfer_retry_booking_request,
        gettext_lazy("Booking request sent again."),
        stale=gettext_lazy(
            "Someone else acted first: the booking request has already been sent again."
        ),
    ),
}


@login_required
@require_POST
def transfer_action(request, pk: int, action: str):
    spec = TRANSFER_ACTIONS[action]
    transfer = scoped(request, _transfer_queryset(request), pk, transfer_subject)
    form_kwargs = spec.form_kwargs(transfer) if spec.form_kwargs else {}
    return act(
        request,
        transfer,
        spec.form(request.POST, prefix=action, **form_kwargs),
        spec.service,
        target="transfer",
        subject=transfer_subject(transfer),
        back=reverse("web:transfer", args=[transfer.pk]),
        done=spec.done,
        again=lambda form: _transfer_page(request, transfer, status=400, **{action: form}),
        stale_text=spec.stale,
    )
