"""Meeting hours for the regional teams that have none: Monday to Friday 8.30-15.30,
Helsinki time (administrators change them in the admin, on the team's page). Teams made
later (the demo, the admin) get theirs where they are made."""

import datetime as dt

from django.db import migrations

OPENS, CLOSES = dt.time(8, 30), dt.time(15, 30)
REGIONAL_KINDS = ("adult", "youth")


def add_defaults(apps, schema_editor):
    Team = apps.get_model("cases", "Team")
    MeetingHours = apps.get_model("cases", "MeetingHours")
    for team in Team.objects.filter(kind__in=REGIONAL_KINDS, meeting_hours__isnull=True):
        MeetingHours.objects.bulk_create(
            MeetingHours(team=team, weekday=day, opens_at=OPENS, closes_at=CLOSES)
            for day in range(5)
        )


def remove_defaults(apps, schema_editor):
    apps.get_model("cases", "MeetingHours").objects.filter(
        opens_at=OPENS, closes_at=CLOSES
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("cases", "0012_meeting_hours")]

    operations = [migrations.RunPython(add_defaults, remove_defaults)]
