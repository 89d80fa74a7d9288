"""Domain errors: values with a stable code.

Each maps to one HTTP status in the API and to a message in the user's language. Raising
one inside a service's transaction rolls back everything that service did.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.utils.translation import gettext as _


class DomainError(Exception):
    code = "domain_error"
    http_status = 400

    def __init__(self, detail: str, **extra: object) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class Conflict(DomainError):
    """The object is not (or no longer) in a state that allows the action."""

    code = "conflict"
    http_status = 409


class TransitionNotAllowed(Conflict):
    code = "transition_not_allowed"

    def __init__(self, *, action: str, state: str, allowed: Iterable[str]) -> None:
        allowed = sorted(allowed)
        super().__init__(
            _(
                "Action “%(action)s” is not allowed in state “%(state)s”. "
                "Allowed actions: %(allowed)s."
            )
            % {"action": action, "state": state, "allowed": ", ".join(allowed) or "-"},
            action=action,
            state=state,
            allowed=allowed,
        )


class ConcurrentUpdate(Conflict):
    code = "concurrent_update"

    def __init__(self) -> None:
        super().__init__(_("Someone else changed this first. Reload and try again."))


class ActorNotAllowed(DomainError):
    code = "actor_not_allowed"
    http_status = 403

    def __init__(self, *, action: str, roles: Iterable[str], team: str) -> None:
        # The roles in words (a role enum's label); the action's code stays in `extra`
        # for the API, out of the sentence a person reads.
        names = " / ".join(str(getattr(role, "label", role)) for role in roles)
        if team:
            detail = _(
                "Your role does not allow this: it needs the role %(roles)s in team %(team)s."
            ) % {"roles": names, "team": team}
        else:
            detail = _("Your role does not allow this: it needs the role %(roles)s.") % {
                "roles": names
            }
        super().__init__(detail, action=action)


class CriteriaNotMet(DomainError):
    code = "criteria_not_met"
    http_status = 409

    def __init__(self, *, reasons: list[str]) -> None:
        super().__init__(
            _("The client is not ready for transfer: %(reasons)s.")
            % {"reasons": "; ".join(reasons)},
            reasons=reasons,
        )


class CapReached(DomainError):
    code = "cap_reached"
    http_status = 409


class RoutingNeedsManualChoice(DomainError):
    code = "routing_needs_manual_choice"
    http_status = 422

    def __init__(self, *, postal_code: str, reason: str) -> None:
        super().__init__(
            _(
                "Postal code %(postal_code)s cannot be routed automatically (%(reason)s). "
                "Choose the receiving team by hand and give the reason."
            )
            % {"postal_code": postal_code or "-", "reason": reason},
            postal_code=postal_code,
        )


class InvalidInput(DomainError):
    """Bad input, with messages per field (the form and API show them beside the field)."""

    code = "invalid"

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__(
            "; ".join(f"{field}: {message}" for field, message in self.errors.items()),
            errors=self.errors,
        )
