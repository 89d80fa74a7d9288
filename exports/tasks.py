"""Thin tasks: take the export's id, call the service."""

from celery import shared_task
from django_guid import get_guid

from . import services


# A whole caseload's export may take minutes: it has a time limit of its own.
@shared_task(name="silta.export_build", acks_late=True, time_limit=3600, soft_time_limit=3300)
def export_build_task(export_id: str) -> int:
    return services.export_build(export_id=export_id, request_id=get_guid()).rows


@shared_task(name="silta.exports_purge", acks_late=True)
def exports_purge() -> int:
    return services.exports_purge()
