"""Contact requests: the public form on which an organisation or an advice point asks the
Immigration Unit to contact a client (no sign-in; throttled per address), and the unit's
intake queue, where a supervisor routes a request to a worker, who links it to a client or
closes it (cases.intake).

The public pages show nothing of any request. The queue lists references, organisations,
times and workers; a request's content is shown on its own page, after its access-log row.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_ratelimit.core import is_ratelimited

from audit.access import get_in_scope_or_404, log_access
from cases import intake
from cases.enums import ContactRequestAction, ContactRequestState, EventSubject
from cases.models import Event
from cases.roles import roles_of
from cases.selectors import clients_visible_to
from core.errors import InvalidInput
from core.throttling import client_ip
from web import forms
from web.middleware import names_nul_beside_the_field

from .clients import _member_by_text
from .common import PAGE_SIZE, attempt, stale

logger = logging.getLogger("silta.contact")

RATE_GROUP = "contact-request"


def _address(_group: str, request) -> str:
    """What the form's rate is counted for: the client's address, as the sign-in
    throttling takes it (behind SILTA_TRUSTED_PROXIES, from X-Forwarded-For)."""
    return client_ip(request) or "unknown"


@names_nul_beside_the_field
def contact_request_new(request):
    """The public form. Every post counts towards the address's rate, valid or not; past
    it the post is refused with a page that says so (429) and a log line, and nothing is
    read or written. A NUL typed in a field is named beside it, the rest kept (its sender
    has no account to come back to: the generic 400 page would lose what was typed)."""
    if request.method == "POST":
        limited = is_ratelimited(
            request,
            group=RATE_GROUP,
            key=_address,
            rate=settings.SILTA_CONTACT_REQUEST_RATE,
            method="POST",
            increment=True,
        )
        if limited:
            logger.warning(
                "contact request refused: over the rate %s for address %s",
                settings.SILTA_CONTACT_REQUEST_RATE,
                _address(RATE_GROUP, request),
            )
            return render(request, "web/contact_limited.html", status=429)
        form = forms.ContactRequestForm(request.POST)
        if form.is_valid():
            try:
                intake.contact_request_receive(**form.cleaned_data)
            except InvalidInput as exc:
                form.add_service_errors(exc)
            else:
                return redirect("web:contact-sent")
        return render(request, "web/contact_form.html", {"form": form}, status=400)
    return render(request, "web/contact_form.html", {"form": forms.ContactRequestForm()})


def contact_request_sent(request):
    return render(request, "web/contact_sent.html")


def _queue_user(request) -> bool:
    """Whether the user works the queue as a supervisor (True) or as a worker of the unit
    (False); anyone else may not see it."""
    if intake.is_intake_supervisor(request.user):
        return True
    if roles_of(request).caseload_teams:
        return False
    raise PermissionDenied(_("The intake queue is for the Immigration Unit."))


@login_required
def intake_queue(request):
    """The open requests, oldest first, a page of 25 with the count: all of them for a
    supervisor, the ones routed to the user for a worker. Only references, organisations,
    times and workers: no client data, so no access-log row."""
    supervisor = _queue_user(request)
    page = Paginator(intake.intake_queue(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "web/intake.html", {"page": page, "supervisor": supervisor})


def _scoped(request, pk):
    return get_in_scope_or_404(
        intake.contact_requests_visible_to(request.user),
        pk,
        user=request.user,
        action="web_read",
        subject_of=intake.contact_request_subject,
    )


def _render_detail(
    request, contact, *, route_form=None, link_form=None, close_form=None, status=200
):
    supervisor = intake.is_intake_supervisor(request.user)
    log_access(
        user=request.user,
        action=intake.access_action(contact),
        subjects=[intake.contact_request_subject(contact)],
    )
    is_open = contact.state in intake.OPEN_STATES
    # The linked client's name and case only for a user whose caseload holds them: every
    # supervisor of the unit sees the queue, not every team's clients.
    client_visible = bool(
        contact.client_id and clients_visible_to(request.user).filter(pk=contact.client_id).exists()
    )
    return render(
        request,
        "web/contact_request.html",
        {
            "contact": contact,
            "client_visible": client_visible,
            "supervisor": supervisor,
            "is_open": is_open,
            "route_form": route_form
            or (
                forms.ContactRouteForm(prefix="route", workers=intake.intake_workers())
                if supervisor and is_open
                else None
            ),
            "link_form": link_form
            or (
                forms.ContactLinkForm(prefix="link")
                if contact.state == ContactRequestState.ROUTED
                else None
            ),
            "close_form": close_form
            or (forms.ContactCloseForm(prefix="close") if is_open else None),
            "events": contact_events(contact),
        },
        status=status,
    )


def contact_events(contact) -> list[Event]:
    """The request's history, each event with its action's words."""
    events = list(
        Event.objects.filter(
            subject=EventSubject.CONTACT_REQUEST, params__contact_request=contact.pk
        )
        .select_related("actor")
        .order_by("created_at", "id")
    )
    labels = dict(ContactRequestAction.choices)
    for event in events:
        event.action_label = labels.get(event.action, event.action)
    return events


@login_required
def contact_request_detail(request, pk: int):
    return _render_detail(request, _scoped(request, pk))


@login_required
@require_POST
def contact_request_action(request, pk: int, action: str):
    contact = _scoped(request, pk)
    back = reverse("web:contact-request", args=[contact.pk])
    subjects = [intake.contact_request_subject(contact)]
    form: forms.SiltaForm
    service: Callable[..., Any]
    if action == "route":
        form = forms.ContactRouteForm(request.POST, prefix="route", workers=intake.intake_workers())
        service, done = intake.contact_request_route, _("Routed to the worker.")
        key = "route_form"
    elif action == "link":
        form = forms.ContactLinkForm(request.POST, prefix="link")
        service, done = intake.contact_request_link, _("Linked to the client.")
        key = "link_form"
    else:
        form = forms.ContactCloseForm(request.POST, prefix="close")
        service, done = intake.contact_request_close, _("Contact request closed.")
        key = "close_form"
    if form.is_valid():
        kwargs = dict(form.cleaned_data)
        if action == "link":
            client = _member_by_text(request, kwargs.pop("client"))
            if client is None:
                form.add_error(
                    "client",
                    _("No client in your caseload has this case reference or identity code."),
                )
                return _render_detail(request, contact, **{key: form}, status=400)
            kwargs["client"] = client
            subjects = [*subjects, (client.pk, None)]
        result, problem = attempt(
            request, form, service, subjects=subjects, contact=contact, **kwargs
        )
        if problem == "conflict":
            stale(request, contact, result)
            return redirect(back)
        if problem is None:
            messages.success(request, done)
            return redirect(back)
    return _render_detail(request, contact, **{key: form}, status=400)
