"""Helsinki's four social work regions and the default routing table.

The table is cases/data/helsinki_postal_areas.csv (see cases/data/README.md for its
provenance); administrators correct it in the admin afterwards.
"""

import csv
from pathlib import Path

from django.db import migrations

REGIONS = [
    ("etela", "Etelä", "Södra", "South"),
    ("ita", "Itä", "Östra", "East"),
    ("lansi", "Länsi", "Västra", "West"),
    ("pohjoinen", "Pohjoinen", "Norra", "North"),
]
CSV = Path(__file__).resolve().parent.parent / "data" / "helsinki_postal_areas.csv"


def load(apps, schema_editor):
    Region = apps.get_model("cases", "Region")
    PostalArea = apps.get_model("cases", "PostalArea")
    regions = {}
    for code, fi, sv, en in REGIONS:
        regions[code], _ = Region.objects.get_or_create(
            code=code, defaults={"name_fi": fi, "name_sv": sv, "name_en": en}
        )
    with CSV.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            PostalArea.objects.get_or_create(
                postal_code=row["postal_code"],
                defaults={
                    "name_fi": row["postal_area_name_fi"],
                    "suurpiiri": row["suurpiiri"],
                    "region": regions[row["region"]],
                    "confidence": row["confidence"],
                },
            )


def unload(apps, schema_editor):
    apps.get_model("cases", "PostalArea").objects.all().delete()
    apps.get_model("cases", "Region").objects.filter(
        code__in=[code for code, *_ in REGIONS], teams__isnull=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("cases", "0003_event_log_append_only")]

    operations = [migrations.RunPython(load, unload)]
