# The database holds every stored personal identity code to its normalised form (see
# 0006), so the unique index on the column is the uniqueness of the person.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("cases", "0006_identity_codes_normalised")]

    operations = [
        migrations.AddConstraint(
            model_name="client",
            constraint=models.CheckConstraint(
                condition=models.Q(("personal_identity_code__isnull", True))
                | models.Q(
                    (
                        "personal_identity_code__regex",
                        "^[0-9]{6}[-+A-FU-Y][0-9]{3}[0-9A-FHJ-NPR-Y]$",
                    )
                ),
                name="client_identity_code_normalised",
                violation_error_message="Store the personal identity code normalised.",
            ),
        ),
    ]
