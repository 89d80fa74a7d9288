"""Who owns a case already transferred or accepted, read from the event log: the time the
handover was held (the case's `complete_transfer` event) and the receiving worker named at
acceptance (the transfer's `accept` event). Reversed: the columns are emptied."""

from django.db import migrations


def backfill(apps, schema_editor):
    Case = apps.get_model("cases", "Case")
    Event = apps.get_model("cases", "Event")
    completed = Event.objects.filter(subject="case", action="complete_transfer")
    for case_id, at in completed.values_list("case_id", "created_at"):
        Case.objects.filter(pk=case_id, transferred_at__isnull=True).update(transferred_at=at)
    held = Case.objects.filter(receiving_team__isnull=False, receiving_worker__isnull=True)
    for case_id in held.values_list("pk", flat=True):
        accept = (
            Event.objects.filter(subject="transfer", action="accept", case_id=case_id)
            .order_by("-created_at", "-id")
            .first()
        )
        worker = (accept.params or {}).get("receiving_worker") if accept else None
        if worker:
            Case.objects.filter(pk=case_id).update(receiving_worker_id=worker)


def empty(apps, schema_editor):
    apps.get_model("cases", "Case").objects.update(receiving_worker=None, transferred_at=None)


class Migration(migrations.Migration):
    dependencies = [("cases", "0014_case_receiving_worker_and_transferred_at")]

    operations = [migrations.RunPython(backfill, empty)]
