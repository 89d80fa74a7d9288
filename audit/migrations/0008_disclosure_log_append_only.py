"""The disclosure log is append-only and keeps the database's time, in the database itself
(PostgreSQL), with the trigger functions of the access log (0003, 0004)."""

from django.db import migrations

CREATE = """
CREATE TRIGGER audit_disclosurelog_append_only
    BEFORE UPDATE OR DELETE ON audit_disclosurelog
    FOR EACH ROW EXECUTE FUNCTION silta_refuse_change();
CREATE TRIGGER audit_disclosurelog_database_time
    BEFORE INSERT ON audit_disclosurelog
    FOR EACH ROW
    WHEN (NEW.created_at IS DISTINCT FROM statement_timestamp()
          AND NEW.created_at IS DISTINCT FROM transaction_timestamp())
    EXECUTE FUNCTION silta_database_time();
"""
DROP = """
DROP TRIGGER IF EXISTS audit_disclosurelog_append_only ON audit_disclosurelog;
DROP TRIGGER IF EXISTS audit_disclosurelog_database_time ON audit_disclosurelog;
"""


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("audit", "0007_disclosure_log")]

    operations = [migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP))]
