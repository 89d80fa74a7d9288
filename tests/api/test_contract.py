"""The API contract, as an integrator meets it: a Python client generated with
openapi-python-client (pinned in the dev group) from the schema a running Silta serves runs
the partner flow, with no hand-written request and no patch to the generated code:
cases and their history, a review and its assessments, the proposal, acceptance with an
Idempotency-Key and its replay, the booking queue, the confirmation and the inbox, and the
errors typed as the schema declares them."""

from __future__ import annotations

import datetime as dt
import importlib
import subprocess
import sys
import uuid
from io import StringIO
from pathlib import Path

import httpx
import pytest
from django.core.management import call_command

from cases.enums import CaseState
from cases.models import Event
from core import clock
from tests.factories import case_in_state, handover_slot, make_org, reload
from transfers import services as transfer_services
from transfers.enums import TransferState

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

CONFIG = (
    "project_name_override: silta-client\npackage_name_override: silta_client\npost_hooks: []\n"
)


@pytest.fixture(scope="module")
def generated(live_server, tmp_path_factory):
    """The client, generated from the schema the live server serves."""
    root = tmp_path_factory.mktemp("client")
    schema = httpx.get(f"{live_server.url}/api/v1/schema/", timeout=60)
    assert schema.status_code == 200
    (root / "openapi.yaml").write_bytes(schema.content)
    (root / "config.yaml").write_text(CONFIG)
    subprocess.run(  # noqa: S603 - the pinned generator, fixed arguments
        [
            str(Path(sys.executable).with_name("openapi-python-client")),
            "generate",
            "--path",
            str(root / "openapi.yaml"),
            "--config",
            str(root / "config.yaml"),
            "--meta",
            "none",
            "--output-path",
            str(root / "silta_client"),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module("silta_client")
    finally:
        sys.path.remove(str(root))
        for name in [
            n for n in sys.modules if n == "silta_client" or n.startswith("silta_client.")
        ]:
            del sys.modules[name]


def endpoint(package, tag: str, operation: str):
    return importlib.import_module(f"{package.__name__}.api.{tag}.{operation}")


def model(package, name: str):
    return getattr(importlib.import_module(f"{package.__name__}.models"), name)


def client_for(package, live_server, user):
    out = StringIO()
    call_command("issue_api_token", user.username, stdout=out)
    token = out.getvalue().strip().splitlines()[-1].strip()
    return package.AuthenticatedClient(
        base_url=live_server.url,
        token=token,
        prefix="Token",
        headers={"Accept-Language": "en"},
        raise_on_unexpected_status=True,
    )


def test_partner_flow__through_a_generated_client(generated, live_server):
    org = make_org()
    case = case_in_state(org, CaseState.REVIEW_DUE)
    caseworker = client_for(generated, live_server, org.caseworker)
    receiving = client_for(generated, live_server, org.receiving_worker)
    desk = client_for(generated, live_server, org.front_desk)
    Problem = model(generated, "Problem")

    # The caseload and the case's history (a bare list, as declared).
    cases = endpoint(generated, "cases", "cases_list").sync(
        client=caseworker, state=model(generated, "CasesListState")("review_due")
    )
    assert [row.id for row in cases.results] == [case.pk]
    history = endpoint(generated, "cases", "cases_history_list").sync(id=case.pk, client=caseworker)
    assert history and all(event.action for event in history)

    # The review: typed assessments, readiness and routing.
    review = endpoint(generated, "reviews", "reviews_create").sync(
        client=caseworker, body=model(generated, "ReviewStartRequest")(case=case.pk)
    )
    assert review.readiness.ready is False
    assert review.routing.routed_team == org.adult.code
    assess = endpoint(generated, "assessments", "assessments_assess_create")
    Assess = model(generated, "AssessRequest")
    met = model(generated, "AssessStatusEnum")("met")
    for row in review.assessments:
        if row.status != "not_applicable":
            answer = assess.sync(id=row.id, client=caseworker, body=Assess(status=met))
            assert answer.status == "met"
    review = endpoint(generated, "reviews", "reviews_retrieve").sync(
        id=review.id, client=caseworker
    )
    assert review.readiness.ready is True

    # The proposal, as the sending team sees it: the full transfer.
    proposed = endpoint(generated, "reviews", "reviews_propose_transfer_create").sync(
        id=review.id,
        client=caseworker,
        body=model(generated, "ProposeRequest")(
            consent_basis=model(generated, "ConsentBasisEnum")("consent")
        ),
    )
    assert (proposed.state, proposed.receiving_team) == ("proposed", org.adult.code)

    # The receiving team's inbox before acceptance: the minimal summary, typed as such.
    inbox = endpoint(generated, "transfers", "transfers_list").sync(client=receiving)
    assert [type(row).__name__ for row in inbox.results] == ["TransferSummary"]

    # Acceptance with an Idempotency-Key, and its replay: the first answer, no second change.
    accept = endpoint(generated, "transfers", "transfers_accept_create")
    body = model(generated, "AcceptRequest")(receiving_worker=org.receiving_worker.username)
    key = str(uuid.uuid4())
    first = accept.sync_detailed(id=proposed.id, client=receiving, body=body, idempotency_key=key)
    replay = accept.sync_detailed(id=proposed.id, client=receiving, body=body, idempotency_key=key)
    assert (first.status_code, replay.status_code) == (200, 200)
    assert type(first.parsed).__name__ == "Transfer"
    assert replay.parsed.to_dict() == first.parsed.to_dict()
    assert first.parsed.state == "accepted"
    assert Event.objects.filter(transfer_id=proposed.id, action="accept").count() == 1

    # Typed errors: 409 with the state and the allowed actions ...
    again = accept.sync_detailed(id=proposed.id, client=receiving, body=body)
    assert again.status_code == 409
    assert isinstance(again.parsed, Problem)
    assert (again.parsed.code, again.parsed.state) == ("transition_not_allowed", "accepted")
    assert "cancel" in again.parsed.allowed
    # ... 422 for a key used with another body ...
    reused = endpoint(generated, "transfers", "transfers_return_create").sync_detailed(
        id=proposed.id,
        client=receiving,
        body=model(generated, "ReturnRequest")(
            reason=model(generated, "ReturnReasonEnum")("other"), text="Questions"
        ),
        idempotency_key=key,
    )
    assert reused.status_code == 422
    assert reused.parsed.code == "idempotency_key_reused"
    # ... 404 for an id outside the user's scope (or none at all) ...
    outsider = client_for(generated, live_server, org.outsider)
    foreign = endpoint(generated, "cases", "cases_retrieve").sync_detailed(
        id=case.pk, client=outsider
    )
    assert foreign.status_code == 404
    assert isinstance(foreign.parsed, Problem) and foreign.parsed.code == "not_found"
    # ... and 401 for a forged token.
    forged = generated.AuthenticatedClient(
        base_url=live_server.url, token="forged-token", prefix="Token"
    )
    refused = endpoint(generated, "notifications", "notifications_list").sync_detailed(
        client=forged
    )
    assert refused.status_code == 401
    assert refused.parsed.code == "authentication_failed"

    # The worker releases the request to the front desk; the desk books the handover.
    transfer_services.transfer_request_booking(transfer=reload(case).transfers.get())
    queue = endpoint(generated, "booking_queue", "booking_queue_list").sync(client=desk)
    assert [row.transfer for row in queue.results] == [proposed.id]
    confirm = endpoint(generated, "transfers", "transfers_confirm_booking_create")
    Confirm = model(generated, "ConfirmBookingRequest")
    # 400 with the field named: a handover time in the past.
    past = confirm.sync_detailed(
        id=proposed.id,
        client=desk,
        body=Confirm(starts_at=clock.now() - dt.timedelta(days=1), place="Malmi"),
    )
    assert past.status_code == 400
    assert past.parsed.code == "invalid"
    assert "starts_at" in past.parsed.errors.to_dict()
    booked = confirm.sync(
        id=proposed.id,
        client=desk,
        body=Confirm(starts_at=handover_slot(days=7), place="Malmi", interpreter="Booking 42"),
    )
    assert booked.state == "booked"
    assert reload(case).transfers.get().state == TransferState.BOOKED

    # The caseworker's inbox, through the same client.
    notes = endpoint(generated, "notifications", "notifications_list").sync(client=caseworker)
    assert notes is not None and notes.count == len(notes.results)


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        (
            "multipart/form-data; boundary=x",
            b'--x\r\nContent-Disposition: form-data; name="a"\r\n\r\nb\r\n--x--\r\n',
        ),
        ("application/x-www-form-urlencoded", b"first_name=Amina"),
        ("text/plain", b"hello"),
    ],
)
def test_a_body_that_is_not_json__415_problem(content_type, body):
    from tests.factories import as_user

    org = make_org()
    response = as_user(org.caseworker).generic(
        "POST", "/api/v1/clients/", body, content_type=content_type
    )
    assert response.status_code == 415, response.content
    assert response.json()["code"] == "unsupported_media_type"
