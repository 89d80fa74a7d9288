"""Personal identity codes: validated with python-stdnum, stored in one normalised form
(upper case, no spaces, the century sign kept) that the database holds them to."""

import datetime as dt
import importlib

import pytest
from django.apps import apps as django_apps
from django.db import IntegrityError, connection, transaction
from django.utils import translation

from cases import services as case_services
from cases.models import Client, Event
from cases.services import ClientExists
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
        # The 1800s sign (+) is a valid code, but no birth date before 1900 is accepted.
    ],
)
def test_identity_code__valid_old_and_new_century_signs__accepted_and_stored(org, code, born):
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
    first = make_client(
        org, personal_identity_code="131052-308T", date_of_birth=dt.date(1952, 10, 13)
    )
    with pytest.raises(ClientExists) as raised:
        make_client(org, personal_identity_code="131052-308T", date_of_birth=dt.date(1952, 10, 13))
    assert raised.value.extra == {"client": first.pk}
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


# Normalised: one person, one stored form ---------------------------------------------------


@pytest.mark.parametrize(
    "given",
    ["010594y9021", "010594Y9021", " 010594Y9021 ", "010594 Y9021", "010594y9021\n"],
)
def test_identity_code__letter_case_and_spaces__stored_normalised(org, given):
    client = make_client(org, personal_identity_code=given, date_of_birth=dt.date(1994, 5, 1))
    assert Client.objects.get(pk=client.pk).personal_identity_code == "010594Y9021"


def test_identity_code__typographic_dash__stored_as_the_hyphen(org):
    client = make_client(
        org, personal_identity_code="131052\u2013308T", date_of_birth=dt.date(1952, 10, 13)
    )
    assert Client.objects.get(pk=client.pk).personal_identity_code == "131052-308T"


@pytest.mark.parametrize("second", ["010594y9021", "010594Y9021", " 010594y9021"])
def test_identity_code__differing_only_in_case_or_spaces__one_person(org, second):
    first = make_client(
        org, personal_identity_code="010594Y9021", date_of_birth=dt.date(1994, 5, 1)
    )
    with pytest.raises(ClientExists) as raised:
        make_client(org, personal_identity_code=second, date_of_birth=dt.date(1994, 5, 1))
    assert raised.value.extra == {"client": first.pk}
    assert Client.objects.count() == 1


def test_identity_code__century_sign_kept__hyphen_and_y_are_two_people(org):
    """The signs of 2023 widen the number range: 010594-9021's digits with Y is another
    person's code, not the same one written differently."""
    make_client(org, personal_identity_code="010594-9021", date_of_birth=dt.date(1994, 5, 1))
    make_client(org, personal_identity_code="010594Y9021", date_of_birth=dt.date(1994, 5, 1))
    assert set(Client.objects.values_list("personal_identity_code", flat=True)) == {
        "010594-9021",
        "010594Y9021",
    }


def test_identity_code__update_normalises_and_refuses_another_clients_code(org):
    kept = make_client(org, personal_identity_code="010594Y9021", date_of_birth=dt.date(1994, 5, 1))
    other = make_client(org, date_of_birth=dt.date(1994, 5, 1))
    with pytest.raises(ClientExists):
        case_services.client_update(
            actor=org.caseworker, client=other, **{"personal_identity_code": "010594y9021"}
        )
    assert Client.objects.get(pk=other.pk).personal_identity_code is None
    # Its own code written differently is no change at all.
    case_services.client_update(
        actor=org.caseworker, client=kept, personal_identity_code=" 010594y9021"
    )
    assert Client.objects.get(pk=kept.pk).personal_identity_code == "010594Y9021"
    assert not Event.objects.filter(client=kept, action="update").exists()


@pytest.mark.parametrize(
    "stored", ["010594y9021", " 010594Y902", "010594Y90 1", "010594\u20139021"]
)
def test_identity_code__database_refuses_a_code_not_in_its_stored_form(org, stored):
    """The uniqueness lives in the database, on the normalised value: a writer that skips
    the services cannot store a second form of the same code."""
    with (
        pytest.raises(IntegrityError, match="client_identity_code_normalised"),
        transaction.atomic(),
    ):
        Client.objects.create(
            first_name="Direct",
            last_name="Writer",
            date_of_birth=dt.date(1994, 5, 1),
            language="ara",
            personal_identity_code=stored,
        )


# The data migration ----------------------------------------------------------------------


NORMALISE = importlib.import_module("cases.migrations.0006_identity_codes_normalised")


def _stored_as(client, code):
    """Put back a code as older releases stored it (exactly as given): the check that
    holds codes to their normalised form is lifted for this test."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE cases_client SET personal_identity_code = %s WHERE id = %s", [code, client.pk]
        )


@pytest.fixture
def without_the_check(owner_sql):
    # Only the schema's owner may alter the table (the suite runs as the app's role); the
    # tables are emptied before the check is put back.
    name = "client_identity_code_normalised"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = %s", [name]
        )
        definition = cursor.fetchone()[0]
    owner_sql(
        f"ALTER TABLE cases_client DROP CONSTRAINT {name}",
        undo_with=f"TRUNCATE cases_client CASCADE; "
        f"ALTER TABLE cases_client ADD CONSTRAINT {name} {definition}",
    )


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_migration__normalises_stored_codes(org, without_the_check):
    a = make_client(org, personal_identity_code="010594Y9021", date_of_birth=dt.date(1994, 5, 1))
    b = make_client(org, personal_identity_code="131052-308T", date_of_birth=dt.date(1952, 10, 13))
    none = make_client(org)
    _stored_as(a, "010594y9021")
    _stored_as(b, "131052\u2013308t")
    NORMALISE.normalise(django_apps, None)
    assert dict(Client.objects.values_list("pk", "personal_identity_code")) == {
        a.pk: "010594Y9021",
        b.pk: "131052-308T",
        none.pk: None,
    }


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_migration__codes_that_collide_once_normalised__refused_naming_ids_not_codes(
    org, without_the_check
):
    a = make_client(org, personal_identity_code="010594Y9021", date_of_birth=dt.date(1994, 5, 1))
    b = make_client(org, date_of_birth=dt.date(1994, 5, 1))
    c = make_client(org, personal_identity_code="131052-308T", date_of_birth=dt.date(1952, 10, 13))
    _stored_as(b, "010594y9021")
    _stored_as(c, "131052-308t")
    with pytest.raises(RuntimeError) as raised:
        NORMALISE.normalise(django_apps, None)
    message = str(raised.value)
    assert f"{a.pk}, {b.pk}" in message
    assert "010594" not in message and "131052" not in message
    # Nothing changed, not even the code that had no twin.
    assert Client.objects.get(pk=c.pk).personal_identity_code == "131052-308t"
