"""Personal identity codes in one stored form: python-stdnum's compact form (upper case, a
typographic dash read as the hyphen) with no white space, so `010594y123w` and
`010594Y123W` are one person. The century sign is kept as it is.

If two clients' codes become the same once normalised, this migration changes nothing and
stops, naming the client ids (never the codes): whether they are one person with two
records or one of the codes is a typo is for people to decide, not for a migration.
Resolve it on the release before this one (a supervisor of the teams concerned decides;
the wrong code is corrected or cleared), then migrate again. A stored code that is not
a personal identity code's shape even when normalised stops it the same way.

Reversing it leaves the codes normalised: the form they had before is not kept, and
the normalised code is the same person's.
"""

import re
from collections import defaultdict

from django.db import migrations
from stdnum.fi import hetu

# As in cases.models.IDENTITY_CODE_STORED_FORM at the time of this migration.
STORED_FORM = re.compile(r"^[0-9]{6}[-+A-FU-Y][0-9]{3}[0-9A-FHJ-NPR-Y]$")


def _normalised(code):
    return "".join(hetu.compact(code).split())


def normalise(apps, schema_editor):
    Client = apps.get_model("cases", "Client")
    stored = Client.objects.exclude(personal_identity_code=None).values_list(
        "pk", "personal_identity_code"
    )
    holders = defaultdict(list)
    for pk, code in stored.iterator():
        holders[_normalised(code)].append((pk, code))
    collisions = sorted(sorted(pk for pk, _code in rows) for rows in holders.values() if len(rows) > 1)
    malformed = sorted(
        pk for code, rows in holders.items() if not STORED_FORM.match(code) for pk, _code in rows
    )
    problems = []
    if collisions:
        problems.append(
            "these clients have the same personal identity code once it is normalised "
            "(upper case, no spaces): " + "; ".join(", ".join(map(str, ids)) for ids in collisions)
        )
    if malformed:
        problems.append(
            "these clients' personal identity codes are not of the code's shape: "
            + ", ".join(map(str, malformed))
        )
    if problems:
        raise RuntimeError(
            "Personal identity codes were not normalised, nothing was changed: "
            + "; and ".join(problems)
            + ". See cases/migrations/0006_identity_codes_normalised.py for what to do."
        )
    for code, [(pk, given)] in holders.items():
        if given != code:
            Client.objects.filter(pk=pk).update(personal_identity_code=code)


class Migration(migrations.Migration):
    dependencies = [("cases", "0005_date_ranges")]

    operations = [migrations.RunPython(normalise, migrations.RunPython.noop)]
