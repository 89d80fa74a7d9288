"""Signing in with the city's account in a real browser (Debian's Chromium), through a real
OpenID Connect provider on loopback (tests/oidc), to Silta served with the sign-in on:
a caseworker and a supervisor sign in in Finnish and land on their pages; a user removed
from a directory group loses that team at the next sign-in (after signing out, which ends
the session at the identity service too); a user whom no group gives a team gets a page
that says so in their language, and no session; an administrator signs in to the admin
with the city's account."""

from __future__ import annotations

import httpx
import pytest
from django.contrib.auth.models import Group, Permission
from playwright.sync_api import expect
from social_django.models import UserSocialAuth

from cases.enums import EventSubject, MembershipAction, Role
from cases.models import DirectoryGroupMapping, Event, Membership
from tests.browser.conftest import BUTTON, LANGUAGES, Session
from tests.factories import make_org

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

KOTO2_CASEWORKERS = "Sg_KUVA_Silta_Koto2_Vastuutyontekijat"
KOTO2_SUPERVISORS = "Sg_KUVA_Silta_Koto2_Esihenkilot"
POHJOINEN_FRONT_DESK = "Sg_KUVA_Silta_Pohjoinen_FrontDesk"
ADMINISTRATORS = "Sg_KUVA_Silta_Paakayttajat"


@pytest.fixture
def directory(db):
    org = make_org()
    for group, team, role in [
        (KOTO2_CASEWORKERS, org.koto, Role.CASEWORKER),
        (KOTO2_SUPERVISORS, org.koto, Role.SUPERVISOR),
        (POHJOINEN_FRONT_DESK, org.adult, Role.FRONT_DESK),
    ]:
        DirectoryGroupMapping.objects.create(directory_group=group, team=team, role=role)
    return org


@pytest.fixture
def city(browser, city_provider, city_silta):
    contexts = []

    def sign_in(user, *, language="fi", start="/login/", page=None):
        """Through Silta's sign-in page (or the admin's) and the identity service's."""
        if page is None:
            context = browser.new_context(locale=language)
            contexts.append(context)
            page = context.new_page()
            page.set_default_timeout(20_000)
        page.goto(city_silta.url + start)
        if language != "fi" and start == "/login/":
            page.get_by_role("button", name=BUTTON[language]).click()
            expect(page.locator("html")).to_have_attribute("lang", language)
        page.locator("form[action='/city/sign-in/'] [type=submit]").click()
        page.wait_for_url(f"{city_provider.issuer}/**")
        if page.url.startswith(f"{city_provider.issuer}/interaction/"):
            # Silta asked for the sign-in in the page's language (ui_locales).
            assert page.locator("html").get_attribute("lang") == language
            page.fill("input[name=username]", user.username)
            page.fill("input[name=password]", user.password)
            page.locator("button[type=submit]").click()
        page.wait_for_url(f"{city_silta.url}/**")
        page.wait_for_load_state()
        return page

    yield sign_in
    for context in contexts:
        context.close()


def _account(user):
    return UserSocialAuth.objects.select_related("user").get(uid=user.sub).user


def _held(account):
    return sorted(Membership.objects.filter(user=account).values_list("team__code", "role"))


def test_a_caseworker_and_a_supervisor_sign_in_in_finnish_and_land_on_their_pages(
    directory, city, city_provider, city_silta, browser
):
    caseworker = city_provider.add(
        "kaisa.koski", [KOTO2_CASEWORKERS], given_name="Kaisa", family_name="Koski"
    )
    supervisor = city_provider.add(
        "sari.salo", [KOTO2_SUPERVISORS], given_name="Sari", family_name="Salo"
    )

    # The sign-in page in Finnish, with the city's account first.
    context = browser.new_context(locale="fi")
    page = context.new_page()
    login = Session(page, city_silta.url, "fi", "city")
    login.go("/login/")
    assert page.locator("form[action='/city/sign-in/'] button").inner_text() == (
        "Kirjaudu kaupungin tunnuksella"
    )
    login.check("login-city")
    context.close()

    page = city(caseworker)
    assert page.url == f"{city_silta.url}/cases/"
    assert page.locator("h1").inner_text() == "Omat asiakkuudet"
    assert "Kaisa Koski" in page.locator(".site-header__user").inner_text()
    me = Session(page, city_silta.url, "fi", "city-caseworker")
    page.reload()
    me.check("caseload")

    page = city(supervisor)
    assert page.url == f"{city_silta.url}/supervisor/"
    me = Session(page, city_silta.url, "fi", "city-supervisor")
    page.reload()
    me.check("supervisor")

    assert _held(_account(caseworker)) == [("koto2", Role.CASEWORKER)]
    assert _held(_account(supervisor)) == [("koto2", Role.SUPERVISOR)]
    joined = Event.objects.filter(subject=EventSubject.MEMBERSHIP, action=MembershipAction.JOIN)
    assert sorted(joined.values_list("params__username", "to_state")) == sorted(
        [
            (_account(caseworker).username, Role.CASEWORKER),
            (_account(supervisor).username, Role.SUPERVISOR),
        ]
    )


def test_a_user_removed_from_a_group_loses_that_team_at_the_next_sign_in(
    directory, city, city_provider, city_silta
):
    worker = city_provider.add("kalle.korhonen", [KOTO2_CASEWORKERS, POHJOINEN_FRONT_DESK])
    page = city(worker)
    account = _account(worker)
    assert _held(account) == [("koto2", Role.CASEWORKER), ("pohjoinen-aiso", Role.FRONT_DESK)]
    assert page.goto(f"{city_silta.url}/desk/").status == 200

    # The directory's administrator takes him out of the front desk's group.
    city_provider.set_groups(worker, [KOTO2_CASEWORKERS])
    # Still signed in: the session he has keeps its rights until he signs in again.
    assert _held(account) == [("koto2", Role.CASEWORKER), ("pohjoinen-aiso", Role.FRONT_DESK)]

    # Signing out of Silta signs out of the identity service too (it asks), and comes back.
    page.goto(f"{city_silta.url}/cases/")
    page.locator(".site-header__user button[type=submit]").click()
    page.wait_for_url(f"{city_provider.issuer}/session/end**")
    page.locator("button[name=logout][value=yes]").click()
    page.wait_for_url(f"{city_silta.url}/login/")

    page = city(worker, page=page)  # the password is asked again
    assert page.url == f"{city_silta.url}/cases/"
    assert _held(account) == [("koto2", Role.CASEWORKER)]
    assert page.goto(f"{city_silta.url}/desk/").status == 403
    left = Event.objects.get(subject=EventSubject.MEMBERSHIP, action=MembershipAction.LEAVE)
    assert (left.params["member"], left.params["team"], left.from_state) == (
        account.pk,
        "pohjoinen-aiso",
        Role.FRONT_DESK,
    )


NO_ACCESS = {
    "fi": "Ei käyttöoikeutta Siltaan",
    "sv": "Ingen åtkomst till Silta",
    "en": "No access to Silta",
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_user_no_group_gives_a_team_gets_a_page_in_their_language_and_no_session(
    directory, city, city_provider, city_silta, language
):
    stranger = city_provider.add(f"uusi.tyontekija.{language}", ["Sg_KUVA_Kaikki_Tyontekijat"])
    page = city(stranger, language=language)
    assert page.url == f"{city_silta.url}/no-access/"
    assert page.locator("h1").inner_text() == NO_ACCESS[language]
    me = Session(page, city_silta.url, language, "city-no-access")
    page.reload()
    me.failed.remove(f"403 {city_silta.url}/no-access/")
    me.check("no-access")

    # Not signed in: the front page sends the browser to the sign-in page.
    page.goto(f"{city_silta.url}/")
    assert page.url.startswith(f"{city_silta.url}/login/")
    assert _held(_account(stranger)) == []


def test_an_administrator_signs_in_to_the_admin_with_the_citys_account(
    directory, city, city_provider, city_silta
):
    administrators = Group.objects.create(name="Silta administrators")
    administrators.permissions.add(Permission.objects.get(codename="view_directorygroupmapping"))
    DirectoryGroupMapping.objects.create(directory_group=ADMINISTRATORS, admin_group=administrators)
    admin = city_provider.add("paula.paakayttaja", [ADMINISTRATORS])
    page = city(admin, start="/admin/login/?next=/admin/")
    assert page.url == f"{city_silta.url}/admin/"
    assert page.locator("a[href='/admin/cases/directorygroupmapping/']").count() >= 1
    account = _account(admin)
    assert account.is_staff and not account.is_superuser
    granted = Event.objects.get(subject=EventSubject.MEMBERSHIP)
    assert granted.action == MembershipAction.GRANT_ADMIN
    assert granted.params["admin_group"] == "Silta administrators"


def test_a_city_sign_in_works_from_an_address_locked_for_local_sign_ins(
    directory, city, city_provider, city_silta
):
    """Django-axes counts and refuses local sign-ins; the city's identity service checks
    the password and throttles its own, so Silta neither refuses nor counts those."""
    with httpx.Client(base_url=city_silta.url, timeout=20) as guesser:
        for n in range(6):
            guesser.get("/login/")
            answer = guesser.post(
                "/login/",
                data={
                    "csrfmiddlewaretoken": guesser.cookies["csrftoken"],
                    "username": f"arvaus{n}",
                    "password": "väärä",
                },
            )
        assert answer.status_code == 429  # this address is locked out

    worker = city_provider.add("maija.virtanen", [KOTO2_CASEWORKERS])
    page = city(worker)
    assert page.url == f"{city_silta.url}/cases/"
    assert _held(_account(worker)) == [("koto2", Role.CASEWORKER)]
