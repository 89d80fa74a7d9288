"""The access log refuses UPDATE and DELETE in the database itself (PostgreSQL). The
trigger function is shared with the event log (cases).

On the embedded SQLite default of the quick start, the model layer guards it instead.
TRUNCATE is left to the table owner: it is how test databases are emptied, and an
application that can TRUNCATE can also drop triggers. In production the application's
database role should not own the table (see README, "Running in production").
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION silta_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_accesslog_append_only
    BEFORE UPDATE OR DELETE ON audit_accesslog
    FOR EACH ROW EXECUTE FUNCTION silta_refuse_change();
"""

DROP = """
DROP TRIGGER IF EXISTS audit_accesslog_append_only ON audit_accesslog;
DROP FUNCTION IF EXISTS silta_refuse_change();
"""


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_initial")]

    operations = [migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP))]
