"""The event log refuses UPDATE and DELETE in the database itself (PostgreSQL), with the
same trigger function as the access log (audit)."""

from django.db import migrations

CREATE = """
CREATE TRIGGER cases_event_append_only
    BEFORE UPDATE OR DELETE ON cases_event
    FOR EACH ROW EXECUTE FUNCTION silta_refuse_change();
"""
DROP = "DROP TRIGGER IF EXISTS cases_event_append_only ON cases_event;"


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("cases", "0002_initial"), ("audit", "0003_append_only")]

    operations = [migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP))]
