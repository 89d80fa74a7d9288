"""The machinery every service shares: who may act, locking, running a transition, and
writing its event row in the same transaction."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import models
from django_fsm import ConcurrentTransition, can_proceed

from . import clock
from .errors import ActorNotAllowed, ConcurrentUpdate, InvalidInput, TransitionNotAllowed
from .models import Event, Membership, Team

M = TypeVar("M", bound=models.Model)

# Transition methods whose user-facing action name differs from the method name.
ACTION_NAMES = {"return_to_sender": "return"}


def action_name(method_name: str) -> str:
    return ACTION_NAMES.get(method_name, method_name)


def allowed_actions(obj: models.Model) -> list[str]:
    """The actions the object's current state allows (the FSM's own list)."""
    return sorted(action_name(t.name) for t in obj.get_available_state_transitions())


def require_role(
    actor: AbstractBaseUser | None,
    *,
    team: Team,
    roles: Iterable[str],
    action: str,
    system_allowed: bool = False,
) -> str:
    """Return the actor's role in `team` that allows `action`, or raise ActorNotAllowed.

    `actor=None` is Silta itself (a scheduled sweep), allowed only where `system_allowed`.
    A superuser is not exempt: administrators run Silta, they do not carry cases.
    """
    roles = list(roles)
    if actor is None:
        if system_allowed:
            return "system"
    elif actor.is_active:
        role = (
            Membership.objects.filter(user=actor, team=team, role__in=roles)
            .values_list("role", flat=True)
            .first()
        )
        if role:
            return role
    raise ActorNotAllowed(action=action, roles=roles, team=str(team))


def lock(model: type[M], pk: int) -> M:
    """Re-read the row under a row lock: the caller's copy may be stale."""
    return model.objects.select_for_update().get(pk=pk)


def check_transition(obj: models.Model, method_name: str) -> None:
    """Raise TransitionNotAllowed, naming the state and the allowed actions, unless the
    object's state allows the transition."""
    if not can_proceed(getattr(obj, method_name)):
        raise TransitionNotAllowed(
            action=action_name(method_name), state=obj.state, allowed=allowed_actions(obj)
        )


def run_transition(obj: M, method_name: str, **kwargs: Any) -> tuple[str, str]:
    """Run one FSM transition on a locked object and save it. Returns (from, to).

    Raises TransitionNotAllowed (naming the state and the allowed actions) when the state
    does not allow it, ConcurrentUpdate when another transaction changed the state first.
    """
    check_transition(obj, method_name)
    source = obj.state
    getattr(obj, method_name)(**kwargs)
    try:
        obj.save()
    except ConcurrentTransition as exc:
        raise ConcurrentUpdate() from exc
    return source, obj.state


def record_event(
    *,
    subject: str,
    action: str,
    client_id: int,
    actor: AbstractBaseUser | None,
    actor_role: str = "",
    case_id: int | None = None,
    transfer_id: int | None = None,
    review_id: int | None = None,
    from_state: str = "",
    to_state: str = "",
    reason: str = "",
    params: dict[str, Any] | None = None,
) -> Event:
    return Event.objects.create(
        subject=subject,
        action=action,
        client_id=client_id,
        case_id=case_id,
        transfer_id=transfer_id,
        review_id=review_id,
        from_state=from_state,
        to_state=to_state,
        actor=actor,
        actor_role=actor_role,
        reason=reason,
        params=params or {},
        created_at=clock.now(),
    )


def full_clean_or_raise(instance: models.Model, **kwargs: Any) -> None:
    """Validate a model and turn Django's errors into InvalidInput (field -> message)."""
    try:
        instance.full_clean(**kwargs)
    except ValidationError as exc:
        raise InvalidInput(
            {
                field: " ".join(str(m) for m in messages)
                for field, messages in exc.message_dict.items()
            }
        ) from exc


def require_text(value: str, field: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise InvalidInput({field: message})
    return value
