"""The machinery every service shares: locking, running a transition on a locked row, and
turning validation errors into InvalidInput. Who may act is cases.roles; the event row is
each app's events module."""

from __future__ import annotations

import functools
from typing import Any, TypeVar, cast

from django.core.exceptions import ValidationError
from django.db import models
from django_fsm import ConcurrentTransition, can_proceed

from .errors import ConcurrentUpdate, InvalidInput, TransitionNotAllowed

M = TypeVar("M", bound=models.Model)

# Transition methods whose user-facing action name differs from the method name.
ACTION_NAMES = {"return_to_sender": "return"}


def action_name(method_name: str) -> str:
    return ACTION_NAMES.get(method_name, method_name)


def allowed_actions(obj: models.Model) -> list[str]:
    """The actions the object's current state allows (the FSM's own list)."""
    # django_fsm adds get_available_<field>_transitions to the class: mypy cannot see it.
    transitions = cast(Any, obj).get_available_state_transitions()
    return sorted(action_name(t.name) for t in transitions)


@functools.cache
def allowed_actions_in(model: type[models.Model], state: str) -> tuple[str, ...] | None:
    """The actions the FSM allows from `state` for any object of `model`, asked of the FSM
    once per state (a list of rows read as values has no objects to ask); None when a
    transition of the model has conditions (then only the object itself can answer)."""
    fsm = cast(Any, model(state=state))
    if any(t.conditions for t in fsm.get_all_state_transitions()):
        return None
    return tuple(allowed_actions(fsm))


def lock(model: type[M], pk: int) -> M:
    """Re-read the row under a row lock: the caller's copy may be stale. FOR NO KEY
    UPDATE, as the lock order's locks (transfers/services/locks.py): another transaction
    can still write rows that refer to it (an event's foreign key takes KEY SHARE), so a
    service holding a client while it waits for the case never deadlocks with one holding
    the case while it writes the client's event."""
    manager: models.Manager[M] = cast(Any, model).objects
    return manager.select_for_update(no_key=True).get(pk=pk)


def check_transition(obj: models.Model, method_name: str) -> None:
    """Raise TransitionNotAllowed, naming the state and the allowed actions, unless the
    object's state allows the transition."""
    if not can_proceed(getattr(obj, method_name)):
        raise TransitionNotAllowed(
            action=action_name(method_name),
            state=cast(Any, obj).state,
            allowed=allowed_actions(obj),
        )


def run_transition(obj: M, method_name: str, **kwargs: Any) -> tuple[str, str]:
    """Run one FSM transition on a locked object and save it. Returns (from, to).

    Raises TransitionNotAllowed (naming the state and the allowed actions) when the state
    does not allow it, ConcurrentUpdate when another transaction changed the state first.
    """
    check_transition(obj, method_name)
    fsm_obj: Any = obj  # the models' `state` is an FSMField: its value is a str
    source: str = fsm_obj.state
    getattr(obj, method_name)(**kwargs)
    try:
        obj.save()
    except ConcurrentTransition as exc:
        raise ConcurrentUpdate() from exc
    target: str = fsm_obj.state
    return source, target


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
