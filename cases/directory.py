"""Staff accounts from the city's identity service, and team memberships that follow the
user's groups in the city's directory.

The browser sign-in (social-auth's pipeline, web/city_sign_in.py) and the API's bearer
tokens (api/city_tokens.py) both end here:

- `account_for_subject` finds the account by the identity service's stable subject alone
  (the `sub` claim, as a UUID the way django-helusers makes one), kept in social-auth's
  UserSocialAuth table; never by an e-mail address or a name, which people and
  administrators change. The first sign-in makes the account.
- `follow_directory_groups` makes the user's memberships what the administrator's
  DirectoryGroupMapping rows say their groups give: joined, role changed, left, and admin
  permissions granted or removed, each one a row in the event log.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from helusers.user_utils import convert_to_uuid, is_valid_uuid
from helusers.utils import uuid_to_username
from social_django.models import UserSocialAuth

from .enums import MembershipAction
from .events import membership_event
from .models import DirectoryGroupMapping, Membership, Team
from .roles import forget_memberships

# The name of the social-auth backend that signs staff in (helusers' Tunnistamo/Tunnistus
# OpenID Connect backend, web/city_sign_in.py): the provider column of UserSocialAuth.
PROVIDER = "tunnistamo"

# Claims copied to the account at every sign-in (shown to people, used to send notices;
# never used to find the account), with the columns' lengths.
_PROFILE = {"given_name": "first_name", "family_name": "last_name", "email": "email"}


class DirectoryClaimError(ValueError):
    """A token whose subject or groups claim cannot be read."""


@dataclass(frozen=True)
class MembershipChange:
    action: MembershipAction
    team: str = ""
    from_role: str = ""
    to_role: str = ""
    admin_group: str = ""


def subject_uid(claims: Mapping[str, Any]) -> str:
    """The stable id of the person signing in: the `sub` claim, as a UUID. A subject that
    is not a UUID (Azure AD's pairwise id) becomes a UUID5 in the namespace of the tenant
    (`tid`), as django-helusers does (helusers.pipeline.ensure_uid_is_uuid), so the same
    person has the same id on the web and on the API."""
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub.strip():
        raise DirectoryClaimError("The token has no subject (sub).")
    if is_valid_uuid(sub):
        return sub
    tenant = claims.get("tid")
    return str(convert_to_uuid(sub, tenant if isinstance(tenant, str) and tenant else None))


def groups_in(claims: Mapping[str, Any], claim: str) -> list[str]:
    """The directory groups a token names: a list of non-empty strings in `claim`. A token
    without the claim names none (Azure AD leaves it out when the user has no groups)."""
    value = claims.get(claim)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(g, str) and g for g in value):
        raise DirectoryClaimError(f"The {claim} claim is not a list of group names.")
    return list(value)


def _profile(claims: Mapping[str, Any]) -> dict[str, str]:
    user_model = get_user_model()
    values = {}
    for claim, field in _PROFILE.items():
        value = claims.get(claim)
        if isinstance(value, str):
            length = getattr(user_model._meta.get_field(field), "max_length", None)
            values[field] = value.strip()[:length]
    return values


def account_for_subject(uid: str, claims: Mapping[str, Any]) -> tuple[Any, UserSocialAuth]:
    """The account of directory subject `uid` (a UUID), made on the first sign-in: the
    username is derived from the subject (django-helusers' `u-...`), there is no password,
    and the names and e-mail come from the claims, refreshed at every sign-in. Two first
    sign-ins at once make one account (the loser of the race finds the winner's)."""
    try:
        return _account_for_subject(uid, claims)
    except IntegrityError:
        return _account_for_subject(uid, claims)


def _account_for_subject(uid: str, claims: Mapping[str, Any]) -> tuple[Any, UserSocialAuth]:
    profile = _profile(claims)
    with transaction.atomic():
        social = (
            UserSocialAuth.objects.select_related("user").filter(provider=PROVIDER, uid=uid).first()
        )
        if social is None:
            user = get_user_model()(username=uuid_to_username(uid), **profile)
            user.set_unusable_password()
            user.save()
            social = UserSocialAuth.objects.create(user=user, provider=PROVIDER, uid=uid)
            return user, social
        user = social.user
        changed = [field for field, value in profile.items() if getattr(user, field) != value]
        if changed:
            for field in changed:
                setattr(user, field, profile[field])
            user.save(update_fields=changed)
        return user, social


def follow_directory_groups(user: Any, groups: Iterable[str]) -> list[MembershipChange]:
    """Make the user's memberships and admin permissions what their directory groups give
    (DirectoryGroupMapping; names compared without letter case), and record each change in
    the event log, all in one transaction. Only what some mapping gives is managed: a
    membership in a team and role no mapping names, and a Django group no mapping names,
    stay as an administrator set them. Staff status follows the admin groups: granted with
    the first, removed with the last."""
    names = {group.strip().lower() for group in groups if group.strip()}
    mappings = list(DirectoryGroupMapping.objects.all())
    # Most sign-ins (and every API request with the same token) change nothing: that is
    # read without a lock.
    if not any(_team_plan(user, names, mappings)[:2]) and not any(
        _admin_plan(user, names, mappings)[:2]
    ):
        return []
    with transaction.atomic():
        # One change of a user's memberships at a time: the second waits, then reads
        # again and finds nothing left to do.
        type(user).objects.select_for_update().filter(pk=user.pk).first()
        user.refresh_from_db(fields=["is_staff"])
        changes = _follow_teams(user, names, mappings)
        changes += _follow_admin_groups(user, names, mappings)
    return changes


def _team_plan(user: Any, names: set[str], mappings: list[DirectoryGroupMapping]):
    """(teams and roles to join, to leave, the memberships held, the groups giving each)."""
    managed: set[tuple[int, str]] = set()
    wanted: dict[tuple[int, str], list[str]] = defaultdict(list)
    for mapping in mappings:
        if mapping.team_id is None:
            continue
        pair = (mapping.team_id, mapping.role)
        managed.add(pair)
        if mapping.directory_group in names:
            wanted[pair].append(mapping.directory_group)
    held = {(m.team_id, m.role): m for m in Membership.objects.filter(user=user)}
    joined = sorted(set(wanted) - set(held))
    left = sorted((set(held) & managed) - set(wanted))
    return joined, left, held, wanted


def _follow_teams(
    user: Any, names: set[str], mappings: list[DirectoryGroupMapping]
) -> list[MembershipChange]:
    joined, left, held, wanted = _team_plan(user, names, mappings)
    if not joined and not left:
        return []
    teams = Team.objects.in_bulk({team for team, _role in joined + left})
    if left:
        Membership.objects.filter(pk__in=[held[pair].pk for pair in left]).delete()
    if joined:
        Membership.objects.bulk_create(
            [Membership(user=user, team_id=team, role=role) for team, role in joined]
        )
    forget_memberships(user.pk)  # bulk changes send no signals
    # A role given up and another taken in the same team is one change of role.
    by_team: dict[int, tuple[list[str], list[str]]] = defaultdict(lambda: ([], []))
    for team_id, role in left:
        by_team[team_id][0].append(role)
    for team_id, role in joined:
        by_team[team_id][1].append(role)
    changes = []
    for team_id, (before, after) in sorted(by_team.items()):
        team = teams[team_id]
        for index in range(max(len(before), len(after))):
            old = before[index] if index < len(before) else ""
            new = after[index] if index < len(after) else ""
            action = (
                MembershipAction.CHANGE_ROLE
                if old and new
                else MembershipAction.JOIN
                if new
                else MembershipAction.LEAVE
            )
            membership_event(
                action,
                member=user,
                from_role=old,
                to_role=new,
                params={
                    "team": team.code,
                    "team_id": team.pk,
                    "directory_groups": sorted(wanted.get((team_id, new), [])),
                },
            )
            changes.append(MembershipChange(action, team.code, old, new))
    return changes


def _admin_plan(user: Any, names: set[str], mappings: list[DirectoryGroupMapping]):
    """(admin groups to grant, to revoke, the managed ones held, the groups giving each)."""
    managed = {m.admin_group_id for m in mappings if m.admin_group_id is not None}
    if not managed:
        return [], [], set(), {}
    wanted: dict[int, list[str]] = defaultdict(list)
    for mapping in mappings:
        if mapping.admin_group_id is not None and mapping.directory_group in names:
            wanted[mapping.admin_group_id].append(mapping.directory_group)
    held = set(user.groups.filter(pk__in=managed).values_list("pk", flat=True))
    return sorted(set(wanted) - held), sorted(held - set(wanted)), held, wanted


def _follow_admin_groups(
    user: Any, names: set[str], mappings: list[DirectoryGroupMapping]
) -> list[MembershipChange]:
    granted, revoked, held, wanted = _admin_plan(user, names, mappings)
    if not granted and not revoked:
        return []
    names_of = dict(Group.objects.filter(pk__in=granted + revoked).values_list("pk", "name"))
    if revoked:
        user.groups.remove(*revoked)
    if granted:
        user.groups.add(*granted)
    # Staff status comes with the first admin group and goes with the last; a user who
    # never had one keeps what an administrator gave.
    staff = True if wanted else False if held else bool(user.is_staff)
    if staff != user.is_staff:
        user.is_staff = staff
        user.save(update_fields=["is_staff"])
    changes = []
    for group_id in revoked:
        membership_event(
            MembershipAction.REVOKE_ADMIN,
            member=user,
            params={"admin_group": names_of[group_id], "directory_groups": []},
        )
        changes.append(
            MembershipChange(MembershipAction.REVOKE_ADMIN, admin_group=names_of[group_id])
        )
    for group_id in granted:
        membership_event(
            MembershipAction.GRANT_ADMIN,
            member=user,
            params={
                "admin_group": names_of[group_id],
                "directory_groups": sorted(wanted[group_id]),
            },
        )
        changes.append(
            MembershipChange(MembershipAction.GRANT_ADMIN, admin_group=names_of[group_id])
        )
    return changes


def has_access(user: Any) -> bool:
    """Whether the user has anything to do in Silta: a membership, or the admin."""
    return bool(user.is_active) and (
        bool(user.is_staff) or Membership.objects.filter(user=user).exists()
    )
