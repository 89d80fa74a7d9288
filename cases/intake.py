"""The Immigration Unit's intake queue: contact requests that organisations and advice
points send for a client, with the client's consent, through the public form.

Every change is one service here, in one transaction, with one event row (subject
"contact request"; the request's id in the event's params, the client once linked):
received (from the public form: no actor), routed to a worker by a supervisor (the worker
gets a notice with the request's reference and a link, nothing else), linked to a client
(and their open case) or closed with a reason by that worker or a supervisor.

Who sees a request: every supervisor of an Immigration Unit team (the queue), and the
worker it is routed to. The queue lists references, organisations and times only; a
request's content is shown on its own page, which writes an access-log row first.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _

from core import clock
from core.errors import ActorNotAllowed, InvalidInput
from core.transitions import check_transition, full_clean_or_raise, lock, run_transition
from notifications.models import NotificationKind
from notifications.services import notify

from .enums import (
    ContactRequestAction,
    ContactRequestCloseReason,
    ContactRequestState,
    EventSubject,
    Role,
    TeamKind,
)
from .events import record_event
from .models import Case, Client, ContactRequest, Membership
from .selectors import clients_visible_to, open_case_of
from .validators import validate_language_code

MESSAGE_MAX = 4000
OPEN_STATES = (ContactRequestState.NEW, ContactRequestState.ROUTED)

# What the public form may set; everything else is the unit's.
PUBLIC_FIELDS = (
    "organisation",
    "sender_name",
    "sender_phone",
    "sender_email",
    "client_name",
    "client_date_of_birth",
    "client_phone",
    "client_language",
    "message",
    "consent",
)


def _event(
    request: ContactRequest,
    action: ContactRequestAction,
    *,
    actor: Any,
    role: str,
    source: str,
    reason: str = "",
    params: dict[str, Any] | None = None,
) -> None:
    record_event(
        subject=EventSubject.CONTACT_REQUEST,
        action=action,
        client_id=request.client_id,
        case_id=request.case_id,
        actor=actor,
        actor_role=role,
        from_state=source,
        to_state=request.state,
        reason=reason,
        params={"contact_request": request.pk, **(params or {})},
    )


def is_intake_supervisor(user: Any) -> bool:
    """A supervisor of an Immigration Unit team: sees and routes the whole queue."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return Membership.objects.filter(
        user=user, role=Role.SUPERVISOR, team__kind=TeamKind.IMMIGRATION_UNIT
    ).exists()


def intake_workers() -> QuerySet[Any]:
    """Whom a request may be routed to: the Immigration Unit's active caseworkers and
    supervisors."""
    return (
        get_user_model()
        .objects.filter(
            is_active=True,
            memberships__team__kind=TeamKind.IMMIGRATION_UNIT,
            memberships__role__in=[Role.CASEWORKER, Role.SUPERVISOR],
        )
        .distinct()
        .order_by("last_name", "first_name", "username")
    )


def contact_requests_visible_to(user: Any) -> QuerySet[ContactRequest]:
    """Every request for an Immigration Unit supervisor; the ones routed to them for a
    worker; nothing for anyone else (an administrator included: they run Silta)."""
    requests = ContactRequest.objects.select_related("assigned_worker", "client", "case")
    if is_intake_supervisor(user):
        return requests
    if user is None or not user.is_authenticated:
        return requests.none()
    return requests.filter(assigned_worker=user)


def intake_queue(user: Any) -> QuerySet[ContactRequest]:
    """The open requests the user sees, oldest first."""
    return (
        contact_requests_visible_to(user)
        .filter(state__in=OPEN_STATES)
        .order_by("received_at", "id")
    )


def contact_request_subject(request: ContactRequest) -> tuple[int | None, int | None]:
    """The (client, case) an access-log row names: the linked client, or none yet."""
    return request.client_id, request.case_id


def access_action(request: ContactRequest) -> str:
    """The access-log action of reading a request: names the request, as a request not
    yet linked has no client for the row to name."""
    return f"contact_request_read:{request.pk}"


@transaction.atomic
def contact_request_receive(**fields: Any) -> ContactRequest:
    """A request from the public form: validated as the model says (lengths, a date of
    birth not in the future), with the client's consent and a way to reach the sender, or
    InvalidInput naming each field. Nothing is written on bad input. The event has no
    actor: no one signed in sent it."""
    unknown = set(fields) - set(PUBLIC_FIELDS)
    if unknown:
        raise InvalidInput({name: _("Unknown field.") for name in sorted(unknown)})
    values = {
        name: (value.strip() if isinstance(value, str) else value) for name, value in fields.items()
    }
    errors: dict[str, str] = {}
    if values.get("consent") is not True:
        errors["consent"] = _(
            "Send the request only with the client's consent, and confirm it here."
        )
    if not values.get("sender_phone") and not values.get("sender_email"):
        errors["sender_phone"] = _("Give a phone number or an e-mail address we can reach.")
    if values.get("client_language"):
        try:
            validate_language_code(values["client_language"])
        except ValidationError as exc:
            errors["client_language"] = exc.messages[0]
    if len(values.get("message") or "") > MESSAGE_MAX:
        errors["message"] = _("Write at most %(n)s characters.") % {"n": MESSAGE_MAX}
    request = ContactRequest(received_at=clock.now(), **values)
    try:
        full_clean_or_raise(request, exclude=["state"])
    except InvalidInput as exc:
        errors = {**exc.errors, **errors}
    if errors:
        raise InvalidInput(errors)
    request.save()
    _event(request, ContactRequestAction.RECEIVE, actor=None, role="public", source="")
    return request


def _require_supervisor(actor: Any, action: str) -> str:
    if not is_intake_supervisor(actor):
        raise ActorNotAllowed(action=action, roles=[Role.SUPERVISOR], team=_("Immigration Unit"))
    return str(Role.SUPERVISOR)


def _require_handler(actor: Any, request: ContactRequest, action: str) -> str:
    """The worker the request is routed to, or a supervisor of the unit."""
    if is_intake_supervisor(actor):
        return str(Role.SUPERVISOR)
    if actor is not None and actor.is_active and request.assigned_worker_id == actor.pk:
        return str(Role.CASEWORKER)
    raise ActorNotAllowed(
        action=action, roles=[Role.CASEWORKER, Role.SUPERVISOR], team=_("Immigration Unit")
    )


@transaction.atomic
def contact_request_route(*, actor: Any, contact: ContactRequest, worker: Any) -> ContactRequest:
    """A supervisor gives the request to a worker of the Immigration Unit (again, to
    another, while it is open). The worker gets a notice: the reference and a link."""
    role = _require_supervisor(actor, "contact_request_route")
    request = lock(ContactRequest, contact.pk)
    if worker is None or not intake_workers().filter(pk=worker.pk).exists():
        raise InvalidInput({"worker": _("Choose a worker of the Immigration Unit.")})
    previous = request.assigned_worker_id
    source, _target = run_transition(request, "route", worker=worker, at=clock.now())
    _event(
        request,
        ContactRequestAction.ROUTE,
        actor=actor,
        role=role,
        source=source,
        params={"worker": worker.pk, "previous_worker": previous},
    )
    notify(
        recipients=[worker],
        kind=NotificationKind.CONTACT_REQUEST_ROUTED,
        subject_key=f"contact_request:{request.pk}:{worker.pk}",
        on_date=clock.today(),
        reference=request.reference,
        link=reverse("web:contact-request", args=[request.pk]),
    )
    return request


@transaction.atomic
def contact_request_link(*, actor: Any, contact: ContactRequest, client: Client) -> ContactRequest:
    """The worker (or a supervisor) links the request to a client in their own scope, and
    to that client's open case if there is one. Only a routed request is linked."""
    request = lock(ContactRequest, contact.pk)
    role = _require_handler(actor, request, "contact_request_link")
    check_transition(request, "link")
    if client is None or not clients_visible_to(actor).filter(pk=client.pk).exists():
        raise InvalidInput({"client": _("No such client in your caseload.")})
    case: Case | None = open_case_of(client)
    source, _target = run_transition(request, "link", client=client, case=case, at=clock.now())
    _event(request, ContactRequestAction.LINK, actor=actor, role=role, source=source)
    return request


@transaction.atomic
def contact_request_close(
    *, actor: Any, contact: ContactRequest, reason: str, text: str = ""
) -> ContactRequest:
    """The worker (or a supervisor) closes the request with a coded reason; "other" needs
    the explanation."""
    request = lock(ContactRequest, contact.pk)
    role = _require_handler(actor, request, "contact_request_close")
    text = (text or "").strip()
    if reason not in ContactRequestCloseReason.values:
        raise InvalidInput({"reason": _("Choose the reason.")})
    if reason == ContactRequestCloseReason.OTHER and not text:
        raise InvalidInput({"text": _("Explain the reason when it is “other”.")})
    if len(text) > 2000:
        raise InvalidInput({"text": _("Write at most %(n)s characters.") % {"n": 2000}})
    source, _target = run_transition(request, "close", reason=reason, text=text, at=clock.now())
    _event(request, ContactRequestAction.CLOSE, actor=actor, role=role, source=source, reason=text)
    return request
