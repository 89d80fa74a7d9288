"""The routing table names each postal code's adult and youth team.

Until now a region had one active team of each kind, and routing took it. This fills the
table's new columns with that team wherever the region has exactly one active team of the
kind, so routing stays as it was and the table says so; a region that has several already
(none can, before 0010) is left for an administrator. Reversed: the columns are emptied
(routing falls back to the region's only team, the same answer).
"""

from django.db import migrations

KINDS = {"adult": "adult_team", "youth": "youth_team"}


def name_the_teams(apps, schema_editor):
    Team = apps.get_model("cases", "Team")
    PostalArea = apps.get_model("cases", "PostalArea")
    for kind, column in KINDS.items():
        by_region: dict[int, list[int]] = {}
        for team_id, region_id in Team.objects.filter(
            kind=kind, is_active=True, region__isnull=False
        ).values_list("pk", "region_id"):
            by_region.setdefault(region_id, []).append(team_id)
        for region_id, teams in by_region.items():
            if len(teams) == 1:
                PostalArea.objects.filter(region_id=region_id, **{column: None}).update(
                    **{column: teams[0]}
                )


def empty_the_columns(apps, schema_editor):
    apps.get_model("cases", "PostalArea").objects.update(adult_team=None, youth_team=None)


class Migration(migrations.Migration):
    dependencies = [("cases", "0010_teams_of_each_kind_and_shared_front_desks")]

    operations = [migrations.RunPython(name_the_teams, empty_the_columns)]
