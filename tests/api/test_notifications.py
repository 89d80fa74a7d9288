"""The inbox through the API: one's own notifications only, marked read one by one."""

import pytest

from notifications.models import Notification
from tests.factories import as_user, make_org, open_case
from transfers.reminders import due_sweep

pytestmark = pytest.mark.django_db


def test_inbox__own_notifications_with_reference_and_mark_read():
    org = make_org()
    case = open_case(org, started_months_ago=25, last_name="Secretname")
    due_sweep()
    response = as_user(org.caseworker).get(
        "/api/v1/notifications/?read_at__isnull=true", HTTP_ACCEPT_LANGUAGE="en"
    )
    [note] = response.json()["results"]
    assert (note["kind"], note["reference"]) == ("review_due", case.reference)
    assert note["headline"] == "A readiness review is due"
    assert b"Secretname" not in response.content

    assert as_user(org.koto_supervisor).get("/api/v1/notifications/").json()["count"] == 0
    refused = as_user(org.koto_supervisor).post(f"/api/v1/notifications/{note['id']}/mark-read/")
    assert refused.status_code == 404
    done = as_user(org.caseworker).post(f"/api/v1/notifications/{note['id']}/mark-read/")
    assert done.status_code == 200 and done.json()["read_at"]
    assert Notification.objects.get(pk=note["id"]).read_at is not None
