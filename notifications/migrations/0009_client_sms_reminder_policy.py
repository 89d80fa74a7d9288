"""The client's reminder text message the day before the handover meeting (offset 1 day),
editable in the admin like every reminder; sent only to clients who consent."""

from django.db import migrations


def load(apps, schema_editor):
    ReminderPolicy = apps.get_model("notifications", "ReminderPolicy")
    ReminderPolicy.objects.get_or_create(kind="client_sms_reminder", defaults={"offsets": "1"})


def unload(apps, schema_editor):
    apps.get_model("notifications", "ReminderPolicy").objects.filter(
        kind="client_sms_reminder"
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("notifications", "0008_client_sms_reminder_kind")]

    operations = [migrations.RunPython(load, unload)]
