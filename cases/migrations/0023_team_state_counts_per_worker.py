import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# The kept counts one level finer: per team, responsible worker and state, so the
# supervisor's figures read each worker's caseload from a few rows a worker instead of
# counting the team's open cases (bench/pages.py: the figures page's slowest statement
# at 100,000 cases). Still one upsert per statement, the changed rows grouped once and
# taken in one order (team, worker, state) so two transactions cannot lock in a cycle; an
# UPDATE that moves a case between neither teams, workers nor states writes nothing.
FUNCTION = """
CREATE OR REPLACE FUNCTION cases_count_team_states() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO cases_teamstatecount AS c (team_id, worker_id, state, n)
        SELECT team_id, responsible_worker_id, state, count(*) FROM new_rows
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (team_id, worker_id, state) DO UPDATE SET n = c.n + EXCLUDED.n;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO cases_teamstatecount AS c (team_id, worker_id, state, n)
        SELECT team_id, responsible_worker_id, state, -count(*) FROM old_rows
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (team_id, worker_id, state) DO UPDATE SET n = c.n + EXCLUDED.n;
    ELSE
        INSERT INTO cases_teamstatecount AS c (team_id, worker_id, state, n)
        SELECT team_id, worker_id, state, sum(d) FROM (
            SELECT team_id, responsible_worker_id AS worker_id, state, 1 AS d FROM new_rows
            UNION ALL
            SELECT team_id, responsible_worker_id, state, -1 FROM old_rows
        ) moved
        GROUP BY 1, 2, 3 HAVING sum(d) <> 0 ORDER BY 1, 2, 3
        ON CONFLICT (team_id, worker_id, state) DO UPDATE SET n = c.n + EXCLUDED.n;
    END IF;
    RETURN NULL;
END
$$;
DELETE FROM cases_teamstatecount;
INSERT INTO cases_teamstatecount (team_id, worker_id, state, n)
    SELECT team_id, responsible_worker_id, state, count(*) FROM cases_case GROUP BY 1, 2, 3;
"""
# Back to 0021's function (per team and state); its counts are refilled once the worker
# column is gone (the first operation's reverse).
REVERSE = """
CREATE OR REPLACE FUNCTION cases_count_team_states() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO cases_teamstatecount AS c (team_id, state, n)
        SELECT team_id, state, count(*) FROM new_rows
        GROUP BY team_id, state ORDER BY team_id, state
        ON CONFLICT (team_id, state) DO UPDATE SET n = c.n + EXCLUDED.n;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO cases_teamstatecount AS c (team_id, state, n)
        SELECT team_id, state, -count(*) FROM old_rows
        GROUP BY team_id, state ORDER BY team_id, state
        ON CONFLICT (team_id, state) DO UPDATE SET n = c.n + EXCLUDED.n;
    ELSE
        INSERT INTO cases_teamstatecount AS c (team_id, state, n)
        SELECT team_id, state, sum(d) FROM (
            SELECT team_id, state, 1 AS d FROM new_rows
            UNION ALL
            SELECT team_id, state, -1 FROM old_rows
        ) moved
        GROUP BY team_id, state HAVING sum(d) <> 0 ORDER BY team_id, state
        ON CONFLICT (team_id, state) DO UPDATE SET n = c.n + EXCLUDED.n;
    END IF;
    RETURN NULL;
END
$$;
DELETE FROM cases_teamstatecount;
"""
REFILL_PER_TEAM = """
INSERT INTO cases_teamstatecount (team_id, state, n)
    SELECT team_id, state, count(*) FROM cases_case GROUP BY team_id, state;
"""


def empty(apps, schema_editor):
    apps.get_model("cases", "TeamStateCount").objects.all().delete()


def refill_per_team(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REFILL_PER_TEAM)


def per_worker(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION)


def per_team(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REVERSE)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0022_client_column_defaults_in_the_database"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # Emptied first (refilled below, per worker), so the new column needs no default.
        migrations.RunPython(empty, refill_per_team),
        migrations.RemoveConstraint(
            model_name="teamstatecount",
            name="one_count_per_team_state",
        ),
        migrations.AddField(
            model_name="teamstatecount",
            name="worker",
            field=models.ForeignKey(
                db_index=False,
                default=None,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
            preserve_default=False,
        ),
        migrations.AddConstraint(
            model_name="teamstatecount",
            constraint=models.UniqueConstraint(
                fields=("team", "worker", "state"), name="one_count_per_team_worker_state"
            ),
        ),
        migrations.RunPython(per_worker, per_team),
    ]
