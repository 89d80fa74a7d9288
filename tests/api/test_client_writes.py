"""Creating and changing clients through the API: the services validate, the field is
named in the user's language, and nothing is half-written."""

import pytest

from audit.models import AccessLog
from cases.models import Client, Event
from tests.factories import as_user, client_data, make_org, open_case, transfer_in_state
from transfers.enums import TransferState

pytestmark = pytest.mark.django_db


@pytest.fixture
def org(db):
    return make_org()


def payload(**overrides):
    data = {
        k: (v.isoformat() if hasattr(v, "isoformat") else v)
        for k, v in client_data(**overrides).items()
    }
    return data


def test_client_create__caseworker_creates_and_it_is_logged(org):
    response = as_user(org.caseworker).post("/api/v1/clients/", payload(), format="json")
    assert response.status_code == 201, response.json()
    client = Client.objects.get(pk=response.json()["id"])
    assert Event.objects.filter(client=client, action="create", actor=org.caseworker).exists()
    assert AccessLog.objects.filter(client=client, action="api_create").exists()


def test_client_create__bad_identity_code__400_names_field_in_finnish(org):
    response = as_user(org.caseworker).post(
        "/api/v1/clients/",
        payload(personal_identity_code="131052-308U"),
        format="json",
        HTTP_ACCEPT_LANGUAGE="fi",
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert "tarkistusmerkki" in str(response.json()["errors"]["personal_identity_code"])
    assert not Client.objects.exists()


def test_client_create__receiving_team_cannot(org):
    response = as_user(org.receiving_worker).post("/api/v1/clients/", payload(), format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "actor_not_allowed"
    assert not Client.objects.exists()


def test_client_update__changes_through_the_service_and_logs_fields(org):
    case = open_case(org)
    response = as_user(org.caseworker).patch(
        f"/api/v1/clients/{case.client_id}/", {"postal_code": "00100"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["postal_code"] == "00100"
    event = Event.objects.get(client=case.client, action="update")
    assert event.params == {"fields": ["postal_code"]}


def test_client_update__other_team__404_and_unchanged(org):
    case = open_case(org)
    response = as_user(org.outsider).patch(
        f"/api/v1/clients/{case.client_id}/", {"postal_code": "00100"}, format="json"
    )
    assert response.status_code == 404
    assert Client.objects.get(pk=case.client_id).postal_code == "00700"


def test_client_create__idempotency_key_replays_without_a_second_client(org):
    api = as_user(org.caseworker)
    first = api.post("/api/v1/clients/", payload(), format="json", HTTP_IDEMPOTENCY_KEY="new-1")
    replay = api.post("/api/v1/clients/", payload(), format="json", HTTP_IDEMPOTENCY_KEY="new-1")
    assert (first.status_code, replay.status_code) == (201, 201), replay.json()
    assert replay.json() == first.json()
    client = Client.objects.get()
    assert Event.objects.filter(client=client, action="create").count() == 1
    assert AccessLog.objects.filter(client=client, action="api_create").count() == 1
    other = api.post(
        "/api/v1/clients/", payload(last_name="Toinen"), format="json", HTTP_IDEMPOTENCY_KEY="new-1"
    )
    assert other.status_code == 422
    assert Client.objects.count() == 1


def test_client_update__idempotency_key_replays_without_a_second_change(org):
    case = open_case(org)
    api = as_user(org.caseworker)
    url = f"/api/v1/clients/{case.client_id}/"
    first = api.patch(url, {"postal_code": "00100"}, format="json", HTTP_IDEMPOTENCY_KEY="chg-1")
    api.patch(url, {"postal_code": "00200"}, format="json")  # changed since, without a key
    replay = api.patch(url, {"postal_code": "00100"}, format="json", HTTP_IDEMPOTENCY_KEY="chg-1")
    assert (first.status_code, replay.status_code) == (200, 200), replay.json()
    assert replay.json() == first.json()
    assert Client.objects.get(pk=case.client_id).postal_code == "00200"
    assert Event.objects.filter(client=case.client, action="update").count() == 2
    assert AccessLog.objects.filter(client=case.client, action="api_update").count() == 2


def test_client_update__a_receiving_worker_is_refused_and_logged(org):
    transfer = transfer_in_state(org, TransferState.BOOKING_REQUESTED)
    response = as_user(org.receiving_worker).patch(
        f"/api/v1/clients/{transfer.case.client_id}/", {"postal_code": "00100"}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "actor_not_allowed"
    assert (
        AccessLog.objects.filter(
            actor=org.receiving_worker, action="api_update", outcome="denied", case=None
        ).count()
        == 1
    )
    assert Client.objects.get(pk=transfer.case.client_id).postal_code == "00700"


def test_client_create__replay_shows_the_client_again_and_logs_that_read(org):
    api = as_user(org.caseworker)
    api.post("/api/v1/clients/", payload(), format="json", HTTP_IDEMPOTENCY_KEY="new-2")
    client = Client.objects.get()
    replay = api.post("/api/v1/clients/", payload(), format="json", HTTP_IDEMPOTENCY_KEY="new-2")
    assert replay.status_code == 201
    assert replay.json()["last_name"] == client.last_name
    assert AccessLog.objects.filter(
        client=client, action="api_replay", outcome="allowed", actor=org.caseworker
    ).exists()


def test_client_create__replay_after_the_worker_left_the_unit__403_and_denied(org):
    api = as_user(org.caseworker)
    created = api.post("/api/v1/clients/", payload(), format="json", HTTP_IDEMPOTENCY_KEY="new-3")
    client = Client.objects.get(pk=created.json()["id"])
    org.caseworker.memberships.all().delete()  # the worker has left the unit
    replay = api.post("/api/v1/clients/", payload(), format="json", HTTP_IDEMPOTENCY_KEY="new-3")
    assert replay.status_code == 403
    assert "last_name" not in replay.json()
    assert AccessLog.objects.filter(client=client, action="api_replay", outcome="denied").exists()


def test_client_create__refused_role_leaves_a_denied_row(org):
    response = as_user(org.front_desk).post("/api/v1/clients/", payload(), format="json")
    assert response.status_code == 403
    assert not Client.objects.exists()
    assert AccessLog.objects.filter(
        actor=org.front_desk, action="api_create", outcome="denied", client=None
    ).exists()


@pytest.mark.parametrize("key", ["a\x00b", "\x00", "x" * 201, "tab\tinside"])
def test_client_create__an_unusable_idempotency_key__400_naming_the_header(org, key):
    response = as_user(org.caseworker).post(
        "/api/v1/clients/", payload(), format="json", HTTP_IDEMPOTENCY_KEY=key
    )
    assert response.status_code == 400
    assert response.json()["header"] == "Idempotency-Key"
    assert not Client.objects.exists()


@pytest.mark.parametrize("shape", ["[", '{"a":'])
def test_client_create__json_nested_too_deeply__400_not_500(org, shape):
    body = shape * 5000
    response = as_user(org.caseworker).post(
        "/api/v1/clients/", body, content_type="application/json"
    )
    assert response.status_code == 400
    assert not Client.objects.exists()
