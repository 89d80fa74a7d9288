"""Referrals to partners through the API: the web form's service behind it (the same
consent, fields and purpose checks), scoped like every case endpoint, each read and write
access-logged, bad input a problem+json naming the field."""

from __future__ import annotations

import pytest
from django.utils import translation

from audit.models import AccessLog, AccessOutcome, DisclosureLog
from cases.enums import CaseState
from cases.models import Event
from notifications.models import OutboxMessage
from partners.enums import PartnerAction
from partners.models import Referral
from partners.services import referral_send
from tests.factories import as_user, case_in_state
from tests.partners.test_directory import partner
from tests.snapshot import snapshot

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


@pytest.fixture
def kulmakivi():
    return partner(
        "Asukastalo Kulmakivi", district="Koillinen", languages="ara,fin",
        email="kulmakivi@example.org",
    )  # fmt: skip


@pytest.fixture
def case(org):
    return case_in_state(org, CaseState.ACTIVE, last_name="Salaisuus")


def _url(case) -> str:
    return f"/api/v1/cases/{case.pk}/referrals/"


def _body(kulmakivi, **overrides):
    body = {
        "organisation": kulmakivi.pk,
        "purpose": "Suomen kielen kerho",
        "shared_fields": ["name", "language"],
        "consent": True,
    }
    return {**body, **overrides}


def test_send__201_referral_event_disclosure_row_outbox_mail_and_access_row(org, case, kulmakivi):
    answer = as_user(org.caseworker).post(_url(case), _body(kulmakivi), format="json")

    assert answer.status_code == 201, answer.content
    referral = Referral.objects.get()
    assert answer.json() == {
        "id": referral.pk,
        "case": case.pk,
        "organisation": kulmakivi.pk,
        "organisation_name": "Asukastalo Kulmakivi",
        "contact_email": "kulmakivi@example.org",
        "purpose": "Suomen kielen kerho",
        "shared_fields": ["name", "language"],
        "consent_recorded_at": answer.json()["consent_recorded_at"],
        "state": "sent",
        "partner_note": "",
        "outcome": "",
        "sent_by": org.caseworker.username,
        "sent_at": answer.json()["sent_at"],
        "answered_at": None,
        "done_at": None,
    }
    assert answer.json()["consent_recorded_at"] is not None
    assert Event.objects.filter(case=case, action=PartnerAction.REFERRAL_SEND).count() == 1
    assert DisclosureLog.objects.get().reference == f"referral:{referral.pk}"
    assert OutboxMessage.objects.get().key == f"partner_referral:{referral.pk}"
    assert AccessLog.objects.filter(
        action="api_create", case=case, outcome=AccessOutcome.ALLOWED
    ).exists()


def test_list__the_case_referrals_newest_first_and_an_access_row(org, case, kulmakivi):
    first = referral_send(
        actor=org.caseworker, case=case, organisation=kulmakivi, purpose="Ensimmäinen",
        shared_fields=["language"], consent=True,
    )  # fmt: skip
    second = referral_send(
        actor=org.caseworker, case=case, organisation=kulmakivi, purpose="Toinen",
        shared_fields=["name"], consent=True,
    )  # fmt: skip
    other = case_in_state(org, CaseState.ACTIVE)
    referral_send(
        actor=org.caseworker, case=other, organisation=kulmakivi, purpose="Muu",
        shared_fields=["name"], consent=True,
    )  # fmt: skip
    before = AccessLog.objects.filter(action="api_referrals").count()

    answer = as_user(org.koto_supervisor).get(_url(case))

    assert answer.status_code == 200
    assert [row["id"] for row in answer.json()] == [second.pk, first.pk]
    assert answer.json()[1]["shared_fields"] == ["language"]
    rows = AccessLog.objects.filter(action="api_referrals")
    assert rows.count() == before + 1
    assert (rows.latest("id").client_id, rows.latest("id").case_id) == (case.client_id, case.pk)


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        ({"consent": False}, {"consent"}),
        ({"shared_fields": []}, {"shared_fields"}),
        ({"shared_fields": ["name", "identity_code"]}, {"shared_fields"}),
        ({"purpose": "   "}, {"purpose"}),
        ({"purpose": "x" * 2001}, {"purpose"}),
        ({"purpose": "nul\x00byte"}, {"purpose"}),
        ({"organisation": None}, {"organisation"}),
        ({"organisation": 999_999}, {"organisation"}),
        (
            {"consent": False, "shared_fields": [], "purpose": ""},
            {"consent", "shared_fields", "purpose"},
        ),
    ],
)  # fmt: skip
def test_send__bad_input__400_problem_naming_the_fields_nothing_written(
    org, case, kulmakivi, overrides, fields
):
    before = snapshot()
    answer = as_user(org.caseworker).post(_url(case), _body(kulmakivi, **overrides), format="json")

    assert answer.status_code == 400, answer.content
    assert answer["Content-Type"] == PROBLEM
    assert set(answer.json()["errors"]) == fields
    assert {k: v for k, v in snapshot().items() if k != "audit.AccessLog"} == {
        k: v for k, v in before.items() if k != "audit.AccessLog"
    }


def test_send__organisation_without_email__named(org, case):
    no_mail = partner("Ei sähköpostia", district="Koillinen", languages="ara", email="")
    answer = as_user(org.caseworker).post(
        _url(case), {"organisation": no_mail.pk, "purpose": "x", "shared_fields": ["name"],
                     "consent": True}, format="json",
    )  # fmt: skip
    assert answer.status_code == 400
    assert list(answer.json()["errors"]) == ["organisation"]
    assert not Referral.objects.exists()


@pytest.mark.parametrize(
    ("language", "expected"),
    [("fi", "suostumus"), ("sv", "samtycke"), ("en", "consent")],
)
def test_send__without_consent__the_reason_in_the_reader_language(
    org, case, kulmakivi, language, expected
):
    with translation.override(language):
        answer = as_user(org.caseworker).post(
            _url(case), _body(kulmakivi, consent=False), format="json",
            headers={"Accept-Language": language},
        )  # fmt: skip
    assert answer.status_code == 400
    assert expected in answer.json()["errors"]["consent"][0].lower()


def test_send__closed_case__409_nothing_written(org, kulmakivi):
    closed = case_in_state(org, CaseState.CLOSED)
    answer = as_user(org.caseworker).post(_url(closed), _body(kulmakivi), format="json")
    assert answer.status_code == 409, answer.content
    assert not Referral.objects.exists() and not DisclosureLog.objects.exists()


def test_another_team__404_logged_as_denied_nothing_shown(org, case, kulmakivi):
    referral_send(
        actor=org.caseworker, case=case, organisation=kulmakivi, purpose="Salainen kerho",
        shared_fields=["name"], consent=True,
    )  # fmt: skip
    for method, body in (("get", None), ("post", _body(kulmakivi))):
        answer = getattr(as_user(org.outsider), method)(_url(case), body, format="json")
        assert answer.status_code == 404
        assert b"Salainen" not in answer.content and b"Salaisuus" not in answer.content
    assert (
        AccessLog.objects.filter(
            actor=org.outsider, outcome=AccessOutcome.DENIED, client=case.client
        ).count()
        == 2
    )
    assert Referral.objects.count() == 1
