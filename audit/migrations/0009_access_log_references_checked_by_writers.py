"""The access log's client, case and actor references are checked by their writers, not by
per-row foreign-key triggers (as the event log's already are, cases.Event).

A list page of 50 writes 50 rows, and PostgreSQL checked three references for each at
commit (150 lookups, each locking the client, case or user row it found): more than half
the cost of writing the rows, on every list read (bench/api.py). Every writer takes the
ids from rows it has just read in the same statement or transaction
(audit.access.read_and_log, log_access), and clients, cases and users are never deleted
(PROTECT, still enforced by the ORM; the app has no delete of them anywhere).

On the embedded SQLite of the quick start there is nothing to do here.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

CONSTRAINTS = {
    "audit_accesslog_actor_id_0f94aef1_fk_auth_user_id": ("actor_id", "auth_user"),
    "audit_accesslog_case_id_0987b618_fk_cases_case_id": ("case_id", "cases_case"),
    "audit_accesslog_client_id_1c40a34b_fk_cases_client_id": ("client_id", "cases_client"),
}


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "ALTER TABLE audit_accesslog "
            + ", ".join(f"DROP CONSTRAINT IF EXISTS {name}" for name in CONSTRAINTS),
            params=None,
        )


def add(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "ALTER TABLE audit_accesslog "
            + ", ".join(
                f"ADD CONSTRAINT {name} FOREIGN KEY ({column}) REFERENCES {table} (id) "
                "DEFERRABLE INITIALLY DEFERRED"
                for name, (column, table) in CONSTRAINTS.items()
            ),
            params=None,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0008_disclosure_log_append_only"),
        ("cases", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(drop, add)],
            state_operations=[
                migrations.AlterField(
                    model_name="accesslog",
                    name="actor",
                    field=models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="actor",
                    ),
                ),
                migrations.AlterField(
                    model_name="accesslog",
                    name="case",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="cases.case",
                        verbose_name="case",
                    ),
                ),
                migrations.AlterField(
                    model_name="accesslog",
                    name="client",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="cases.client",
                        verbose_name="client",
                    ),
                ),
            ],
        )
    ]
