"""The event log's time is the database's: a column default (the statement's time) and the
trigger of the access log (audit 0004) that refuses an INSERT naming any other time, so no
event can be back-dated. PostgreSQL only for the trigger."""

import django.db.models.functions.datetime
from django.db import migrations, models

CREATE = """
CREATE TRIGGER cases_event_database_time
    BEFORE INSERT ON cases_event
    FOR EACH ROW
    WHEN (NEW.created_at IS DISTINCT FROM statement_timestamp()
          AND NEW.created_at IS DISTINCT FROM transaction_timestamp())
    EXECUTE FUNCTION silta_database_time();
"""
DROP = "DROP TRIGGER IF EXISTS cases_event_database_time ON cases_event;"


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0007_client_identity_code_normalised"),
        ("audit", "0004_database_time"),
    ]

    operations = [
        migrations.AlterField(
            model_name="event",
            name="created_at",
            field=models.DateTimeField(
                db_default=django.db.models.functions.datetime.Now(), verbose_name="time"
            ),
        ),
        migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP)),
    ]
