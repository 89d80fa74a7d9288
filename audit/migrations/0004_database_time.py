"""The access log's time is the database's: a column default (the statement's time) and a
trigger that refuses an INSERT naming any other time, so no row can be back-dated, by the
app or by anyone with INSERT on the table. The trigger function is shared with the event log
(cases). The database's own time means the current statement's or the current
transaction's start (`now()` in raw SQL).

The trigger's WHEN condition is checked by the executor itself, so a row with the
database's time costs no function call (a plain row trigger added about a third to the
due sweep's event INSERT). PostgreSQL only; on the embedded SQLite of the quick start the
column default sets the time and the app never names one.
"""

import django.db.models.functions.datetime
from django.db import migrations, models

CREATE = """
CREATE OR REPLACE FUNCTION silta_database_time() RETURNS trigger AS $$
BEGIN
    IF NEW.created_at IS DISTINCT FROM statement_timestamp()
            AND NEW.created_at IS DISTINCT FROM transaction_timestamp() THEN
        RAISE EXCEPTION '%: created_at is the database''s time; an INSERT naming % refused',
            TG_TABLE_NAME, coalesce(NEW.created_at::text, 'NULL')
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_accesslog_database_time
    BEFORE INSERT ON audit_accesslog
    FOR EACH ROW
    WHEN (NEW.created_at IS DISTINCT FROM statement_timestamp()
          AND NEW.created_at IS DISTINCT FROM transaction_timestamp())
    EXECUTE FUNCTION silta_database_time();
"""

DROP = """
DROP TRIGGER IF EXISTS audit_accesslog_database_time ON audit_accesslog;
DROP FUNCTION IF EXISTS silta_database_time();
"""


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_append_only")]

    operations = [
        migrations.AlterField(
            model_name="accesslog",
            name="created_at",
            field=models.DateTimeField(
                db_default=django.db.models.functions.datetime.Now(), verbose_name="time"
            ),
        ),
        migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP)),
    ]
