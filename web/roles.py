"""What the signed-in user does: their teams by role, read once per request."""

from __future__ import annotations

from dataclasses import dataclass, field

from transfers.enums import Role, TeamKind
from transfers.models import Membership, Team

REGIONAL = (TeamKind.ADULT, TeamKind.YOUTH)


@dataclass
class Roles:
    memberships: list[Membership] = field(default_factory=list)

    @classmethod
    def of(cls, user) -> Roles:
        if not user.is_authenticated:
            return cls()
        return cls(list(Membership.objects.filter(user=user).select_related("team__region")))

    def teams(self, roles, kinds=None) -> list[Team]:
        found = {
            m.team.pk: m.team
            for m in self.memberships
            if m.role in roles and (kinds is None or m.team.kind in kinds)
        }
        return list(found.values())

    @property
    def caseload_teams(self) -> list[Team]:
        return self.teams([Role.CASEWORKER, Role.SUPERVISOR], [TeamKind.IMMIGRATION_UNIT])

    @property
    def receiving_teams(self) -> list[Team]:
        return self.teams([Role.RECEIVING_WORKER, Role.SUPERVISOR], REGIONAL)

    @property
    def desk_teams(self) -> list[Team]:
        return self.teams([Role.FRONT_DESK, Role.SUPERVISOR], REGIONAL)

    @property
    def supervised_teams(self) -> list[Team]:
        return self.teams([Role.SUPERVISOR])

    def home(self) -> str:
        """The page a user starts from: their first role's own page."""
        first = self.memberships[0].role if self.memberships else ""
        return {
            Role.CASEWORKER: "web:caseload",
            Role.RECEIVING_WORKER: "web:inbox",
            Role.FRONT_DESK: "web:desk",
            Role.SUPERVISOR: "web:supervisor",
        }.get(first, "web:notifications")


def roles_of(request) -> Roles:
    if not hasattr(request, "_silta_roles"):
        request._silta_roles = Roles.of(request.user)
    return request._silta_roles
