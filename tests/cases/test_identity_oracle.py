"""No identity-code oracle: registering a client whose identity code is already another
client's tells a user outside that client's scope nothing but to contact their supervisor
(in their language), leaves a denied access-log row and tells the supervisors of the team
that holds the client; within the scope the existing client is offered. Either way
nothing else is written and nothing answers 500."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import translation

from api.models import IdempotencyRecord
from audit.access import perform_and_log
from audit.models import AccessLog
from cases import services as case_services
from cases.enums import Role, TeamKind
from cases.models import Client, Event, Team
from cases.services import ClientExists, ContactSupervisor
from notifications.models import (
    Notification,
    NotificationKind,
    NotificationPreference,
    OutboxMessage,
)
from tests.factories import as_user, client_data, make_client, member, open_case, transfer_in_state
from transfers.enums import TransferState

pytestmark = pytest.mark.django_db

CODE = "010594Y9021"
BORN = dt.date(1994, 5, 1)
NEUTRAL = {
    "en": "This client cannot be registered here. Contact your supervisor.",
    "fi": "Asiakasta ei voi kirjata tässä. Ota yhteyttä esihenkilöösi.",
    "sv": "Klienten kan inte registreras här. Kontakta din förman.",
}


@pytest.fixture
def koto1(org):
    """A second Immigration Unit team, with its own caseworker and supervisor."""
    team = Team.objects.create(
        code="koto1",
        name="Koto-tiimi 1",
        kind=TeamKind.IMMIGRATION_UNIT,
        region=org.koto.region,
    )
    team.caseworker = member(team, Role.CASEWORKER)
    team.supervisor = member(team, Role.SUPERVISOR)
    return team


@pytest.fixture
def held(org):
    """Koto 2's client with the code, in an open case."""
    return open_case(org, personal_identity_code=CODE, date_of_birth=BORN, last_name="Heldname")


def fields(**overrides):
    """A client's facts with the code in question (and the birth date it holds)."""
    return client_data(**{"date_of_birth": BORN, "personal_identity_code": CODE, **overrides})


def payload(**overrides):
    data = fields(**overrides)
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in data.items()}


def register(user, **overrides):
    """client_create as every surface runs it: through perform_and_log."""
    return perform_and_log(
        case_services.client_create,
        user=user,
        action="api_create",
        subjects_of=lambda client: [(client.pk, None)],
        **fields(**overrides),
    )


def notices():
    return Notification.objects.filter(kind=NotificationKind.IDENTITY_CODE_ATTEMPT)


def assert_nothing_written_but_the_trace(clients_before: int, events_before: int) -> None:
    assert Client.objects.count() == clients_before
    assert Event.objects.count() == events_before


# The service, through the one access path ------------------------------------------------


@pytest.mark.parametrize("written", [CODE, CODE.lower(), f" {CODE[:6]} {CODE[6:].lower()} "])
def test_oracle__other_teams_code__neutral_refusal_denied_row_and_notice(org, koto1, held, written):
    clients, events = Client.objects.count(), Event.objects.count()
    with pytest.raises(ContactSupervisor) as raised:
        register(koto1.caseworker, personal_identity_code=written)
    refusal = raised.value
    assert (refusal.code, refusal.http_status, refusal.extra) == ("contact_supervisor", 409, {})
    assert "Heldname" not in refusal.detail and str(held.client_id) not in refusal.detail
    assert_nothing_written_but_the_trace(clients, events)
    row = AccessLog.objects.get(actor=koto1.caseworker)
    assert (row.outcome, row.action, row.client_id, row.case_id) == (
        "denied",
        "api_create",
        held.client_id,
        held.pk,
    )
    notice = notices().get()
    assert notice.recipient == org.koto_supervisor
    assert (notice.reference, notice.link, notice.case_id) == (
        held.reference,
        reverse("web:case", args=[held.pk]),
        held.pk,
    )


def test_oracle__the_notice_carries_no_name_and_no_code(org, koto1, held):
    NotificationPreference.objects.create(user=org.koto_supervisor, email=True)
    with pytest.raises(ContactSupervisor):
        register(koto1.caseworker)
    notice = notices().get()
    outbox = OutboxMessage.objects.get(key__startswith="email:identity_code_attempt:")
    for shown in (
        str(notice.params),
        notice.subject_key,
        notice.reference,
        notice.link,
        str(outbox.payload),
        outbox.key,
    ):
        for secret in ("Heldname", "Amina", CODE, CODE.lower(), str(BORN)):
            assert secret not in shown


@pytest.mark.parametrize("language", ["fi", "sv", "en"])
def test_oracle__the_message_is_the_users_language(org, koto1, held, language):
    with translation.override(language), pytest.raises(ContactSupervisor) as raised:
        register(koto1.caseworker)
    assert raised.value.detail == NEUTRAL[language]


def test_oracle__answer_is_the_same_whoever_holds_the_client(org, koto1, held):
    """A client in another team's case, one transferred to a regional team and one with no
    case yet (registered by a colleague): one answer."""
    transferred = transfer_in_state(
        org,
        TransferState.COMPLETED,
        personal_identity_code="131052-308T",
        date_of_birth=dt.date(1952, 10, 13),
    )
    caseless = make_client(
        org, personal_identity_code="010101A123N", date_of_birth=dt.date(2001, 1, 1)
    )
    answers = set()
    for code, born in (
        (CODE, BORN),
        ("131052-308T", dt.date(1952, 10, 13)),
        ("010101A123N", dt.date(2001, 1, 1)),
    ):
        with pytest.raises(ContactSupervisor) as raised:
            register(koto1.caseworker, personal_identity_code=code, date_of_birth=born)
        answers.add((raised.value.code, raised.value.detail, str(raised.value.extra)))
    assert len(answers) == 1
    assert set(
        AccessLog.objects.filter(actor=koto1.caseworker, outcome="denied").values_list(
            "client_id", flat=True
        )
    ) == {held.client_id, transferred.case.client_id, caseless.pk}


def test_oracle__transferred_client__the_receiving_teams_supervisors_are_told_too(org, koto1):
    transfer = transfer_in_state(
        org, TransferState.COMPLETED, personal_identity_code=CODE, date_of_birth=BORN
    )
    with pytest.raises(ContactSupervisor):
        register(koto1.caseworker)
    assert set(notices().values_list("recipient", flat=True)) == {
        org.koto_supervisor.pk,
        org.receiving_supervisor.pk,
    }
    assert set(notices().values_list("reference", flat=True)) == {transfer.case.reference}


def test_oracle__client_with_no_case__its_registrars_team_supervisors_are_told(org, koto1):
    make_client(org, personal_identity_code=CODE, date_of_birth=BORN)
    colleague = member(org.koto, Role.CASEWORKER)
    with pytest.raises(ContactSupervisor):
        register(colleague)
    with pytest.raises(ContactSupervisor):
        register(koto1.caseworker)
    notice = notices().filter(recipient=org.koto_supervisor).first()
    assert notice is not None
    assert (notice.reference, notice.link, notice.case_id) == (
        "",
        reverse("web:notifications"),
        None,
    )
    assert not notices().filter(recipient=koto1.supervisor).exists()


def test_oracle__within_scope__the_existing_client_is_offered_and_the_read_logged(org, held):
    clients, events = Client.objects.count(), Event.objects.count()
    with pytest.raises(ClientExists) as raised:
        register(org.koto_supervisor, personal_identity_code=CODE.lower())
    assert (raised.value.code, raised.value.http_status) == ("client_exists", 409)
    assert raised.value.extra == {"client": held.client_id}
    assert_nothing_written_but_the_trace(clients, events)
    row = AccessLog.objects.get(actor=org.koto_supervisor)
    assert (row.outcome, row.client_id) == ("allowed", held.client_id)
    assert not notices().exists()


def test_oracle__a_role_that_may_not_register__refused_before_any_lookup(org, held):
    with pytest.raises(Exception) as raised:
        register(org.receiving_worker)
    assert raised.value.code == "actor_not_allowed"
    row = AccessLog.objects.get(actor=org.receiving_worker)
    assert (row.outcome, row.client_id) == ("denied", None)
    assert not notices().exists()


def test_oracle__changing_a_clients_code_to_another_teams__same_neutral_refusal(org, koto1, held):
    theirs = perform_and_log(
        case_services.client_create,
        user=koto1.caseworker,
        action="api_create",
        subjects_of=lambda client: [(client.pk, None)],
        **client_data(date_of_birth=BORN),
    )
    with pytest.raises(ContactSupervisor):
        perform_and_log(
            case_services.client_update,
            user=koto1.caseworker,
            action="api_update",
            subjects=[(theirs.pk, None)],
            client=theirs,
            personal_identity_code=CODE.lower(),
        )
    assert Client.objects.get(pk=theirs.pk).personal_identity_code is None
    assert AccessLog.objects.filter(
        actor=koto1.caseworker, outcome="denied", client=held.client_id
    ).exists()
    assert notices().filter(recipient=org.koto_supervisor).exists()


# The API ---------------------------------------------------------------------------------


def test_api__other_teams_code__409_neutral_problem_in_the_users_language(org, koto1, held):
    clients, events = Client.objects.count(), Event.objects.count()
    response = as_user(koto1.caseworker).post(
        "/api/v1/clients/", payload(), format="json", HTTP_ACCEPT_LANGUAGE="sv"
    )
    assert response.status_code == 409
    body = response.json()
    assert (body["code"], body["detail"]) == ("contact_supervisor", NEUTRAL["sv"])
    assert "client" not in body and str(held.client_id) not in response.content.decode()
    assert_nothing_written_but_the_trace(clients, events)
    assert AccessLog.objects.filter(
        actor=koto1.caseworker, outcome="denied", client=held.client_id
    ).exists()
    assert notices().filter(recipient=org.koto_supervisor).exists()


def test_api__with_an_idempotency_key__refusal_kept_and_not_replayed(org, koto1, held):
    api = as_user(koto1.caseworker)
    for _attempt in range(2):
        response = api.post(
            "/api/v1/clients/", payload(), format="json", HTTP_IDEMPOTENCY_KEY="probe-1"
        )
        assert response.status_code == 409
        assert response.json()["code"] == "contact_supervisor"
    assert not IdempotencyRecord.objects.exists()
    assert (
        AccessLog.objects.filter(actor=koto1.caseworker, outcome="denied", client=held.client_id)
    ).count() == 2
    assert notices().count() == 1  # one notice per person and day, however often they try


def test_api__within_scope__409_names_the_existing_client(org, held):
    response = as_user(org.caseworker).post(
        "/api/v1/clients/", payload(personal_identity_code=CODE.lower()), format="json"
    )
    assert response.status_code == 409
    body = response.json()
    assert (body["code"], body["client"]) == ("client_exists", held.client_id)
    assert body["link"] == f"http://testserver/api/v1/clients/{held.client_id}/"
    assert as_user(org.caseworker).get(body["link"]).json()["id"] == held.client_id
    assert Client.objects.count() == 1


def test_api__patch_to_another_teams_code__409_neutral(org, koto1, held):
    api = as_user(koto1.caseworker)
    created = api.post("/api/v1/clients/", payload(personal_identity_code=""), format="json").json()
    response = api.patch(
        f"/api/v1/clients/{created['id']}/", {"personal_identity_code": CODE}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["code"] == "contact_supervisor"
    assert Client.objects.get(pk=created["id"]).personal_identity_code is None


# The admin -------------------------------------------------------------------------------


def _staff(user):
    user.is_staff = True
    user.save()
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["add_client", "view_client", "change_client"])
    )
    return user


def _admin_form(**overrides):
    data = fields(**overrides)
    data.update(
        {
            "date_of_birth": BORN.isoformat(),
            "housing_situation": "settled",
            "children_count": "0",
            "interpreter_needed": "on",
        }
    )
    return data


def test_admin__other_teams_code__neutral_error_beside_the_field(org, koto1, held, client):
    client.force_login(_staff(koto1.caseworker))
    clients, events = Client.objects.count(), Event.objects.count()
    page = client.post(
        reverse("admin:cases_client_add"),
        _admin_form(personal_identity_code=CODE.lower()),
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert page.status_code == 200
    assert page.context["adminform"].form.errors["personal_identity_code"] == [NEUTRAL["en"]]
    assert "Heldname" not in page.content.decode()
    assert_nothing_written_but_the_trace(clients, events)
    assert AccessLog.objects.filter(
        actor=koto1.caseworker, outcome="denied", client=held.client_id, action="admin_create"
    ).exists()
    assert notices().filter(recipient=org.koto_supervisor).exists()


def test_admin__within_scope__the_existing_client_is_named(org, held, client):
    client.force_login(_staff(org.caseworker))
    page = client.post(reverse("admin:cases_client_add"), _admin_form(), HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    [error] = page.context["adminform"].form.errors["personal_identity_code"]
    assert f"client {held.client_id}" in error
    assert Client.objects.count() == 1


def test_admin__new_code__registered_normalised_through_the_service(org, client):
    client.force_login(_staff(org.caseworker))
    page = client.post(
        reverse("admin:cases_client_add"), _admin_form(personal_identity_code=f" {CODE.lower()}")
    )
    assert page.status_code == 302, page.context["adminform"].form.errors
    created = Client.objects.get()
    assert created.personal_identity_code == CODE
    assert Event.objects.filter(client=created, action="create").exists()
    assert AccessLog.objects.filter(client=created, action="admin_create").exists()
