"""The booking webhook's contract (docs/api/booking-webhook.schema.json) is what Silta
sends: every request a booking system receives in the book, no-show and cancel paths is
valid against the published schema, signed as it says, with its key in the header."""

import datetime as dt
import hashlib
import hmac
import json
from pathlib import Path

import jsonschema
import pytest
import time_machine
from django.conf import settings as django_settings

from core import clock
from notifications.services import relay_pending
from tests.factories import reload, transfer_in_state
from transfers import services
from transfers.enums import BookingStatus, TransferState

pytestmark = pytest.mark.django_db
SECRET = "test-webhook-secret"
SCHEMA = json.loads(
    (Path(django_settings.BASE_DIR) / "docs/api/booking-webhook.schema.json").read_text()
)


def test_every_webhook_request__matches_the_published_schema(org, booking_system, settings):
    settings.SILTA_BOOKING_WEBHOOK_SECRET = SECRET
    org.adult.booking_webhook_url = booking_system.url
    org.adult.save()
    transfer = transfer_in_state(org, TransferState.PROPOSED)
    answer = {
        "reference": "EXT-1",
        "starts_at": (clock.now() + dt.timedelta(days=3)).isoformat(),
        "place": "Malmi",
        "interpreter": "Booking 1",
    }
    jsonschema.validate(answer, {**SCHEMA, "$ref": "#/$defs/answer"})
    booking_system.answers.extend([(200, answer), (202, {})])
    services.transfer_accept(
        actor=org.receiving_worker, transfer=transfer, receiving_worker=org.receiving_worker
    )
    relay_pending()
    assert reload(transfer).state == TransferState.BOOKED  # the answer confirmed it
    starts = dt.datetime.fromisoformat(answer["starts_at"])
    with time_machine.travel(starts + dt.timedelta(minutes=30), tick=False):  # no-show: after
        services.transfer_rebook(
            actor=org.front_desk, transfer=transfer, outcome=BookingStatus.NO_SHOW
        )
        relay_pending()

    received = booking_system.requests
    assert sorted(r["body"]["action"] for r in received) == ["cancel", "request", "request"]
    validator = jsonschema.Draft202012Validator(SCHEMA)
    for request in received:
        errors = [error.message for error in validator.iter_errors(request["body"])]
        assert errors == [], request["body"]
        raw = request["raw"]
        expected = "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
        assert request["headers"]["X-Silta-Signature"] == expected
        assert request["headers"]["Idempotency-Key"] == request["body"]["idempotency_key"]
