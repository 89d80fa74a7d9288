"""Nothing about the client leaves by e-mail or Teams: a case reference and a link only."""

import datetime as dt

import pytest

from cases.models import Client
from notifications.channels import HEADLINES, render
from notifications.models import Channel, NotificationKind
from tests.factories import open_case
from transfers.links import case_link

pytestmark = pytest.mark.django_db

CANARY_NAME = "CANARY-NAME"
CANARY_CODE = "010190-246L"  # valid, and stored normalised as the database requires


@pytest.fixture
def canary_case(org):
    case = open_case(org)
    # Written past validation on purpose: the canary code is not a valid identity code.
    Client.objects.filter(pk=case.client_id).update(
        first_name=CANARY_NAME,
        last_name=CANARY_NAME,
        personal_identity_code=CANARY_CODE,
        street_address=f"{CANARY_NAME} street 1",
        date_of_birth=dt.date(1990, 1, 1),
    )
    case.refresh_from_db()
    case.client.refresh_from_db()
    assert case.client.first_name == CANARY_NAME
    return case


@pytest.mark.parametrize("language", ["fi", "sv", "en"])
@pytest.mark.parametrize("channel", [Channel.EMAIL, Channel.TEAMS])
@pytest.mark.parametrize("kind", NotificationKind.values)
def test_templates__canary_client_details_never_appear(canary_case, kind, channel, language):
    params = {"days": 7, "count": 3, "reference": canary_case.reference}
    text = "\n".join(
        render(
            channel,
            kind=kind,
            language=language,
            reference=canary_case.reference,
            link=case_link(canary_case.pk),
            params=params,
        ).values()
    )
    assert canary_case.reference in text
    # The link the sender gave, made absolute: into the web app, never carrying client data.
    assert f"/cases/{canary_case.pk}/" in text
    for secret in (CANARY_NAME, CANARY_CODE, "1990"):
        assert secret not in text


def test_templates__every_kind_has_a_headline_in_every_language():
    assert set(HEADLINES) == set(NotificationKind.values)
    for language, word in (("fi", "arviointi"), ("sv", "bedömning"), ("en", "review")):
        text = render(
            Channel.EMAIL,
            kind=NotificationKind.REVIEW_DUE,
            language=language,
            params={"reference": "SILTA-000001"},
        )
        assert word in text["subject"].lower(), (language, text)
