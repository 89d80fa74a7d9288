"""The access log refuses UPDATE and DELETE in the database itself (PostgreSQL), with the
same trigger function as the event log."""

from django.db import migrations

CREATE = """
CREATE TRIGGER transfers_accesslog_append_only
    BEFORE UPDATE OR DELETE ON transfers_accesslog
    FOR EACH ROW EXECUTE FUNCTION silta_refuse_change();
"""
DROP = "DROP TRIGGER IF EXISTS transfers_accesslog_append_only ON transfers_accesslog;"


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("transfers", "0006_access_log")]

    operations = [migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP))]
