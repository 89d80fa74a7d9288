# The name search's column filled for the clients already stored, and on PostgreSQL its
# trigram index (pg_trgm is a trusted extension: the schema's owner, as whom migrations
# run, may create it). A search by part of a name is then an index scan, not a read of
# every client. SQLite (the quick start) searches the column without an index.

from django.db import migrations

FOLD = str.maketrans("äöåüéèáàâêëïíìîóòôõúùûçñšžøæ", "aoaueeaaaeeiiiioooouuucnszoa")


def fill(apps, schema_editor):
    Client = apps.get_model("cases", "Client")
    for client in Client.objects.only("pk", "first_name", "last_name").iterator():
        name = f"{client.first_name} {client.last_name}".lower().translate(FOLD)
        Client.objects.filter(pk=client.pk).update(search_name=" ".join(name.split()))


def index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        "CREATE INDEX client_search_name_trgm ON cases_client "
        "USING gin (search_name gin_trgm_ops)"
    )


def unindex(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS client_search_name_trgm")


class Migration(migrations.Migration):
    dependencies = [("cases", "0016_households_and_name_search")]

    operations = [
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.RunPython(index, unindex),
    ]
