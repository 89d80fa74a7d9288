"""Who may do what: the roles each action needs, and the teams a user acts for in a role.

The one place that answers "which teams may this user act for": the services check an
actor here before they change anything, and the selectors, the web app and the API scope
their reads with the same functions.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from audit.access import memberships_key, memberships_of
from core import memo
from core.errors import ActorNotAllowed

from .enums import Role, TeamKind
from .models import Membership, Team

# The Immigration Unit side: who opens, reviews, proposes and cancels.
SENDING_ROLES = (Role.CASEWORKER, Role.SUPERVISOR)
# The receiving team: who accepts or returns a proposed transfer.
ACCEPTING_ROLES = (Role.RECEIVING_WORKER, Role.SUPERVISOR)
# Who books, confirms and records the handover at the receiving front desk.
BOOKING_ROLES = (Role.FRONT_DESK, Role.RECEIVING_WORKER, Role.SUPERVISOR)
DESK_ROLES = (Role.FRONT_DESK, Role.SUPERVISOR)
REGIONAL = (TeamKind.ADULT, TeamKind.YOUTH)

User = AbstractBaseUser | AnonymousUser


def _signed_in(user: Any) -> bool:
    return user is not None and user.is_authenticated and user.is_active


def team_ids_of(user: Any, roles: Iterable[str] | None = None) -> list[int]:
    """The teams the user belongs to (in any of `roles`, or in any role at all), from the
    memberships read once per request (audit.access.memberships_of)."""
    if not _signed_in(user):
        return []
    wanted = None if roles is None else set(roles)
    seats = memberships_of(user)
    return list(dict.fromkeys(s.team_id for s in seats if wanted is None or s.role in wanted))


def team_kinds(team_ids: Iterable[int], user: Any = None) -> set[str]:
    """The kinds of these teams: from `user`'s memberships when they name them all,
    otherwise read."""
    team_ids = set(team_ids)
    known = {s.team_id: s.team_kind for s in memberships_of(user)} if user is not None else {}
    if team_ids <= known.keys():
        return {known[pk] for pk in team_ids}
    return set(Team.objects.filter(pk__in=team_ids).values_list("kind", flat=True))


def forget_memberships(user_id: object) -> None:
    """After a user's memberships change within a request: read them afresh."""
    memo.forget(memberships_key(user_id))
    memo.forget(("desk teams", user_id))


def supervised_team_ids(user: Any) -> list[int]:
    return team_ids_of(user, [Role.SUPERVISOR])


def desk_ids_of(team_ids: Iterable[int]) -> QuerySet[Team, int]:
    """The teams whose front desks book these teams' handovers (a subquery)."""
    return (
        Team.objects.filter(pk__in=list(team_ids))
        .annotate(desk_pk=Coalesce("front_desk_team_id", "pk"))
        .values_list("desk_pk", flat=True)
    )


def shared_desk_team_ids(team_ids: Iterable[int]) -> list[int]:
    """These teams and every team whose handovers the same front desk books (a desk may
    serve several teams: Team.front_desk_team)."""
    team_ids = list(team_ids)
    if not team_ids:
        return []
    desks = desk_ids_of(team_ids)
    return list(
        Team.objects.filter(Q(pk__in=desks) | Q(front_desk_team_id__in=desks))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def front_desk_team_ids(user: Any) -> list[int]:
    """The teams whose handovers this user books as a front desk worker: those of every
    team at the desks the user works at."""
    at_desk = team_ids_of(user, [Role.FRONT_DESK])
    if not at_desk:
        return []
    return memo.remembered(("desk teams", user.pk), lambda: shared_desk_team_ids(at_desk))


def desk_team_ids(user: Any) -> list[int]:
    """The teams whose front desk queue this user works: as a front desk worker, every team
    the desk serves; as a supervisor, the supervised teams."""
    return sorted(set(team_ids_of(user, DESK_ROLES)) | set(front_desk_team_ids(user)))


def scope_team_ids(user: Any) -> list[int]:
    """The teams whose cases and transfers the user's reads are scoped to: the user's own,
    and for a front desk worker every team the desk serves."""
    return sorted(set(team_ids_of(user)) | set(front_desk_team_ids(user)))


def require_role(
    actor: Any,
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
        # The actor's memberships as the request read them (once: audit.access).
        role = next(
            (s.role for s in memberships_of(actor) if s.team_id == team.pk and s.role in roles),
            None,
        )
        if role:
            return str(role)
        if Role.FRONT_DESK in roles and (
            Membership.objects.filter(
                user=actor, role=Role.FRONT_DESK, team_id__in=shared_desk_team_ids([team.pk])
            ).exists()
        ):
            return str(Role.FRONT_DESK)  # the front desk that serves this team too
    raise ActorNotAllowed(action=action, roles=roles, team=str(team))


def require_immigration_unit_role(actor: Any, *, action: str) -> str:
    """The actor's sending role in any Immigration Unit team (for a client not yet in a
    case), or ActorNotAllowed."""
    role = None
    if actor is not None and actor.is_active:
        role = (
            Membership.objects.filter(
                user=actor, role__in=SENDING_ROLES, team__kind=TeamKind.IMMIGRATION_UNIT
            )
            .values_list("role", flat=True)
            .first()
        )
    if role is None:
        raise ActorNotAllowed(action=action, roles=SENDING_ROLES, team=_("Immigration Unit"))
    return str(role)


def is_member(user: Any, *, team: Team, roles: Iterable[str]) -> bool:
    """Whether `user` is an active member of `team` in one of `roles`: the test for a
    worker someone names (a responsible, receiving or new worker). A deactivated account
    (someone who left) is no one's worker."""
    if user is None or not user.is_active:
        return False
    return Membership.objects.filter(user=user, team=team, role__in=list(roles)).exists()


@dataclass
class Roles:
    """A user's memberships, read once (per request in the web app)."""

    memberships: list[Membership] = field(default_factory=list)

    @classmethod
    def of(cls, user: Any) -> Roles:
        if not _signed_in(user):
            return cls()
        memberships = Membership.objects.filter(user=user).select_related("team__region")
        return cls(list(memberships.order_by("pk")))  # the first made comes first

    def teams(self, roles: Sequence[str], kinds: Sequence[str] | None = None) -> list[Team]:
        found = {
            m.team.pk: m.team
            for m in self.memberships
            if m.role in roles and (kinds is None or m.team.kind in kinds)
        }
        return list(found.values())

    @property
    def first_role(self) -> str:
        """The role of the user's first membership (the page they land on)."""
        return self.memberships[0].role if self.memberships else ""

    @property
    def caseload_teams(self) -> list[Team]:
        return self.teams(SENDING_ROLES, [TeamKind.IMMIGRATION_UNIT])

    @property
    def receiving_teams(self) -> list[Team]:
        return self.teams(ACCEPTING_ROLES, REGIONAL)

    @cached_property
    def desk_teams(self) -> list[Team]:
        """The teams whose booking queue the user works: a front desk serves every team
        that uses it (Team.front_desk_team); a supervisor, the supervised teams."""
        teams = {team.pk: team for team in self.teams(DESK_ROLES, REGIONAL)}
        at_desk = [team.pk for team in self.teams([Role.FRONT_DESK], REGIONAL)]
        if at_desk:
            shared = shared_desk_team_ids(at_desk)
            served = Team.objects.filter(pk__in=shared).exclude(pk__in=list(teams))
            teams.update((team.pk, team) for team in served.select_related("region"))
        return list(teams.values())

    @property
    def supervised_teams(self) -> list[Team]:
        return self.teams([Role.SUPERVISOR])


def roles_of(request: Any) -> Roles:
    """The signed-in user's roles, read once per request."""
    if not hasattr(request, "_silta_roles"):
        request._silta_roles = Roles.of(request.user)
    return request._silta_roles  # type: ignore[no-any-return]
