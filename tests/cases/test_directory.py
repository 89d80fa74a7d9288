"""Accounts and memberships from the city's directory (cases.directory): the account is the
token's subject, never an e-mail address; memberships follow the groups as the mappings
say (joined, role changed, left), each change one event row; what no mapping names stays
as an administrator left it; admin permissions come and go with their groups."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import translation
from social_django.models import UserSocialAuth

from cases.directory import (
    DirectoryClaimError,
    MembershipChange,
    account_for_subject,
    follow_directory_groups,
    groups_in,
    has_access,
    subject_uid,
)
from cases.enums import EventSubject, MembershipAction, Role
from cases.models import DirectoryGroupMapping, Event, Membership
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

CASEWORKERS = "sg_silta_koto2_vastuutyontekijat"
SUPERVISORS = "sg_silta_koto2_esihenkilot"
ADULT_DESK = "sg_silta_pohjoinen_frontdesk"
ADMINS = "sg_silta_paakayttajat"


@pytest.fixture
def mappings(org):
    admins = Group.objects.create(name="Silta administrators")
    DirectoryGroupMapping.objects.create(
        directory_group=CASEWORKERS, team=org.koto, role=Role.CASEWORKER
    )
    DirectoryGroupMapping.objects.create(
        directory_group=SUPERVISORS, team=org.koto, role=Role.SUPERVISOR
    )
    DirectoryGroupMapping.objects.create(
        directory_group=ADULT_DESK, team=org.adult, role=Role.FRONT_DESK
    )
    DirectoryGroupMapping.objects.create(directory_group=ADMINS, admin_group=admins)
    return admins


def _held(user):
    return sorted(Membership.objects.filter(user=user).values_list("team__code", "role"))


def _events(user):
    return list(
        Event.objects.filter(subject=EventSubject.MEMBERSHIP, params__member=user.pk)
        .order_by("id")
        .values_list("action", "params__team", "from_state", "to_state")
    )


def _sub():
    return str(uuid.uuid4())


# --- The account ----------------------------------------------------------------------


def test_the_first_sign_in_makes_the_account_from_the_subject():
    sub = _sub()
    user, link = account_for_subject(
        sub, {"sub": sub, "given_name": "Kaisa", "family_name": "Koski", "email": "k@hel.fi"}
    )
    assert (link.provider, link.uid, link.user_id) == ("tunnistamo", sub, user.pk)
    assert user.username.startswith("u-") and len(user.username) == 28
    assert (user.first_name, user.last_name, user.email) == ("Kaisa", "Koski", "k@hel.fi")
    assert not user.has_usable_password()


def test_the_account_is_found_by_the_subject__not_by_the_e_mail_address():
    local = UserFactory(email="kaisa.koski@hel.fi")
    first, second = _sub(), _sub()
    mine, _ = account_for_subject(first, {"email": "kaisa.koski@hel.fi"})
    assert mine.pk != local.pk  # an account with the same address is someone else's

    # The same address on another subject: another person, another account.
    theirs, _ = account_for_subject(second, {"email": "kaisa.koski@hel.fi"})
    assert theirs.pk != mine.pk

    # A new address (a changed name) on the same subject: the same account, updated.
    again, _ = account_for_subject(first, {"email": "kaisa.jarvi@hel.fi", "family_name": "Järvi"})
    assert again.pk == mine.pk
    again.refresh_from_db()
    assert (again.email, again.last_name) == ("kaisa.jarvi@hel.fi", "Järvi")
    assert UserSocialAuth.objects.filter(uid=first).count() == 1


def test_a_local_account_linked_by_an_administrator_is_the_subjects():
    """An administrator links an existing account (its cases and history) to its owner's
    city account before the first city sign-in (admin: user social auths)."""
    local = UserFactory()
    sub = _sub()
    UserSocialAuth.objects.create(user=local, provider="tunnistamo", uid=sub)
    user, _ = account_for_subject(sub, {"given_name": "Kaisa"})
    assert user.pk == local.pk


def test_profile_claims_longer_than_their_columns_are_cut():
    user, _ = account_for_subject(_sub(), {"given_name": "K" * 400, "email": 42})
    assert len(user.first_name) == 150
    assert user.email == ""


def test_a_subject_that_is_not_a_uuid_becomes_one_in_the_tenants_namespace():
    """Azure AD's pairwise subject, as django-helusers makes it a UUID: stable for the same
    subject and tenant, different in another tenant."""
    claims = {"sub": "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ", "tid": str(uuid.uuid4())}
    uid = subject_uid(claims)
    assert uuid.UUID(uid) and uid == subject_uid(dict(claims))
    assert uid != subject_uid({**claims, "tid": str(uuid.uuid4())})
    sub = _sub()
    assert subject_uid({"sub": sub}) == sub
    with pytest.raises(DirectoryClaimError):
        subject_uid({"email": "k@hel.fi"})


def test_the_groups_claim_must_be_a_list_of_names():
    assert groups_in({"ad_groups": ["a", "b"]}, "ad_groups") == ["a", "b"]
    assert groups_in({}, "ad_groups") == []
    for bad in ("a", ["a", ""], [1], {"a": 1}):
        with pytest.raises(DirectoryClaimError):
            groups_in({"ad_groups": bad}, "ad_groups")


# --- Memberships follow the groups ------------------------------------------------------


def test_joined__a_group_gives_its_team_and_role(org, mappings):
    user = UserFactory()
    changes = follow_directory_groups(user, [CASEWORKERS.upper(), "sg_unrelated"])
    assert changes == [MembershipChange(MembershipAction.JOIN, "koto2", "", Role.CASEWORKER)]
    assert _held(user) == [("koto2", Role.CASEWORKER)]
    event = Event.objects.get(subject=EventSubject.MEMBERSHIP)
    assert (event.client_id, event.case_id, event.actor_id) == (None, None, None)
    assert event.actor_role == "directory"
    assert event.params == {
        "member": user.pk,
        "username": user.username,
        "team": "koto2",
        "team_id": org.koto.pk,
        "directory_groups": [CASEWORKERS],
    }


def test_the_same_groups_again__nothing_changes_nothing_is_recorded(org, mappings):
    user = UserFactory()
    follow_directory_groups(user, [CASEWORKERS, ADULT_DESK])
    assert follow_directory_groups(user, [ADULT_DESK, CASEWORKERS]) == []
    assert Event.objects.filter(subject=EventSubject.MEMBERSHIP).count() == 2


def test_changed__another_role_in_the_same_team_is_one_change(org, mappings):
    user = UserFactory()
    follow_directory_groups(user, [CASEWORKERS])
    changes = follow_directory_groups(user, [SUPERVISORS])
    assert changes == [
        MembershipChange(MembershipAction.CHANGE_ROLE, "koto2", Role.CASEWORKER, Role.SUPERVISOR)
    ]
    assert _held(user) == [("koto2", Role.SUPERVISOR)]
    assert _events(user)[-1] == (
        MembershipAction.CHANGE_ROLE,
        "koto2",
        Role.CASEWORKER,
        Role.SUPERVISOR,
    )


def test_left__a_user_no_longer_in_the_group_loses_the_team(org, mappings):
    user = UserFactory()
    follow_directory_groups(user, [CASEWORKERS, ADULT_DESK])
    changes = follow_directory_groups(user, [CASEWORKERS])
    assert changes == [MembershipChange(MembershipAction.LEAVE, "pohjoinen-aiso", Role.FRONT_DESK)]
    assert _held(user) == [("koto2", Role.CASEWORKER)]
    follow_directory_groups(user, [])
    assert _held(user) == []
    assert [action for action, *_ in _events(user)] == [
        MembershipAction.JOIN,
        MembershipAction.JOIN,
        MembershipAction.LEAVE,
        MembershipAction.LEAVE,
    ]
    assert not has_access(user)


def test_a_membership_no_mapping_names_stays_as_the_administrator_left_it(org, mappings):
    """Like helusers' AD group mappings: only what a mapping gives is managed."""
    user = UserFactory()
    Membership.objects.create(user=user, team=org.youth, role=Role.RECEIVING_WORKER)
    follow_directory_groups(user, [])
    assert _held(user) == [("pohjoinen-nuoret", Role.RECEIVING_WORKER)]
    assert has_access(user)


def test_a_membership_typed_by_hand_that_a_mapping_names_follows_the_directory(org, mappings):
    user = UserFactory()
    Membership.objects.create(user=user, team=org.koto, role=Role.CASEWORKER)
    follow_directory_groups(user, [])
    assert _held(user) == []


def test_two_groups_giving_the_same_membership__it_stays_while_either_does(org, mappings):
    DirectoryGroupMapping.objects.create(
        directory_group="sg_koto_all", team=org.koto, role=Role.CASEWORKER
    )
    user = UserFactory()
    follow_directory_groups(user, [CASEWORKERS, "sg_koto_all"])
    assert follow_directory_groups(user, ["sg_koto_all"]) == []
    assert _held(user) == [("koto2", Role.CASEWORKER)]


def test_admin_permissions_come_and_go_with_the_group(org, mappings):
    admins = mappings
    user = UserFactory()
    assert not user.is_staff
    changes = follow_directory_groups(user, [ADMINS])
    assert changes == [
        MembershipChange(MembershipAction.GRANT_ADMIN, admin_group="Silta administrators")
    ]
    user.refresh_from_db()
    assert user.is_staff and list(user.groups.all()) == [admins]
    assert not user.is_superuser
    assert has_access(user)

    follow_directory_groups(user, [CASEWORKERS])
    user.refresh_from_db()
    assert not user.is_staff and not user.groups.exists()
    assert [action for action, *_ in _events(user)] == [
        MembershipAction.GRANT_ADMIN,
        MembershipAction.JOIN,
        MembershipAction.REVOKE_ADMIN,
    ]


def test_staff_status_an_administrator_gave_stays_without_admin_groups(org, mappings):
    user = UserFactory(is_staff=True)
    follow_directory_groups(user, [CASEWORKERS])
    user.refresh_from_db()
    assert user.is_staff


# --- The mapping itself ------------------------------------------------------------------


def test_a_mapping_gives_a_team_and_a_role_or_admin_permissions_not_both(org):
    admins = Group.objects.create(name="Admins")
    for bad, field in [
        ({"team": org.koto}, "role"),
        ({"role": Role.CASEWORKER}, "team"),
        ({"team": org.koto, "role": Role.CASEWORKER, "admin_group": admins}, "admin_group"),
        ({}, "team"),
    ]:
        mapping = DirectoryGroupMapping(directory_group="SG_X", **bad)
        with pytest.raises(ValidationError) as refused:
            mapping.full_clean()
        assert field in refused.value.message_dict
    with transaction.atomic(), pytest.raises(IntegrityError):
        DirectoryGroupMapping.objects.create(directory_group="sg_x", team=org.koto)


def test_group_names_are_kept_in_lower_case_and_unique(org):
    DirectoryGroupMapping.objects.create(
        directory_group="  SG_Koto2  ", team=org.koto, role=Role.CASEWORKER
    )
    assert DirectoryGroupMapping.objects.get().directory_group == "sg_koto2"
    duplicate = DirectoryGroupMapping(
        directory_group="sg_KOTO2", team=org.koto, role=Role.CASEWORKER
    )
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        duplicate.full_clean()
    assert "This group already gives this role in this team." in str(refused.value)


def test_only_a_membership_event_may_have_no_client(db):
    with transaction.atomic(), pytest.raises(IntegrityError):
        Event.objects.create(subject=EventSubject.CASE, action="open", client=None)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_sign_ins_at_once__one_account_one_membership_one_event(org, mappings):
    """Two tabs, or a sign-in and an API request, for a new subject at the same moment."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    sub = _sub()
    barrier = threading.Barrier(2)

    def sign_in():
        try:
            barrier.wait()
            user, _ = account_for_subject(sub, {"sub": sub})
            return user.pk, follow_directory_groups(user, [CASEWORKERS])
        finally:
            connection.close()

    with ThreadPoolExecutor(2) as pool:
        results = [future.result() for future in [pool.submit(sign_in), pool.submit(sign_in)]]
    assert results[0][0] == results[1][0]
    assert sorted(len(changes) for _pk, changes in results) == [0, 1]
    assert UserSocialAuth.objects.filter(uid=sub).count() == 1
    assert Membership.objects.filter(user_id=results[0][0]).count() == 1
    assert Event.objects.filter(subject=EventSubject.MEMBERSHIP).count() == 1
