"""The reminder defaults (all editable in the admin): review due in 30 and 7 days; 10
working days overdue to the supervisor; awaiting acceptance 5 working days to the team and
10 to its supervisor; booking not confirmed in 5 working days; 90 days before the cap."""

from django.db import migrations

DEFAULTS = {
    "review_due_soon": "30,7,0",
    "overdue_escalation": "10",
    "acceptance_team": "5",
    "acceptance_supervisor": "10",
    "booking_unconfirmed": "5",
    "cap_warning": "90",
}


def load(apps, schema_editor):
    ReminderPolicy = apps.get_model("notifications", "ReminderPolicy")
    for kind, offsets in DEFAULTS.items():
        ReminderPolicy.objects.get_or_create(kind=kind, defaults={"offsets": offsets})


def unload(apps, schema_editor):
    apps.get_model("notifications", "ReminderPolicy").objects.filter(kind__in=DEFAULTS).delete()


class Migration(migrations.Migration):
    dependencies = [("notifications", "0001_initial")]

    operations = [migrations.RunPython(load, unload)]
