"""API tokens move from Django REST Framework's authtoken (the key stored in plain text,
never expiring) to django-rest-knox (only a hash stored, an expiry).

Each existing key becomes a knox token with the same value, so integrations keep working:
knox looks a token up by its first 15 characters and compares the SHA-512 of the whole
of it, whatever its length. The imported tokens expire SILTA_API_TOKEN_DAYS from now;
re-issue them before then. The plain-text table is then dropped, with authtoken's rows
in django_migrations (the app is no longer installed).
"""

from django.db import migrations
from knox.crypto import hash_token
from knox.settings import CONSTANTS, knox_settings

from core import clock


def hash_existing_tokens(apps, schema_editor):
    connection = schema_editor.connection
    if "authtoken_token" not in connection.introspection.table_names():
        return  # a database made after the change: nothing to carry over
    AuthToken = apps.get_model("knox", "AuthToken")
    with connection.cursor() as cursor:
        cursor.execute("SELECT key, user_id FROM authtoken_token")
        rows = cursor.fetchall()
    expiry = clock.now() + knox_settings.TOKEN_TTL
    AuthToken.objects.using(schema_editor.connection.alias).bulk_create(
        AuthToken(
            digest=hash_token(key),
            token_key=key[: CONSTANTS.TOKEN_KEY_LENGTH],
            user_id=user_id,
            expiry=expiry,
        )
        for key, user_id in rows
    )
    schema_editor.execute("DROP TABLE authtoken_token")
    schema_editor.execute("DELETE FROM django_migrations WHERE app = 'authtoken'")


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0001_initial"),
        ("knox", "0009_extend_authtoken_field"),
    ]

    # Not reversible: the plain-text keys are gone (only their hashes are kept).
    operations = [migrations.RunPython(hash_existing_tokens, migrations.RunPython.noop)]
