"""A NUL character anywhere in a page request (path, query, form) is a 400 page in the
user's language, before any view runs, with nothing written; a cookie carrying one is
ignored. Never a server error."""

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import Permission
from django.urls import reverse

from cases.enums import CaseState, Role
from cases.models import Case, Event
from core import untrusted
from notifications.models import Notification
from tests.factories import case_in_state, member, reload, transfer_in_state
from transfers.enums import TransferState

pytestmark = pytest.mark.django_db


@pytest.fixture
def web(client):
    client.raise_request_exception = False

    def signed_in(user):
        client.force_login(user)
        return client

    return signed_in


@pytest.mark.parametrize(
    "url",
    [
        "/cases/?team=%00",
        "/cases/?q=SILTA%00",
        "/cases/?%00=1",
        "/supervisor/?worker=%00",
        "/cases/%00/",
        "/transfers/1%00/",
    ],
)
def test_nul_in_the_address__400_page_in_finnish(web, org, url):
    page = web(org.koto_supervisor).get(url)
    assert page.status_code == 400
    assert "Osoite ei kelpaa" in page.content.decode()


def test_nul_in_a_form__400_page_in_the_users_language_and_nothing_written(web, org):
    case = case_in_state(org, CaseState.ACTIVE, is_ppt=True)
    events = Event.objects.count()
    page = web(org.caseworker).post(
        reverse("web:case-coordinator", args=[case.pk]),
        {"coordinator-coordinator": "Kotihoito\x00"},
        HTTP_ACCEPT_LANGUAGE="sv",
    )
    assert page.status_code == 400
    assert 'lang="sv"' in page.content.decode()
    assert "NUL" in page.content.decode()
    assert reload(case).ppt_coordinator == ""
    assert Event.objects.count() == events


def test_nul_in_a_field_name__refused_too(web, org):
    case = case_in_state(org, CaseState.ACTIVE)
    page = web(org.caseworker).post(
        reverse("web:case-close", args=[case.pk]),
        {"close-reason": "moved_away", "close\x00": "x"},
    )
    assert page.status_code == 400
    assert reload(case).state == CaseState.ACTIVE


def test_nul_in_the_sign_in_form__400_and_no_attempt_recorded(client):
    page = client.post(reverse("login"), {"username": "admin\x00", "password": "x"})
    assert page.status_code == 400


def test_session_cookie_with_nul__ignored_as_signed_out_not_a_server_error(client):
    client.raise_request_exception = False
    client.cookies["sessionid"] = "abcdefgh\x00ijklmnop"
    page = client.get(reverse("web:caseload"))
    assert page.status_code == 302
    assert page.url.startswith(reverse("login"))


def test_a_form_too_large__refused_without_a_server_error(web, org, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    case = case_in_state(org, CaseState.ACTIVE)
    page = web(org.caseworker).post(
        reverse("web:case-close", args=[case.pk]),
        {"close-reason": "other", "close-text": "x" * 2000},
    )
    assert page.status_code == 413
    assert Case.objects.get(pk=case.pk).state == CaseState.ACTIVE


# The checks themselves ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "has_nul"),
    [
        (rb'{"a": "\u0000"}', True),
        (b'{"a": "x\x00"}', True),
        (rb'{"a": "\\u0000"}', False),  # an escaped backslash, then the text "u0000"
        (rb'{"a": "\\\u0000"}', True),  # an escaped backslash, then a NUL
        (rb'{"\u0000": 1}', True),
        (rb'{"a": "\u0001"}', False),
    ],
)
def test_json_has_nul__finds_the_escape_only_when_it_is_one(raw, has_nul):
    assert untrusted.json_has_nul(raw) is has_nul


@pytest.mark.parametrize(
    ("raw", "limit", "deeper"),
    [
        (b"[" * 32 + b"]" * 32, 32, False),
        (b"[" * 33 + b"]" * 33, 32, True),
        (b'[{"a": "[[[[[[[["}]', 2, False),  # brackets in a string do not count
        (rb'["\"[[[["]', 1, False),  # nor after an escaped quote
        (b"[" * 200_000, 32, True),  # unbalanced, and still no recursion
        (b"[]," * 100_000, 1, False),
    ],
)
def test_json_nests_deeper_than__counts_levels_without_parsing(raw, limit, deeper):
    assert untrusted.json_nests_deeper_than(raw, limit) is deeper


@pytest.mark.parametrize(
    ("data", "where"),
    [
        ({"a": "ok", "b": ["ok", "n\x00"]}, ["b[1]"]),
        ({"a": {"c\x00": 1}}, ["a.c\ufffd"]),
        ({"b\x00": 1, "a": "n\x00"}, ["b\ufffd", "a"]),
        ({"a": "\ud800"}, ["a"]),  # an unpaired surrogate is not text either
        ("\x00", [""]),
        ({"a": [1, {"b": "ok"}], "c": None}, []),
    ],
)
def test_where_not_text__names_every_place_in_document_order(data, where):
    assert untrusted.where_not_text(data) == where


@pytest.mark.parametrize("username", ["a" * 300, "\ufdfa" * 20])  # 20 "ﷺ" are 360 in NFKC
def test_sign_in_with_a_very_long_username__refused_not_a_server_error(client, username):
    """django-axes stores the username of a failure in 255 characters: longer was a 500."""
    client.raise_request_exception = False
    page = client.post(reverse("login"), {"username": username, "password": "x"})
    assert page.status_code == 200  # the sign-in page again
    assert len(AccessAttempt.objects.get().username) == 255  # the failure still counts


def test_admin_case_form_with_a_worker_that_is_not_an_id__shown_again_not_a_server_error(
    client, org
):
    """Django's autocomplete widget looked the value up to show it again: a 500."""
    client.raise_request_exception = False
    staff = member(org.koto, Role.CASEWORKER, is_staff=True)
    staff.user_permissions.add(*Permission.objects.filter(codename__in=["add_case", "view_case"]))
    client.force_login(staff)
    page = client.post(
        reverse("admin:cases_case_add"),
        {"responsible_worker": "abc", "integration_started_on": "9999-12-31"},
    )
    assert page.status_code == 200
    assert "integration_started_on" in page.context["adminform"].form.errors


def test_notification_read_with_a_next_that_is_not_an_address__redirected_not_a_server_error(
    web, org
):
    """`redirect("x")` tried "x" as a view name: a 500."""
    transfer_in_state(org, TransferState.BOOKED)  # "booking confirmed" to the sender
    note = Notification.objects.filter(recipient=org.caseworker).first()
    page = web(org.caseworker).post(reverse("web:notification-read", args=[note.pk]), {"next": "x"})
    assert page.status_code == 302
    assert Notification.objects.get(pk=note.pk).read_at is not None
