"""Personal identity codes: stored exactly as given, validated with python-stdnum."""

import datetime as dt

import pytest
from django.utils import translation

from cases import services as case_services
from cases.models import Client, Event
from core.errors import Conflict, InvalidInput
from tests.factories import client_data, make_client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("code", "born"),
    [
        ("131052-308T", dt.date(1952, 10, 13)),  # 1900s, the classic hyphen
        ("010594Y9021", dt.date(1994, 5, 1)),  # 1900s, new sign Y (2023)
        ("010594X9032", dt.date(1994, 5, 1)),  # 1900s, new sign X
        ("311299U456X", dt.date(1999, 12, 31)),  # 1900s, new sign U
        ("010101A123N", dt.date(2001, 1, 1)),  # 2000s, A
        ("290204B234W", dt.date(2004, 2, 29)),  # 2000s, new sign B, a leap day
        ("010123F9877", dt.date(2023, 1, 1)),  # 2000s, new sign F
        ("150875+1112", dt.date(1875, 8, 15)),  # 1800s
    ],
)
def test_identity_code__valid_old_and_new_century_signs__accepted_and_stored_as_given(
    org, code, born
):
    client = make_client(org, personal_identity_code=code, date_of_birth=born)
    assert Client.objects.get(pk=client.pk).personal_identity_code == code


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("131052-308U", "control character does not match"),
        ("310299A1234", "not a real date"),  # 31 February
        ("131052-308", "11 characters; this one has 10"),
        ("131052-308TT", "11 characters; this one has 12"),
        ("131052Q308T", "format"),
    ],
)
def test_identity_code__bad_code__rejected_naming_field_and_reason(org, code, message):
    count = Client.objects.count()
    with translation.override("en"), pytest.raises(InvalidInput) as raised:
        make_client(org, personal_identity_code=code)
    assert message in raised.value.errors["personal_identity_code"]
    assert Client.objects.count() == count
    assert (
        not Event.objects.filter(action="create", subject="client")
        .exclude(client__in=Client.objects.all())
        .exists()
    )


def test_identity_code__message_in_finnish_by_default(org):
    with translation.override("fi"), pytest.raises(InvalidInput) as raised:
        make_client(org, personal_identity_code="131052-308U")
    assert "tarkistusmerkki" in raised.value.errors["personal_identity_code"]


def test_identity_code__date_must_match_date_of_birth(org):
    with translation.override("en"), pytest.raises(InvalidInput) as raised:
        make_client(org, personal_identity_code="131052-308T", date_of_birth=dt.date(1952, 10, 14))
    assert "does not match the date of birth" in raised.value.errors["personal_identity_code"]


def test_identity_code__unique_when_present__optional_otherwise(org):
    make_client(org, personal_identity_code="131052-308T", date_of_birth=dt.date(1952, 10, 13))
    with pytest.raises(InvalidInput) as raised:
        make_client(org, personal_identity_code="131052-308T", date_of_birth=dt.date(1952, 10, 13))
    assert "personal_identity_code" in raised.value.errors
    # Without a code, any number of clients.
    make_client(org, personal_identity_code="")
    make_client(org)
    assert Client.objects.filter(personal_identity_code__isnull=True).count() == 2


def test_client__unknown_language_code__rejected_naming_the_field(org):
    with translation.override("en"), pytest.raises(InvalidInput) as raised:
        make_client(org, language="FI")
    assert "ISO 639-3" in raised.value.errors["language"]


def test_client__create_needs_an_immigration_unit_role(org):
    with pytest.raises(Exception) as raised:
        case_services.client_create(actor=org.receiving_worker, **client_data())
    assert raised.value.code == "actor_not_allowed"


def test_client__second_open_case_for_same_client__conflict(org):
    from tests.factories import open_case

    case = open_case(org)
    with pytest.raises(Conflict):
        open_case(org, client=case.client)
